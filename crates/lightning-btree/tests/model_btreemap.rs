//! A model test: 100,000 random operations on the B+Tree, compared with a `BTreeMap` of
//! versions after every read.
//!
//! Keys run from empty to `MAX_KEY_LEN` bytes (any byte values), values from empty to several
//! pages; writes are puts and tombstones in batches; reads are gets at random timestamps and
//! range scans in both directions; vacuum runs at random horizons; checkpoints, clean reopens
//! (with `check()` and a full version comparison), and crashes that lose everything since the
//! last checkpoint happen at random points. The generator is seeded, so a failure replays.

use std::{
    cmp::Reverse,
    collections::BTreeMap,
    ops::{Bound, ControlFlow},
    path::Path,
    sync::Arc,
};

use lightning_btree::{BTreeEngine, BTreeOptions, MAX_KEY_LEN};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine, VersionedEntry},
    rng::SplitMix64 as Rng,
    vfs::{FaultFs, PowerCut, Vfs},
};

type Key = Arc<[u8]>;
/// Versions by key, newest first: what the engine must hold.
type Model = BTreeMap<(Key, Reverse<u64>), Value>;
/// A value, or `None` for a tombstone.
type Value = Option<Arc<[u8]>>;

fn key_pool(rng: &mut Rng) -> Vec<Key> {
    let mut pool: Vec<Key> = vec![Arc::from(&b""[..]), Arc::from(vec![0xffu8; MAX_KEY_LEN])];
    for i in 0..1500u32 {
        let len = match rng.below(100) {
            0..=2 => 1000 + rng.below(3000) as usize,
            3..=9 => 64 + rng.below(400) as usize,
            10..=59 => 1 + rng.below(24) as usize,
            _ => 0,
        };
        // Half the keys share a structured prefix, so node prefixes get used.
        let mut key =
            if len == 0 { format!("user:{:05}:", i * 7).into_bytes() } else { rng.bytes(len) };
        if rng.below(4) == 0 {
            key.extend_from_slice(&[0, 0xff, 0]);
        }
        pool.push(key.into());
    }
    pool.sort();
    pool.dedup();
    pool
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(1000) {
        0..=99 => 0,
        100..=599 => rng.below(60) as usize,
        600..=929 => 60 + rng.below(1500) as usize,
        930..=989 => 4000 + rng.below(16_000) as usize,
        _ => 40_000 + rng.below(60_000) as usize,
    };
    let fill = rng.next_u64() as u8;
    (0..len).map(|i| fill.wrapping_add(i as u8)).collect()
}

fn newest_at(model: &Model, key: &Key, at: u64) -> Option<(u64, Option<Arc<[u8]>>)> {
    model
        .range((key.clone(), Reverse(at))..)
        .next()
        .filter(|((k, _), _)| k == key)
        .map(|((_, Reverse(ts)), v)| (*ts, v.clone()))
}

/// The first `limit` entries a scan of `lo..hi` at `at` must yield.
fn expected_scan(
    model: &Model,
    lo: &Key,
    hi: &Key,
    at: u64,
    reverse: bool,
    limit: usize,
) -> Vec<VersionedEntry> {
    let range = model.range((
        Bound::Included((lo.clone(), Reverse(u64::MAX))),
        Bound::Excluded((hi.clone(), Reverse(u64::MAX))),
    ));
    let mut out: Vec<VersionedEntry> = Vec::new();
    let push = |out: &mut Vec<VersionedEntry>, k: &Key, ts: u64, v: &Option<Arc<[u8]>>| {
        out.push(VersionedEntry {
            key: k.to_vec(),
            commit_ts: Timestamp(ts),
            value: v.as_ref().map(|v| v.to_vec()),
        })
    };
    if reverse {
        // Walking backwards, a key's versions come oldest first: the last one at or below
        // `at` before the key changes is the visible one.
        let mut candidate: Option<(&Key, u64, &Value)> = None;
        for ((k, Reverse(ts)), v) in range.rev() {
            if candidate.is_some_and(|(ck, _, _)| ck != k) {
                let (ck, cts, cv) = candidate.take().expect("checked");
                push(&mut out, ck, cts, cv);
                if out.len() == limit {
                    return out;
                }
            }
            if *ts <= at {
                candidate = Some((k, *ts, v));
            }
        }
        if let Some((ck, cts, cv)) = candidate {
            push(&mut out, ck, cts, cv);
        }
    } else {
        let mut last: Option<&Key> = None;
        for ((k, Reverse(ts)), v) in range {
            if *ts > at || last == Some(k) {
                continue;
            }
            last = Some(k);
            push(&mut out, k, *ts, v);
            if out.len() == limit {
                break;
            }
        }
    }
    out.truncate(limit);
    out
}

fn gc_model(model: &mut Model, horizon: u64) -> u64 {
    let mut doomed = Vec::new();
    let mut current: Option<&Key> = None;
    let mut seen = false;
    for ((k, Reverse(ts)), v) in model.iter() {
        if current != Some(k) {
            current = Some(k);
            seen = false;
        }
        if *ts > horizon {
            continue;
        }
        if seen || v.is_none() {
            doomed.push((k.clone(), Reverse(*ts)));
        }
        seen = true;
    }
    for key in &doomed {
        model.remove(key);
    }
    doomed.len() as u64
}

fn open(fs: &FaultFs) -> BTreeEngine {
    let options =
        BTreeOptions { cache_size_bytes: 2 << 20, ..BTreeOptions::default() }.manual_checkpoints();
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    BTreeEngine::open(vfs, Path::new("/model"), options).expect("open")
}

fn compare_everything(engine: &BTreeEngine, model: &Model, step: usize) {
    let report = engine.check().unwrap_or_else(|e| panic!("step {step}: check: {e}"));
    assert_eq!(report.versions, model.len() as u64, "step {step}: version count");
    let all: Vec<VersionedEntry> = engine
        .scan_versions(KeyRange::all(), Direction::Forward)
        .collect::<Result<_, _>>()
        .expect("scan versions");
    assert_eq!(all.len(), model.len(), "step {step}: every version");
    let mut reverse: Vec<VersionedEntry> = engine
        .scan_versions(KeyRange::all(), Direction::Reverse)
        .collect::<Result<_, _>>()
        .expect("scan versions in reverse");
    reverse.reverse();
    assert_eq!(reverse, all, "step {step}: every version, in reverse");
    for (got, ((k, Reverse(ts)), v)) in all.iter().zip(model) {
        assert_eq!((&got.key[..], got.commit_ts.0), (&k[..], *ts), "step {step}: version order");
        assert_eq!(
            got.value.as_deref(),
            v.as_deref(),
            "step {step}: value of {:?}@{ts}",
            &k[..k.len().min(16)]
        );
    }
}

/// Keys in groups that share 3,500 random bytes: separators between neighbours are long and
/// nodes mix groups (so prefix compression cannot hide it), giving fan-outs of a handful and
/// deep trees.
fn long_separator_pool(rng: &mut Rng) -> Vec<Key> {
    let mut pool = Vec::new();
    for group in 0..300u16 {
        let shared = rng.bytes(3500);
        for i in 0..5u8 {
            pool.push(Arc::from([&group.to_be_bytes()[..], &shared, &[i]].concat()));
        }
    }
    pool
}

/// What a model run saw.
struct Mix {
    reads: usize,
    scans: usize,
    reopens: usize,
    crashes: usize,
    max_height: usize,
}

#[test]
fn one_hundred_thousand_random_operations_match_a_btreemap() {
    let mut rng = Rng::new(0x1157_b7ee);
    let pool = key_pool(&mut rng);
    let (engine, mix) = run_model(rng, &pool, 100_000);
    assert!(mix.reads > 40_000 && mix.scans > 15_000, "the mix ran");
    assert!(mix.reopens > 200 && mix.crashes > 50, "reopens and crashes ran");
    let stats = engine.btree_stats();
    assert!(mix.max_height >= 2, "the tree grew beyond one leaf: {stats:?}");
    assert!(stats.overflow_pages > 0, "values of several pages were stored");
}

#[test]
fn deep_trees_with_long_separators_match_a_btreemap() {
    let mut rng = Rng::new(0xdee9);
    let pool = long_separator_pool(&mut rng);
    let (_, mix) = run_model(rng, &pool, 10_000);
    assert!(mix.max_height >= 4, "long separators make a deep tree ({})", mix.max_height);
    assert!(mix.reopens > 10 && mix.crashes > 5, "reopens and crashes ran");
}

fn run_model(mut rng: Rng, pool: &[Key], operations: usize) -> (BTreeEngine, Mix) {
    let fs = FaultFs::new();
    let mut engine = open(&fs);
    let (mut model, mut durable_model) = (Model::new(), Model::new());
    let (mut now, mut lsn, mut horizon) = (1u64, 1u64, 0u64);
    let (mut reads, mut scans, mut reopens, mut crashes, mut max_height) = (0, 0, 0, 0, 0);
    for step in 0..operations {
        if step % 64 == 0 {
            max_height = max_height.max(engine.btree_stats().height);
        }
        let pick = |rng: &mut Rng| pool[rng.below(pool.len() as u64) as usize].clone();
        match rng.below(1000) {
            0..=349 => {
                let mut batch = EngineBatch::new();
                for _ in 0..1 + rng.below(6) {
                    let key = pick(&mut rng);
                    if rng.below(6) == 0 {
                        model.insert((key.clone(), Reverse(now)), None);
                        batch.delete(key.to_vec());
                    } else {
                        let v = value(&mut rng);
                        model.insert((key.clone(), Reverse(now)), Some(v.clone().into()));
                        batch.put(key.to_vec(), v);
                    }
                }
                engine.apply(&batch, Timestamp(now), Lsn(lsn)).expect("apply");
                now += 1;
                lsn += 1;
            }
            350..=799 => {
                let key = pick(&mut rng);
                let at = horizon + rng.below(now - horizon + 1);
                let got =
                    engine.get(&key, Timestamp(at)).expect("get").map(|v| (v.commit_ts.0, v.value));
                let want = newest_at(&model, &key, at).map(|(ts, v)| (ts, v.map(|v| v.to_vec())));
                assert_eq!(got, want, "step {step}: get {:?} at {at}", &key[..key.len().min(16)]);
                reads += 1;
            }
            800..=979 => {
                let (a, b) = (pick(&mut rng), pick(&mut rng));
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                let at = horizon + rng.below(now - horizon + 1);
                let reverse = rng.below(2) == 0;
                let limit = 1 + rng.below(40) as usize;
                let direction = if reverse { Direction::Reverse } else { Direction::Forward };
                let range = KeyRange::new(lo.to_vec()..hi.to_vec());
                let got: Vec<VersionedEntry> = engine
                    .scan(range.clone(), Timestamp(at), direction)
                    .expect("scan")
                    .take(limit)
                    .collect::<Result<_, _>>()
                    .expect("scan entry");
                let want = expected_scan(&model, &lo, &hi, at, reverse, limit);
                assert_eq!(got, want, "step {step}: scan at {at} {direction:?} limit {limit}");
                // The copy-free scan, now and then long enough to cross its lock batches.
                let limit = if scans % 8 == 0 { 700 } else { limit };
                let mut lent = Vec::new();
                engine
                    .scan_with(&range, Timestamp(at), direction, &mut |entry| {
                        lent.push(entry.to_owned());
                        if lent.len() < limit {
                            ControlFlow::Continue(())
                        } else {
                            ControlFlow::Break(())
                        }
                    })
                    .expect("scan_with");
                let want = expected_scan(&model, &lo, &hi, at, reverse, limit);
                assert_eq!(
                    lent, want,
                    "step {step}: scan_with at {at} {direction:?} limit {limit}"
                );
                scans += 1;
            }
            980..=987 => {
                horizon += rng.below(now - horizon + 1);
                let dropped = engine.collect_garbage(Timestamp(horizon)).expect("gc");
                assert_eq!(dropped, gc_model(&mut model, horizon), "step {step}: gc at {horizon}");
            }
            988..=993 => {
                assert_eq!(engine.checkpoint().expect("checkpoint").lsn, Lsn(lsn - 1));
                durable_model = model.clone();
            }
            994..=997 => {
                engine.checkpoint().expect("checkpoint");
                durable_model = model.clone();
                drop(engine);
                if rng.below(2) == 0 {
                    fs.power_cut(PowerCut::DropUnsynced);
                }
                engine = open(&fs);
                compare_everything(&engine, &model, step);
                reopens += 1;
            }
            _ => {
                // A crash: what was not checkpointed is lost (the WAL would replay it).
                drop(engine);
                fs.power_cut(PowerCut::DropUnsynced);
                engine = open(&fs);
                model = durable_model.clone();
                lsn = engine.durable_state().lsn.0 + 1;
                compare_everything(&engine, &model, step);
                crashes += 1;
            }
        }
    }
    compare_everything(&engine, &model, operations);
    (engine, Mix { reads, scans, reopens, crashes, max_height })
}
