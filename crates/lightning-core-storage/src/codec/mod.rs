//! Compression codecs behind one trait, and a self-describing checksummed block format.
//!
//! [`compress_block`] writes a 20-byte header (checksum, codec id, lengths) before the payload,
//! so [`decompress_block`] needs no outside knowledge to read it back and the codec can change
//! between blocks. If a codec does not make a block smaller, the block is stored raw. The byte
//! layout is in `docs/format/compression.md`; the constants in [`block`] are its one copy in code.

pub mod block;
mod codecs;

pub use block::{BLOCK_HEADER_LEN, MAX_UNCOMPRESSED_LEN, compress_block, decompress_block};
pub use codecs::{Lz4Codec, NoCodec, SnappyCodec, ZstdCodec};

use crate::Result;

/// Identifies a codec on disk. The numbers are part of the format: never reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum CodecId {
    /// Stored as is.
    None = 0,
    /// LZ4 block format.
    Lz4 = 1,
    /// Snappy raw format (not the framed format).
    Snappy = 2,
    /// Zstandard.
    Zstd = 3,
}

impl CodecId {
    /// Decodes a codec id byte.
    pub fn from_byte(byte: u8) -> Option<CodecId> {
        match byte {
            0 => Some(CodecId::None),
            1 => Some(CodecId::Lz4),
            2 => Some(CodecId::Snappy),
            3 => Some(CodecId::Zstd),
            _ => None,
        }
    }
}

/// A compression algorithm.
pub trait Codec: Send + Sync + std::fmt::Debug {
    /// The id written into block headers.
    fn id(&self) -> CodecId;
    /// Appends the compressed form of `input` to `out`.
    fn compress(&self, input: &[u8], out: &mut Vec<u8>) -> Result<()>;
    /// Appends the decompressed form of `input` to `out`; it must be exactly
    /// `uncompressed_len` bytes, or the input is corrupt.
    fn decompress(&self, input: &[u8], uncompressed_len: usize, out: &mut Vec<u8>) -> Result<()>;
}

/// The compression setting users choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// No compression.
    None,
    /// LZ4: fast, moderate ratio. The default.
    #[default]
    Lz4,
    /// Snappy: fast, moderate ratio.
    Snappy,
    /// Zstandard at a level (1 = fastest .. 22 = smallest; 3 is zstd's default).
    Zstd {
        /// The compression level.
        level: i32,
    },
}

impl Compression {
    /// The codec for this setting.
    pub fn codec(self) -> Box<dyn Codec> {
        match self {
            Compression::None => Box::new(NoCodec),
            Compression::Lz4 => Box::new(Lz4Codec),
            Compression::Snappy => Box::new(SnappyCodec),
            Compression::Zstd { level } => Box::new(ZstdCodec::new(level)),
        }
    }
}

/// The codec that reads blocks written with `id` (decompression needs no level).
pub fn codec_for(id: CodecId) -> &'static dyn Codec {
    static ZSTD: ZstdCodec = ZstdCodec::DEFAULT;
    match id {
        CodecId::None => &NoCodec,
        CodecId::Lz4 => &Lz4Codec,
        CodecId::Snappy => &SnappyCodec,
        CodecId::Zstd => &ZSTD,
    }
}
