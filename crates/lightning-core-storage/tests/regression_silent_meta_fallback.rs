//! Regression: opening a paged file whose newest meta slot is damaged fell back to the older
//! slot without a word. The fallback is now a `tracing` warning naming the slot used, its
//! generation and what was wrong with the other; this test captures it.

use std::{
    fmt::Write as _,
    path::Path,
    sync::{Arc, Mutex},
};

use lightning_core_storage::{
    page::{PageFormat, PageSize},
    page_manager::PageManager,
    vfs::{FaultFs, Vfs},
};
use tracing::{
    Event, Metadata, Subscriber,
    field::{Field, Visit},
    span,
};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(String::new());
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

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

    let capture = Capture::default();
    let pm = tracing::subscriber::with_default(capture.clone(), || {
        PageManager::open(&fs, path, format).unwrap()
    });
    assert_eq!(pm.user_meta(), b"generation 2");
    let lines = capture.0.lock().unwrap().clone();
    let warning = lines
        .iter()
        .find(|line| line.contains("meta slot is damaged"))
        .unwrap_or_else(|| panic!("no fallback warning in {lines:?}"));
    assert!(warning.contains("slot=1 ") && warning.contains("generation=2 "), "{warning}");
    assert!(warning.contains("slot 0"), "names the damaged slot: {warning}");
}
