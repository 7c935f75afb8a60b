//! The conformance suite every [`StorageEngine`] must pass.
//!
//! An engine crate implements [`EngineHarness`] for its engine and calls [`run_all`] from a
//! test. Each check is also public, so a failure can be run alone. Checks panic (with a message
//! naming the check) on a contract violation, as test assertions do.
//!
//! ```
//! use lightning_core_storage::engine::{MemoryEngine, conformance::{self, EngineHarness}};
//!
//! struct Memory;
//! impl EngineHarness for Memory {
//!     type Engine = MemoryEngine;
//!     fn create(&mut self) -> MemoryEngine { MemoryEngine::new() }
//!     fn reopen(&mut self, engine: MemoryEngine) -> MemoryEngine { engine.crash_and_reopen() }
//! }
//! conformance::run_all(&mut Memory);
//! ```
//!
//! An engine that keeps files in a directory need not write its own: [`DirHarness`] gives each
//! engine a directory, over [`crate::vfs::FaultFs`] (with power cuts before reopens, if asked)
//! or the real file system, and calls a closure to open it.

use std::{
    collections::BTreeMap,
    ops::{Bound, ControlFlow},
    sync::Arc,
};

mod harness;

pub use harness::{DirHarness, Opening};

use super::{Direction, EngineBatch, KeyRange, StorageEngine, Version, VersionedEntry};
use crate::{Lsn, Timestamp, rng::SplitMix64};

/// How the suite makes and reopens engines.
pub trait EngineHarness {
    /// The engine under test.
    type Engine: StorageEngine;
    /// A fresh, empty engine (each call a new one, in its own directory if it has files).
    fn create(&mut self) -> Self::Engine;
    /// Simulates a crash (or close) and reopen: drops `engine` and opens what it left durable.
    fn reopen(&mut self, engine: Self::Engine) -> Self::Engine;
}

/// Runs every check.
pub fn run_all<H: EngineHarness>(harness: &mut H) {
    empty_engine(harness);
    versions_by_timestamp(harness);
    atomic_batches(harness);
    empty_value_is_not_a_tombstone(harness);
    key_ordering(harness);
    scans_with_bounds(harness);
    scans_respect_read_timestamp(harness);
    reapplying_is_idempotent(harness);
    checkpoint_and_reopen(harness);
    garbage_collection(harness);
    large_values_and_many_keys(harness);
    scan_is_stable_while_writing(harness);
    integrity_check_is_clean(harness);
    model_test(harness, 0x5eed, 3_000);
}

fn ts(n: u64) -> Timestamp {
    Timestamp(n)
}

fn put(engine: &impl StorageEngine, key: &[u8], value: &[u8], at: u64, lsn: u64) {
    let mut batch = EngineBatch::new();
    batch.put(key, value);
    engine.apply(&batch, ts(at), Lsn(lsn)).expect("apply");
}

fn delete(engine: &impl StorageEngine, key: &[u8], at: u64, lsn: u64) {
    let mut batch = EngineBatch::new();
    batch.delete(key);
    engine.apply(&batch, ts(at), Lsn(lsn)).expect("apply");
}

fn value_at(engine: &impl StorageEngine, key: &[u8], at: Timestamp) -> Option<Option<Vec<u8>>> {
    engine.get(key, at).expect("get").map(|v| v.value)
}

/// Every entry of a scan. Reads the range twice, with [`StorageEngine::scan`] and with
/// [`StorageEngine::scan_with`], and checks that both yield the same entries; and once more
/// with a visitor that stops half-way, which must see exactly the first half.
fn scan_all(
    engine: &impl StorageEngine,
    range: KeyRange,
    at: Timestamp,
    direction: Direction,
) -> Vec<VersionedEntry> {
    let scanned = engine
        .scan(range.clone(), at, direction)
        .expect("scan")
        .collect::<Result<Vec<_>, _>>()
        .expect("scan entry");
    let mut visited = Vec::new();
    engine
        .scan_with(&range, at, direction, &mut |entry| {
            visited.push(entry.to_owned());
            ControlFlow::Continue(())
        })
        .expect("scan_with");
    assert_eq!(visited, scanned, "scan_with yields what scan yields: {range:?} {direction:?}");
    let half = scanned.len() / 2;
    let mut first = Vec::new();
    engine
        .scan_with(&range, at, direction, &mut |entry| {
            first.push(entry.to_owned());
            if first.len() >= half { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .expect("scan_with");
    let expected = &scanned[..half.max(usize::from(!scanned.is_empty()))];
    assert_eq!(first, expected, "scan_with stops when told: {range:?} {direction:?}");
    scanned
}

/// A consistent engine's integrity check reports no problem, before and after a checkpoint and
/// a reopen, and names the engine.
pub fn integrity_check_is_clean<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    let clean = |engine: &H::Engine, when: &str| {
        let report = engine.check().expect("check");
        assert!(report.is_clean(), "check {when}: {:?}", report.problems);
        assert_eq!(report.engine, engine.name(), "check names the engine");
    };
    clean(&engine, "when empty");
    for i in 0..500u64 {
        put(&engine, format!("key{i:05}").as_bytes(), &[i as u8; 40], i + 1, i + 1);
    }
    clean(&engine, "after writes");
    engine.checkpoint().expect("checkpoint");
    delete(&engine, b"key00007", 1_000, 1_000);
    clean(&engine, "after a checkpoint");
    let engine = harness.reopen(engine);
    clean(&engine, "after a reopen");
}

fn keys(entries: &[VersionedEntry]) -> Vec<Vec<u8>> {
    entries.iter().map(|e| e.key.clone()).collect()
}

/// A new engine is empty and has made nothing durable.
pub fn empty_engine<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    assert_eq!(engine.get(b"missing", Timestamp::MAX).expect("get"), None, "empty: get");
    assert!(scan_all(&engine, KeyRange::all(), Timestamp::MAX, Direction::Forward).is_empty());
    assert!(scan_all(&engine, KeyRange::all(), Timestamp::MAX, Direction::Reverse).is_empty());
    assert_eq!(engine.durable_state().lsn, Lsn::ZERO, "empty: durable lsn");
}

/// `get` returns the newest version at or below the read timestamp, tombstones included.
pub fn versions_by_timestamp<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    put(&engine, b"k", b"v10", 10, 1);
    put(&engine, b"k", b"v20", 20, 2);
    delete(&engine, b"k", 30, 3);
    assert_eq!(value_at(&engine, b"k", ts(9)), None, "versions: before the first");
    assert_eq!(value_at(&engine, b"k", ts(10)), Some(Some(b"v10".to_vec())), "versions: at 10");
    assert_eq!(value_at(&engine, b"k", ts(19)), Some(Some(b"v10".to_vec())), "versions: at 19");
    assert_eq!(value_at(&engine, b"k", ts(25)), Some(Some(b"v20".to_vec())), "versions: at 25");
    assert_eq!(value_at(&engine, b"k", ts(30)), Some(None), "versions: tombstone at 30");
    let newest = engine.get(b"k", Timestamp::MAX).expect("get");
    assert_eq!(newest, Some(Version { commit_ts: ts(30), value: None }), "versions: newest");
    assert_eq!(value_at(&engine, b"k2", Timestamp::MAX), None, "versions: other key");
}

/// Every write of a batch is visible at its timestamp, and none before it.
pub fn atomic_batches<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    let mut batch = EngineBatch::new();
    for i in 0..100u32 {
        batch.put(format!("key{i:03}"), format!("value{i}"));
    }
    batch.put("key000", "overwritten in the same batch");
    engine.apply(&batch, ts(5), Lsn(1)).expect("apply");
    for i in 0..100u32 {
        let key = format!("key{i:03}");
        assert_eq!(value_at(&engine, key.as_bytes(), ts(4)), None, "batch: invisible before");
        assert!(value_at(&engine, key.as_bytes(), ts(5)).is_some(), "batch: visible at its ts");
    }
    assert_eq!(
        value_at(&engine, b"key000", ts(5)),
        Some(Some(b"overwritten in the same batch".to_vec())),
        "batch: the later write of a key wins"
    );
    let entries = scan_all(&engine, KeyRange::all(), ts(5), Direction::Forward);
    assert_eq!(entries.len(), 100, "batch: scan sees all writes");
}

/// The empty value is a value; a delete is a tombstone; the two never read the same.
pub fn empty_value_is_not_a_tombstone<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    put(&engine, b"empty", b"", 1, 1);
    delete(&engine, b"gone", 1, 2);
    assert_eq!(value_at(&engine, b"empty", ts(1)), Some(Some(Vec::new())), "empty value");
    assert_eq!(value_at(&engine, b"gone", ts(1)), Some(None), "tombstone");
    let entries = scan_all(&engine, KeyRange::all(), ts(1), Direction::Forward);
    assert_eq!(entries.len(), 2, "scan reports the tombstone too");
    assert_eq!(entries[0].value, Some(Vec::new()), "scan: empty value");
    assert_eq!(entries[1].value, None, "scan: tombstone");
}

/// Keys are ordered bytewise: the empty key first, a prefix before its extensions, `0x00` and
/// `0xff` bytes in their places.
pub fn key_ordering<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    let mut expected: Vec<Vec<u8>> =
        vec![b"".to_vec(), b"a".to_vec(), b"a\0".to_vec(), b"ab".to_vec(), b"b".to_vec()];
    expected.extend([vec![0x00], vec![0x00, 0x00], vec![0xff], vec![0xff, 0xff], vec![0x7f]]);
    for (i, key) in expected.iter().enumerate() {
        put(&engine, key, format!("{i}").as_bytes(), 1, i as u64 + 1);
    }
    expected.sort();
    let forward = scan_all(&engine, KeyRange::all(), ts(1), Direction::Forward);
    assert_eq!(keys(&forward), expected, "ordering: forward");
    let reverse = scan_all(&engine, KeyRange::all(), ts(1), Direction::Reverse);
    let mut descending = expected.clone();
    descending.reverse();
    assert_eq!(keys(&reverse), descending, "ordering: reverse");
    assert_eq!(value_at(&engine, b"", ts(1)), Some(Some(b"0".to_vec())), "the empty key");
}

/// Included, excluded and unbounded ends, prefixes, empty ranges, both directions.
pub fn scans_with_bounds<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    for i in 0..50u32 {
        put(&engine, format!("k{i:02}").as_bytes(), b"v", 1, u64::from(i) + 1);
    }
    let key = |i: u32| format!("k{i:02}").into_bytes();
    let cases: Vec<(KeyRange, Vec<u32>)> = vec![
        (KeyRange::new(key(10)..key(20)), (10..20).collect()),
        (KeyRange::new(key(10)..=key(20)), (10..=20).collect()),
        (
            KeyRange { start: Bound::Excluded(key(10)), end: Bound::Excluded(key(20)) },
            (11..20).collect(),
        ),
        (KeyRange::new(key(45)..), (45..50).collect()),
        (KeyRange::new(..key(3)), (0..3).collect()),
        (KeyRange::new(b"k0".to_vec()..b"k0~".to_vec()), (0..10).collect()),
        (KeyRange::prefix(b"k1"), (10..20).collect()),
        (KeyRange::new(key(30)..key(30)), vec![]),
        (KeyRange::new(b"x".to_vec()..), vec![]),
        (KeyRange::new(key(5)..=key(5)), vec![5]),
    ];
    for (range, wanted) in cases {
        let expected: Vec<Vec<u8>> = wanted.iter().map(|&i| key(i)).collect();
        let forward = scan_all(&engine, range.clone(), ts(1), Direction::Forward);
        assert_eq!(keys(&forward), expected, "bounds: forward {range:?}");
        let reverse = scan_all(&engine, range.clone(), ts(1), Direction::Reverse);
        let mut descending = expected.clone();
        descending.reverse();
        assert_eq!(keys(&reverse), descending, "bounds: reverse {range:?}");
    }
}

/// A scan yields each key's newest version at or below its timestamp and skips newer keys.
pub fn scans_respect_read_timestamp<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    put(&engine, b"a", b"a1", 1, 1);
    put(&engine, b"b", b"b1", 1, 2);
    put(&engine, b"a", b"a2", 2, 3);
    delete(&engine, b"b", 3, 4);
    put(&engine, b"c", b"c3", 3, 5);
    let at = |n| scan_all(&engine, KeyRange::all(), ts(n), Direction::Forward);
    let summary = |entries: Vec<VersionedEntry>| -> Vec<(Vec<u8>, u64, Option<Vec<u8>>)> {
        entries.into_iter().map(|e| (e.key, e.commit_ts.0, e.value)).collect()
    };
    assert_eq!(
        summary(at(1)),
        vec![(b"a".to_vec(), 1, Some(b"a1".to_vec())), (b"b".to_vec(), 1, Some(b"b1".to_vec()))],
        "read ts 1"
    );
    assert_eq!(
        summary(at(2)),
        vec![(b"a".to_vec(), 2, Some(b"a2".to_vec())), (b"b".to_vec(), 1, Some(b"b1".to_vec()))],
        "read ts 2"
    );
    assert_eq!(
        summary(at(3)),
        vec![
            (b"a".to_vec(), 2, Some(b"a2".to_vec())),
            (b"b".to_vec(), 3, None),
            (b"c".to_vec(), 3, Some(b"c3".to_vec()))
        ],
        "read ts 3"
    );
    let reverse = scan_all(&engine, KeyRange::all(), ts(2), Direction::Reverse);
    assert_eq!(keys(&reverse), vec![b"b".to_vec(), b"a".to_vec()], "reverse at ts 2");
    assert_eq!(reverse[1].value, Some(b"a2".to_vec()), "reverse picks the newest version");
}

/// Replaying a batch the engine already holds changes nothing.
pub fn reapplying_is_idempotent<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    let mut batch = EngineBatch::new();
    batch.put("x", "1");
    batch.delete("y");
    engine.apply(&batch, ts(7), Lsn(3)).expect("apply");
    let before = scan_all(&engine, KeyRange::all(), Timestamp::MAX, Direction::Forward);
    engine.apply(&batch, ts(7), Lsn(3)).expect("apply again");
    let after = scan_all(&engine, KeyRange::all(), Timestamp::MAX, Direction::Forward);
    assert_eq!(before, after, "idempotent apply");
}

/// A checkpoint makes everything applied durable; after reopen the durable state is intact
/// and reported; replaying the rest restores the full state.
pub fn checkpoint_and_reopen<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    for i in 1..=20u64 {
        put(&engine, format!("k{i:02}").as_bytes(), format!("v{i}").as_bytes(), i * 10, i);
    }
    let state = engine.checkpoint().expect("checkpoint");
    assert_eq!(state.lsn, Lsn(20), "checkpoint reports the last lsn");
    assert_eq!(state.max_commit_ts, ts(200), "checkpoint reports the highest timestamp");
    assert_eq!(engine.durable_state(), state, "durable_state agrees with checkpoint");
    put(&engine, b"after", b"not checkpointed", 210, 21);
    let engine = harness.reopen(engine);
    let durable = engine.durable_state();
    assert!(durable.lsn >= Lsn(20), "reopen keeps the checkpointed lsn, got {durable:?}");
    for i in 1..=20u64 {
        let key = format!("k{i:02}");
        let expected = Some(Some(format!("v{i}").into_bytes()));
        assert_eq!(value_at(&engine, key.as_bytes(), Timestamp::MAX), expected, "after reopen");
    }
    if durable.lsn < Lsn(21) {
        // What the log would replay.
        put(&engine, b"after", b"not checkpointed", 210, 21);
    }
    assert_eq!(
        value_at(&engine, b"after", Timestamp::MAX),
        Some(Some(b"not checkpointed".to_vec())),
        "replay above the durable lsn restores the rest"
    );
    let state = engine.checkpoint().expect("second checkpoint");
    assert_eq!(state.lsn, Lsn(21), "second checkpoint");
    let engine = harness.reopen(engine);
    assert_eq!(engine.durable_state().lsn, Lsn(21), "second reopen");
    let all = scan_all(&engine, KeyRange::all(), Timestamp::MAX, Direction::Forward);
    assert_eq!(all.len(), 21, "everything after the second reopen");
}

/// Garbage collection keeps what reads at or above the horizon see, and drops older versions.
pub fn garbage_collection<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    put(&engine, b"k", b"v10", 10, 1);
    put(&engine, b"k", b"v20", 20, 2);
    put(&engine, b"k", b"v30", 30, 3);
    put(&engine, b"d", b"d10", 10, 4);
    delete(&engine, b"d", 20, 5);
    let dropped = engine.collect_garbage(ts(25)).expect("gc");
    assert!(dropped >= 1, "gc drops the version below the visible one");
    assert_eq!(value_at(&engine, b"k", ts(25)), Some(Some(b"v20".to_vec())), "gc keeps visible");
    assert_eq!(value_at(&engine, b"k", ts(35)), Some(Some(b"v30".to_vec())), "gc keeps newer");
    let deleted = value_at(&engine, b"d", Timestamp::MAX);
    assert!(matches!(deleted, None | Some(None)), "gc: deleted key stays deleted: {deleted:?}");
    let visible: Vec<VersionedEntry> =
        scan_all(&engine, KeyRange::all(), ts(25), Direction::Forward)
            .into_iter()
            .filter(|e| e.value.is_some())
            .collect();
    assert_eq!(keys(&visible), vec![b"k".to_vec()], "gc: scan at the horizon");
}

/// A 1 MiB value, a value of several pages, and 10,000 keys.
pub fn large_values_and_many_keys<H: EngineHarness>(harness: &mut H) {
    let engine = harness.create();
    let big: Vec<u8> =
        (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let medium = vec![0xabu8; 3 * 4096 + 17];
    put(&engine, b"big", &big, 1, 1);
    put(&engine, b"medium", &medium, 1, 2);
    let mut batch = EngineBatch::new();
    for i in 0..10_000u32 {
        batch.put(format!("many{i:05}"), i.to_le_bytes().to_vec());
    }
    engine.apply(&batch, ts(2), Lsn(3)).expect("apply many");
    assert_eq!(value_at(&engine, b"big", ts(2)), Some(Some(big)), "1 MiB value");
    assert_eq!(value_at(&engine, b"medium", ts(2)), Some(Some(medium)), "multi-page value");
    let many = scan_all(&engine, KeyRange::prefix(b"many"), ts(2), Direction::Forward);
    assert_eq!(many.len(), 10_000, "10,000 keys");
    assert!(many.windows(2).all(|w| w[0].key < w[1].key), "sorted");
    let reverse = scan_all(&engine, KeyRange::prefix(b"many"), ts(2), Direction::Reverse);
    assert_eq!(reverse.len(), 10_000, "10,000 keys reversed");
    assert_eq!(reverse[0].key, b"many09999".to_vec(), "reverse starts at the end");
}

/// A scan at a fixed timestamp gives the same answer while another thread applies newer
/// versions and new keys.
pub fn scan_is_stable_while_writing<H: EngineHarness>(harness: &mut H) {
    let engine = Arc::new(harness.create());
    for i in 0..500u32 {
        put(&*engine, format!("s{i:04}").as_bytes(), b"old", 1, u64::from(i) + 1);
    }
    let expected = scan_all(&*engine, KeyRange::all(), ts(1), Direction::Forward);
    assert_eq!(expected.len(), 500);
    let writer = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || {
            for round in 0..40u64 {
                let mut batch = EngineBatch::new();
                for i in (0..500u32).step_by(7) {
                    batch.put(format!("s{i:04}"), format!("new{round}"));
                    batch.put(format!("s{i:04}x"), b"inserted".to_vec());
                }
                engine.apply(&batch, ts(2 + round), Lsn(1000 + round)).expect("apply");
            }
        })
    };
    for _ in 0..20 {
        let forward = scan_all(&*engine, KeyRange::all(), ts(1), Direction::Forward);
        assert_eq!(forward, expected, "stable scan while writing");
    }
    writer.join().expect("writer thread");
    assert_eq!(scan_all(&*engine, KeyRange::all(), ts(1), Direction::Forward), expected);
}

/// Random puts, deletes, gets and scans at random timestamps, compared with a `BTreeMap` model.
pub fn model_test<H: EngineHarness>(harness: &mut H, seed: u64, operations: usize) {
    let mut engine = harness.create();
    let mut model: BTreeMap<(Vec<u8>, u64), Option<Vec<u8>>> = BTreeMap::new();
    let mut rng = SplitMix64::new(seed);
    let mut now = 1u64;
    let mut lsn = 1u64;
    let key = |rng: &mut SplitMix64| format!("key{:03}", rng.below(200)).into_bytes();
    let model_get = |model: &BTreeMap<(Vec<u8>, u64), Option<Vec<u8>>>, k: &[u8], at: u64| {
        model
            .range((k.to_vec(), 0)..=(k.to_vec(), at))
            .next_back()
            .map(|((_, t), v)| Version { commit_ts: Timestamp(*t), value: v.clone() })
    };
    for step in 0..operations {
        match rng.below(10) {
            0..=3 => {
                let mut batch = EngineBatch::new();
                for _ in 0..=rng.below(4) {
                    let k = key(&mut rng);
                    let len = rng.below(64) as usize;
                    let value = vec![(step % 251) as u8; len];
                    model.insert((k.clone(), now), Some(value.clone()));
                    batch.put(k, value);
                }
                engine.apply(&batch, ts(now), Lsn(lsn)).expect("model: apply");
                now += 1;
                lsn += 1;
            }
            4 => {
                let k = key(&mut rng);
                model.insert((k.clone(), now), None);
                delete(&engine, &k, now, lsn);
                now += 1;
                lsn += 1;
            }
            5..=7 => {
                let k = key(&mut rng);
                let at = 1 + rng.below(now);
                let got = engine.get(&k, ts(at)).expect("model: get");
                assert_eq!(got, model_get(&model, &k, at), "model: get {k:?} at {at}, step {step}");
            }
            8 => {
                let (a, b) = (key(&mut rng), key(&mut rng));
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                let at = 1 + rng.below(now);
                let direction =
                    if rng.below(2) == 0 { Direction::Forward } else { Direction::Reverse };
                let got =
                    scan_all(&engine, KeyRange::new(lo.clone()..hi.clone()), ts(at), direction);
                let mut expected: Vec<VersionedEntry> = Vec::new();
                let mut distinct: Vec<&Vec<u8>> = model.keys().map(|(k, _)| k).collect();
                distinct.dedup();
                for k in distinct.into_iter().filter(|k| **k >= lo && **k < hi) {
                    if let Some(v) = model_get(&model, k, at) {
                        expected.push(VersionedEntry {
                            key: k.clone(),
                            commit_ts: v.commit_ts,
                            value: v.value,
                        });
                    }
                }
                if direction == Direction::Reverse {
                    expected.reverse();
                }
                assert_eq!(
                    got, expected,
                    "model: scan {lo:?}..{hi:?} at {at} {direction:?}, step {step}"
                );
            }
            _ => {
                engine.checkpoint().expect("model: checkpoint");
                engine = harness.reopen(engine);
                assert_eq!(engine.durable_state().lsn, Lsn(lsn - 1), "model: lsn after reopen");
            }
        }
    }
}
