//! # lightning-security
//!
//! The crypto core of Lightning DB: an AEAD envelope for encryption at rest and the management
//! of the keys it uses.
//!
//! **One job:** turn plaintext into authenticated ciphertext bound to where it belongs, and
//! keep the key that does it safe behind a passphrase.
//!
//! **Walls:** depends on no lightning crate (it is layer 0); no `unsafe`; no I/O (the caller
//! reads and writes key files and pages, this crate only transforms bytes).
//!
//! **Pieces:**
//! - [`DataKey`]: a 256-bit key; XChaCha20-Poly1305 with a fresh random 192-bit nonce per
//!   call, either as `nonce || ciphertext || tag` ([`DataKey::seal`]) or detached and in place
//!   for fixed-size pages ([`DataKey::seal_in_place`]).
//! - [`AssociatedData`]: file, block and version of a sealed block, authenticated with it so
//!   that a swapped or replayed block fails to open.
//! - [`KdfParams`]: Argon2id costs, never below the OWASP minimum.
//! - [`WrappedKey`]: the data key sealed under an Argon2id-derived key; its byte form is the
//!   key file (`docs/format/keyfile.md`). A passphrase change rewrites only the key file.
//!
//! **Invariants:** key bytes and derived keys are wiped on drop and never printed; nothing is
//! decrypted before its tag verifies; bytes from disk ([`WrappedKey::from_bytes`],
//! [`DataKey::open`]) give errors, never panics.
//!
//! ## Example
//!
//! ```
//! use lightning_security::{AssociatedData, DataKey, KdfParams, WrappedKey};
//!
//! // A new database: a random data key, kept on disk only wrapped by a passphrase.
//! let key = DataKey::generate()?;
//! let key_file: Vec<u8> =
//!     WrappedKey::wrap(&key, b"correct horse battery staple", KdfParams::default())?.to_bytes();
//!
//! // Seal a block, bound to its place: file 7, block 42, version 1.
//! let aad = AssociatedData { file_id: 7, block_id: 42, version: 1 }.to_bytes();
//! let sealed = key.seal(b"hello, disk", &aad)?;
//!
//! // Later: unlock the key file and read the block back.
//! let key = WrappedKey::from_bytes(&key_file)?.unwrap(b"correct horse battery staple")?;
//! assert_eq!(key.open(&sealed, &aad)?, b"hello, disk");
//!
//! // The same block presented as block 43 is rejected.
//! let elsewhere = AssociatedData { file_id: 7, block_id: 43, version: 1 }.to_bytes();
//! assert!(key.open(&sealed, &elsewhere).is_err());
//! # Ok::<(), lightning_security::Error>(())
//! ```

#![forbid(unsafe_code)]

mod associated_data;
mod cipher;
mod data_key;
mod error;
mod kdf;
mod keyfile;

pub use associated_data::AssociatedData;
pub use cipher::{KEY_LEN, NONCE_LEN, SEAL_OVERHEAD, TAG_LEN};
pub use data_key::DataKey;
pub use error::{Error, Result};
pub use kdf::KdfParams;
pub use keyfile::{KEY_FILE_LEN, KeyFileVersion, SALT_LEN, WrappedKey};

/// Runs the example in `README.md` as a doctest, so the README cannot drift from the API.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod test_support {
    //! Helpers shared by the unit tests.

    /// Decodes hex, ignoring whitespace (vectors are pasted as printed in their documents).
    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
        digits
            .chunks(2)
            .map(|pair| {
                let pair = std::str::from_utf8(pair).expect("ascii");
                u8::from_str_radix(pair, 16).expect("hex digit")
            })
            .collect()
    }

    #[test]
    fn hex_decodes_with_whitespace() {
        assert_eq!(hex("00 ff\n 1a"), vec![0x00, 0xff, 0x1a]);
    }
}
