//! [`WalBarrier`]: the [`LogBarrier`] an engine calls before its durable LSN passes a record,
//! so that an engine checkpointing on its own never gets ahead of the log (see "The log first"
//! in `lightning_core_storage::engine`).

use std::sync::{Arc, Weak};

use lightning_core_storage::{
    Error as StorageError, Lsn, Result as StorageResult, engine::LogBarrier,
};

use crate::{
    error::Error,
    group_commit::{Goal, Shared},
};

/// Makes the log durable up to an LSN on an engine's behalf, sharing a group-commit round
/// with concurrent committers. Holds the log weakly: once the log is gone (its handle dropped,
/// which drops records it never wrote), it refuses, so the engine cannot claim them durable.
#[derive(Debug)]
pub struct WalBarrier {
    shared: Weak<Shared>,
}

impl WalBarrier {
    pub(crate) fn new(shared: &Arc<Shared>) -> WalBarrier {
        WalBarrier { shared: Arc::downgrade(shared) }
    }
}

impl LogBarrier for WalBarrier {
    fn make_durable(&self, lsn: Lsn) -> StorageResult<()> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(StorageError::Poisoned {
                reason: format!(
                    "the write-ahead log is closed: record {} cannot be made durable in it",
                    lsn.get()
                ),
            });
        };
        let state = shared.state.lock();
        if state.durable_lsn >= lsn.get() {
            return Ok(());
        }
        let last = state.encoder.next_lsn() - 1;
        shared.wait(state, lsn.get().min(last), Goal::Durable).map_err(into_storage)
    }
}

/// The log's error as the engine layer's.
fn into_storage(error: Error) -> StorageError {
    match error {
        Error::Storage(inner) => inner,
        Error::Corruption { segment, offset, what } => {
            StorageError::corruption(what, format!("WAL segment {segment} at offset {offset}"))
        }
        other => StorageError::Poisoned { reason: other.to_string() },
    }
}
