//! Newtype identifiers shared by every layer: a page number is never confused with a log
//! position or a timestamp.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub u64);

        impl $name {
            /// The smallest value.
            pub const ZERO: Self = Self(0);
            /// The largest value.
            pub const MAX: Self = Self(u64::MAX);

            /// The raw number.
            pub const fn get(self) -> u64 {
                self.0
            }

            /// The next value (saturating at `MAX`).
            pub const fn next(self) -> Self {
                Self(self.0.saturating_add(1))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// The number of a page within one paged file; page `n` starts at byte `n * page_size`.
    PageId
);
id_type!(
    /// A log sequence number: the position of a record in the write-ahead log.
    Lsn
);
id_type!(
    /// A logical MVCC timestamp: commit timestamps order transactions, read timestamps pick a
    /// snapshot.
    Timestamp
);
id_type!(
    /// Identifies one file of a database (used in encryption's associated data and in cache keys).
    FileId
);
