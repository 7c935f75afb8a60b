//! Regression: opening a paged file whose newest meta slot is damaged fell back to the older
//! slot without a word. The fallback is now a `tracing` warning naming the slot used, its
//! generation and what was wrong with the other; this test captures it.

use std::path::Path;

use lightning_core_storage::{
    page::{PageFormat, PageSize},
    page_manager::PageManager,
    vfs::{FaultFs, Vfs},
};

#[test]
fn falling_back_to_the_older_meta_slot_is_logged() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    let path = Path::new("/db/pages");
    let format = PageFormat::plain(PageSize::DEFAULT);
    let pm = PageManager::create(&fs, path, format.clone()).unwrap();
    pm.commit(b"generation 2").unwrap();
    pm.commit(b"generation 3").unwrap();
    drop(pm);
    // Generation 3 is in slot 0 (1 in slot 0, 2 in slot 1, 3 in slot 0).
    assert!(fs.corrupt_byte(path, 40, 0xff));

    let capture = lightning_core_storage::LogCapture::new();
    let pm = capture.during(|| PageManager::open(&fs, path, format).unwrap());
    assert_eq!(pm.user_meta(), b"generation 2");
    let lines = capture.lines();
    let warning = lines
        .iter()
        .find(|line| line.contains("meta slot is damaged"))
        .unwrap_or_else(|| panic!("no fallback warning in {lines:?}"));
    assert!(warning.contains("slot=1 ") && warning.contains("generation=2 "), "{warning}");
    assert!(warning.contains("slot 0"), "names the damaged slot: {warning}");
}
