//! Known-answer tests of the AEAD, taken byte for byte from the published documents.
//!
//! - draft-irtf-cfrg-xchacha-03, Appendix A.3.1 (AEAD_XChaCha20_Poly1305), run through
//!   [`seal_detached`]/[`open_detached`], i.e. the code path of `seal_in_place`/`open_in_place`,
//!   and through the public `open`/`open_in_place` of [`DataKey`].
//! - RFC 8439 §2.8.2 (AEAD_CHACHA20_POLY1305), run against the crate's `ChaCha20Poly1305`
//!   to pin the underlying implementation to the IETF construction.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};

use super::{open_detached, seal_detached};
use crate::test_support::hex;
use crate::{DataKey, Error, NONCE_LEN, TAG_LEN};

/// The plaintext shared by both documents (114 bytes).
const PLAINTEXT: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only \
one tip for the future, sunscreen would be it.";
/// Both documents: the AAD `50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7`.
const AAD_HEX: &str = "50515253c0c1c2c3c4c5c6c7";
/// Both documents: the key `80 81 .. 9f`.
const KEY_HEX: &str = "808182838485868788898a8b8c8d8e8f 909192939495969798999a9b9c9d9e9f";

/// draft-irtf-cfrg-xchacha-03 A.3.1: IV (24 bytes).
const X_NONCE_HEX: &str = "404142434445464748494a4b4c4d4e4f 5051525354555657";
/// draft-irtf-cfrg-xchacha-03 A.3.1: ciphertext.
const X_CIPHERTEXT_HEX: &str = "
    bd6d179d3e83d43b9576579493c0e939 572a1700252bfaccbed2902c21396cbb
    731c7f1b0b4aa6440bf3a82f4eda7e39 ae64c6708c54c216cb96b72e1213b452
    2f8c9ba40db5d945b11b69b982c1bb9e 3f3fac2bc369488f76b2383565d3fff9
    21f9664c97637da9768812f615c68b13 b52e";
/// draft-irtf-cfrg-xchacha-03 A.3.1: tag.
const X_TAG_HEX: &str = "c0875924c1c7987947deafd8780acf49";

/// RFC 8439 §2.8.2: nonce = 32-bit fixed-common part `07 00 00 00` || IV `40 .. 47`.
const RFC8439_NONCE_HEX: &str = "07000000 4041424344454647";
/// RFC 8439 §2.8.2: ciphertext.
const RFC8439_CIPHERTEXT_HEX: &str = "
    d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6
    3dbea45e8ca9671282fafb69da92728b 1a71de0a9e060b2905d6a5b67ecd3b36
    92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b 6116";
/// RFC 8439 §2.8.2: tag.
const RFC8439_TAG_HEX: &str = "1ae10b594f09e26a7e902ecbd0600691";

fn key() -> [u8; 32] {
    hex(KEY_HEX).try_into().expect("the vector key is 32 bytes")
}

fn x_nonce() -> [u8; NONCE_LEN] {
    hex(X_NONCE_HEX).try_into().expect("the vector nonce is 24 bytes")
}

fn x_tag() -> [u8; TAG_LEN] {
    hex(X_TAG_HEX).try_into().expect("the vector tag is 16 bytes")
}

#[test]
fn vector_inputs_are_as_published() {
    assert_eq!(PLAINTEXT.len(), 114, "both documents print 114 plaintext bytes (000..113)");
    assert_eq!(&hex("4c616469657320616e642047656e746c")[..], &PLAINTEXT[..16]);
    assert_eq!(hex(X_CIPHERTEXT_HEX).len(), PLAINTEXT.len());
    assert_eq!(hex(RFC8439_CIPHERTEXT_HEX).len(), PLAINTEXT.len());
}

#[test]
fn xchacha_seal_detached_matches_draft_a31() {
    let mut buf = PLAINTEXT.to_vec();
    let tag = seal_detached(&key(), &x_nonce(), &hex(AAD_HEX), &mut buf).expect("seal");
    assert_eq!(buf, hex(X_CIPHERTEXT_HEX), "ciphertext differs from draft A.3.1");
    assert_eq!(tag, x_tag(), "tag differs from draft A.3.1");
}

#[test]
fn xchacha_open_detached_matches_draft_a31() {
    let mut buf = hex(X_CIPHERTEXT_HEX);
    open_detached(&key(), &x_nonce(), &hex(AAD_HEX), &mut buf, &x_tag()).expect("open");
    assert_eq!(buf, PLAINTEXT);
}

#[test]
fn xchacha_open_detached_rejects_a31_with_other_aad_and_keeps_buffer() {
    let mut buf = hex(X_CIPHERTEXT_HEX);
    let err = open_detached(&key(), &x_nonce(), b"PQRS", &mut buf, &x_tag()).unwrap_err();
    assert!(matches!(err, Error::AuthenticationFailed), "got {err:?}");
    assert_eq!(buf, hex(X_CIPHERTEXT_HEX), "a failed open must not touch the buffer");
}

#[test]
fn data_key_open_in_place_matches_draft_a31() {
    let key = DataKey::from_bytes(key());
    let mut buf = hex(X_CIPHERTEXT_HEX);
    key.open_in_place(&mut buf, &hex(AAD_HEX), &x_nonce(), &x_tag()).expect("open_in_place");
    assert_eq!(buf, PLAINTEXT);
}

#[test]
fn data_key_open_reads_nonce_ciphertext_tag_layout_of_a31() {
    let key = DataKey::from_bytes(key());
    let mut sealed = hex(X_NONCE_HEX);
    sealed.extend(hex(X_CIPHERTEXT_HEX));
    sealed.extend(hex(X_TAG_HEX));
    assert_eq!(key.open(&sealed, &hex(AAD_HEX)).expect("open"), PLAINTEXT);
}

#[test]
fn chacha20poly1305_matches_rfc8439_section_2_8_2() {
    let cipher = ChaCha20Poly1305::new(&key().into());
    let nonce: [u8; 12] = hex(RFC8439_NONCE_HEX).try_into().expect("12-byte nonce");
    let aad = hex(AAD_HEX);
    let sealed =
        cipher.encrypt(&nonce.into(), Payload { msg: PLAINTEXT, aad: &aad }).expect("encrypt");
    let mut expected = hex(RFC8439_CIPHERTEXT_HEX);
    expected.extend(hex(RFC8439_TAG_HEX));
    assert_eq!(sealed, expected, "ciphertext || tag differs from RFC 8439 §2.8.2");
    let opened =
        cipher.decrypt(&nonce.into(), Payload { msg: &sealed, aad: &aad }).expect("decrypt");
    assert_eq!(opened, PLAINTEXT);
}
