//! How bytes are shown and read back: hex, the escaped display form, the strict ASCII escape of
//! the text dump, and the JSON form.
//!
//! - **display** (tables, error messages): valid UTF-8 is shown as is, except control
//!   characters and invalid UTF-8 bytes, which become `\xHH`; a backslash becomes `\\`. The
//!   form is unambiguous, so a shown key can be read back with [`unescape`].
//! - **ascii** (text dump): like display, but every byte outside printable ASCII (0x20..=0x7e)
//!   is escaped, so a dump is 7-bit clean and survives any editor or transport.
//! - **json**: a JSON string when the bytes are valid UTF-8, else `{"hex": "..."}`; with
//!   `--hex`, always a hex string.

use std::fmt::Write as _;

use serde_json::Value;

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
        out.push(char::from(HEX_DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Parses hex digits (either case, an even number of them) into bytes.
pub fn from_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", text.len()));
    }
    text.chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(high), Some(low)) => Ok(high << 4 | low),
            _ => Err(format!("not a hex digit at position {}", i * 2)),
        })
        .collect()
}

fn push_escaped_byte(out: &mut String, byte: u8) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\x{byte:02x}");
}

/// The display form of `bytes` (see the module doc).
pub fn escape_display(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if c.is_control() {
                let mut buf = [0; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    push_escaped_byte(&mut out, b);
                }
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            push_escaped_byte(&mut out, b);
        }
    }
    out
}

/// The ASCII form of `bytes` used by the text dump: printable ASCII except the backslash as
/// is, `\\` for a backslash, `\xHH` (lowercase) for every other byte.
pub fn escape_ascii(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => {
                out.extend_from_slice(b"\\x");
                out.push(HEX_DIGITS[usize::from(b >> 4)]);
                out.push(HEX_DIGITS[usize::from(b & 0x0f)]);
            }
        }
    }
}

/// Reverses [`escape_ascii`] and [`escape_display`]: `\\` and `\xHH` are decoded; any other
/// backslash sequence is an error. With `strict`, raw bytes outside printable ASCII are
/// refused too (the text dump never contains them).
pub fn unescape(text: &[u8], strict: bool) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'\\' {
            match text.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                }
                Some(b'x') => {
                    let digits = text
                        .get(i + 2..i + 4)
                        .ok_or_else(|| format!("`\\x` at byte {i} needs two hex digits"))?;
                    let byte = from_hex(digits)
                        .map_err(|_| format!("`\\x` at byte {i} needs two hex digits"))?;
                    out.extend_from_slice(&byte);
                    i += 4;
                }
                _ => return Err(format!("unknown escape at byte {i}: use \\\\ or \\xHH")),
            }
        } else if strict && !(0x20..=0x7e).contains(&b) {
            return Err(format!("unescaped byte 0x{b:02x} at byte {i}"));
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

/// How keys and values are shown: the display form, or hex with `--hex`.
pub fn show(bytes: &[u8], hex: bool) -> String {
    if hex { to_hex(bytes) } else { escape_display(bytes) }
}

/// The JSON form of `bytes` (see the module doc).
pub fn json_bytes(bytes: &[u8], hex: bool) -> Value {
    if hex {
        return Value::String(to_hex(bytes));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => serde_json::json!({ "hex": to_hex(bytes) }),
    }
}

/// One JSON line `{"key":..,"value":..}` for an entry.
pub fn json_entry(key: &[u8], value: &[u8], hex: bool) -> String {
    let mut object = serde_json::Map::new();
    object.insert("key".to_owned(), json_bytes(key, hex));
    object.insert("value".to_owned(), json_bytes(value, hex));
    Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let hex = to_hex(&all);
        assert_eq!(&hex[..6], "000102");
        assert_eq!(from_hex(hex.as_bytes()).unwrap(), all);
        assert_eq!(from_hex(b"ABcd").unwrap(), vec![0xab, 0xcd]);
        assert_eq!(from_hex(b"").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn bad_hex_is_an_error() {
        assert!(from_hex(b"abc").unwrap_err().contains("odd"));
        assert!(from_hex(b"zz").unwrap_err().contains("position 0"));
        assert!(from_hex(b"00g0").unwrap_err().contains("position 2"));
    }

    #[test]
    fn display_escapes_controls_invalid_utf8_and_backslash() {
        assert_eq!(escape_display(b"user:1"), "user:1");
        assert_eq!(escape_display(b"a b"), "a b");
        assert_eq!(escape_display(b"\x00\xff"), "\\x00\\xff");
        assert_eq!(escape_display(b"tab\there\n"), "tab\\x09here\\x0a");
        assert_eq!(escape_display(b"back\\slash"), "back\\\\slash");
        assert_eq!(escape_display("café ✓".as_bytes()), "café ✓");
        assert_eq!(escape_display("\u{85}".as_bytes()), "\\xc2\\x85");
    }

    #[test]
    fn display_form_reads_back() {
        let samples: [&[u8]; 5] = [b"", b"\x00\xff", b"a\\x41", "é\u{7f}".as_bytes(), b"\xc3"];
        for sample in samples {
            assert_eq!(unescape(escape_display(sample).as_bytes(), false).unwrap(), sample);
        }
    }

    #[test]
    fn ascii_escape_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let mut escaped = Vec::new();
        escape_ascii(&all, &mut escaped);
        assert!(escaped.iter().all(|b| (0x20..=0x7e).contains(b)));
        assert!(!escaped.contains(&b'\t'));
        assert_eq!(unescape(&escaped, true).unwrap(), all);
    }

    #[test]
    fn bad_escapes_are_errors() {
        assert!(unescape(b"\\n", true).unwrap_err().contains("unknown escape"));
        assert!(unescape(b"ab\\", true).unwrap_err().contains("unknown escape"));
        assert!(unescape(b"\\x4", true).unwrap_err().contains("two hex digits"));
        assert!(unescape(b"\\xzz", true).unwrap_err().contains("two hex digits"));
        assert!(unescape(b"a\rb", true).unwrap_err().contains("0x0d"));
        assert_eq!(unescape(b"a\rb", false).unwrap(), b"a\rb");
    }

    #[test]
    fn json_uses_strings_for_utf8_and_hex_otherwise() {
        assert_eq!(json_entry(b"k", b"v", false), r#"{"key":"k","value":"v"}"#);
        assert_eq!(json_entry(b"k\"", b"", false), r#"{"key":"k\"","value":""}"#);
        assert_eq!(json_entry(b"\xff", b"\x00", false), r#"{"key":{"hex":"ff"},"value":"\u0000"}"#);
        assert_eq!(json_entry(b"k", b"v", true), r#"{"key":"6b","value":"76"}"#);
    }
}
