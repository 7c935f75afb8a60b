//! Unit tests of the merging cursor and the visible-version walk, against sorted-vector models.

use std::{collections::BTreeMap, ops::Bound};

use lightning_core_storage::{
    Result, Timestamp,
    engine::{Direction, KeyRange, VersionedEntry},
    rng::SplitMix64,
};

use super::{MergingIter, Step, VisibleIter};
use crate::{InternalIter, InternalKey};

/// A cursor over a sorted vector: the simplest source to merge.
struct VecIter {
    entries: Vec<(InternalKey, Option<Vec<u8>>)>,
    at: Option<usize>,
}

impl VecIter {
    fn boxed(mut entries: Vec<(InternalKey, Option<Vec<u8>>)>) -> Box<dyn InternalIter> {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Box::new(VecIter { entries, at: None })
    }
}

impl InternalIter for VecIter {
    fn valid(&self) -> bool {
        self.at.is_some()
    }
    fn seek_to_first(&mut self) -> Result<()> {
        self.at = (!self.entries.is_empty()).then_some(0);
        Ok(())
    }
    fn seek_to_last(&mut self) -> Result<()> {
        self.at = self.entries.len().checked_sub(1);
        Ok(())
    }
    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        let target = InternalKey::new(key, ts);
        let i = self.entries.partition_point(|e| e.0 < target);
        self.at = (i < self.entries.len()).then_some(i);
        Ok(())
    }
    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        let target = InternalKey::new(key, ts);
        self.at = self.entries.partition_point(|e| e.0 <= target).checked_sub(1);
        Ok(())
    }
    fn next(&mut self) -> Result<()> {
        self.at = self.at.map(|i| i + 1).filter(|&i| i < self.entries.len());
        Ok(())
    }
    fn prev(&mut self) -> Result<()> {
        self.at = self.at.and_then(|i| i.checked_sub(1));
        Ok(())
    }
    fn key(&self) -> &[u8] {
        &self.entries[self.at.unwrap()].0.key
    }
    fn ts(&self) -> Timestamp {
        self.entries[self.at.unwrap()].0.ts
    }
    fn value(&self) -> Option<&[u8]> {
        self.entries[self.at.unwrap()].1.as_deref()
    }
}

#[derive(Clone, Copy)]
enum Move {
    Forward,
    Back,
}

type Model = BTreeMap<InternalKey, Option<Vec<u8>>>;

/// Random versions spread over `children` sources (some duplicated into two sources, as a
/// replayed batch can be), and the model of their union.
fn random_sources(rng: &mut SplitMix64, children: usize) -> (Vec<Box<dyn InternalIter>>, Model) {
    let mut parts: Vec<Vec<(InternalKey, Option<Vec<u8>>)>> = vec![Vec::new(); children];
    let mut model = Model::new();
    for _ in 0..rng.below(300) {
        let key = format!("k{:02}", rng.below(40)).into_bytes();
        let ts = Timestamp(1 + rng.below(20));
        let ik = InternalKey::new(key, ts);
        if model.contains_key(&ik) {
            continue;
        }
        let value = (rng.below(5) != 0).then(|| format!("v{}", ts.0).into_bytes());
        let home = rng.below(children as u64) as usize;
        parts[home].push((ik.clone(), value.clone()));
        if rng.below(10) == 0 {
            let twin = rng.below(children as u64) as usize;
            if twin != home {
                parts[twin].push((ik.clone(), value.clone()));
            }
        }
        model.insert(ik, value);
    }
    (parts.into_iter().map(VecIter::boxed).collect(), model)
}

fn visible_in_model(
    model: &Model,
    range: &KeyRange,
    read_ts: Timestamp,
    dir: Direction,
) -> Vec<VersionedEntry> {
    let mut out: Vec<VersionedEntry> = Vec::new();
    for (ik, value) in model {
        if !range.contains(&ik.key)
            || ik.ts > read_ts
            || out.last().is_some_and(|e| e.key == ik.key)
        {
            continue;
        }
        out.push(VersionedEntry { key: ik.key.clone(), commit_ts: ik.ts, value: value.clone() });
    }
    if dir == Direction::Reverse {
        out.reverse();
    }
    out
}

fn random_bound(rng: &mut SplitMix64) -> Bound<Vec<u8>> {
    let key = format!("k{:02}", rng.below(42)).into_bytes();
    match rng.below(3) {
        0 => Bound::Included(key),
        1 => Bound::Excluded(key),
        _ => Bound::Unbounded,
    }
}

#[test]
fn visible_iter_matches_the_model_for_random_ranges_and_budgets() {
    let mut rng = SplitMix64::new(7);
    for round in 0..400 {
        let count = 1 + rng.below(4) as usize;
        let (children, model) = random_sources(&mut rng, count);
        let range = KeyRange { start: random_bound(&mut rng), end: random_bound(&mut rng) };
        let read_ts = Timestamp(rng.below(22));
        let dir = if rng.below(2) == 0 { Direction::Forward } else { Direction::Reverse };
        let budget = 1 + rng.below(5) as usize;
        let mut it = VisibleIter::new(MergingIter::new(children), range.clone(), read_ts, dir);
        let mut got = Vec::new();
        loop {
            match it.step(&mut budget.clone()).unwrap() {
                Step::Entry(e) => got.push(e),
                Step::Paused => continue,
                Step::Done => break,
            }
        }
        assert_eq!(
            got,
            visible_in_model(&model, &range, read_ts, dir),
            "round {round}: {range:?} at {read_ts:?} {dir:?}"
        );
    }
}

#[test]
fn merging_iter_switches_direction_like_a_sorted_list() {
    let mut rng = SplitMix64::new(11);
    for round in 0..200 {
        let count = 1 + rng.below(4) as usize;
        let (children, model) = random_sources(&mut rng, count);
        let sorted: Vec<InternalKey> = model.keys().cloned().collect();
        let mut merged = MergingIter::new(children);
        let mut at: Option<usize> = None;
        for _ in 0..60 {
            let op = rng.below(6);
            let last_move = if op == 5 { Move::Back } else { Move::Forward };
            match op {
                0 => {
                    merged.seek_to_first().unwrap();
                    at = (!sorted.is_empty()).then_some(0);
                }
                1 => {
                    merged.seek_to_last().unwrap();
                    at = sorted.len().checked_sub(1);
                }
                2 => {
                    let target = InternalKey::new(
                        format!("k{:02}", rng.below(42)),
                        Timestamp(rng.below(22)),
                    );
                    if rng.below(2) == 0 {
                        merged.seek(&target.key, target.ts).unwrap();
                        let i = sorted.partition_point(|k| *k < target);
                        at = (i < sorted.len()).then_some(i);
                    } else {
                        merged.seek_for_prev(&target.key, target.ts).unwrap();
                        at = sorted.partition_point(|k| *k <= target).checked_sub(1);
                    }
                }
                3 | 4 if at.is_some() => {
                    merged.next().unwrap();
                    at = at.map(|i| i + 1).filter(|&i| i < sorted.len());
                }
                _ if at.is_some() => {
                    merged.prev().unwrap();
                    at = at.and_then(|i| i.checked_sub(1));
                }
                _ => {}
            }
            // A duplicated internal key may be yielded twice in a row; step over the twin.
            let forward = !matches!(last_move, Move::Back);
            while merged.valid() {
                if at.is_some_and(|i| merged.key() == sorted[i].key && merged.ts() == sorted[i].ts)
                {
                    break;
                }
                // The entry just left, if the merge is on its twin.
                let twin = match (at, forward) {
                    (Some(i), true) => i.checked_sub(1),
                    (None, true) => sorted.len().checked_sub(1),
                    (Some(i), false) => Some(i + 1).filter(|&j| j < sorted.len()),
                    (None, false) => (!sorted.is_empty()).then_some(0),
                };
                let is_twin = twin
                    .is_some_and(|j| merged.key() == sorted[j].key && merged.ts() == sorted[j].ts);
                assert!(
                    is_twin,
                    "round {round}: merged at {:?}@{:?}, expected {at:?}",
                    merged.key(),
                    merged.ts()
                );
                if forward { merged.next().unwrap() } else { merged.prev().unwrap() }
            }
            assert_eq!(merged.valid(), at.is_some(), "round {round}: validity");
        }
    }
}

#[test]
fn an_empty_range_yields_nothing_and_touches_no_source() {
    let range = KeyRange::new(b"b".to_vec()..b"a".to_vec());
    let source = VecIter::boxed(vec![(InternalKey::new(*b"a", Timestamp(1)), Some(b"x".to_vec()))]);
    let mut it =
        VisibleIter::new(MergingIter::new(vec![source]), range, Timestamp::MAX, Direction::Forward);
    assert_eq!(it.step(&mut 10).unwrap(), Step::Done);
}
