//! Structural validation of a node read from disk, before anything else touches it.
//!
//! A page that passed its checksum can still be wrong (a bug that wrote it, a page from
//! elsewhere). Every field is bounds-checked here with plain arithmetic before any accessor of
//! `Node` (which indexes slices) is used, so a bad page is an error message, never a panic.
//! Validated nodes are cached; the hot read path then trusts them.

use std::cmp::Ordering;

use lightning_core_storage::page_manager::FIRST_DATA_PAGE;

use super::{
    BRANCH, E_SUFFIX_LEN, E_WORD, ENTRY_HEADER, FLAG_OVERFLOW, FLAG_TOMBSTONE, GARBAGE, HEADER_LEN,
    HEAP_START, KNOWN_FLAGS, LEAF, LEFTMOST, LEFTMOST_STAMP, LEVEL, Node, OVERFLOW_REF_LEN,
    PREFIX_LEN, RESERVED, S_HINT, S_OFFSET, SLOT_LEN, STAMP_LEN, hint_of, is_virtual,
};
use crate::{MAX_DEPTH, MAX_KEY_LEN, MAX_VALUE_LEN, key::cmp_internal};

/// The page count to pass to [`validate`] for a (compacted) dirty node, whose references may
/// be virtual.
pub(crate) const IN_MEMORY: u64 = u64::MAX;

fn u16_at(body: &[u8], at: usize) -> usize {
    u16::from_le_bytes([body[at], body[at + 1]]) as usize
}

fn u64_at(body: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&body[at..at + 8]);
    u64::from_le_bytes(bytes)
}

/// Checks that `id` can be a page of the tree in a file of `page_count` pages (`u64::MAX`
/// as the page count also accepts virtual ids: see [`IN_MEMORY`]).
pub(crate) fn check_page_ref(id: u64, page_count: u64, what: &str) -> Result<(), String> {
    if page_count == IN_MEMORY && is_virtual(id) {
        return Ok(());
    }
    if is_virtual(id) || id < FIRST_DATA_PAGE.0 || id >= page_count {
        return Err(format!("{what} {id} is not a data page of this file ({page_count} pages)"));
    }
    Ok(())
}

/// Validates the layout of `node` as read from a file of `page_count` pages: header fields,
/// canonical entry placement, lengths, flags, strictly increasing keys, child and overflow
/// references. Returns what is wrong.
pub(crate) fn validate(node: &Node, page_count: u64) -> Result<(), String> {
    let page_type = node.page().page_type();
    let leaf = match page_type {
        LEAF => true,
        BRANCH => false,
        other => return Err(format!("page type {} is not a tree node", other.0)),
    };
    let body = node.body();
    let body_len = body.len();
    if body_len < HEADER_LEN || body_len > usize::from(u16::MAX) {
        return Err(format!("node body of {body_len} bytes"));
    }
    let count = u16_at(body, super::COUNT);
    let heap_start = u16_at(body, HEAP_START);
    let prefix_len = u16_at(body, PREFIX_LEN);
    let level = body[LEVEL];
    if u16_at(body, GARBAGE) != 0 || body[RESERVED..LEFTMOST].iter().any(|&b| b != 0) {
        return Err("garbage or reserved header bytes are not zero".into());
    }
    if prefix_len > MAX_KEY_LEN {
        return Err(format!("key prefix of {prefix_len} bytes exceeds the key limit"));
    }
    let slots = HEADER_LEN + prefix_len;
    if slots + SLOT_LEN * count > heap_start || heap_start > body_len {
        return Err(format!("{count} slots and heap start {heap_start} overlap or overrun"));
    }
    let leftmost = u64_at(body, LEFTMOST);
    if leaf && (level != 0 || leftmost != 0 || u64_at(body, LEFTMOST_STAMP) != 0) {
        return Err(format!("leaf with level {level} or first child {leftmost}"));
    }
    if !leaf {
        if level == 0 || usize::from(level) >= MAX_DEPTH {
            return Err(format!("branch level {level} out of range"));
        }
        if count == 0 {
            return Err("branch with a single child".into());
        }
        check_page_ref(leftmost, page_count, "first child")?;
    }
    let mut expected = heap_start;
    for i in 0..count {
        let at = u16_at(body, slots + SLOT_LEN * i + S_OFFSET);
        if at != expected || at + ENTRY_HEADER > body_len {
            return Err(format!("entry {i} at offset {at} is out of place"));
        }
        let suffix_len = u16_at(body, at + E_SUFFIX_LEN);
        if prefix_len + suffix_len > MAX_KEY_LEN || at + ENTRY_HEADER + suffix_len > body_len {
            return Err(format!("entry {i} has a key of {} bytes", prefix_len + suffix_len));
        }
        let suffix = &body[at + ENTRY_HEADER..at + ENTRY_HEADER + suffix_len];
        let hint_at = slots + SLOT_LEN * i + S_HINT;
        let hint = u32::from_le_bytes([
            body[hint_at],
            body[hint_at + 1],
            body[hint_at + 2],
            body[hint_at + 3],
        ]);
        if hint != hint_of(suffix) {
            return Err(format!("slot {i} has the wrong key hint"));
        }
        let word = u64_at(body, at + E_WORD);
        let payload = if leaf {
            leaf_payload(word, body, at + ENTRY_HEADER + suffix_len, page_count)
                .map_err(|e| format!("entry {i}: {e}"))?
        } else {
            check_page_ref(word, page_count, "child").map_err(|e| format!("entry {i}: {e}"))?;
            STAMP_LEN
        };
        expected = at + ENTRY_HEADER + suffix_len + payload;
        if expected > body_len {
            return Err(format!("entry {i} runs past the end of the page"));
        }
    }
    if expected != body_len {
        return Err(format!("entries end at {expected}, not at the end of the page"));
    }
    for i in 1..count {
        let order = cmp_internal(node.suffix(i - 1), node.ts(i - 1), node.suffix(i), node.ts(i));
        if order != Ordering::Less {
            return Err(format!("entries {} and {i} are out of order", i - 1));
        }
    }
    Ok(())
}

/// The payload length of a leaf entry with `word`, whose payload starts at `at`.
fn leaf_payload(word: u64, body: &[u8], at: usize, page_count: u64) -> Result<usize, String> {
    let flags = word as u8;
    let value_len = (word >> 32) as usize;
    if flags & !KNOWN_FLAGS != 0 || (word >> 8) & 0xff_ffff != 0 {
        return Err(format!("unknown flags in word {word:#x}"));
    }
    if flags & FLAG_TOMBSTONE != 0 {
        if flags & FLAG_OVERFLOW != 0 || value_len != 0 {
            return Err("tombstone with a value".into());
        }
        return Ok(0);
    }
    if value_len > MAX_VALUE_LEN {
        return Err(format!("value of {value_len} bytes exceeds the limit"));
    }
    if flags & FLAG_OVERFLOW == 0 {
        return Ok(value_len);
    }
    if value_len == 0 || at + OVERFLOW_REF_LEN > body.len() {
        return Err("overflow reference out of place".into());
    }
    check_page_ref(u64_at(body, at), page_count, "overflow page")?;
    Ok(OVERFLOW_REF_LEN)
}

#[cfg(test)]
mod tests {
    use lightning_core_storage::page::{PageFormat, PageSize};

    use super::*;
    use crate::node::{
        Payload,
        build::{Parts, build},
        leaf_word,
    };

    fn sample() -> Node {
        let keys: Vec<Vec<u8>> = (0..20u32).map(|i| format!("k{i:03}").into_bytes()).collect();
        let parts: Vec<Parts<'_>> =
            keys.iter().map(|k| Parts::new(k, 3, leaf_word(0, 2), Payload::Bytes(b"vv"))).collect();
        build(&PageFormat::plain(PageSize::new(16384).unwrap()), 0, 0, 0, &parts)
    }

    #[test]
    fn a_built_node_is_valid() {
        assert_eq!(validate(&sample(), 10), Ok(()));
    }

    #[test]
    fn every_single_byte_flip_in_the_used_area_is_caught_or_harmless() {
        let node = sample();
        let used_from = node.heap_start();
        let header_and_slots = node.slots_start() + SLOT_LEN * node.count();
        let mut caught = 0;
        for at in (0..header_and_slots).chain(used_from..node.body().len()) {
            let mut page = node.page().clone();
            page.body_mut()[at] ^= 0x40;
            // Must never panic; a flip inside key or value bytes may still be a valid node.
            if validate(&Node::from_page(page), 10).is_err() {
                caught += 1;
            }
        }
        assert!(caught > 100, "structural flips are caught ({caught})");
    }
}
