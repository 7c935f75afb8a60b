//! The one description in code of the key-file layout; `docs/format/keyfile.md` is its prose
//! twin and must be changed with it.
//!
//! Offsets are cumulative constants, so a field cannot be resized without moving the fields
//! after it; the `const` assertions pin the documented offsets.

use crate::cipher::{KEY_LEN, NONCE_LEN, TAG_LEN};

/// The first eight bytes of every key file.
pub(crate) const MAGIC: [u8; 8] = *b"LIGHTKEY";

/// `magic`: 8 bytes.
pub(crate) const MAGIC_OFFSET: usize = 0;
/// `format_version`: u16 little-endian.
pub(crate) const VERSION_OFFSET: usize = MAGIC_OFFSET + MAGIC.len();
/// `kdf_id`: u8, [`KDF_ARGON2ID_V13`].
pub(crate) const KDF_ID_OFFSET: usize = VERSION_OFFSET + 2;
/// `aead_id`: u8, [`AEAD_XCHACHA20_POLY1305`].
pub(crate) const AEAD_ID_OFFSET: usize = KDF_ID_OFFSET + 1;
/// `m_cost_kib`: u32 little-endian.
pub(crate) const M_COST_OFFSET: usize = AEAD_ID_OFFSET + 1;
/// `t_cost`: u32 little-endian.
pub(crate) const T_COST_OFFSET: usize = M_COST_OFFSET + 4;
/// `p_cost`: u32 little-endian.
pub(crate) const P_COST_OFFSET: usize = T_COST_OFFSET + 4;
/// `salt`: [`SALT_LEN`] random bytes.
pub(crate) const SALT_OFFSET: usize = P_COST_OFFSET + 4;
/// Length of the Argon2id salt (RFC 9106 asks for at least 16).
pub const SALT_LEN: usize = 32;
/// `nonce`: XChaCha20-Poly1305 nonce.
pub(crate) const NONCE_OFFSET: usize = SALT_OFFSET + SALT_LEN;
/// `sealed_key`: the data key encrypted under the key-encryption key.
pub(crate) const SEALED_KEY_OFFSET: usize = NONCE_OFFSET + NONCE_LEN;
/// `tag`: Poly1305 tag over the header and the sealed key.
pub(crate) const TAG_OFFSET: usize = SEALED_KEY_OFFSET + KEY_LEN;
/// `checksum`: CRC-32 (IEEE) of every byte before it, u32 little-endian.
pub(crate) const CHECKSUM_OFFSET: usize = TAG_OFFSET + TAG_LEN;
/// Total length of a version-1 key file.
pub const KEY_FILE_LEN: usize = CHECKSUM_OFFSET + 4;
/// The header, authenticated as AEAD associated data: every byte before `sealed_key`.
pub(crate) const HEADER_LEN: usize = SEALED_KEY_OFFSET;

/// `kdf_id` of Argon2id, version 0x13.
pub(crate) const KDF_ARGON2ID_V13: u8 = 1;
/// `aead_id` of XChaCha20-Poly1305.
pub(crate) const AEAD_XCHACHA20_POLY1305: u8 = 1;

const _: () = {
    assert!(VERSION_OFFSET == 8);
    assert!(KDF_ID_OFFSET == 10);
    assert!(AEAD_ID_OFFSET == 11);
    assert!(M_COST_OFFSET == 12);
    assert!(T_COST_OFFSET == 16);
    assert!(P_COST_OFFSET == 20);
    assert!(SALT_OFFSET == 24);
    assert!(SALT_LEN >= 16, "RFC 9106: salt of at least 128 bits");
    assert!(NONCE_OFFSET == 56);
    assert!(SEALED_KEY_OFFSET == 80);
    assert!(TAG_OFFSET == 112);
    assert!(CHECKSUM_OFFSET == 128);
    assert!(KEY_FILE_LEN == 132);
};

/// Versions of the key-file format this build can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyFileVersion {
    /// Version 1: Argon2id v0x13 + XChaCha20-Poly1305, 32-byte salt, CRC-32 trailer.
    V1 = 1,
}

impl KeyFileVersion {
    /// The version that [`WrappedKey::wrap`](crate::WrappedKey::wrap) writes.
    pub const CURRENT: KeyFileVersion = KeyFileVersion::V1;

    /// The number stored in the `format_version` field.
    pub fn as_u16(self) -> u16 {
        self as u16
    }

    /// The version stored as `raw`, if this build knows it.
    pub fn from_u16(raw: u16) -> Option<KeyFileVersion> {
        match raw {
            1 => Some(KeyFileVersion::V1),
            _ => None,
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bitwise: key files are 132 bytes.
///
/// Catches accidental damage (every single-byte change, every burst up to 32 bits) before the
/// expensive key derivation runs. It is not a defence against deliberate tampering: that is
/// the AEAD tag's job, with the header as associated data.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard check value of CRC-32/ISO-HDLC (the IEEE CRC used by zlib and PNG).
    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn version_numbers_round_trip() {
        assert_eq!(KeyFileVersion::from_u16(1), Some(KeyFileVersion::V1));
        assert_eq!(KeyFileVersion::V1.as_u16(), 1);
        assert_eq!(KeyFileVersion::from_u16(0), None);
        assert_eq!(KeyFileVersion::from_u16(2), None);
    }
}
