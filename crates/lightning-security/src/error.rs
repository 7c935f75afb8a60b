//! Errors of the crypto core.
//!
//! One `#[non_exhaustive]` enum for the whole crate; the facade wraps it with `#[from]`. No
//! variant carries secret material (keys, passphrases, plaintext): messages are safe to log.

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while sealing, opening or managing keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The authentication tag did not verify: wrong key, or the ciphertext, nonce, tag or
    /// associated data was changed.
    #[error("authentication failed: the data was tampered with or the key is wrong")]
    AuthenticationFailed,

    /// A wrapped key could not be unwrapped with the given passphrase: the passphrase is wrong
    /// (or the sealed part of a key file whose checksum was forged to match was altered).
    #[error("wrong passphrase: the key file could not be unlocked")]
    WrongPassphrase,

    /// Bytes presented as a key file are not a valid key file of a known format version.
    #[error("invalid key file: {reason}")]
    InvalidKeyFile {
        /// What is wrong, with the offending offset or value where there is one.
        reason: String,
    },

    /// Argon2id parameters are weaker than the OWASP minimum or beyond this crate's limits.
    #[error("invalid key-derivation parameters: {reason}")]
    InvalidKdfParams {
        /// Which parameter is out of range, and the allowed range.
        reason: String,
    },

    /// An argument is malformed, for example a sealed buffer shorter than
    /// [`SEAL_OVERHEAD`](crate::SEAL_OVERHEAD) or a message too long for the cipher.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The operating system's random number generator failed.
    #[error("the OS random number generator failed: {0}")]
    Random(String),

    /// Argon2id itself failed (for example it could not allocate its working memory).
    #[error("key derivation failed: {0}")]
    Kdf(String),
}
