//! The `lightning` command line tool.
//!
//! **Status:** the data commands, `bench` and `serve` arrive with issue #7; until then the
//! binary says so and exits with an error rather than pretending to work.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eprintln!(
        "lightning: the command line tool is not built yet (issue #7); \
         the storage foundation is usable as a library today"
    );
    std::process::ExitCode::FAILURE
}
