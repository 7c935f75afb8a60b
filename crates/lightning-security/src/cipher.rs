//! The one place where this crate calls the AEAD: XChaCha20-Poly1305 with a detached tag.
//!
//! Every encryption in the crate (sealed blocks, pages, the wrapped key in a key file) goes
//! through [`seal_detached`] and [`open_detached`]. They take the nonce explicitly so the
//! known-answer tests below exercise exactly the code path of [`DataKey`](crate::DataKey);
//! the public API only ever passes a fresh random nonce from [`random_nonce`].
//!
//! Invariant: on a failed open the buffer is left as it was (the tag is verified before any
//! byte is decrypted), so a caller never sees unauthenticated plaintext.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, Tag, XChaCha20Poly1305};

use crate::error::{Error, Result};

/// Length of a data key or key-encryption key, in bytes (256 bits).
pub const KEY_LEN: usize = 32;
/// Length of an XChaCha20-Poly1305 nonce, in bytes (192 bits).
pub const NONCE_LEN: usize = 24;
/// Length of a Poly1305 authentication tag, in bytes (128 bits).
pub const TAG_LEN: usize = 16;
/// Bytes that [`DataKey::seal`](crate::DataKey::seal) adds to a plaintext: nonce and tag.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;

const _: () = assert!(SEAL_OVERHEAD == 40, "the sealed format is nonce(24) || ct || tag(16)");

/// Encrypts `buf` in place under `key` and `nonce`, authenticating `aad`; returns the tag.
///
/// REQUIRES: `nonce` is never used twice with the same key (callers use [`random_nonce`]).
pub(crate) fn seal_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN]> {
    // The cipher keeps a copy of the key and zeroizes it on drop (crate feature `zeroize`).
    let len = buf.len();
    let cipher = XChaCha20Poly1305::new(key.into());
    let tag = cipher.encrypt_inout_detached(nonce.into(), aad, buf.into()).map_err(|_| {
        Error::InvalidInput(format!("a message of {len} bytes is too long for XChaCha20-Poly1305"))
    })?;
    Ok(tag.into())
}

/// Verifies `tag` over `aad` and the ciphertext in `buf`, then decrypts `buf` in place.
///
/// On failure returns [`Error::AuthenticationFailed`] and leaves `buf` unchanged.
pub(crate) fn open_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<()> {
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt_inout_detached(nonce.into(), aad, buf.into(), tag.into())
        .map_err(|_| Error::AuthenticationFailed)
}

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::Random(e.to_string()))
}

/// A fresh random 192-bit nonce: random nonces of this size do not collide in practice
/// (about 2^-32 collision chance after 2^80 messages under one key).
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN]> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    Ok(nonce)
}

/// Ties the `Tag` alias to our constant so a change of either is a compile error.
const _: () = assert!(core::mem::size_of::<Tag>() == TAG_LEN);

#[cfg(test)]
#[path = "cipher_kat_tests.rs"]
mod kat_tests;
