//! Tamper tests of the AEAD envelopes through the public API: every change to the nonce,
//! ciphertext, tag or associated data, a wrong key, and every truncation must be rejected,
//! and a rejected in-place open must leave the buffer as it was.

use lightning_security::{AssociatedData, DataKey, Error, KEY_LEN, NONCE_LEN, SEAL_OVERHEAD};

const PLAINTEXT: &[u8] = b"thirty-two bytes of page payload";

fn key() -> DataKey {
    DataKey::from_bytes([0x11; KEY_LEN])
}

fn aad() -> [u8; AssociatedData::LEN] {
    AssociatedData { file_id: 3, block_id: 17, version: 9 }.to_bytes()
}

fn assert_auth_failed<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    match result {
        Err(Error::AuthenticationFailed) => {}
        other => panic!("{what}: expected AuthenticationFailed, got {other:?}"),
    }
}

#[test]
fn seal_open_round_trips_various_lengths() {
    let key = key();
    for len in [0usize, 1, 15, 16, 17, 63, 64, 65, 4096] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let sealed = key.seal(&plaintext, &aad()).expect("seal");
        assert_eq!(sealed.len(), len + SEAL_OVERHEAD, "length {len}");
        if len >= 16 {
            assert_ne!(&sealed[NONCE_LEN..NONCE_LEN + len], &plaintext[..], "not encrypted");
        }
        assert_eq!(key.open(&sealed, &aad()).expect("open"), plaintext, "length {len}");
    }
}

#[test]
fn every_bit_flip_of_a_sealed_buffer_is_rejected() {
    let key = key();
    let sealed = key.seal(PLAINTEXT, &aad()).expect("seal");
    // Covers the nonce (0..24), the ciphertext (24..56) and the tag (56..72).
    for index in 0..sealed.len() {
        for bit in 0..8 {
            let mut bad = sealed.clone();
            bad[index] ^= 1 << bit;
            assert_auth_failed(key.open(&bad, &aad()), &format!("byte {index} bit {bit}"));
        }
    }
}

#[test]
fn every_change_of_the_associated_data_is_rejected() {
    let key = key();
    let aad = aad();
    let sealed = key.seal(PLAINTEXT, &aad).expect("seal");
    for index in 0..aad.len() {
        let mut bad = aad;
        bad[index] ^= 0xFF;
        assert_auth_failed(key.open(&sealed, &bad), &format!("aad byte {index}"));
    }
    assert_auth_failed(key.open(&sealed, &aad[..23]), "shortened aad");
    assert_auth_failed(key.open(&sealed, &[&aad[..], &[0]].concat()), "extended aad");
    assert_auth_failed(key.open(&sealed, b""), "empty aad");
}

#[test]
fn a_block_moved_swapped_or_replayed_is_rejected() {
    let key = key();
    let at = |file_id, block_id, version| AssociatedData { file_id, block_id, version };
    let sealed = key.seal(PLAINTEXT, &at(3, 17, 9).to_bytes()).expect("seal");
    assert_auth_failed(key.open(&sealed, &at(3, 18, 9).to_bytes()), "other block");
    assert_auth_failed(key.open(&sealed, &at(4, 17, 9).to_bytes()), "other file");
    assert_auth_failed(key.open(&sealed, &at(3, 17, 10).to_bytes()), "newer version expected");
    assert_eq!(key.open(&sealed, &at(3, 17, 9).to_bytes()).expect("open"), PLAINTEXT);
}

#[test]
fn a_wrong_key_is_rejected() {
    let sealed = key().seal(PLAINTEXT, &aad()).expect("seal");
    for index in 0..KEY_LEN {
        let mut other = *key().as_bytes();
        other[index] ^= 0x01;
        assert_auth_failed(DataKey::from_bytes(other).open(&sealed, &aad()), "wrong key");
    }
}

#[test]
fn every_truncation_is_rejected_without_panic() {
    let key = key();
    let sealed = key.seal(PLAINTEXT, &aad()).expect("seal");
    for len in 0..sealed.len() {
        match key.open(&sealed[..len], &aad()) {
            Err(Error::InvalidInput(_)) => assert!(len < SEAL_OVERHEAD, "length {len}"),
            Err(Error::AuthenticationFailed) => assert!(len >= SEAL_OVERHEAD, "length {len}"),
            other => panic!("truncated to {len}: expected an error, got {other:?}"),
        }
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_auth_failed(key.open(&longer, &aad()), "extended sealed buffer");
}

#[test]
fn in_place_round_trip_changes_the_buffer_and_restores_it() {
    let key = key();
    let mut page = vec![0x42u8; 4096];
    let (nonce, tag) = key.seal_in_place(&mut page, &aad()).expect("seal_in_place");
    assert_ne!(page, vec![0x42u8; 4096], "the page was not encrypted");
    key.open_in_place(&mut page, &aad(), &nonce, &tag).expect("open_in_place");
    assert_eq!(page, vec![0x42u8; 4096]);
}

#[test]
fn in_place_tampering_is_rejected_and_leaves_the_buffer_untouched() {
    let key = key();
    let mut sealed = PLAINTEXT.to_vec();
    let (nonce, tag) = key.seal_in_place(&mut sealed, &aad()).expect("seal_in_place");
    let check = |buf: &[u8], aad: &[u8], nonce: &[u8; 24], tag: &[u8; 16], what: &str| {
        let mut copy = buf.to_vec();
        assert_auth_failed(key.open_in_place(&mut copy, aad, nonce, tag), what);
        assert_eq!(copy, buf, "{what}: a failed open changed the buffer");
    };
    for index in 0..nonce.len() {
        let mut bad = nonce;
        bad[index] ^= 0x80;
        check(&sealed, &aad(), &bad, &tag, &format!("nonce byte {index}"));
    }
    for index in 0..tag.len() {
        let mut bad = tag;
        bad[index] ^= 0x80;
        check(&sealed, &aad(), &nonce, &bad, &format!("tag byte {index}"));
    }
    for index in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[index] ^= 0x80;
        check(&bad, &aad(), &nonce, &tag, &format!("ciphertext byte {index}"));
    }
    for index in 0..AssociatedData::LEN {
        let mut bad = aad();
        bad[index] ^= 0x80;
        check(&sealed, &bad, &nonce, &tag, &format!("aad byte {index}"));
    }
    check(&sealed[..sealed.len() - 1], &aad(), &nonce, &tag, "shortened buffer");
    let other_key = DataKey::from_bytes([0x22; KEY_LEN]);
    let mut copy = sealed.clone();
    assert_auth_failed(other_key.open_in_place(&mut copy, &aad(), &nonce, &tag), "wrong key");
    assert_eq!(copy, sealed);
}

#[test]
fn in_place_and_sealed_forms_agree() {
    // `open` reads nonce || ciphertext || tag; a detached seal reassembled that way opens.
    let key = key();
    let mut buf = PLAINTEXT.to_vec();
    let (nonce, tag) = key.seal_in_place(&mut buf, &aad()).expect("seal_in_place");
    let sealed = [&nonce[..], &buf[..], &tag[..]].concat();
    assert_eq!(key.open(&sealed, &aad()).expect("open"), PLAINTEXT);
}
