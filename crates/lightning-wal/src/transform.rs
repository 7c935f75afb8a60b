//! Optional per-record payload transforms: compression (a core-storage codec block) and then
//! encryption (the security envelope, bound to the record's segment, offset and LSN).
//!
//! Compression runs before the log's lock is taken; sealing needs the record's position and
//! LSN, so it runs under the lock, after they are assigned.

use std::borrow::Cow;

use lightning_core_storage::codec::{
    BLOCK_HEADER_LEN, Codec, Compression, MAX_UNCOMPRESSED_LEN, compress_block, decompress_block,
};
use lightning_security::{AssociatedData, DataKey, SEAL_OVERHEAD};

use crate::{
    error::{Error, Result},
    format::{RECORD_COMPRESSED, RECORD_ENCRYPTED},
};

/// The longest record accepted by [`crate::Wal::append`] (1 GiB).
pub const MAX_RECORD_LEN: usize = MAX_UNCOMPRESSED_LEN;
/// The longest stored payload a reader reassembles: a record plus the transforms' overhead.
pub(crate) const MAX_STORED_LEN: usize = MAX_RECORD_LEN + BLOCK_HEADER_LEN + SEAL_OVERHEAD;

/// The associated data a record is sealed with: segment, offset of its first fragment, LSN.
pub(crate) fn associated_data(segment: u64, offset: u64, lsn: u64) -> [u8; AssociatedData::LEN] {
    AssociatedData { file_id: segment, block_id: offset, version: lsn }.to_bytes()
}

/// The write side: the configured codec and key.
#[derive(Debug)]
pub(crate) struct Transform {
    codec: Option<Box<dyn Codec>>,
    key: Option<DataKey>,
}

impl Transform {
    pub(crate) fn new(compression: Compression, key: Option<DataKey>) -> Self {
        let codec = (compression != Compression::None).then(|| compression.codec());
        Transform { codec, key }
    }

    pub(crate) fn key(&self) -> Option<&DataKey> {
        self.key.as_ref()
    }

    pub(crate) fn encrypts(&self) -> bool {
        self.key.is_some()
    }

    /// Step one (no lock held): checks the length and compresses. Returns the payload and its
    /// record flags so far.
    pub(crate) fn compress<'a>(&self, record: &'a [u8]) -> Result<(Cow<'a, [u8]>, u8)> {
        if record.len() > MAX_RECORD_LEN {
            return Err(Error::RecordTooLarge);
        }
        match &self.codec {
            None => Ok((Cow::Borrowed(record), 0)),
            Some(codec) => {
                let mut block = Vec::with_capacity(record.len() / 2 + BLOCK_HEADER_LEN);
                compress_block(codec.as_ref(), record, &mut block)?;
                Ok((Cow::Owned(block), RECORD_COMPRESSED))
            }
        }
    }

    /// Step two (under the lock, position known): seals the payload if a key is configured.
    pub(crate) fn seal<'a>(
        &self,
        payload: Cow<'a, [u8]>,
        flags: u8,
        segment: u64,
        offset: u64,
        lsn: u64,
    ) -> Result<(Cow<'a, [u8]>, u8)> {
        match &self.key {
            None => Ok((payload, flags)),
            Some(key) => {
                let aad = associated_data(segment, offset, lsn);
                let sealed =
                    key.seal(&payload, &aad).map_err(lightning_core_storage::Error::from)?;
                Ok((Cow::Owned(sealed), flags | RECORD_ENCRYPTED))
            }
        }
    }
}

/// The read side: turns a stored payload back into the record. `segment` and `offset` locate
/// the record's first fragment (for the associated data and for errors).
pub(crate) fn decode(
    key: Option<&DataKey>,
    flags: u8,
    stored: Vec<u8>,
    segment: u64,
    offset: u64,
    lsn: u64,
) -> Result<Vec<u8>> {
    let mut payload = stored;
    if flags & RECORD_ENCRYPTED != 0 {
        let Some(key) = key else {
            return Err(Error::InvalidOptions(format!(
                "record {lsn} (segment {segment}, offset {offset}) is encrypted, but no key was given"
            )));
        };
        payload = key.open(&payload, &associated_data(segment, offset, lsn)).map_err(|e| {
            Error::corruption(segment, offset, format!("record {lsn} does not decrypt: {e}"))
        })?;
    }
    if flags & RECORD_COMPRESSED != 0 {
        let mut out = Vec::new();
        let used = decompress_block(&payload, &mut out).map_err(|e| {
            Error::corruption(segment, offset, format!("record {lsn} does not decompress: {e}"))
        })?;
        if used != payload.len() {
            return Err(Error::corruption(
                segment,
                offset,
                format!("record {lsn} has {} bytes after its block", payload.len() - used),
            ));
        }
        payload = out;
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(transform: &Transform, record: &[u8]) -> Vec<u8> {
        let (payload, flags) = transform.compress(record).unwrap();
        let (stored, flags) = transform.seal(payload, flags, 3, 40, 9).unwrap();
        decode(transform.key(), flags, stored.into_owned(), 3, 40, 9).unwrap()
    }

    #[test]
    fn plain_records_are_borrowed_untouched() {
        let transform = Transform::new(Compression::None, None);
        let (payload, flags) = transform.compress(b"abc").unwrap();
        assert!(matches!(payload, Cow::Borrowed(_)));
        assert_eq!(flags, 0);
        assert_eq!(round_trip(&transform, b"abc"), b"abc");
    }

    #[test]
    fn compressed_and_sealed_records_round_trip() {
        let key = DataKey::from_bytes([3; 32]);
        let transform = Transform::new(Compression::Lz4, Some(key.clone()));
        let record = b"hello hello hello hello hello hello hello".repeat(20);
        assert_eq!(round_trip(&transform, &record), record);
        assert_eq!(round_trip(&transform, b""), b"");
        let (payload, flags) = transform.compress(&record).unwrap();
        assert!(payload.len() < record.len());
        let (stored, flags) = transform.seal(payload, flags, 3, 40, 9).unwrap();
        assert_eq!(flags, RECORD_COMPRESSED | RECORD_ENCRYPTED);
        let moved = decode(Some(&key), flags, stored.to_vec(), 3, 41, 9).unwrap_err();
        assert!(moved.is_corruption(), "a record at another offset fails: {moved}");
        let replayed = decode(Some(&key), flags, stored.to_vec(), 3, 40, 10).unwrap_err();
        assert!(replayed.is_corruption(), "a record under another LSN fails: {replayed}");
        let keyless = decode(None, flags, stored.into_owned(), 3, 40, 9).unwrap_err();
        assert!(matches!(keyless, Error::InvalidOptions(_)), "{keyless}");
    }

    #[test]
    fn damaged_compressed_payload_is_corruption() {
        let transform = Transform::new(Compression::Snappy, None);
        let (payload, flags) = transform.compress(&[7u8; 500]).unwrap();
        let mut stored = payload.into_owned();
        let last = stored.len() - 1;
        stored[last] ^= 1;
        assert!(decode(None, flags, stored, 1, 40, 1).unwrap_err().is_corruption());
    }
}
