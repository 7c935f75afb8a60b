//! Crash safety of page-manager commits: a power cut after every durability point, and damaged
//! meta pages, always reopen to the last completed commit.

use std::{collections::BTreeMap, path::Path};

use lightning_core_storage::{
    Error, PageId,
    page::{PageFormat, PageSize, PageType},
    page_manager::PageManager,
    vfs::{FaultFs, FaultKind, OpenMode, Vfs},
};

const FILE: &str = "/db/pages";

/// Allocated pages and the tag each holds.
type Tags = BTreeMap<PageId, u64>;

fn format() -> PageFormat {
    PageFormat::plain(PageSize::DEFAULT)
}

/// A deterministic workload of commits. Returns the page → tag map of every completed commit
/// (index 0: the empty file after create), stopping at the first error; the last entry may be
/// a commit in flight when the error came (see `in_flight`).
fn workload(fs: &FaultFs) -> Vec<BTreeMap<PageId, u64>> {
    workload_with_in_flight(fs).0
}

/// As `workload`, and the state the commit in flight at the error would have made durable: a
/// commit that failed was never acknowledged, so after a crash either outcome is correct.
fn workload_with_in_flight(fs: &FaultFs) -> (Vec<Tags>, Option<Tags>) {
    let mut in_flight = None;
    let mut states = Vec::new();
    let mut run = |states: &mut Vec<BTreeMap<PageId, u64>>| -> Result<(), Error> {
        fs.create_dir_all(Path::new("/db"))?;
        fs.sync_dir(Path::new("/"))?;
        let pm = PageManager::create(fs, Path::new(FILE), format())?;
        let mut live: BTreeMap<PageId, u64> = BTreeMap::new();
        states.push(live.clone());
        for round in 0..8u64 {
            for i in 0..(20 + round * 15) {
                let id = pm.allocate()?;
                let mut page = pm.new_page(PageType(30), id);
                page.body_mut()[..8].copy_from_slice(&(round * 1000 + i).to_le_bytes());
                pm.write_page(&page)?;
                live.insert(id, round * 1000 + i);
            }
            let doomed: Vec<PageId> = live.keys().copied().step_by(3).collect();
            for id in doomed {
                pm.free(id)?;
                live.remove(&id);
            }
            in_flight = Some(live.clone());
            pm.commit(&round.to_le_bytes())?;
            in_flight = None;
            states.push(live.clone());
        }
        Ok(())
    };
    let _ = run(&mut states);
    (states, in_flight)
}

fn verify(pm: &PageManager, expected: &BTreeMap<PageId, u64>) {
    for (&id, &tag) in expected {
        let page = pm.read_page(id).unwrap();
        assert_eq!(page.body()[..8], tag.to_le_bytes(), "page {id}");
    }
    let map = pm.space_map();
    // Pending after a reopen: the pages the last commit holds for the older meta slot.
    let accounted =
        expected.len() + map.free.len() + map.pending_free.len() + map.free_list_pages.len();
    assert_eq!(accounted as u64, map.page_count - 2, "no page leaked or doubly owned");
    assert!(expected.keys().all(|id| !map.free.contains(id)), "a live page is listed free");
    assert!(expected.keys().all(|id| !map.pending_free.contains(id)), "a live page is held");
}

#[test]
fn power_cut_after_every_durability_point() {
    let dry = FaultFs::new();
    let all_states = workload(&dry);
    assert_eq!(all_states.len(), 9, "dry run completes");
    let points = dry.durability_points();
    assert!(points >= 8, "at least one durability point per commit ({points})");
    for point in 1..=points {
        for crash in FaultKind::crashes_at(point) {
            let fs = FaultFs::new();
            fs.inject(crash);
            let (states, in_flight) = workload_with_in_flight(&fs);
            assert!(fs.is_dead(), "{crash:?}: the crash happened");
            fs.restart();
            if states.is_empty() {
                // The crash came before create finished: no file, or a complete one.
                if fs.exists(Path::new(FILE)).unwrap() {
                    PageManager::open(&fs, Path::new(FILE), format()).unwrap();
                }
                continue;
            }
            let pm = PageManager::open(&fs, Path::new(FILE), format())
                .unwrap_or_else(|e| panic!("{crash:?}: reopen failed: {e}"));
            let last = states.len() - 1;
            let generation = pm.stats().generation;
            match (generation - last as u64, &in_flight) {
                (1, _) => verify(&pm, &states[last]),
                (2, Some(next)) => verify(&pm, next),
                _ => panic!("{crash:?}: generation {generation} after {last} commits"),
            }
        }
    }
}

#[test]
fn damaged_meta_slot_falls_back_to_the_other() {
    let fs = FaultFs::new();
    let states = workload(&fs);
    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    let generation = pm.stats().generation;
    let active_slot = generation.is_multiple_of(2); // slot 0 holds odd generations
    drop(pm);
    let active_offset = if active_slot { 4096 } else { 0 };
    assert!(fs.corrupt_byte(Path::new(FILE), active_offset + 100, 0x10));
    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    assert_eq!(pm.stats().generation, generation - 1, "the older slot is used");
    assert_eq!(pm.user_meta(), 6u64.to_le_bytes(), "the previous commit's meta");
    drop(pm);
    let other_offset = if active_slot { 0 } else { 4096 };
    assert!(fs.corrupt_byte(Path::new(FILE), other_offset + 100, 0x10));
    let err = PageManager::open(&fs, Path::new(FILE), format()).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains("no valid meta page"), "{err}");
    assert_eq!(states.len(), 9);
}

#[test]
fn truncated_file_is_corruption_not_a_panic() {
    let fs = FaultFs::new();
    workload(&fs);
    let file = fs.open(Path::new(FILE), OpenMode::ReadWrite).unwrap();
    let len = file.len().unwrap();
    file.set_len(len - 4096 * 3).unwrap();
    file.sync_data().unwrap();
    let err = PageManager::open(&fs, Path::new(FILE), format()).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn failed_sync_poisons_the_page_manager() {
    let fs = FaultFs::new();
    workload(&fs);
    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    let id = pm.allocate().unwrap();
    pm.write_page(&pm.new_page(PageType(30), id)).unwrap();
    fs.fail_next_sync(false);
    assert!(matches!(pm.commit(b"x"), Err(Error::Io { .. })));
    let err = pm.commit(b"x").unwrap_err();
    assert!(matches!(err, Error::Poisoned { .. }), "no retry after a failed fsync: {err}");
    assert!(err.to_string().contains("injected fault"), "the reason is kept: {err}");
    assert!(matches!(pm.allocate(), Err(Error::Poisoned { .. })));
    assert!(pm.poisoned().is_some());
    // Reads still work, and a reopen recovers the last durable commit.
    drop(pm);
    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    assert_eq!(pm.user_meta(), 7u64.to_le_bytes());
}

#[test]
fn page_size_is_detected_at_open() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    let big = PageFormat::plain(PageSize::new(16384).unwrap());
    let pm = PageManager::create(&fs, Path::new(FILE), big).unwrap();
    let id = pm.allocate().unwrap();
    pm.write_page(&pm.new_page(PageType(30), id)).unwrap();
    pm.commit(b"sixteen").unwrap();
    drop(pm);
    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    assert_eq!(pm.format().page_size().bytes(), 16384);
    assert_eq!(pm.user_meta(), b"sixteen");
    pm.read_page(id).unwrap();
    assert!(pm.read_page(PageId(100)).unwrap_err().is_corruption(), "beyond the file");
}
