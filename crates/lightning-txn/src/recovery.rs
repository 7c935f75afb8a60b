//! Recovery: bring the engine from its durable state up to the end of the WAL.
//!
//! The engine opens at the state its last checkpoint made durable, covering every commit at or
//! below its durable LSN. Every commit record above that LSN is re-applied in log order, at
//! its original commit timestamp; applying a record the engine already holds changes nothing
//! (the engine contract), so a crash during recovery is harmless. A record the WAL did not
//! finish writing never reaches replay (the WAL's framing and checksums drop a torn tail), so
//! an incomplete transaction is discarded whole. Afterwards the engine is checkpointed and the
//! WAL truncated below what it made durable.

use lightning_core_storage::{Timestamp, engine::StorageEngine};
use lightning_wal::{Durability, Wal};

use crate::{Result, record, store::RecoveryReport};

/// Replays `wal` into `engine`; returns what it did.
pub(crate) fn recover(engine: &dyn StorageEngine, wal: &Wal) -> Result<RecoveryReport> {
    let durable = engine.durable_state();
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
    // Log positions must continue above anything the engine made durable, even if the log
    // lost an unsynced tail that the engine's checkpoint already covers (a `Durability::None`
    // commit can be checkpointed before its record is written): otherwise a new commit would
    // reuse an LSN the engine claims as durable and be skipped by the next recovery. Empty
    // records pad the log up to that point; replay skips them.
    let last = wal.last_lsn();
    if last < durable.lsn {
        let gap = (durable.lsn.0 - last.0) as usize;
        let padding = vec![&[][..]; gap];
        wal.append_batch(&padding, Durability::Immediate)?;
    }
    if replayed > 0 {
        let checkpointed = engine.checkpoint()?;
        wal.truncate_before(checkpointed.lsn.next())?;
    }
    Ok(RecoveryReport {
        engine_durable_lsn: durable.lsn,
        replayed_records: replayed,
        last_commit_ts,
    })
}
