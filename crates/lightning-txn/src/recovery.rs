//! Recovery: bring the engine from its durable state up to the end of the WAL.
//!
//! The engine opens at the state its last checkpoint made durable, covering every commit at or
//! below its durable LSN. The log must hold every record above that LSN: if its oldest record
//! is later than the engine's durable LSN + 1, commits in between are in neither, and opening
//! would silently lose them, so recovery fails with a corruption error naming both LSNs.
//! Every commit record above the durable LSN is re-applied in log order, at its original
//! commit timestamp; applying a record the engine already holds changes nothing (the engine
//! contract), so a crash during recovery is harmless. A record the WAL did not finish writing
//! never reaches replay (the WAL's framing and checksums drop a torn tail), so an incomplete
//! transaction is discarded whole. Afterwards the engine is checkpointed and the WAL truncated
//! below its [`DurableState::log_floor`] (what it needs if it falls back to its older durable
//! state at the next open).
//!
//! [`DurableState::log_floor`]: lightning_core_storage::engine::DurableState::log_floor

use lightning_core_storage::{Error as StorageError, Timestamp, engine::StorageEngine};
use lightning_wal::{Durability, Wal};

use crate::{Result, record, store::RecoveryReport};

/// Replays `wal` into `engine`; returns what it did.
pub(crate) fn recover(engine: &dyn StorageEngine, wal: &Wal) -> Result<RecoveryReport> {
    let durable = engine.durable_state();
    let oldest = wal.oldest_lsn();
    if oldest > durable.lsn.next() {
        return Err(StorageError::corruption(
            format!(
                "the write-ahead log starts at LSN {} but the {} engine is durable only up to \
                 LSN {}: records {} to {} are in neither (an engine file older than the log, \
                 or a log truncated too far)",
                oldest.0,
                engine.name(),
                durable.lsn.0,
                durable.lsn.0 + 1,
                oldest.0 - 1,
            ),
            format!("{} engine durable state / write-ahead log", engine.name()),
        )
        .into());
    }
    if wal.opened_empty() && durable.lsn.0 > 0 {
        return Err(StorageError::corruption(
            format!(
                "the write-ahead log directory holds no segment, but the {} engine is durable \
                 up to LSN {}: the log was deleted, and any commit after the engine's last \
                 checkpoint is gone with it",
                engine.name(),
                durable.lsn.0,
            ),
            format!("{} engine durable state / write-ahead log", engine.name()),
        )
        .into());
    }
    let mut last_commit_ts: Timestamp = durable.max_commit_ts;
    let mut replayed = 0u64;
    for entry in wal.replay(durable.lsn.next())? {
        let entry = entry?;
        if entry.payload.is_empty() {
            continue; // padding (see below)
        }
        let commit = record::decode(&entry.payload)?;
        engine.apply(&commit.batch, commit.commit_ts, entry.lsn)?;
        last_commit_ts = last_commit_ts.max(commit.commit_ts);
        replayed += 1;
    }
    if replayed > 0 {
        tracing::info!(
            engine = engine.name(),
            engine_durable_lsn = durable.lsn.0,
            records = replayed,
            last_lsn = wal.last_lsn().0,
            "recovery replayed commit records from the write-ahead log"
        );
    }
    // Log positions must continue above anything the engine made durable, even if the log
    // lost an unsynced tail that the engine's checkpoint already covers. An engine that honours
    // the log barrier (the B+Tree) never gets there: it syncs the log before its durable LSN
    // passes a record. One that does not could checkpoint a `Durability::None` commit before
    // its record is written; then a new commit would reuse an LSN the engine claims as durable
    // and be skipped by the next recovery. Empty records pad the log up to that point; replay
    // skips them.
    let last = wal.last_lsn();
    if last < durable.lsn {
        let gap = (durable.lsn.0 - last.0) as usize;
        tracing::warn!(
            log_last_lsn = last.0,
            engine_durable_lsn = durable.lsn.0,
            padding_records = gap,
            "the write-ahead log ends below the engine's durable LSN; appending empty records"
        );
        let padding = vec![&[][..]; gap];
        wal.append_batch(&padding, Durability::Immediate)?;
    }
    if replayed > 0 {
        let checkpointed = engine.checkpoint()?;
        wal.truncate_before(checkpointed.log_floor.next())?;
    }
    Ok(RecoveryReport {
        engine_durable_lsn: durable.lsn,
        replayed_records: replayed,
        last_commit_ts,
    })
}
