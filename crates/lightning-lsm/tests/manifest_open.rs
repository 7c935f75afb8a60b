//! `Manifest` through its public API over `FaultFs`: creation, replay, the rewrite switch,
//! orphans and the refusals that keep open from starting empty over data.

use std::{path::Path, sync::Arc};

use lightning_core_storage::{
    Error, LogCapture, Lsn, Timestamp,
    vfs::{FaultFs, OpenMode, Vfs},
};
use lightning_lsm::{
    InternalKey, TableMeta,
    manifest::{Manifest, ManifestOptions, RecoveredState, orphan_files},
    version::VersionEdit,
};

const DIR: &str = "/db/lsm";
const LEVELS: usize = 7;

fn table(number: u64, first: &str, last: &str) -> TableMeta {
    TableMeta {
        file_number: number,
        file_size: 1000 * number,
        smallest: InternalKey::new(first.as_bytes(), Timestamp(50)),
        largest: InternalKey::new(last.as_bytes(), Timestamp(2)),
        entries: 10,
        tombstones: 1,
        min_ts: Timestamp(2),
        max_ts: Timestamp(50),
    }
}

fn open(fs: &FaultFs) -> lightning_core_storage::Result<(Manifest, RecoveredState)> {
    Manifest::open(Arc::new(fs.clone()), Path::new(DIR), LEVELS)
}

fn flush_edit(number: u64, lsn: u64) -> VersionEdit {
    let mut edit = VersionEdit::new();
    edit.add_table(0, table(number, "a", "z"));
    edit.next_file_number = Some(number + 1);
    edit.durable_lsn = Some(Lsn(lsn));
    edit.max_commit_ts = Some(Timestamp(lsn * 10));
    edit
}

fn write_file(fs: &FaultFs, name: &str, bytes: &[u8]) {
    let file = fs.open(&Path::new(DIR).join(name), OpenMode::CreateOrOpen).expect("create");
    file.write_all_at(bytes, 0).expect("write");
    file.sync_data().expect("sync");
    fs.sync_dir(Path::new(DIR)).expect("sync dir");
}

#[test]
fn an_empty_directory_gets_manifest_1_and_current() {
    let fs = FaultFs::new();
    let (manifest, state) = open(&fs).expect("create");
    assert_eq!(state, RecoveredState::empty(LEVELS));
    assert_eq!(manifest.current_name(), "MANIFEST-000001");
    assert_eq!(fs.list(Path::new(DIR)).expect("list"), vec!["CURRENT", "MANIFEST-000001"]);
    assert_eq!(
        fs.file_contents(&Path::new(DIR).join("CURRENT")).expect("CURRENT"),
        b"MANIFEST-000001\n"
    );
    drop(manifest);
    fs.power_cut(lightning_core_storage::vfs::PowerCut::DropUnsynced);
    assert_eq!(
        fs.list(Path::new(DIR)).expect("list"),
        vec!["CURRENT", "MANIFEST-000001"],
        "the directory, its parents and both files survive a power cut"
    );
    let (_, reopened) = open(&fs).expect("reopen after a power cut");
    assert_eq!(reopened, RecoveredState::empty(LEVELS));
}

#[test]
fn logged_edits_replay_with_the_last_counter_winning() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    manifest.log_edit(&flush_edit(1, 100)).expect("flush 1");
    manifest.log_edit(&flush_edit(2, 200)).expect("flush 2");
    let mut compaction = VersionEdit::new();
    compaction.remove_table(0, 1).remove_table(0, 2).add_table(1, table(3, "a", "z"));
    compaction.next_file_number = Some(4);
    manifest.log_edit(&compaction).expect("compaction");
    let mut lower_lsn = VersionEdit::new();
    lower_lsn.durable_lsn = Some(Lsn(150));
    manifest.log_edit(&lower_lsn).expect("counter only");
    let expected = manifest.state().clone();
    drop(manifest);
    fs.power_cut(lightning_core_storage::vfs::PowerCut::DropUnsynced);

    let (manifest, state) = open(&fs).expect("reopen");
    assert_eq!(state, expected);
    assert_eq!(state.durable_lsn, Lsn(150), "last value wins, not the largest");
    assert_eq!(state.max_commit_ts, Timestamp(2000));
    assert_eq!(state.next_file_number, 4);
    assert!(state.version.level(0).is_empty());
    assert_eq!(state.version.level(1)[0].file_number, 3);
    assert_eq!(manifest.edits_in_log(), 4);
    assert_eq!(manifest.live_file_numbers().into_iter().collect::<Vec<_>>(), vec![3]);
}

#[test]
fn next_file_number_stays_above_every_live_table() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    let mut edit = VersionEdit::new();
    edit.add_table(0, table(40, "a", "b"));
    manifest.log_edit(&edit).expect("an add without a counter");
    assert_eq!(manifest.state().next_file_number, 41);
    let mut lower = VersionEdit::new();
    lower.next_file_number = Some(5);
    manifest.log_edit(&lower).expect("a counter below a live table");
    assert_eq!(manifest.state().next_file_number, 41, "raised above table 40 again");
    drop(manifest);
    let (_, state) = open(&fs).expect("reopen");
    assert_eq!(state.next_file_number, 41);
}

#[test]
fn an_edit_that_does_not_apply_is_refused_and_nothing_is_written() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    let before = manifest.log_bytes();
    let mut edit = VersionEdit::new();
    edit.remove_table(1, 99);
    let err = manifest.log_edit(&edit).expect_err("table 99 is not live");
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    assert_eq!(manifest.log_bytes(), before);
    manifest.log_edit(&flush_edit(1, 1)).expect("still usable");
}

#[test]
fn a_failed_sync_poisons_the_manifest() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    fs.fail_next_sync(false);
    assert!(manifest.log_edit(&flush_edit(1, 1)).is_err());
    let err = manifest.log_edit(&flush_edit(2, 2)).expect_err("poisoned");
    assert!(matches!(err, Error::Poisoned { .. }), "{err}");
}

#[test]
fn a_long_log_is_rewritten_into_a_new_manifest_and_the_old_one_removed() {
    let fs = FaultFs::new();
    let options = ManifestOptions { max_log_bytes: u64::MAX, max_log_edits: 3 };
    let (mut manifest, _) =
        Manifest::open_with_options(Arc::new(fs.clone()), Path::new(DIR), LEVELS, options)
            .expect("create");
    for n in 1..=3 {
        manifest.log_edit(&flush_edit(n, n)).expect("flush");
    }
    assert_eq!(manifest.current_name(), "MANIFEST-000002");
    assert_eq!(manifest.edits_in_log(), 0);
    assert_eq!(fs.list(Path::new(DIR)).expect("list"), vec!["CURRENT", "MANIFEST-000002"]);
    manifest.log_edit(&flush_edit(4, 4)).expect("appends to the new manifest");
    let expected = manifest.state().clone();
    drop(manifest);
    let (manifest, state) = open(&fs).expect("reopen");
    assert_eq!(state, expected);
    assert_eq!(manifest.current_name(), "MANIFEST-000002");
    assert_eq!(manifest.edits_in_log(), 1);

    let bytes_bound = ManifestOptions { max_log_bytes: 600, max_log_edits: u64::MAX };
    let (mut manifest, _) =
        Manifest::open_with_options(Arc::new(fs.clone()), Path::new(DIR), LEVELS, bytes_bound)
            .expect("reopen with a byte bound");
    let mut n = 5;
    while manifest.current_name() == "MANIFEST-000002" {
        manifest.log_edit(&flush_edit(n, n)).expect("flush");
        n += 1;
    }
    assert!(manifest.log_bytes() <= 600 + 200, "the new manifest is one snapshot");
}

#[test]
fn orphans_are_unreferenced_tables_old_manifests_and_current_tmp() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    manifest.log_edit(&flush_edit(2, 1)).expect("flush");
    for name in [
        "000001.sst",
        "000002.sst",
        "000003.sst",
        "MANIFEST-000007",
        "CURRENT.tmp",
        "LOCK",
        "notes.sst",
    ] {
        write_file(&fs, name, b"x");
    }
    let orphans = orphan_files(&fs, Path::new(DIR), manifest.state(), &manifest.current_name())
        .expect("list");
    assert_eq!(orphans, vec!["000001.sst", "000003.sst", "CURRENT.tmp", "MANIFEST-000007"]);
}

#[test]
fn a_torn_tail_is_logged_cut_off_and_appended_over() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    manifest.log_edit(&flush_edit(1, 1)).expect("flush");
    let end = manifest.log_bytes();
    drop(manifest);
    let path = Path::new(DIR).join("MANIFEST-000001");
    let file = fs.open(&path, OpenMode::ReadWrite).expect("open");
    file.write_all_at(&[0x5a; 37], end).expect("garbage");
    file.sync_data().expect("sync");

    let capture = LogCapture::new();
    let (mut manifest, state) = capture.during(|| open(&fs)).expect("a torn tail is not damage");
    assert_eq!(state.version.level(0).len(), 1);
    let lines = capture.lines().join("\n");
    assert!(lines.contains("torn tail") && lines.contains("bytes=37"), "{lines}");
    assert_eq!(fs.file_contents(&path).expect("file").len() as u64, end, "cut off on open");

    manifest.log_edit(&flush_edit(2, 2)).expect("append after the cut");
    let expected = manifest.state().clone();
    drop(manifest);
    let (_, reopened) = open(&fs).expect("reopen");
    assert_eq!(reopened, expected);
}

fn assert_corruption(
    result: lightning_core_storage::Result<(Manifest, RecoveredState)>,
    what: &str,
) {
    match result {
        Err(err @ Error::Corruption { .. }) => {
            assert!(err.to_string().contains(what), "expected {what:?} in {err}")
        }
        Err(other) => panic!("expected Corruption ({what}), got {other}"),
        Ok(_) => panic!("expected Corruption ({what}), but it opened"),
    }
}

#[test]
fn current_naming_a_missing_manifest_is_corruption() {
    let fs = FaultFs::new();
    drop(open(&fs).expect("create"));
    write_file(&fs, "CURRENT", b"MANIFEST-000005\n");
    assert_corruption(open(&fs), "CURRENT names MANIFEST-000005, which does not exist");
}

#[test]
fn a_garbled_current_is_corruption() {
    let fs = FaultFs::new();
    drop(open(&fs).expect("create"));
    fs.remove(&Path::new(DIR).join("CURRENT")).expect("remove");
    write_file(&fs, "CURRENT", b"MANIFEST-000001");
    assert_corruption(open(&fs), "CURRENT does not hold a manifest name");
}

#[test]
fn a_manifest_without_current_is_corruption_never_a_fresh_start() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    manifest.log_edit(&flush_edit(1, 1)).expect("flush");
    drop(manifest);
    fs.remove(&Path::new(DIR).join("CURRENT")).expect("remove");
    assert_corruption(open(&fs), "MANIFEST-000001 holds data but there is no CURRENT file");
    write_file(&fs, "MANIFEST-000002", b"x");
    assert_corruption(open(&fs), "manifests MANIFEST-000001, MANIFEST-000002 are present");
}

#[test]
fn a_table_without_current_is_corruption() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new(DIR)).expect("mkdir");
    write_file(&fs, "000004.sst", b"table bytes");
    assert_corruption(open(&fs), "table 000004.sst is present but there is no CURRENT file");
}

#[test]
fn open_existing_refuses_a_directory_without_current() {
    let fs = FaultFs::new();
    let result = Manifest::open_existing(
        Arc::new(fs.clone()),
        Path::new(DIR),
        LEVELS,
        ManifestOptions::default(),
    );
    assert_corruption(result, "no CURRENT file");
    drop(open(&fs).expect("create"));
    Manifest::open_existing(Arc::new(fs), Path::new(DIR), LEVELS, ManifestOptions::default())
        .expect("opens once created");
}

#[test]
fn an_edit_naming_a_level_beyond_num_levels_is_corruption_on_open() {
    let fs = FaultFs::new();
    let (mut manifest, _) = open(&fs).expect("create");
    let mut edit = VersionEdit::new();
    edit.add_table(6, table(1, "a", "b"));
    manifest.log_edit(&edit).expect("level 6 of 7");
    let end = manifest.log_bytes();
    drop(manifest);
    let snapshot_len = {
        let fresh = FaultFs::new();
        open(&fresh).expect("create").0.log_bytes()
    };
    let result = Manifest::open(Arc::new(fs), Path::new(DIR), 3);
    assert_corruption(result, &format!("MANIFEST-000001 offset {snapshot_len}"));
    assert!(end > snapshot_len);
}

#[test]
fn an_interrupted_creation_is_logged_and_started_again() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new(DIR)).expect("mkdir");
    let whole = {
        let fresh = FaultFs::new();
        drop(open(&fresh).expect("create"));
        fresh.file_contents(&Path::new(DIR).join("MANIFEST-000001")).expect("manifest")
    };
    write_file(&fs, "MANIFEST-000001", &whole[..whole.len() / 2]);
    write_file(&fs, "CURRENT.tmp", b"MANIFEST-0");
    let capture = LogCapture::new();
    let (manifest, state) = capture.during(|| open(&fs)).expect("creation runs again");
    assert_eq!(state, RecoveredState::empty(LEVELS));
    assert_eq!(manifest.current_name(), "MANIFEST-000001");
    let lines = capture.lines().join("\n");
    assert!(lines.contains("interrupted creation"), "{lines}");
    assert_eq!(fs.file_contents(&Path::new(DIR).join("MANIFEST-000001")).expect("manifest"), whole);
}

#[test]
fn the_manifest_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Manifest>();
    assert_send_sync::<RecoveredState>();
}

#[test]
fn a_failed_rewrite_poisons_but_the_appended_edit_is_durable() {
    let fs = FaultFs::new();
    let options = ManifestOptions { max_log_bytes: u64::MAX, max_log_edits: 1 };
    let (mut manifest, _) =
        Manifest::open_with_options(Arc::new(fs.clone()), Path::new(DIR), LEVELS, options)
            .expect("create");
    // Sync 1 is the append's; sync 2 is the new manifest's, inside the rewrite.
    fs.inject(lightning_core_storage::vfs::FaultKind::FailNth {
        op: Some(lightning_core_storage::vfs::OpKind::Sync),
        n: 2,
        persistent: false,
    });
    assert!(manifest.log_edit(&flush_edit(1, 1)).is_err(), "the rewrite failed");
    let err = manifest.log_edit(&flush_edit(2, 2)).expect_err("poisoned");
    assert!(matches!(err, Error::Poisoned { .. }), "{err}");
    drop(manifest);
    fs.clear_faults();
    fs.power_cut(lightning_core_storage::vfs::PowerCut::DropUnsynced);
    let (manifest, state) = open(&fs).expect("reopen");
    assert_eq!(manifest.current_name(), "MANIFEST-000001", "CURRENT was never switched");
    assert_eq!(state.version.level(0).len(), 1, "the append was synced before the rewrite");
}
