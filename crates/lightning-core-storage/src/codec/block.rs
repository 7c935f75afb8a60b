//! The self-describing compressed block: a 20-byte header, then the payload.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | xxh3-64 of bytes `[8, 20 + payload length)` |
//! | 8 | 1 | codec id ([`super::CodecId`]) |
//! | 9 | 1 | block format version (1) |
//! | 10 | 2 | reserved, zero |
//! | 12 | 4 | uncompressed length |
//! | 16 | 4 | payload length |
//! | 20 | n | payload |

use xxhash_rust::xxh3::xxh3_64;

use super::{Codec, CodecId, codec_for};
use crate::{Error, Result};

const CHECKSUM: usize = 0;
const CODEC: usize = CHECKSUM + 8;
const VERSION: usize = CODEC + 1;
const RESERVED: usize = VERSION + 1;
const UNCOMPRESSED_LEN: usize = RESERVED + 2;
const PAYLOAD_LEN: usize = UNCOMPRESSED_LEN + 4;
/// Length of the block header.
pub const BLOCK_HEADER_LEN: usize = PAYLOAD_LEN + 4;
const BLOCK_VERSION: u8 = 1;
/// The largest block this format reads back (1 GiB), so a damaged length cannot make a reader
/// allocate without bound.
pub const MAX_UNCOMPRESSED_LEN: usize = 1 << 30;

const _: () = assert!(BLOCK_HEADER_LEN == 20);

/// Appends a block holding `input` compressed with `codec` to `out`. If compression does not
/// save space, the block is stored raw (codec id 0).
pub fn compress_block(codec: &dyn Codec, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if input.len() > MAX_UNCOMPRESSED_LEN {
        return Err(Error::InvalidInput(format!(
            "block of {} bytes exceeds the {MAX_UNCOMPRESSED_LEN}-byte limit",
            input.len()
        )));
    }
    let start = out.len();
    out.resize(start + BLOCK_HEADER_LEN, 0);
    let mut id = codec.id();
    if id != CodecId::None {
        codec.compress(input, out)?;
        if out.len() - start - BLOCK_HEADER_LEN >= input.len() {
            out.truncate(start + BLOCK_HEADER_LEN);
            id = CodecId::None;
        }
    }
    if id == CodecId::None {
        out.extend_from_slice(input);
    }
    let payload_len = (out.len() - start - BLOCK_HEADER_LEN) as u32;
    let header = &mut out[start..start + BLOCK_HEADER_LEN];
    header[CODEC] = id as u8;
    header[VERSION] = BLOCK_VERSION;
    header[UNCOMPRESSED_LEN..PAYLOAD_LEN].copy_from_slice(&(input.len() as u32).to_le_bytes());
    header[PAYLOAD_LEN..BLOCK_HEADER_LEN].copy_from_slice(&payload_len.to_le_bytes());
    let checksum = xxh3_64(&out[start + CODEC..]);
    out[start..start + CODEC].copy_from_slice(&checksum.to_le_bytes());
    Ok(())
}

/// Verifies the block at the start of `block` and appends its decompressed bytes to `out`.
/// Returns the number of bytes of `block` it used (header + payload). Damage of any kind is
/// [`Error::Corruption`], never a panic.
pub fn decompress_block(block: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    let bad = |what: String| Error::corruption(what, "compressed block");
    if block.len() < BLOCK_HEADER_LEN {
        return Err(bad(format!("{} bytes is shorter than a block header", block.len())));
    }
    let read_u32 = |at: usize| {
        u32::from_le_bytes(block[at..at + 4].try_into().expect("4-byte header field")) as usize
    };
    let payload_len = read_u32(PAYLOAD_LEN);
    let end = BLOCK_HEADER_LEN
        .checked_add(payload_len)
        .filter(|end| *end <= block.len())
        .ok_or_else(|| bad(format!("payload of {payload_len} bytes runs past the block")))?;
    let stored = u64::from_le_bytes(block[..CODEC].try_into().expect("8-byte checksum"));
    let computed = xxh3_64(&block[CODEC..end]);
    if stored != computed {
        return Err(bad(format!(
            "checksum mismatch (stored {stored:#018x}, computed {computed:#018x})"
        )));
    }
    if block[VERSION] != BLOCK_VERSION {
        return Err(bad(format!("unknown block format version {}", block[VERSION])));
    }
    let id = CodecId::from_byte(block[CODEC])
        .ok_or_else(|| bad(format!("unknown codec id {}", block[CODEC])))?;
    let uncompressed_len = read_u32(UNCOMPRESSED_LEN);
    if uncompressed_len > MAX_UNCOMPRESSED_LEN {
        return Err(bad(format!("uncompressed length {uncompressed_len} exceeds the limit")));
    }
    let start = out.len();
    let result = codec_for(id).decompress(&block[BLOCK_HEADER_LEN..end], uncompressed_len, out);
    if result.is_err() {
        out.truncate(start);
    }
    result.map(|()| end)
}
