//! Regression: closing the database synced the log but left nothing after its last group
//! commit, so damage found later in that group's records could not be told from a write torn
//! by a crash: the next open cut those records off as a torn tail, silently. `Database::close`
//! now closes the log cleanly, ending it with a `Synced` fragment that proves every record in it
//! fsynced (`docs/format/wal.md`, version 3): the same damage is `Corruption`.

use std::{path::Path, sync::Arc};

use lightning_db::{
    Config, Database, Durability, Error, WriteBatch,
    vfs::{FaultFs, Vfs},
};

const DIR: &str = "/db";
const SYNCED: u8 = 6;

fn open(fs: &FaultFs) -> lightning_db::Result<Database> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    Database::open_with_vfs(vfs, Path::new(DIR), Config::default().durability(Durability::None))
}

/// (offset, type, length) of every fragment of a segment file (docs/format/wal.md).
fn fragments(bytes: &[u8]) -> Vec<(usize, u8, usize)> {
    let mut out = Vec::new();
    let mut at = 40;
    while at + 24 <= bytes.len() && bytes[at + 12] != 0 {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, bytes[at + 12], len));
        at += 24 + len;
    }
    out
}

#[test]
fn closed_log_damage_taken_for_a_torn_tail() {
    let fs = FaultFs::new();
    let db = open(&fs).unwrap();
    let mut batch = WriteBatch::new();
    for k in 0..200u32 {
        batch.put(format!("key{k:04}"), format!("value {k}"));
    }
    db.write(batch).unwrap();
    db.close().unwrap();

    let wal = Path::new(DIR).join("wal");
    let last = fs.list(&wal).unwrap().into_iter().max().expect("a segment");
    let path = wal.join(&last);
    let frags = fragments(&fs.file_contents(&path).unwrap());
    assert_eq!(frags.last().map(|f| f.1), Some(SYNCED), "the log ends with its closing mark");
    let (offset, _, len) = *frags.iter().rfind(|f| f.1 != SYNCED).expect("a record");
    assert!(len > 100, "the batch's record");
    assert!(fs.corrupt_byte(&path, (offset + 24 + len / 2) as u64, 0x10));

    match open(&fs) {
        Err(Error::Corruption { what, location }) => {
            assert!(what.contains("fsynced"), "{what} at {location}");
        }
        Err(other) => panic!("expected Corruption, got {other}"),
        Ok(_) => panic!("the damaged record of a closed log was dropped as a torn tail"),
    }
}
