//! The scan behind `StorageEngine::scan_with`: the [`Walk`] moves an entry at a time through
//! the leaf it holds with no lock held, and each entry is lent to the caller's closure as
//! soon as it is found, in one pass. The closure therefore runs with no engine lock held: it
//! may read or write the database (a `get` inside it cannot deadlock against a waiting
//! writer), and a slow closure delays nobody.
//!
//! Copy-free for inline values: a value is lent straight from its leaf (the walk holds the
//! leaf's `Arc`; a leaf's contents never change under a holder). Only a key is assembled
//! (prefix + suffix, into one reused buffer) as it is lent; a value in an overflow chain is
//! read under the lock, while the chain is certainly live, into one reused buffer.

use std::ops::ControlFlow;

use lightning_core_storage::{
    Result, Timestamp,
    engine::{Direction, EntryRef, KeyRange, Visitor},
};

use super::{Versions, walk::Walk};
use crate::{engine::Shared, node::ValueRef};

/// Lends each entry of `range` visible at `read_ts` to `visit`, in `direction` order, until
/// the range ends or `visit` returns `Break`. `visit` runs with no engine lock held (it may
/// call into the engine). REQUIRES: no tree lock held by the caller.
pub(crate) fn visit(
    shared: &Shared,
    range: &KeyRange,
    read_ts: Timestamp,
    direction: Direction,
    visit: &mut Visitor<'_>,
) -> Result<()> {
    let mut walk = Walk::new(read_ts.0, Versions::Visible, direction);
    let mut key = Vec::with_capacity(64);
    let mut overflow = Vec::new();
    while walk.advance(shared, range)? {
        let (node, i) = walk.current();
        let value = match node.value(i) {
            ValueRef::Inline(value) => Some(value),
            ValueRef::Tombstone => None,
            ValueRef::Overflow { .. } => {
                overflow.clear();
                // A visible version is never vacuumed: the value is always found.
                walk.value_into(shared, &mut overflow)?;
                Some(&overflow[..])
            }
        };
        node.key_into(i, &mut key);
        let entry = EntryRef { key: &key, commit_ts: Timestamp(node.ts(i)), value };
        if visit(entry) == ControlFlow::Break(()) {
            break;
        }
    }
    Ok(())
}
