//! Regression: a file whose newest meta slot is meta version 1 (written before held pages
//! existed) reported its older slot as a state to fall back to, although a version-1 commit
//! made the older slot's pages free at once (they may have been reused). Its owner (the B+Tree)
//! then set its log floor to the older checkpoint. Now the page manager reports no older slot
//! until the next commit, which writes version 2 and holds what it frees.

use std::path::Path;

use lightning_core_storage::{
    PageId,
    page::{PageFormat, PageSize, PageType},
    page_manager::{Meta, PageManager},
    vfs::{FaultFs, OpenMode, Vfs},
};

const FILE: &str = "/db/pages";
/// Meta body offsets (docs/format/page.md): version, the held count / version-1 owner length.
const VERSION: usize = 12;
const V1_USER_LEN: usize = 56;

fn format() -> PageFormat {
    PageFormat::plain(PageSize::DEFAULT)
}

fn write_page(pm: &PageManager) -> PageId {
    let id = pm.allocate().unwrap();
    pm.write_page(&pm.new_page(PageType(30), id)).unwrap();
    id
}

/// Rewrites meta slot `slot` as version 1 would have written `meta` (every listed id free).
fn rewrite_as_version_1(fs: &FaultFs, slot: u64, meta: &Meta) {
    let v1 = Meta { free_count: meta.free_count + meta.held_count, held_count: 0, ..meta.clone() };
    let mut page = format().new_page(PageType::META, PageId(slot));
    v1.encode(&mut page);
    let body = page.body_mut();
    body[VERSION..VERSION + 4].copy_from_slice(&1u32.to_le_bytes());
    let user = v1.user.clone();
    body[V1_USER_LEN..].fill(0);
    body[V1_USER_LEN..V1_USER_LEN + 2].copy_from_slice(&(user.len() as u16).to_le_bytes());
    body[V1_USER_LEN + 2..V1_USER_LEN + 2 + user.len()].copy_from_slice(&user);
    let mut bytes = Vec::new();
    format().encode(&page, &mut bytes).unwrap();
    let file = fs.open(Path::new(FILE), OpenMode::ReadWrite).unwrap();
    file.write_all_at(&bytes, slot * bytes.len() as u64).unwrap();
    file.sync_data().unwrap();
}

fn decode_slot(fs: &FaultFs, slot: u64) -> Meta {
    let size = format().page_size().bytes();
    let bytes = fs.file_contents(Path::new(FILE)).unwrap();
    let at = slot as usize * size;
    let page = format().decode(bytes[at..at + size].to_vec(), PageId(slot), FILE).unwrap();
    Meta::decode(&page, "meta").unwrap()
}

#[test]
fn v1_meta_reports_its_older_slot_recoverable() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    let pm = PageManager::create(&fs, Path::new(FILE), format()).unwrap();
    let first = write_page(&pm);
    pm.commit(b"first").unwrap();
    pm.free(first).unwrap();
    write_page(&pm);
    pm.commit(b"second").unwrap();
    drop(pm);
    // Generation 3 ("second") is the newest, in slot 0 (the slots alternate from slot 0).
    let newest = decode_slot(&fs, 0);
    assert_eq!(newest.user, b"second");

    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    assert_eq!(pm.older_user_meta().as_deref(), Some(&b"first"[..]), "version 2 holds it");
    drop(pm);

    rewrite_as_version_1(&fs, 0, &newest);
    let pm = PageManager::open(&fs, Path::new(FILE), format()).unwrap();
    assert_eq!(pm.user_meta(), b"second", "the version-1 slot opens");
    assert_eq!(pm.older_user_meta(), None, "a version-1 commit held nothing for the older slot");
    // The next commit writes version 2, holding what it frees: the slot it replaces is then
    // the older one, intact.
    pm.commit(b"third").unwrap();
    assert_eq!(pm.older_user_meta().as_deref(), Some(&b"second"[..]));
}
