//! [`AssociatedData`]: where a sealed block belongs, authenticated but not encrypted.
//!
//! Sealing a block with the AAD of its file, its position and its version means that a block
//! copied to another position, moved to another file, or replaced by an older version of
//! itself (a replay) fails to open with [`Error::AuthenticationFailed`](crate::Error).

/// Associated data binding a sealed block to where it belongs, so swapped or replayed blocks
/// fail to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AssociatedData {
    /// The file the block belongs to (never reused for another file under the same key).
    pub file_id: u64,
    /// The block's position (page number, block index) inside that file.
    pub block_id: u64,
    /// The block's version (for example an LSN or write counter), so an old copy of the same
    /// block cannot be replayed.
    pub version: u64,
}

impl AssociatedData {
    /// Length of [`to_bytes`](Self::to_bytes): three little-endian `u64`s.
    pub const LEN: usize = 24;

    /// The bytes to pass as `aad`: `file_id`, `block_id`, `version`, each little-endian, in
    /// that order.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..8].copy_from_slice(&self.file_id.to_le_bytes());
        out[8..16].copy_from_slice(&self.block_id.to_le_bytes());
        out[16..24].copy_from_slice(&self.version.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_bytes_is_three_little_endian_u64_in_order() {
        let ad = AssociatedData {
            file_id: 0x0102_0304_0506_0708,
            block_id: 0x1112_1314_1516_1718,
            version: 0x2122_2324_2526_2728,
        };
        assert_eq!(
            ad.to_bytes(),
            [
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, //
                0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, //
                0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,
            ]
        );
    }

    #[test]
    fn fields_do_not_alias() {
        let a = AssociatedData { file_id: 1, block_id: 2, version: 3 };
        let swapped = AssociatedData { file_id: 2, block_id: 1, version: 3 };
        assert_ne!(a.to_bytes(), swapped.to_bytes());
    }
}
