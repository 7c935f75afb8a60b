//! Workspace-level tests of Lightning DB, written only against the public facade
//! (`lightning-db`), as a user would use it. The tests live in this package's `tests/`
//! directory; this library is empty on purpose.
