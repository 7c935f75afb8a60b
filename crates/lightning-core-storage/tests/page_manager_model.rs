//! The page manager never leaks or double-allocates a page across commits, reopens and power
//! cuts, checked against a model over 10,000+ random operations.

use std::{collections::BTreeMap, path::Path};

use lightning_core_storage::{
    PageId,
    page::{PageFormat, PageSize, PageType},
    page_manager::PageManager,
    vfs::{FaultFs, PowerCut, Vfs},
};

const FILE: &str = "/db/pages";

/// What the model says is allocated: page id → the tag written into it.
type Allocated = BTreeMap<PageId, u64>;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn write_tagged(pm: &PageManager, id: PageId, tag: u64) {
    let mut page = pm.new_page(PageType(30), id);
    page.body_mut()[..8].copy_from_slice(&id.0.to_le_bytes());
    page.body_mut()[8..16].copy_from_slice(&tag.to_le_bytes());
    pm.write_page(&page).unwrap();
}

/// Every allocated page reads back with its tag; allocated, free, pending and free-list pages
/// are disjoint; after a commit or reopen together with the meta pages they cover the file.
fn check(pm: &PageManager, allocated: &Allocated, committed: bool) {
    for (&id, &tag) in allocated {
        let page = pm.read_page(id).unwrap();
        assert_eq!(page.body()[..8], id.0.to_le_bytes(), "page {id} holds another page");
        assert_eq!(page.body()[8..16], tag.to_le_bytes(), "page {id} lost its contents");
    }
    let map = pm.space_map();
    let mut owners: BTreeMap<PageId, &str> = BTreeMap::new();
    let groups: [(&str, Vec<PageId>); 4] = [
        ("allocated", allocated.keys().copied().collect()),
        ("free", map.free.iter().copied().collect()),
        ("pending", map.pending_free.iter().copied().collect()),
        ("free-list", map.free_list_pages.iter().copied().collect()),
    ];
    for (name, ids) in groups {
        for id in ids {
            assert!(id.0 >= 2 && id.0 < map.page_count, "{name} page {id} outside the file");
            if let Some(other) = owners.insert(id, name) {
                panic!("page {id} is both {other} and {name}");
            }
        }
    }
    if committed {
        assert_eq!(owners.len() as u64, map.page_count - 2, "a page leaked: {owners:?}");
    }
}

fn fresh(fs: &FaultFs) -> PageManager {
    fs.create_dir_all(Path::new("/db")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    PageManager::create(fs, Path::new(FILE), PageFormat::plain(PageSize::DEFAULT)).unwrap()
}

fn reopen(fs: &FaultFs) -> PageManager {
    PageManager::open(fs, Path::new(FILE), PageFormat::plain(PageSize::DEFAULT)).unwrap()
}

#[test]
fn random_alloc_free_commit_reopen_power_cut() {
    let fs = FaultFs::new();
    let mut pm = fresh(&fs);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut allocated = Allocated::new();
    let mut committed = Allocated::new();
    let mut dirty = false;
    for step in 0..12_000u64 {
        match rng.below(100) {
            0..=44 => {
                let id = pm.allocate().unwrap();
                assert!(!allocated.contains_key(&id), "step {step}: page {id} allocated twice");
                write_tagged(&pm, id, step);
                allocated.insert(id, step);
                dirty = true;
            }
            45..=79 if !allocated.is_empty() => {
                let nth = rng.below(allocated.len() as u64) as usize;
                let id = *allocated.keys().nth(nth).unwrap();
                allocated.remove(&id);
                pm.free(id).unwrap();
                assert!(pm.free(id).is_err(), "double free is refused");
                dirty = true;
            }
            80..=91 => {
                pm.commit(&step.to_le_bytes()).unwrap();
                committed = allocated.clone();
                dirty = false;
                check(&pm, &allocated, true);
            }
            92..=95 => {
                drop(pm);
                pm = reopen(&fs);
                allocated = committed.clone();
                check(&pm, &allocated, true);
            }
            96..=98 => {
                let mode = if rng.below(2) == 0 {
                    PowerCut::DropUnsynced
                } else {
                    PowerCut::TearUnsynced { seed: step }
                };
                drop(pm);
                fs.power_cut(mode);
                pm = reopen(&fs);
                allocated = committed.clone();
                check(&pm, &allocated, true);
            }
            _ => check(&pm, &allocated, !dirty),
        }
    }
    assert!(pm.stats().generation > 500, "the walk committed often: {:?}", pm.stats());
}

#[test]
fn free_list_spanning_many_pages_survives_reopen() {
    let fs = FaultFs::new();
    let pm = fresh(&fs);
    let ids: Vec<PageId> = (0..3000).map(|_| pm.allocate().unwrap()).collect();
    for &id in &ids {
        write_tagged(&pm, id, 1);
    }
    pm.commit(b"one").unwrap();
    for &id in ids.iter().step_by(2) {
        pm.free(id).unwrap();
    }
    pm.commit(b"two").unwrap();
    let before = pm.stats();
    assert!(before.free_list_pages >= 2, "1500 ids need more than one list page: {before:?}");
    drop(pm);
    let pm = reopen(&fs);
    assert_eq!(pm.user_meta(), b"two");
    let after = pm.stats();
    assert_eq!(after.free_pages, before.free_pages);
    assert_eq!(after.page_count, before.page_count);
    let kept: Allocated = ids.iter().skip(1).step_by(2).map(|&id| (id, 1)).collect();
    check(&pm, &kept, true);
}
