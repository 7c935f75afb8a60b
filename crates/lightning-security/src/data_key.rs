//! [`DataKey`]: the 256-bit key that encrypts the database's data at rest.
//!
//! Two envelopes, both XChaCha20-Poly1305 with a fresh random 192-bit nonce per call:
//! - [`DataKey::seal`]/[`DataKey::open`]: a self-contained `nonce || ciphertext || tag` buffer
//!   ([`SEAL_OVERHEAD`] bytes longer than the plaintext), for records and blocks of any size;
//! - [`DataKey::seal_in_place`]/[`DataKey::open_in_place`]: detached nonce and tag, for
//!   fixed-size pages whose header stores them.
//!
//! Invariants: the key bytes are wiped on drop and never printed; `open*` returns plaintext only
//! after the tag verified.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::cipher::{
    KEY_LEN, NONCE_LEN, SEAL_OVERHEAD, TAG_LEN, fill_random, open_detached, random_nonce,
    seal_detached,
};
use crate::error::{Error, Result};

/// A 256-bit data key.
///
/// Wiped from memory when dropped ([`ZeroizeOnDrop`]); its [`Debug`](fmt::Debug) output never
/// shows the key bytes. Cloning copies the key (each copy is wiped on its own drop).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey {
    bytes: [u8; KEY_LEN],
}

impl DataKey {
    /// Generates a new key from the operating system's random number generator.
    ///
    /// # Errors
    /// [`Error::Random`] if the OS generator fails.
    pub fn generate() -> Result<DataKey> {
        let mut key = DataKey { bytes: [0u8; KEY_LEN] };
        fill_random(&mut key.bytes)?;
        Ok(key)
    }

    /// Wraps existing key bytes (for example read from a key-management system).
    ///
    /// The argument is moved in; the caller should wipe any other copy it keeps.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> DataKey {
        DataKey { bytes }
    }

    /// The raw key bytes. Handle with care: do not log them or keep copies.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// Encrypts and authenticates `plaintext`, binding it to `aad`, with a fresh random nonce.
    ///
    /// Returns `nonce (24) || ciphertext (plaintext.len()) || tag (16)`. The `aad` is not
    /// stored: [`open`](Self::open) must be given the same bytes (see
    /// [`AssociatedData`](crate::AssociatedData)).
    ///
    /// # Errors
    /// [`Error::Random`] if no nonce could be drawn; [`Error::InvalidInput`] if the plaintext
    /// is too long for the cipher (about 256 GiB).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let nonce = random_nonce()?;
        let mut sealed = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = seal_detached(&self.bytes, &nonce, aad, &mut sealed[NONCE_LEN..])?;
        sealed.extend_from_slice(&tag);
        debug_assert_eq!(sealed.len(), plaintext.len() + SEAL_OVERHEAD);
        Ok(sealed)
    }

    /// Verifies and decrypts a buffer made by [`seal`](Self::seal) with the same `aad`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `sealed` is shorter than [`SEAL_OVERHEAD`];
    /// [`Error::AuthenticationFailed`] if the key or `aad` is wrong or any byte was changed.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let split = sealed
            .split_first_chunk::<NONCE_LEN>()
            .and_then(|(nonce, rest)| Some((nonce, rest.split_last_chunk::<TAG_LEN>()?)));
        let Some((nonce, (ciphertext, tag))) = split else {
            return Err(Error::InvalidInput(format!(
                "a sealed buffer is at least {SEAL_OVERHEAD} bytes, got {}",
                sealed.len()
            )));
        };
        let mut plaintext = ciphertext.to_vec();
        open_detached(&self.bytes, nonce, aad, &mut plaintext, tag)?;
        Ok(plaintext)
    }

    /// Encrypts `buf` in place with a fresh random nonce, binding it to `aad`, and returns
    /// `(nonce, tag)` for the caller to store beside the ciphertext (for example in a page
    /// header).
    ///
    /// # Errors
    /// [`Error::Random`] if no nonce could be drawn (then `buf` is unchanged);
    /// [`Error::InvalidInput`] if `buf` is too long for the cipher.
    pub fn seal_in_place(
        &self,
        buf: &mut [u8],
        aad: &[u8],
    ) -> Result<([u8; NONCE_LEN], [u8; TAG_LEN])> {
        let nonce = random_nonce()?;
        let tag = seal_detached(&self.bytes, &nonce, aad, buf)?;
        Ok((nonce, tag))
    }

    /// Verifies `tag` and decrypts `buf` in place; the inverse of
    /// [`seal_in_place`](Self::seal_in_place).
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] if the key, nonce, tag or `aad` is wrong or `buf` was
    /// changed; `buf` is then left untouched (still ciphertext).
    pub fn open_in_place(
        &self,
        buf: &mut [u8],
        aad: &[u8],
        nonce: &[u8; NONCE_LEN],
        tag: &[u8; TAG_LEN],
    ) -> Result<()> {
        open_detached(&self.bytes, nonce, aad, buf, tag)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_show_key_bytes() {
        let key = DataKey::from_bytes([0xAB; KEY_LEN]);
        let shown = format!("{key:?} {key:#?}");
        assert_eq!(format!("{key:?}"), "DataKey(<redacted>)");
        assert!(!shown.contains("171"), "decimal byte leaked: {shown}");
        assert!(!shown.to_lowercase().contains("ab"), "hex byte leaked: {shown}");
    }

    #[test]
    fn generate_draws_distinct_keys() {
        let a = DataKey::generate().expect("generate");
        let b = DataKey::generate().expect("generate");
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), &[0u8; KEY_LEN], "the key was never filled");
    }

    #[test]
    fn zeroize_clears_the_key_bytes() {
        let mut key = DataKey::from_bytes([0x5A; KEY_LEN]);
        key.zeroize();
        assert_eq!(key.as_bytes(), &[0u8; KEY_LEN]);
    }

    #[test]
    fn seal_uses_a_fresh_nonce_each_call() {
        let key = DataKey::from_bytes([7; KEY_LEN]);
        let a = key.seal(b"same", b"ad").expect("seal");
        let b = key.seal(b"same", b"ad").expect("seal");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN], "nonce repeated");
        assert_ne!(a, b, "equal plaintexts must not give equal ciphertexts");
    }
}
