//! [`BlockBuilder`]: lays out one block's entries (data or index), prefix-compressing each key
//! against the previous one and starting a restart point every `restart_interval` entries.
//! The layout is in `docs/format/sstable.md` ("Block contents"); [`super::block`] reads it.

use lightning_core_storage::Timestamp;

use super::format::{KIND_TOMBSTONE, KIND_VALUE};
use super::varint::put_varint;

/// Builds the uncompressed bytes of one block.
#[derive(Debug)]
pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    restart_interval: usize,
    since_restart: usize,
    last_key: Vec<u8>,
    last_ts: Timestamp,
    entries: usize,
}

impl BlockBuilder {
    /// An empty builder; `restart_interval` of 0 is taken as 1.
    pub(crate) fn new(restart_interval: usize) -> Self {
        BlockBuilder {
            buf: Vec::new(),
            restarts: vec![0],
            restart_interval: restart_interval.max(1),
            since_restart: 0,
            last_key: Vec::new(),
            last_ts: Timestamp::ZERO,
            entries: 0,
        }
    }

    /// Appends an entry. REQUIRES: `(key, ts)` sorts after the previous entry (the table writer
    /// checks), and the block is not finished.
    pub(crate) fn add(&mut self, key: &[u8], ts: Timestamp, value: Option<&[u8]>) {
        let shared = if self.since_restart >= self.restart_interval {
            self.restarts.push(self.buf.len() as u32);
            self.since_restart = 0;
            0
        } else {
            self.last_key.iter().zip(key).take_while(|(a, b)| a == b).count()
        };
        let unshared = &key[shared..];
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, unshared.len() as u64);
        self.buf.push(if value.is_some() { KIND_VALUE } else { KIND_TOMBSTONE });
        let value = value.unwrap_or_default();
        put_varint(&mut self.buf, value.len() as u64);
        self.buf.extend_from_slice(unshared);
        self.buf.extend_from_slice(&ts.0.to_le_bytes());
        self.buf.extend_from_slice(value);
        self.last_key.truncate(shared);
        self.last_key.extend_from_slice(unshared);
        self.last_ts = ts;
        self.since_restart += 1;
        self.entries += 1;
    }

    /// The size the block would have if finished now.
    pub(crate) fn estimated_size(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    /// True if no entry was added since the last reset.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Entries added since the last reset.
    pub(crate) fn entries(&self) -> usize {
        self.entries
    }

    /// The last key added and its timestamp.
    pub(crate) fn last(&self) -> (&[u8], Timestamp) {
        (&self.last_key, self.last_ts)
    }

    /// Appends the restart array and its length and returns the block's bytes; call
    /// [`BlockBuilder::reset`] before adding again.
    pub(crate) fn finish(&mut self) -> &[u8] {
        for restart in &self.restarts {
            self.buf.extend_from_slice(&restart.to_le_bytes());
        }
        self.buf.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        &self.buf
    }

    /// Empties the builder for the next block (keeping its allocation).
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.restarts.clear();
        self.restarts.push(0);
        self.since_restart = 0;
        self.last_key.clear();
        self.last_ts = Timestamp::ZERO;
        self.entries = 0;
    }
}
