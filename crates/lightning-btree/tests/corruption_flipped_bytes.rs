//! Damage on disk: a flipped byte in any page is reported as `Corruption` naming that page —
//! by open, by reads, or by `check()` — and never causes a panic or a wrong answer.

mod common;

use std::path::Path;

use common::{DIR, file, names_page, open};
use lightning_btree::BTreeEngine;
use lightning_core_storage::{
    Error, Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine, VersionedEntry},
    vfs::{FaultFs, Vfs},
};

/// A tree with branches, leaves, overflow chains, free pages and a free list; returns its
/// versions and the number of pages the tree uses.
fn build(fs: &FaultFs) -> (Vec<VersionedEntry>, u64) {
    let engine = open(fs).expect("open");
    for round in 0..3u64 {
        let mut batch = EngineBatch::new();
        for i in 0..4000u64 {
            let value = match i % 300 {
                0 => vec![round as u8; 50_000],
                _ => format!("value {i} of round {round}").into_bytes(),
            };
            batch.put(format!("key{i:05}"), value);
        }
        engine.apply(&batch, Timestamp(round + 1), Lsn(round + 1)).expect("apply");
        engine.collect_garbage(Timestamp(round + 1)).expect("gc");
        engine.checkpoint().expect("checkpoint");
    }
    let report = engine.check().expect("check");
    assert!(report.height >= 2 && report.overflow_pages > 0, "{report:?}");
    assert!(report.free_pages > 0, "the file has free pages: {report:?}");
    let all = versions(&engine).expect("dump");
    engine.close().expect("close");
    (all, report.leaf_pages + report.branch_pages + report.overflow_pages)
}

fn versions(engine: &BTreeEngine) -> Result<Vec<VersionedEntry>, Error> {
    engine.scan_versions(KeyRange::all(), Direction::Forward).collect()
}

/// Reads everything through every path; each answer is right or names the damaged page.
fn read_everything(engine: &BTreeEngine, expected: &[VersionedEntry], page: u64) -> usize {
    let mut failures = 0;
    let mut fail = |e: Error, what: &str| {
        assert!(names_page(&e, page), "page {page}: {what} failed with the wrong error: {e}");
        failures += 1;
    };
    for entry in expected {
        match engine.get(&entry.key, Timestamp::MAX) {
            Ok(got) => {
                assert_eq!(got.map(|v| v.value), Some(entry.value.clone()), "page {page}: get")
            }
            Err(e) => fail(e, "get"),
        }
    }
    for direction in [Direction::Forward, Direction::Reverse] {
        let mut wanted: Vec<&VersionedEntry> = expected.iter().collect();
        if direction == Direction::Reverse {
            wanted.reverse();
        }
        let scan = engine.scan(KeyRange::all(), Timestamp::MAX, direction).expect("scan");
        for (i, got) in scan.enumerate() {
            match got {
                Ok(got) => assert_eq!(&got, wanted[i], "page {page}: scan {direction:?} entry {i}"),
                Err(e) => {
                    fail(e, "scan");
                    break;
                }
            }
        }
    }
    if let Err(e) = engine.check() {
        fail(e.into(), "check");
    }
    failures
}

#[test]
fn a_flipped_byte_in_any_page_is_reported_naming_the_page() {
    let fs = FaultFs::new();
    let (expected, used) = build(&fs);
    let len = fs.file_contents(&file()).expect("file").len() as u64;
    let pages = len / 16384;
    let (mut detected, mut harmless) = (0, 0);
    for page in 2..pages {
        let offset = page * 16384 + (page * 7919) % 16384;
        assert!(fs.corrupt_byte(&file(), offset, 0x20));
        match open(&fs) {
            Err(e) => {
                assert!(names_page(&e, page), "page {page}: open failed with the wrong error: {e}");
                detected += 1;
            }
            Ok(engine) => {
                if read_everything(&engine, &expected, page) > 0 {
                    detected += 1;
                } else {
                    harmless += 1; // a free page: nothing reads it
                }
            }
        }
        assert!(fs.corrupt_byte(&file(), offset, 0x20), "undo the damage");
    }
    assert!(detected >= used, "damage to each of the {used} pages in use is detected ({detected})");
    assert!(harmless > 0, "damage to free pages harms nothing ({harmless})");
    let engine = open(&fs).expect("open after repairs");
    assert_eq!(read_everything(&engine, &expected, 0), 0, "the repaired file reads cleanly");
}

#[test]
fn a_damaged_meta_page_falls_back_to_the_previous_checkpoint() {
    let fs = FaultFs::new();
    build(&fs);
    let engine = open(&fs).expect("open");
    let lsn = engine.durable_state().lsn;
    drop(engine);
    // Generation g lives in slot g % 2 (slot 0 holds odd generations); damage both in turn.
    for slot in [0u64, 1] {
        assert!(fs.corrupt_byte(&file(), slot * 16384 + 100, 0x01));
        match open(&fs) {
            Ok(engine) => {
                let durable = engine.durable_state().lsn;
                assert!(durable == lsn || durable == Lsn(lsn.0 - 1), "slot {slot}: {durable:?}");
                engine.check().expect("the older checkpoint is intact");
            }
            Err(e) => panic!("slot {slot}: one good meta page is enough to open: {e}"),
        }
        assert!(fs.corrupt_byte(&file(), slot * 16384 + 100, 0x01));
    }
}

/// Rewrites page `id` through the page manager (valid checksum, damaged structure).
fn rewrite(fs: &FaultFs, id: u64, damage: impl FnOnce(&mut [u8])) {
    use lightning_core_storage::{
        PageId,
        page::{PageFormat, PageSize},
        page_manager::PageManager,
    };
    let format = PageFormat::plain(PageSize::new(16384).expect("size"));
    let pm = PageManager::open(fs, &file(), format).expect("page manager");
    let mut page = pm.read_page(PageId(id)).expect("read");
    damage(page.body_mut());
    pm.write_page(&page).expect("write");
    pm.commit(&pm.user_meta()).expect("commit");
}

fn page_type(fs: &FaultFs, id: u64) -> u8 {
    fs.file_contents(&file()).expect("file")[(id * 16384 + 13) as usize]
}

/// A named way to damage a node's body.
type Damage = (&'static str, fn(&mut [u8]));

#[test]
fn structural_damage_behind_a_valid_checksum_is_reported_naming_the_page() {
    // Node header: count at 0, heap start at 2, prefix length at 6, first child at 16.
    let damages: [Damage; 4] = [
        ("count", |body| body[0..2].copy_from_slice(&u16::MAX.to_le_bytes())),
        ("heap start", |body| body[2..4].copy_from_slice(&7u16.to_le_bytes())),
        ("prefix", |body| body[6..8].copy_from_slice(&5000u16.to_le_bytes())),
        ("order", |body| {
            // Swap the first two 6-byte slots (after the header and the prefix).
            let slots = 24 + u16::from_le_bytes([body[6], body[7]]) as usize;
            let first: Vec<u8> = body[slots..slots + 6].to_vec();
            body.copy_within(slots + 6..slots + 12, slots);
            body[slots + 6..slots + 12].copy_from_slice(&first);
        }),
    ];
    let fs = FaultFs::new();
    let (expected, _) = build(&fs);
    let pages = fs.file_contents(&file()).expect("file").len() as u64 / 16384;
    let free = {
        use lightning_core_storage::{
            page::{PageFormat, PageSize},
            page_manager::PageManager,
        };
        let format = PageFormat::plain(PageSize::new(16384).expect("size"));
        // Free pages, and pages held for the older meta slot: neither is in the current tree.
        let map = PageManager::open(&fs, &file(), format).expect("page manager").space_map();
        map.free.union(&map.pending_free).copied().collect::<std::collections::BTreeSet<_>>()
    };
    let nodes: Vec<u64> = (2..pages)
        .filter(|&p| matches!(page_type(&fs, p), 16 | 17))
        .filter(|&p| !free.contains(&lightning_core_storage::PageId(p)))
        .collect();
    assert!(nodes.len() > 10, "leaves and branches to damage");
    for (name, damage) in damages {
        for &page in nodes.iter().step_by(3) {
            let snapshot = FaultFs::new();
            let image = fs.file_contents(&file()).expect("file");
            snapshot.create_dir_all(Path::new(DIR)).expect("dir");
            let f = snapshot
                .open(&file(), lightning_core_storage::vfs::OpenMode::CreateNew)
                .expect("create");
            f.write_all_at(&image, 0).expect("copy");
            f.sync_data().expect("sync");
            rewrite(&snapshot, page, damage);
            let engine = open(&snapshot).expect("open");
            let failures = read_everything(&engine, &expected, page);
            assert!(failures > 0, "{name} damage in page {page} is noticed");
        }
    }
}
