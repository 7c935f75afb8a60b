//! The one error type of xtask: a message for a human, printed once by `main`.
//!
//! A check that finds problems prints each of them itself and then returns an [`Error`] that
//! summarises ("layers: 2 violations"); `main` turns it into a non-zero exit code.

use std::fmt;

/// Why a subcommand did not succeed.
#[derive(Debug)]
pub enum Error {
    /// The command line was wrong: `main` prints the help after the message, exit code 2.
    Usage(String),
    /// A check failed or a tool could not be run: exit code 1.
    Failed(String),
}

/// The result of every subcommand and helper.
pub type Result<T = ()> = std::result::Result<T, Error>;

impl Error {
    /// A failed check or tool, with a message naming what failed.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// A command-line mistake.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Self::Failed(format!("I/O error: {error}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Self::Failed(format!("cannot parse JSON: {error}"))
    }
}
