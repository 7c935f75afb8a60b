//! A lost write that leaves an older *valid* version of a page at its id: the page checksum,
//! the page's own id and the structural validation all accept it, so before parents recorded
//! their children's write stamps the tree returned the old page's contents as current data.
//! Now every read of such a page from disk is `Corruption` naming it, and `check()` reports it.
//!
//! The test keeps a copy of the file after every checkpoint. Copy-on-write moves every changed
//! node to a fresh page and reuses freed pages a few checkpoints later, so page ids of the final
//! tree held other (older, valid) nodes in earlier copies. Putting such an older version back
//! at the same id is exactly what a lost write of the newer version leaves on disk; a
//! misdirected write (a valid page at another id) is already refused by the page header's id.

mod common;

use common::{file, names_page, open};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{EngineBatch, StorageEngine},
    vfs::FaultFs,
};

const PAGE: usize = 16 * 1024;
const KEYS: u64 = 3000;
const ROUNDS: u64 = 8;
/// Candidate stale pages tried (each one reopens the engine and reads every key).
const MAX_CANDIDATES: usize = 10;

fn key(i: u64) -> String {
    format!("key{i:06}")
}

/// The value of key `i` after round `round` (a third of the keys change each round; one in
/// 150 is large enough for an overflow chain).
fn value(i: u64, round: u64) -> Vec<u8> {
    let last = (0..=round).rev().find(|r| i % 3 == r % 3).unwrap_or(0);
    let text = format!("value of key {i} written in round {last} ");
    if i.is_multiple_of(150) {
        return text.repeat(40_000 / text.len()).into_bytes();
    }
    format!("{text}{}", "x".repeat((i % 40) as usize)).into_bytes()
}

/// A tree of several levels checkpointed `ROUNDS` times; the file after each checkpoint.
fn build(fs: &FaultFs) -> Vec<Vec<u8>> {
    let engine = open(fs).expect("open");
    let mut copies = Vec::new();
    for round in 0..ROUNDS {
        let mut batch = EngineBatch::new();
        for i in (0..KEYS).filter(|i| round == 0 || i % 3 == round % 3) {
            batch.put(key(i), value(i, round));
        }
        engine.apply(&batch, Timestamp(round + 1), Lsn(round + 1)).expect("apply");
        engine.collect_garbage(Timestamp(round + 1)).expect("gc");
        engine.checkpoint().expect("checkpoint");
        copies.push(fs.file_contents(&file()).expect("the file exists"));
    }
    let report = engine.check().expect("check");
    assert!(report.height >= 2, "the tree has branches: {report:?}");
    engine.close().expect("close");
    copies
}

fn page_type(page: &[u8]) -> u8 {
    page[13]
}

fn page_id(page: &[u8]) -> u64 {
    u64::from_le_bytes(page[16..24].try_into().expect("8 bytes"))
}

/// Pages of the final file of a type in `types` that held another valid page of such a type
/// with the same id in an earlier copy: `(page, the older bytes)`.
fn stale_versions(copies: &[Vec<u8>], types: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let last = copies.last().expect("copies");
    let mut found = Vec::new();
    for id in 2..(last.len() / PAGE) as u64 {
        let range = id as usize * PAGE..(id as usize + 1) * PAGE;
        let now = &last[range.clone()];
        if !types.contains(&page_type(now)) {
            continue;
        }
        let older = copies[..copies.len() - 1].iter().rev().find_map(|copy| {
            let old = copy.get(range.clone())?;
            (types.contains(&page_type(old)) && page_id(old) == id && old != now)
                .then(|| old.to_vec())
        });
        if let Some(old) = older {
            found.push((id, old));
        }
    }
    found
}

/// Writes `bytes` over page `id` of the file (in the live and the durable image).
fn put_back(fs: &FaultFs, id: u64, bytes: &[u8]) {
    let now = fs.file_contents(&file()).expect("file");
    let base = id as usize * PAGE;
    for (at, &old) in bytes.iter().enumerate() {
        let mask = now[base + at] ^ old;
        if mask != 0 {
            assert!(fs.corrupt_byte(&file(), (base + at) as u64, mask));
        }
    }
}

/// Puts older valid versions of pages of `types` back and checks every read and `check()`.
fn stale_pages_are_detected(types: &[u8]) {
    let fs = FaultFs::new();
    let copies = build(&fs);
    let last = copies.last().expect("copies").clone();
    let candidates = stale_versions(&copies, types);
    assert!(!candidates.is_empty(), "pages were reused across checkpoints");
    let step = candidates.len().div_ceil(MAX_CANDIDATES);
    let mut detected = 0;
    for (id, old) in candidates.iter().step_by(step) {
        put_back(&fs, *id, old);
        let engine = open(&fs).expect("a stale data page does not stop the open");
        let mut failures = 0;
        for i in 0..KEYS {
            match engine.get(key(i).as_bytes(), Timestamp::MAX) {
                Ok(got) => assert_eq!(
                    got.and_then(|v| v.value),
                    Some(value(i, ROUNDS - 1)),
                    "page {id} put back: key {i} read stale data"
                ),
                Err(e) => {
                    assert!(names_page(&e, *id), "page {id} put back: wrong error {e}");
                    failures += 1;
                }
            }
        }
        if failures > 0 {
            detected += 1;
            let error = engine.check().expect_err("check reports the stale page").to_string();
            let location = format!("{} page {id}", file().display());
            assert!(error.contains(&location), "check names page {id}: {error}");
            assert!(error.contains("stale page"), "check says what is wrong: {error}");
        }
        engine.close().expect("close");
        put_back(&fs, *id, &last[*id as usize * PAGE..(*id as usize + 1) * PAGE]);
    }
    assert!(detected > 0, "at least one stale page was live in the tree and detected");
}

#[test]
fn a_lost_write_leaving_an_older_valid_node_is_corruption_not_stale_data() {
    stale_pages_are_detected(&[16, 17]);
}

#[test]
fn a_lost_write_leaving_an_older_valid_overflow_page_is_corruption_not_stale_data() {
    stale_pages_are_detected(&[18]);
}
