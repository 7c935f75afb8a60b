//! [`Block`], a decoded block (data or index), and [`BlockIter`], a cursor over its entries.
//!
//! The entries are prefix-compressed against the previous key; a restart point (an entry
//! with its whole key) starts every `restart_interval` entries and the restart offsets sit at
//! the block's end. Seeking binary-searches the restart points and then scans forward; moving
//! back re-decodes from the restart point before the current entry, as LevelDB's
//! `Block::Iter::Prev` does. Every length and offset read is bounds-checked: bad bytes are
//! [`Error::Corruption`] naming the block's file and offset, never a panic.

use std::cmp::Ordering;
use std::sync::Arc;

use lightning_core_storage::{Error, Result, Timestamp};

use super::format::{KIND_BLOB_REFERENCE, KIND_TOMBSTONE, KIND_VALUE};
use super::varint::get_varint;
use crate::internal_key::compare_internal;
use crate::iter::InternalIter;

/// A decoded (decompressed, checksum-verified) block, as the block cache holds it.
#[derive(Debug)]
pub struct Block {
    data: Vec<u8>,
    restarts_offset: usize,
    num_restarts: usize,
    location: String,
}

fn read_u32(data: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&data[at..at + 4]);
    u32::from_le_bytes(word)
}

impl Block {
    /// Checks the restart array of the block's bytes; `location` (`"<file> offset <n>"`)
    /// names it in every later error.
    pub(crate) fn decode(data: Vec<u8>, location: String) -> Result<Block> {
        let bad = |what: String| Error::corruption(format!("block: {what}"), location.clone());
        if data.len() < 4 {
            return Err(bad(format!("{} bytes cannot hold a restart count", data.len())));
        }
        let num_restarts = read_u32(&data, data.len() - 4) as usize;
        let restarts_offset = num_restarts
            .checked_mul(4)
            .and_then(|bytes| (data.len() - 4).checked_sub(bytes))
            .ok_or_else(|| bad(format!("{num_restarts} restart points do not fit")))?;
        if num_restarts == 0 {
            return Err(bad("no restart points: a block holds at least one entry".to_owned()));
        }
        let mut previous = None;
        for i in 0..num_restarts {
            let restart = read_u32(&data, restarts_offset + 4 * i) as usize;
            let in_order = previous.is_none_or(|p| restart > p);
            if (i == 0 && restart != 0) || !in_order || restart >= restarts_offset {
                return Err(bad(format!("restart point {i} at {restart} is out of place")));
            }
            previous = Some(restart);
        }
        Ok(Block { data, restarts_offset, num_restarts, location })
    }

    /// The bytes the decoded block occupies (its charge in the cache).
    pub fn size_bytes(&self) -> usize {
        self.data.len()
    }

    /// Where the block is: `"<file name> offset <n>"`.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn restart(&self, index: usize) -> usize {
        read_u32(&self.data, self.restarts_offset + 4 * index) as usize
    }

    fn corrupt(&self, at: usize, what: impl std::fmt::Display) -> Error {
        Error::corruption(format!("block entry at {at}: {what}"), self.location.clone())
    }
}

/// One decoded entry header: where its pieces lie.
struct Entry {
    shared: usize,
    suffix: (usize, usize),
    ts: Timestamp,
    kind: u8,
    value: (usize, usize),
    end: usize,
}

impl Block {
    /// Decodes the entry at `at`; `previous_len` is the length of the key before it.
    fn entry_at(&self, at: usize, previous_len: usize) -> Result<Entry> {
        let limit = &self.data[..self.restarts_offset];
        let mut pos = at;
        let mut field = |name: &str| {
            get_varint(limit, &mut pos).ok_or_else(|| self.corrupt(at, format!("bad {name}")))
        };
        let shared = field("shared length")? as usize;
        let unshared = field("unshared length")? as usize;
        let kind = *limit.get(pos).ok_or_else(|| self.corrupt(at, "truncated kind"))?;
        pos += 1;
        let value_len = get_varint(limit, &mut pos)
            .ok_or_else(|| self.corrupt(at, "bad value length"))? as usize;
        match kind {
            KIND_VALUE => {}
            KIND_TOMBSTONE if value_len == 0 => {}
            KIND_TOMBSTONE => return Err(self.corrupt(at, "a tombstone with value bytes")),
            KIND_BLOB_REFERENCE => {
                return Err(self.corrupt(at, "value kind 2 (blob reference) is not in format v1"));
            }
            other => return Err(self.corrupt(at, format!("unknown value kind {other}"))),
        }
        if shared > previous_len {
            return Err(self.corrupt(at, format!("shares {shared} bytes of a {previous_len}")));
        }
        let suffix_start = pos;
        let ts_start = suffix_start
            .checked_add(unshared)
            .filter(|end| *end <= limit.len())
            .ok_or_else(|| self.corrupt(at, "key runs past the entries"))?;
        let value_start = ts_start + 8;
        let end = value_start
            .checked_add(value_len)
            .filter(|end| *end <= limit.len())
            .ok_or_else(|| self.corrupt(at, "value runs past the entries"))?;
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&limit[ts_start..value_start]);
        Ok(Entry {
            shared,
            suffix: (suffix_start, ts_start),
            ts: Timestamp(u64::from_le_bytes(ts)),
            kind,
            value: (value_start, end),
            end,
        })
    }

    /// Verifies, by walking every entry, that each restart point is the start of an entry
    /// that shares nothing with the key before it (the restart array's own order and bounds
    /// are checked by [`Block::decode`]).
    pub(crate) fn check_restarts(&self) -> Result<()> {
        let mut at = 0;
        let mut key_len = 0;
        let mut next_restart = 0;
        while at < self.restarts_offset {
            let entry = self.entry_at(at, key_len)?;
            if next_restart < self.num_restarts && self.restart(next_restart) == at {
                if entry.shared != 0 {
                    return Err(self.corrupt(at, "a restart point shares key bytes"));
                }
                next_restart += 1;
            }
            if next_restart < self.num_restarts && self.restart(next_restart) < entry.end {
                let restart = self.restart(next_restart);
                return Err(self.corrupt(
                    at,
                    format!("restart point {next_restart} at {restart} is inside an entry"),
                ));
            }
            key_len = entry.shared + (entry.suffix.1 - entry.suffix.0);
            at = entry.end;
        }
        Ok(())
    }

    /// The key of restart point `index` (its entry shares nothing), borrowed from the block.
    fn restart_key(&self, index: usize) -> Result<(&[u8], Timestamp)> {
        let at = self.restart(index);
        let entry = self.entry_at(at, 0)?;
        Ok((&self.data[entry.suffix.0..entry.suffix.1], entry.ts))
    }
}

/// A cursor over one block's entries in internal-key order. It owns an `Arc` of its block.
#[derive(Debug)]
pub struct BlockIter {
    block: Arc<Block>,
    /// Offset of the current entry; `restarts_offset` when not valid.
    current: usize,
    next: usize,
    restart_index: usize,
    key: Vec<u8>,
    ts: Timestamp,
    kind: u8,
    value: (usize, usize),
}

impl BlockIter {
    /// A cursor over `block`, not yet positioned.
    pub fn new(block: Arc<Block>) -> BlockIter {
        let end = block.restarts_offset;
        BlockIter {
            block,
            current: end,
            next: end,
            restart_index: 0,
            key: Vec::new(),
            ts: Timestamp::ZERO,
            kind: KIND_VALUE,
            value: (0, 0),
        }
    }

    /// The current entry's value bytes (empty for a tombstone): an index entry's block handle.
    pub fn raw_value(&self) -> &[u8] {
        &self.block.data[self.value.0..self.value.1]
    }

    /// The block the cursor reads.
    pub fn block(&self) -> &Arc<Block> {
        &self.block
    }

    fn invalidate(&mut self) {
        self.current = self.block.restarts_offset;
        self.next = self.current;
    }

    /// Decodes the entry at `self.next` into the cursor (or leaves it invalid at the end).
    fn parse_next(&mut self) -> Result<bool> {
        self.current = self.next;
        if self.current >= self.block.restarts_offset {
            self.invalidate();
            return Ok(false);
        }
        let entry = match self.block.entry_at(self.current, self.key.len()) {
            Ok(entry) => entry,
            Err(error) => {
                self.invalidate();
                return Err(error);
            }
        };
        self.key.truncate(entry.shared);
        self.key.extend_from_slice(&self.block.data[entry.suffix.0..entry.suffix.1]);
        self.ts = entry.ts;
        self.kind = entry.kind;
        self.value = entry.value;
        self.next = entry.end;
        while self.restart_index + 1 < self.block.num_restarts
            && self.block.restart(self.restart_index + 1) <= self.current
        {
            self.restart_index += 1;
        }
        Ok(true)
    }

    fn seek_to_restart(&mut self, index: usize) {
        self.key.clear();
        self.restart_index = index;
        self.next = self.block.restart(index);
    }
}

impl InternalIter for BlockIter {
    fn valid(&self) -> bool {
        self.current < self.block.restarts_offset
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.seek_to_restart(0);
        self.parse_next().map(drop)
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.seek_to_restart(self.block.num_restarts - 1);
        while self.parse_next()? && self.next < self.block.restarts_offset {}
        Ok(())
    }

    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        // The last restart point whose key is before the target (or the first one).
        let (mut left, mut right) = (0, self.block.num_restarts - 1);
        while left < right {
            let mid = (left + right).div_ceil(2);
            let (mid_key, mid_ts) = match self.block.restart_key(mid) {
                Ok(found) => found,
                Err(error) => {
                    self.invalidate();
                    return Err(error);
                }
            };
            if compare_internal(mid_key, mid_ts, key, ts) == Ordering::Less {
                left = mid;
            } else {
                right = mid - 1;
            }
        }
        self.seek_to_restart(left);
        while self.parse_next()? {
            if compare_internal(&self.key, self.ts, key, ts) != Ordering::Less {
                break;
            }
        }
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        debug_assert!(self.valid(), "next on an invalid block cursor");
        self.parse_next().map(drop)
    }

    fn prev(&mut self) -> Result<()> {
        debug_assert!(self.valid(), "prev on an invalid block cursor");
        let original = self.current;
        while self.block.restart(self.restart_index) >= original {
            if self.restart_index == 0 {
                self.invalidate();
                return Ok(());
            }
            self.restart_index -= 1;
        }
        self.seek_to_restart(self.restart_index);
        while self.parse_next()? && self.next < original {}
        if self.valid() && self.next != original {
            let at = self.current;
            self.invalidate();
            return Err(self.block.corrupt(at, "entry does not end where the next begins"));
        }
        Ok(())
    }

    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.seek(key, ts)?;
        if !self.valid() {
            return self.seek_to_last();
        }
        if compare_internal(&self.key, self.ts, key, ts) == Ordering::Greater {
            return self.prev();
        }
        Ok(())
    }

    fn key(&self) -> &[u8] {
        &self.key
    }

    fn ts(&self) -> Timestamp {
        self.ts
    }

    fn value(&self) -> Option<&[u8]> {
        (self.kind != KIND_TOMBSTONE).then(|| &self.block.data[self.value.0..self.value.1])
    }
}

#[cfg(test)]
#[path = "block_tests.rs"]
mod tests;
