//! Regression, through the facade as it ships: a checkpoint whose fsync fails poisons the
//! engine, but the transaction store used to log (and fsync) the next commit anyway, fail it at
//! apply, and replay it after reopen — a commit the caller was told had failed came back. The
//! store must see the engine's poison before it logs anything.
//!
//! The checkpoint is the one the maintenance thread runs (`TxnStore::checkpoint`, reached here
//! through `Database::flush` so the failure lands on it deterministically: every commit before it
//! is already durable, so the log has nothing to sync and the first sync is the engine's).
//! Two guards refuse such a commit now, each enough alone: `StorageEngine::admit_write` and
//! `StorageEngine::poisoned`, both checked before the commit lock; with both removed this fails.

mod common;

use common::{ENGINES, no_background_checkpoints, open_on, power_cut_and_reopen};
use lightning_db::{Durability, Error, WriteBatch, vfs::FaultFs};

#[test]
fn a_commit_after_a_failed_checkpoint_fails_and_does_not_come_back_after_reopen() {
    for &engine in ENGINES {
        let fs = FaultFs::new();
        let config = no_background_checkpoints().engine(engine).durability(Durability::Immediate);
        let db = open_on(&fs, config.clone());
        db.put(b"before", b"1").expect("a durable commit");
        let ks = db.keyspace("named").expect("keyspace");
        ks.put(b"k", b"v").expect("a durable commit in a keyspace");
        let logged = db.stats().expect("stats").wal.last_lsn;

        fs.fail_next_sync(false);
        let failed = db.flush().expect_err("the injected fsync failure fails the checkpoint");
        assert!(!matches!(failed, Error::Closed), "{failed}");

        let refused = db.put(b"after", b"2").expect_err("the engine is poisoned");
        assert!(matches!(refused, Error::Poisoned(_)), "{refused}");
        let mut batch = WriteBatch::new();
        batch.put(b"after-batch", b"3");
        let refused = db.write(batch).expect_err("a batch too");
        assert!(matches!(refused, Error::Poisoned(_)), "{refused}");
        let refused =
            db.transaction(|tx| tx.put(b"after-tx", b"4")).expect_err("a transaction too");
        assert!(matches!(refused, Error::Poisoned(_)), "{refused}");
        assert_eq!(db.stats().expect("stats").wal.last_lsn, logged, "nothing was logged for them");
        assert_eq!(db.get(b"before").expect("reads still work").as_deref(), Some(&b"1"[..]));

        let db = power_cut_and_reopen(&fs, db, config);
        assert_eq!(db.get(b"before").expect("get").as_deref(), Some(&b"1"[..]));
        assert_eq!(
            db.keyspace("named").expect("ks").get(b"k").expect("get").as_deref(),
            Some(&b"v"[..])
        );
        for key in [&b"after"[..], b"after-batch", b"after-tx"] {
            assert_eq!(db.get(key).expect("get"), None, "a refused commit came back after reopen");
        }
        db.put(b"later", b"5").expect("the reopened database takes writes again");
    }
}
