//! The commit record: what one committed transaction (or write batch) puts in the WAL.
//!
//! The WAL frames and checksums records, so a record that reaches replay is complete; this
//! format only has to be exact and versioned. The byte-by-byte specification, with the rules
//! `decode` enforces, is `docs/format/txn-record.md`; the constants below are the one layout
//! description in code.
//!
//! An empty WAL record is padding written by recovery (it carries no commit) and is skipped.

use lightning_core_storage::{
    Timestamp,
    engine::{EngineBatch, WriteOp},
};

use crate::{Error, Result};

/// Byte 0: the record version.
const VERSION: u8 = 1;
/// Offset of the commit timestamp (u64, little-endian).
const COMMIT_TS_OFFSET: usize = 1;
/// Offset of the write count (u32, little-endian).
const COUNT_OFFSET: usize = COMMIT_TS_OFFSET + 8;
/// Where the writes start.
const HEADER_LEN: usize = COUNT_OFFSET + 4;
/// The fewest bytes a write takes (kind and key length).
const MIN_WRITE_LEN: usize = 1 + 4;
const KIND_PUT: u8 = 1;
const KIND_DELETE: u8 = 2;
const _: () = assert!(HEADER_LEN == 13, "the header of docs/format/txn-record.md");

/// A decoded commit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    /// The transaction's commit timestamp.
    pub commit_ts: Timestamp,
    /// Its writes.
    pub batch: EngineBatch,
}

/// Encodes a commit record.
pub fn encode(commit_ts: Timestamp, batch: &EngineBatch) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + batch.size_bytes() + batch.len() * 9);
    out.push(VERSION);
    out.extend_from_slice(&commit_ts.0.to_le_bytes());
    out.extend_from_slice(&(batch.len() as u32).to_le_bytes());
    for op in batch.ops() {
        match op {
            WriteOp::Put { key, value } => {
                out.push(KIND_PUT);
                out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                out.extend_from_slice(key);
                out.extend_from_slice(&(value.len() as u32).to_le_bytes());
                out.extend_from_slice(value);
            }
            WriteOp::Delete { key } => {
                out.push(KIND_DELETE);
                out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                out.extend_from_slice(key);
            }
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end =
            self.at.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or_else(|| {
                corrupt(format!("record ends inside a field at byte {} (needs {n} more)", self.at))
            })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<usize> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize)
    }
}

fn corrupt(what: String) -> Error {
    Error::Storage(lightning_core_storage::Error::corruption(what, "WAL commit record"))
}

/// Decodes a commit record; any malformation is `Corruption`, never a panic.
pub fn decode(bytes: &[u8]) -> Result<CommitRecord> {
    let mut reader = Reader { bytes, at: 0 };
    let version = reader.take(1)?[0];
    if version != VERSION {
        return Err(corrupt(format!("unknown commit record version {version}")));
    }
    let commit_ts = Timestamp(u64::from_le_bytes(reader.take(8)?.try_into().expect("8 bytes")));
    let count = reader.u32()?;
    // Each write takes at least 5 bytes: a count beyond that is damage, not a reason to loop.
    if count > bytes.len() / MIN_WRITE_LEN {
        return Err(corrupt(format!("record claims {count} writes in {} bytes", bytes.len())));
    }
    let mut batch = EngineBatch::new();
    for _ in 0..count {
        let kind = reader.take(1)?[0];
        let key_len = reader.u32()?;
        let key = reader.take(key_len)?.to_vec();
        match kind {
            KIND_PUT => {
                let value_len = reader.u32()?;
                batch.put(key, reader.take(value_len)?.to_vec());
            }
            KIND_DELETE => batch.delete(key),
            other => return Err(corrupt(format!("unknown write kind {other}"))),
        }
    }
    if reader.at != bytes.len() {
        return Err(corrupt(format!("{} trailing bytes", bytes.len() - reader.at)));
    }
    Ok(CommitRecord { commit_ts, batch })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Timestamp, EngineBatch) {
        let mut batch = EngineBatch::new();
        batch.put(b"key".to_vec(), b"value".to_vec());
        batch.put(Vec::new(), Vec::new());
        batch.delete(b"gone".to_vec());
        (Timestamp(42), batch)
    }

    #[test]
    fn roundtrips() {
        let (ts, batch) = sample();
        let decoded = decode(&encode(ts, &batch)).unwrap();
        assert_eq!(decoded, CommitRecord { commit_ts: ts, batch });
    }

    #[test]
    fn every_truncation_and_bad_kind_is_an_error() {
        let (ts, batch) = sample();
        let bytes = encode(ts, &batch);
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "truncated to {len}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode(&extra).is_err(), "trailing bytes");
        let mut bad_kind = bytes.clone();
        bad_kind[HEADER_LEN] = 9;
        assert!(decode(&bad_kind).is_err(), "unknown kind");
        let mut huge = bytes;
        huge[COUNT_OFFSET..HEADER_LEN].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_err(), "absurd count");
    }
}
