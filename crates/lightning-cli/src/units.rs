//! Byte sizes on the command line: `65536`, `64MiB`, `64M`, `1GB`.
//!
//! `KiB`, `MiB`, `GiB`, `TiB` and the one-letter `K`, `M`, `G`, `T` are powers of 1024; `KB`,
//! `MB`, `GB`, `TB` are powers of 1000; `B` or no suffix is bytes. Suffixes are
//! case-insensitive and may follow a space.

/// Parses a byte size; the error is one line naming what was wrong.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (digits, suffix) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(format!("`{text}` is not a size: expected a number of bytes such as 64MiB"));
    }
    let number: u64 =
        digits.parse().map_err(|_| format!("`{text}` is too large for a size in bytes"))?;
    let multiplier: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "unknown size suffix `{other}` in `{text}`: use B, KiB, MiB, GiB, TiB (1024) or \
                 KB, MB, GB, TB (1000)"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too large for a size in bytes"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn plain_numbers_are_bytes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("12B"), Ok(12));
    }

    #[test]
    fn binary_and_decimal_suffixes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64 mib"), Ok(64 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("3KB"), Ok(3000));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
    }

    #[test]
    fn bad_sizes_are_refused_with_a_reason() {
        assert!(parse_size("").unwrap_err().contains("not a size"));
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
        assert!(parse_size("-5").unwrap_err().contains("not a size"));
        assert!(parse_size("5 parsecs").unwrap_err().contains("unknown size suffix"));
        assert!(parse_size("99999999999999999999").unwrap_err().contains("too large"));
        assert!(parse_size("20000000TiB").unwrap_err().contains("too large"));
    }
}
