//! Regression: `PageManager::commit` held the state mutex that every `read_page` takes across
//! its free-list writes and both fdatasyncs, so a cache miss waited for a checkpoint's fsync.
//! Now a read (and an allocation) completes while a commit is blocked inside its sync.

use std::{path::Path, sync::mpsc, thread, time::Duration};

use lightning_core_storage::{
    page::{PageFormat, PageSize, PageType},
    page_manager::PageManager,
    vfs::{FaultFs, Vfs},
};

#[test]
fn read_page_completes_while_a_commit_is_blocked_in_its_fsync() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    let pm = PageManager::create(&fs, Path::new("/db/pages"), PageFormat::plain(PageSize::DEFAULT))
        .unwrap();
    let id = pm.allocate().unwrap();
    let mut page = pm.new_page(PageType(30), id);
    page.body_mut()[..4].copy_from_slice(b"page");
    pm.write_page(&page).unwrap();
    pm.commit(b"first").unwrap();
    let freed = pm.allocate().unwrap();
    pm.write_page(&pm.new_page(PageType(30), freed)).unwrap();
    pm.free(freed).unwrap();

    fs.hold_syncs();
    let committer = {
        let pm = pm.clone();
        thread::spawn(move || pm.commit(b"second"))
    };
    fs.wait_for_held_syncs(1);

    let (done, finished) = mpsc::channel();
    let reader = {
        let pm = pm.clone();
        thread::spawn(move || {
            let read = pm.read_page(id).map(|p| p.body()[..4].to_vec());
            let allocated = pm.allocate();
            done.send((read, allocated)).unwrap();
        })
    };
    // Not a timing bound: only a way to fail instead of hanging when the read waits for the
    // held sync (which this thread would release only after it).
    let outcome = finished.recv_timeout(Duration::from_secs(60));
    fs.release_syncs();
    let (read, allocated) = outcome.expect("read_page and allocate waited for the commit's fsync");
    assert_eq!(read.unwrap(), b"page");
    let allocated = allocated.unwrap();
    assert_ne!(allocated, id, "a page in use is never handed out");
    reader.join().unwrap();
    committer.join().unwrap().unwrap();
    assert_eq!(pm.user_meta(), b"second");
    assert_ne!(allocated, freed, "a page freed before the commit is not reusable yet");
}
