//! The error type of the B+Tree engine.
//!
//! Storage failures keep their meaning by wrapping [`lightning_core_storage::Error`]; the
//! engine's own errors (limits, bulk-load input) are variants here. Everything converts into
//! the core error, because the [`StorageEngine`](lightning_core_storage::engine::StorageEngine)
//! trait returns it: limits become `InvalidInput` with a message naming the limit.

use lightning_core_storage::Error as CoreError;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the B+Tree engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the storage foundation: I/O, corruption (naming the page), poisoning.
    #[error(transparent)]
    Storage(#[from] CoreError),

    /// A key longer than [`MAX_KEY_LEN`](crate::MAX_KEY_LEN).
    #[error("key of {len} bytes exceeds the B+Tree key limit of {max} bytes")]
    KeyTooLarge {
        /// The key's length.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A value longer than [`MAX_VALUE_LEN`](crate::MAX_VALUE_LEN).
    #[error("value of {len} bytes exceeds the B+Tree value limit of {max} bytes")]
    ValueTooLarge {
        /// The value's length.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// Bulk-load input that is not strictly increasing by key.
    #[error(
        "bulk load input is not strictly increasing: entry {index} is not above the previous key"
    )]
    Unsorted {
        /// Position of the offending entry in the input.
        index: u64,
    },

    /// Bulk load into a tree that already holds versions.
    #[error("bulk load needs an empty tree; this one holds {versions} versions")]
    NotEmpty {
        /// Versions in the tree.
        versions: u64,
    },

    /// Options that cannot work.
    #[error("invalid B+Tree options: {0}")]
    InvalidOptions(String),
}

impl Error {
    /// True if this error means bytes on disk are damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Storage(e) if e.is_corruption())
    }
}

impl From<Error> for CoreError {
    fn from(error: Error) -> CoreError {
        match error {
            Error::Storage(e) => e,
            other => CoreError::InvalidInput(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_convert_to_invalid_input_naming_the_limit() {
        let core: CoreError = Error::KeyTooLarge { len: 5000, max: 4096 }.into();
        assert!(matches!(&core, CoreError::InvalidInput(m) if m.contains("4096")), "{core}");
        let corrupt = Error::Storage(CoreError::corruption("bad", "page 7"));
        assert!(corrupt.is_corruption());
        assert!(CoreError::from(corrupt).is_corruption());
    }
}
