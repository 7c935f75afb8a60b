//! Decoding damaged key files: every truncation, every single-byte change and arbitrary junk
//! must give `Error::InvalidKeyFile` from `WrappedKey::from_bytes`, never a panic, and never
//! reach the (expensive) key derivation.

use lightning_security::{DataKey, Error, KEY_FILE_LEN, KEY_LEN, KdfParams, WrappedKey};

fn valid_file() -> Vec<u8> {
    let key = DataKey::from_bytes([0x33; KEY_LEN]);
    WrappedKey::wrap(&key, b"passphrase", KdfParams::default()).expect("wrap").to_bytes()
}

fn assert_invalid(bytes: &[u8], what: &str) {
    match WrappedKey::from_bytes(bytes) {
        Err(Error::InvalidKeyFile { reason }) => assert!(!reason.is_empty(), "{what}"),
        other => panic!("{what}: expected InvalidKeyFile, got {other:?}"),
    }
}

#[test]
fn decoding_damaged_files() {
    let file = valid_file();
    assert_eq!(file.len(), KEY_FILE_LEN);
    assert!(WrappedKey::from_bytes(&file).is_ok(), "the undamaged file must parse");

    // Every truncation, including the empty file.
    for len in 0..file.len() {
        assert_invalid(&file[..len], &format!("truncated to {len} bytes"));
    }

    // Trailing bytes.
    assert_invalid(&[&file[..], &[0]].concat(), "one trailing byte");
    assert_invalid(&[&file[..], &file[..]].concat(), "file repeated");

    // Every single-byte change, with several patterns per byte.
    for index in 0..file.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut bad = file.clone();
            bad[index] ^= mask;
            assert_invalid(&bad, &format!("byte {index} ^ {mask:#04x}"));
        }
    }
}

#[test]
fn junk_never_panics() {
    let file = valid_file();
    // A simple deterministic generator (xorshift) gives varied junk without a dependency.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..2000u32 {
        let len = (next() % (KEY_FILE_LEN as u64 + 8)) as usize;
        let mut junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round.is_multiple_of(2) && len >= 10 {
            // Keep a valid magic and version so decoding gets further in.
            junk[..10].copy_from_slice(&file[..10]);
        }
        assert_invalid(&junk, &format!("junk round {round} ({len} bytes)"));
    }
}
