//! The codecs: none, LZ4 (`lz4`), Snappy (`snap`, raw format) and Zstandard (`zstd`).
//!
//! Every decompressor is told the exact output length up front and fails (never panics) when
//! the input does not produce exactly that many bytes.

use super::{Codec, CodecId};
use crate::{Error, Result};

fn corrupt(codec: &str, detail: impl std::fmt::Display) -> Error {
    Error::corruption(format!("{codec} payload does not decompress: {detail}"), "compressed block")
}

fn check_len(codec: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(corrupt(codec, format_args!("produced {got} bytes, header says {want}")))
    }
}

/// Stores bytes as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCodec;

impl Codec for NoCodec {
    fn id(&self) -> CodecId {
        CodecId::None
    }

    fn compress(&self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(input);
        Ok(())
    }

    fn decompress(&self, input: &[u8], uncompressed_len: usize, out: &mut Vec<u8>) -> Result<()> {
        check_len("raw", input.len(), uncompressed_len)?;
        out.extend_from_slice(input);
        Ok(())
    }
}

/// LZ4 block compression (the `lz4` crate, binding the reference C library).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lz4Codec;

impl Codec for Lz4Codec {
    fn id(&self) -> CodecId {
        CodecId::Lz4
    }

    fn compress(&self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let compressed = lz4::block::compress(input, None, false)
            .map_err(|e| Error::InvalidInput(format!("lz4 cannot compress this block: {e}")))?;
        out.extend_from_slice(&compressed);
        Ok(())
    }

    fn decompress(&self, input: &[u8], uncompressed_len: usize, out: &mut Vec<u8>) -> Result<()> {
        let size = i32::try_from(uncompressed_len)
            .map_err(|_| corrupt("lz4", "length beyond what lz4 can express"))?;
        let start = out.len();
        out.resize(start + uncompressed_len, 0);
        let written = lz4::block::decompress_to_buffer(input, Some(size), &mut out[start..])
            .map_err(|e| corrupt("lz4", e))?;
        check_len("lz4", written, uncompressed_len)
    }
}

/// Snappy, raw block format (`snap::raw`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SnappyCodec;

impl Codec for SnappyCodec {
    fn id(&self) -> CodecId {
        CodecId::Snappy
    }

    fn compress(&self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.resize(start + snap::raw::max_compress_len(input.len()), 0);
        let written = snap::raw::Encoder::new()
            .compress(input, &mut out[start..])
            .map_err(|e| Error::InvalidInput(format!("snappy cannot compress this block: {e}")))?;
        out.truncate(start + written);
        Ok(())
    }

    fn decompress(&self, input: &[u8], uncompressed_len: usize, out: &mut Vec<u8>) -> Result<()> {
        let claimed = snap::raw::decompress_len(input).map_err(|e| corrupt("snappy", e))?;
        check_len("snappy", claimed, uncompressed_len)?;
        let start = out.len();
        out.resize(start + uncompressed_len, 0);
        let written = snap::raw::Decoder::new()
            .decompress(input, &mut out[start..])
            .map_err(|e| corrupt("snappy", e))?;
        check_len("snappy", written, uncompressed_len)
    }
}

/// Zstandard at a configurable level.
#[derive(Debug, Clone, Copy)]
pub struct ZstdCodec {
    level: i32,
}

impl ZstdCodec {
    /// Level 3, zstd's own default.
    pub const DEFAULT: ZstdCodec = ZstdCodec { level: 3 };

    /// Zstandard at `level`, clamped to zstd's range.
    pub fn new(level: i32) -> Self {
        let range = zstd::compression_level_range();
        ZstdCodec { level: level.clamp(*range.start(), *range.end()) }
    }

    /// The level in use.
    pub fn level(&self) -> i32 {
        self.level
    }
}

impl Default for ZstdCodec {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Codec for ZstdCodec {
    fn id(&self) -> CodecId {
        CodecId::Zstd
    }

    fn compress(&self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.resize(start + zstd::zstd_safe::compress_bound(input.len()), 0);
        let written = ZSTD_CONTEXTS.with_borrow_mut(|contexts| {
            contexts.compressor(self.level)?.compress_to_buffer(input, &mut out[start..])
        });
        let written = written
            .map_err(|e| Error::InvalidInput(format!("zstd cannot compress this block: {e}")))?;
        out.truncate(start + written);
        Ok(())
    }

    fn decompress(&self, input: &[u8], uncompressed_len: usize, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.resize(start + uncompressed_len, 0);
        let written = ZSTD_CONTEXTS
            .with_borrow_mut(|contexts| {
                contexts.decompressor()?.decompress_to_buffer(input, &mut out[start..])
            })
            .map_err(|e| corrupt("zstd", e))?;
        check_len("zstd", written, uncompressed_len)
    }
}

/// Zstandard contexts, one set per thread and reused across blocks: creating a context costs
/// more than compressing a 4 KiB page with it.
#[derive(Default)]
struct ZstdContexts {
    compressor: Option<(i32, zstd::bulk::Compressor<'static>)>,
    decompressor: Option<zstd::bulk::Decompressor<'static>>,
}

impl ZstdContexts {
    fn compressor(&mut self, level: i32) -> std::io::Result<&mut zstd::bulk::Compressor<'static>> {
        if self.compressor.as_ref().is_none_or(|(l, _)| *l != level) {
            self.compressor = Some((level, zstd::bulk::Compressor::new(level)?));
        }
        Ok(&mut self.compressor.as_mut().expect("just set").1)
    }

    fn decompressor(&mut self) -> std::io::Result<&mut zstd::bulk::Decompressor<'static>> {
        if self.decompressor.is_none() {
            self.decompressor = Some(zstd::bulk::Decompressor::new()?);
        }
        Ok(self.decompressor.as_mut().expect("just set"))
    }
}

thread_local! {
    static ZSTD_CONTEXTS: std::cell::RefCell<ZstdContexts> = std::cell::RefCell::default();
}
