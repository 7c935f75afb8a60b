//! Unsigned LEB128 varints: seven bits per byte, low bits first, the high bit set on every byte
//! but the last (as LevelDB's `PutVarint64`). Decoding is bounded to ten bytes and never panics.

/// The most bytes a `u64` varint takes.
pub const MAX_VARINT_LEN: usize = 10;

/// Appends `value` as a varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Decodes the varint at `input[*pos..]`, advancing `pos` past it. `None` if the input ends
/// inside it, or it is longer than ten bytes or overflows 64 bits.
pub fn get_varint(input: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..MAX_VARINT_LEN {
        let byte = *input.get(*pos + i)?;
        let bits = u64::from(byte & 0x7f);
        if i == MAX_VARINT_LEN - 1 && bits > 1 {
            return None;
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            *pos += i + 1;
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_their_expected_lengths() {
        for (value, len) in
            [(0u64, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (u64::MAX, 10)]
        {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out.len(), len, "{value}");
            let mut pos = 0;
            assert_eq!(get_varint(&out, &mut pos), Some(value));
            assert_eq!(pos, len);
        }
    }

    #[test]
    fn truncated_overlong_and_overflowing_varints_are_refused() {
        let mut pos = 0;
        assert_eq!(get_varint(&[0x80, 0x80], &mut pos), None);
        assert_eq!(get_varint(&[0xff; 11], &mut pos), None);
        // Ten bytes whose last carries more than the one bit left of a u64.
        let mut overflow = vec![0xff; 9];
        overflow.push(0x02);
        assert_eq!(get_varint(&overflow, &mut pos), None);
        assert_eq!(pos, 0, "a failed decode does not move the position");
    }
}
