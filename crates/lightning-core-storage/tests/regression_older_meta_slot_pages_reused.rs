//! Regression: pages freed by commit N+1 used to become reusable as soon as N+1 was durable,
//! so the next writes overwrote pages (and free-list pages) that the older meta slot — commit
//! N — still referenced. A damaged newest meta slot then fell back to a commit whose pages
//! held other data. Now every page the older slot references stays intact until the commit
//! after next, so falling back to it always finds its pages.

use std::{collections::BTreeMap, path::Path};

use lightning_core_storage::{
    PageId,
    page::{PageFormat, PageSize, PageType},
    page_manager::PageManager,
    vfs::{FaultFs, OpenMode, Vfs},
};

const FILE: &str = "/db/pages";

fn format() -> PageFormat {
    PageFormat::plain(PageSize::DEFAULT)
}

/// Opens a copy of `fs`'s file with the newest meta slot damaged.
fn open_with_newest_slot_damaged(fs: &FaultFs, newest_generation: u64) -> PageManager {
    let bytes = fs.file_contents(Path::new(FILE)).expect("file exists");
    let copy = FaultFs::new();
    copy.create_dir_all(Path::new("/db")).unwrap();
    let file = copy.open(Path::new(FILE), OpenMode::CreateNew).unwrap();
    file.write_all_at(&bytes, 0).unwrap();
    file.sync_data().unwrap();
    drop(file);
    // Generation 1 is in slot 0 and the slots alternate.
    let newest_slot = (newest_generation - 1) % 2;
    let page_size = format().page_size().bytes() as u64;
    assert!(copy.corrupt_byte(Path::new(FILE), newest_slot * page_size + 40, 0xff));
    PageManager::open(&copy, Path::new(FILE), format()).expect("falls back to the older slot")
}

fn write_tagged(pm: &PageManager, tag: u64) -> PageId {
    let id = pm.allocate().unwrap();
    let mut page = pm.new_page(PageType(30), id);
    page.body_mut()[..8].copy_from_slice(&tag.to_le_bytes());
    pm.write_page(&page).unwrap();
    id
}

#[test]
fn older_meta_slot_pages_survive_two_more_rounds_of_writes() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    let pm = PageManager::create(&fs, Path::new(FILE), format()).unwrap();
    // The live pages and their tags at each commit (index = round).
    let mut committed: Vec<BTreeMap<PageId, u64>> = Vec::new();
    let mut live: BTreeMap<PageId, u64> = BTreeMap::new();
    for round in 0..10u64 {
        // Replace most pages (as a copy-on-write tree does), so plenty are freed each round
        // and the allocator has freed pages to reuse.
        let doomed: Vec<PageId> = live.keys().copied().filter(|id| id.0 % 4 != 0).collect();
        for id in doomed {
            pm.free(id).unwrap();
            live.remove(&id);
        }
        for i in 0..(30 + round * 5) {
            let tag = round * 1000 + i;
            live.insert(write_tagged(&pm, tag), tag);
        }
        if round >= 2 {
            // Uncommitted writes of this round are on disk; the newest commit is round - 1.
            let fallen_back = open_with_newest_slot_damaged(&fs, pm.stats().generation);
            let expected_round = round - 2;
            assert_eq!(fallen_back.user_meta(), expected_round.to_le_bytes(), "older commit");
            for (&id, &tag) in &committed[expected_round as usize] {
                let page = fallen_back.read_page(id).unwrap();
                assert_eq!(page.body()[..8], tag.to_le_bytes(), "round {round}: page {id}");
            }
        }
        pm.commit(&round.to_le_bytes()).unwrap();
        committed.push(live.clone());
    }
    // Reopening normally keeps the held pages out of reuse too (they are in the file's list).
    drop(pm);
    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    let generation = pm.stats().generation;
    let held_before = pm.space_map().pending_free;
    assert!(!held_before.is_empty(), "the last commit holds the pages it freed");
    for i in 0..200 {
        let id = write_tagged(&pm, 50_000 + i);
        assert!(!held_before.contains(&id), "held page {id} reused before the next commit");
    }
    let fallen_back = open_with_newest_slot_damaged(&fs, generation);
    for (&id, &tag) in &committed[committed.len() - 2] {
        let page = fallen_back.read_page(id).unwrap();
        assert_eq!(page.body()[..8], tag.to_le_bytes(), "after reopen: page {id}");
    }
}
