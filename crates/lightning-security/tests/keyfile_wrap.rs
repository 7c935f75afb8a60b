//! Key wrapping through the public API: round trips, wrong passphrases, rewrap, parameter
//! floors, header edits with a forged checksum, and the version-1 fixture file.
//!
//! Argon2id at the OWASP minimum costs 19 MiB per run, so this file shares one wrapped key
//! and keeps the number of derivations to about twenty.

use std::sync::OnceLock;

use lightning_security::{
    DataKey, Error, KEY_FILE_LEN, KEY_LEN, KdfParams, KeyFileVersion, WrappedKey,
};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

/// One key, wrapped once, shared by the tests below (one Argon2id run).
fn shared() -> &'static (DataKey, WrappedKey) {
    static SHARED: OnceLock<(DataKey, WrappedKey)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let key = DataKey::generate().expect("generate");
        let wrapped = WrappedKey::wrap(&key, PASSPHRASE, KdfParams::default()).expect("wrap");
        (key, wrapped)
    })
}

/// CRC-32 (IEEE), as the key file's trailer: lets a test play an attacker who edits the
/// header and recomputes the checksum, so that only the AEAD stands in the way.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A named edit of a key file's bytes.
type HeaderEdit = (&'static str, fn(&mut [u8]));

/// `file` with `edit` applied and the checksum (the last 4 bytes) recomputed.
fn forged(file: &[u8], edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut bytes = file.to_vec();
    edit(&mut bytes);
    let body = bytes.len() - 4;
    let checksum = crc32(&bytes[..body]).to_le_bytes();
    bytes[body..].copy_from_slice(&checksum);
    bytes
}

#[test]
fn wrap_then_unwrap_returns_the_same_key() {
    let (key, wrapped) = shared();
    let unwrapped = wrapped.unwrap(PASSPHRASE).expect("unwrap");
    assert_eq!(unwrapped.as_bytes(), key.as_bytes());
    assert_eq!(wrapped.params(), KdfParams::default());
    assert_eq!(wrapped.format_version(), KeyFileVersion::V1);
}

#[test]
fn a_wrong_passphrase_is_rejected() {
    let (_, wrapped) = shared();
    let err = wrapped.unwrap(b"correct horse battery stapler").unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase), "{err:?}");
}

#[test]
fn the_key_file_round_trips_and_still_unwraps() {
    let (key, wrapped) = shared();
    let bytes = wrapped.to_bytes();
    assert_eq!(bytes.len(), KEY_FILE_LEN);
    assert_eq!(&bytes[..8], b"LIGHTKEY");
    let parsed = WrappedKey::from_bytes(&bytes).expect("from_bytes");
    assert_eq!(&parsed, wrapped);
    assert_eq!(parsed.to_bytes(), bytes);
    assert_eq!(parsed.unwrap(PASSPHRASE).expect("unwrap").as_bytes(), key.as_bytes());
}

#[test]
fn wrapping_twice_uses_a_fresh_salt_and_nonce() {
    let (key, wrapped) = shared();
    let again = WrappedKey::wrap(key, PASSPHRASE, KdfParams::default()).expect("wrap");
    let (a, b) = (wrapped.to_bytes(), again.to_bytes());
    assert_ne!(a[24..56], b[24..56], "salt repeated");
    assert_ne!(a[56..80], b[56..80], "nonce repeated");
    assert_ne!(a[80..112], b[80..112], "sealed key repeated");
}

#[test]
fn rewrap_moves_the_same_key_to_the_new_passphrase() {
    let (key, wrapped) = shared();
    let stronger = KdfParams::new(24 * 1024, 2, 1).expect("params");
    let rewrapped = wrapped.rewrap(PASSPHRASE, b"a new passphrase", stronger).expect("rewrap");
    assert_eq!(rewrapped.params(), stronger);
    let err = rewrapped.unwrap(PASSPHRASE).unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase), "old passphrase still works: {err:?}");
    let unwrapped = rewrapped.unwrap(b"a new passphrase").expect("unwrap with new");
    assert_eq!(unwrapped.as_bytes(), key.as_bytes(), "rewrap changed the data key");
}

#[test]
fn rewrap_with_a_wrong_old_passphrase_fails() {
    let (_, wrapped) = shared();
    let err = wrapped.rewrap(b"guess", b"new", KdfParams::default()).unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase), "{err:?}");
}

#[test]
fn weak_parameters_are_rejected_by_wrap_and_rewrap() {
    let (key, wrapped) = shared();
    for weak in [
        KdfParams { m_cost_kib: 19 * 1024 - 1, t_cost: 2, p_cost: 1 },
        KdfParams { m_cost_kib: 19 * 1024, t_cost: 1, p_cost: 1 },
        KdfParams { m_cost_kib: 19 * 1024, t_cost: 2, p_cost: 0 },
        KdfParams { m_cost_kib: 8, t_cost: 1, p_cost: 1 },
    ] {
        let err = WrappedKey::wrap(key, PASSPHRASE, weak).unwrap_err();
        assert!(matches!(err, Error::InvalidKdfParams { .. }), "wrap {weak:?}: {err:?}");
        let err = wrapped.rewrap(PASSPHRASE, b"new", weak).unwrap_err();
        assert!(matches!(err, Error::InvalidKdfParams { .. }), "rewrap {weak:?}: {err:?}");
        assert!(KdfParams::new(weak.m_cost_kib, weak.t_cost, weak.p_cost).is_err());
    }
}

#[test]
fn an_empty_passphrase_is_refused_for_wrapping() {
    let (key, wrapped) = shared();
    let err = WrappedKey::wrap(key, b"", KdfParams::default()).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    let err = wrapped.rewrap(PASSPHRASE, b"", KdfParams::default()).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
}

#[test]
fn header_edits_with_a_forged_checksum_fail_the_tag() {
    // The checksum is only against accidents: here the attacker recomputes it, and the AEAD
    // rejects the edit (the header is its associated data; params and salt also feed the KDF).
    let (_, wrapped) = shared();
    let file = wrapped.to_bytes();
    let edits: [HeaderEdit; 7] = [
        ("m_cost_kib + 1", |b| b[12] ^= 0x01),
        ("t_cost 2 -> 3", |b| b[16] = 3),
        ("p_cost 1 -> 2", |b| b[20] = 2),
        ("salt", |b| b[24] ^= 0x01),
        ("nonce", |b| b[79] ^= 0x01),
        ("sealed key", |b| b[80] ^= 0x01),
        ("tag", |b| b[127] ^= 0x01),
    ];
    for (what, edit) in edits {
        let bytes = forged(&file, edit);
        let parsed = WrappedKey::from_bytes(&bytes)
            .unwrap_or_else(|e| panic!("{what}: a well-formed file was refused: {e:?}"));
        let err = parsed.unwrap(PASSPHRASE).unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase), "{what}: {err:?}");
    }
}

#[test]
fn header_edits_to_invalid_values_are_refused_before_key_derivation() {
    let (_, wrapped) = shared();
    let file = wrapped.to_bytes();
    let edits: [HeaderEdit; 8] = [
        ("magic", |b| b[0] = b'X'),
        ("format_version 2", |b| b[8] = 2),
        ("format_version 0", |b| b[8] = 0),
        ("kdf_id", |b| b[10] = 2),
        ("aead_id", |b| b[11] = 0),
        ("m_cost below OWASP", |b| b[12..16].copy_from_slice(&1024u32.to_le_bytes())),
        ("t_cost 1", |b| b[16..20].copy_from_slice(&1u32.to_le_bytes())),
        ("m_cost above ceiling", |b| b[12..16].copy_from_slice(&u32::MAX.to_le_bytes())),
    ];
    for (what, edit) in edits {
        let err = WrappedKey::from_bytes(&forged(&file, edit)).unwrap_err();
        assert!(matches!(err, Error::InvalidKeyFile { .. }), "{what}: {err:?}");
    }
}

#[test]
fn the_version_1_fixture_still_opens() {
    // Written by this crate when format version 1 was introduced: data key 00 01 .. 1f wrapped
    // under "lightning key file v1 fixture" with the OWASP-minimum parameters. If this test
    // fails, a change broke existing key files: add a new format version instead.
    let bytes = include_bytes!("fixtures/keyfile-v1.bin");
    let wrapped = WrappedKey::from_bytes(bytes).expect("fixture parses");
    assert_eq!(wrapped.format_version(), KeyFileVersion::V1);
    assert_eq!(wrapped.params(), KdfParams::default());
    assert_eq!(wrapped.to_bytes(), bytes, "re-encoding changed the fixture");
    let key = wrapped.unwrap(b"lightning key file v1 fixture").expect("fixture unwraps");
    let expected: [u8; KEY_LEN] = std::array::from_fn(|i| i as u8);
    assert_eq!(key.as_bytes(), &expected);
}
