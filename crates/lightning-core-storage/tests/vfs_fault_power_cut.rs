//! `FaultFs` keeps exactly what was made durable across a power cut, and fails on command.

use std::path::Path;

use lightning_core_storage::{
    Error,
    vfs::{FaultFs, FaultKind, OpKind, OpenMode, PowerCut, Vfs},
};

fn setup() -> FaultFs {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    fs
}

fn read_all(fs: &FaultFs, path: &str) -> Vec<u8> {
    let file = fs.open(Path::new(path), OpenMode::Read).unwrap();
    let mut buf = vec![0; file.len().unwrap() as usize];
    file.read_exact_at(&mut buf, 0).unwrap();
    buf
}

#[test]
fn synced_write_survives_and_unsynced_write_is_lost() {
    let fs = setup();
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    file.write_all_at(b"durable", 0).unwrap();
    file.sync_data().unwrap();
    file.write_all_at(b"-lost-tail", 7).unwrap();
    file.write_all_at(b"D", 0).unwrap();
    assert_eq!(read_all(&fs, "/db/a"), b"Durable-lost-tail");
    fs.power_cut(PowerCut::DropUnsynced);
    assert_eq!(read_all(&fs, "/db/a"), b"durable", "only the synced bytes survive");
}

#[test]
fn created_file_needs_a_directory_sync() {
    let fs = setup();
    let file = fs.open(Path::new("/db/unsynced-name"), OpenMode::CreateNew).unwrap();
    file.write_all_at(b"data", 0).unwrap();
    file.sync_data().unwrap();
    fs.power_cut(PowerCut::DropUnsynced);
    assert!(!fs.exists(Path::new("/db/unsynced-name")).unwrap(), "name was never made durable");

    let file = fs.open(Path::new("/db/synced-name"), OpenMode::CreateNew).unwrap();
    file.write_all_at(b"data", 0).unwrap();
    file.sync_data().unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    fs.power_cut(PowerCut::DropUnsynced);
    assert_eq!(read_all(&fs, "/db/synced-name"), b"data");
}

#[test]
fn unsynced_rename_and_remove_are_undone() {
    let fs = setup();
    for name in ["/db/old", "/db/doomed"] {
        let file = fs.open(Path::new(name), OpenMode::CreateNew).unwrap();
        file.write_all_at(name.as_bytes(), 0).unwrap();
        file.sync_data().unwrap();
    }
    fs.sync_dir(Path::new("/db")).unwrap();
    fs.rename(Path::new("/db/old"), Path::new("/db/new")).unwrap();
    fs.remove(Path::new("/db/doomed")).unwrap();
    assert_eq!(fs.list(Path::new("/db")).unwrap(), vec!["new".to_string()]);
    fs.power_cut(PowerCut::DropUnsynced);
    assert_eq!(fs.list(Path::new("/db")).unwrap(), vec!["doomed".to_string(), "old".to_string()]);
    assert_eq!(read_all(&fs, "/db/old"), b"/db/old");

    fs.rename(Path::new("/db/old"), Path::new("/db/new")).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    fs.power_cut(PowerCut::DropUnsynced);
    assert_eq!(fs.list(Path::new("/db")).unwrap(), vec!["doomed".to_string(), "new".to_string()]);
}

#[test]
fn handles_opened_before_a_power_cut_are_dead() {
    let fs = setup();
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    fs.power_cut(PowerCut::DropUnsynced);
    assert!(file.write_all_at(b"x", 0).is_err(), "a dead process cannot write");
    assert!(
        fs.open(Path::new("/db/a"), OpenMode::ReadWrite).unwrap().write_all_at(b"x", 0).is_ok()
    );
}

#[test]
fn fail_nth_once_and_persistently() {
    let fs = setup();
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
    fs.inject(FaultKind::FailNth { op: Some(OpKind::Write), n: 2, persistent: false });
    assert!(file.write_all_at(b"1", 0).is_ok());
    assert!(matches!(file.write_all_at(b"2", 1), Err(Error::Io { .. })), "second write fails");
    assert!(file.write_all_at(b"3", 2).is_ok(), "a one-off fault fires once");
    fs.clear_faults();
    fs.inject(FaultKind::FailNth { op: None, n: 1, persistent: true });
    assert!(file.write_all_at(b"4", 3).is_err());
    assert!(file.sync_data().is_err());
    assert!(fs.list(Path::new("/db")).is_err(), "persistent faults keep failing every kind");
}

#[test]
fn failed_sync_makes_nothing_durable() {
    let fs = setup();
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    file.write_all_at(b"hello", 0).unwrap();
    fs.fail_next_sync(false);
    let err = file.sync_data().unwrap_err();
    assert!(err.to_string().contains("injected fault"), "{err}");
    fs.power_cut(PowerCut::DropUnsynced);
    assert_eq!(read_all(&fs, "/db/a"), b"", "the failed sync persisted nothing");
}

#[test]
fn torn_write_keeps_whole_sectors_and_cuts_the_power() {
    let fs = setup();
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    file.write_all_at(&[1u8; 100], 0).unwrap(); // earlier write, kept by an in-order disk
    fs.inject(FaultKind::TearWrite { n: 1 });
    let err = file.write_all_at(&[7u8; 4096], 100).unwrap_err();
    assert!(err.to_string().contains("torn"), "{err}");
    assert!(fs.is_dead(), "a torn write is a power cut");
    assert!(fs.list(Path::new("/db")).is_err(), "dead until restart");
    fs.restart();
    let data = read_all(&fs, "/db/a");
    let torn = data.len() - 100;
    assert!(torn > 0 && torn < 4096 && torn.is_multiple_of(512), "kept {torn} bytes of 4096");
    assert!(data[..100].iter().all(|&b| b == 1) && data[100..].iter().all(|&b| b == 7));
}

#[test]
fn crash_after_the_nth_durability_point() {
    let fs = setup();
    let base = fs.durability_points();
    fs.inject(FaultKind::CrashAfterPoint { n: base + 2, cut: PowerCut::DropUnsynced });
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap(); // point 1: create
    file.write_all_at(b"abc", 0).unwrap();
    file.sync_data().unwrap(); // point 2: the crash happens after it succeeds
    assert_eq!(fs.durability_points(), base + 2);
    assert!(fs.is_dead());
    assert!(file.write_all_at(b"more", 3).is_err());
    fs.restart();
    assert!(!fs.exists(Path::new("/db/a")).unwrap(), "the directory was never synced");
}

#[test]
fn tearing_power_cut_keeps_an_in_order_prefix_of_sectors() {
    for seed in 0..200u64 {
        let fs = setup();
        let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
        fs.sync_dir(Path::new("/db")).unwrap();
        file.write_all_at(&[0xEE; 2048], 0).unwrap();
        file.sync_data().unwrap();
        for (i, byte) in [1u8, 2, 3].iter().enumerate() {
            file.write_all_at(&[*byte; 2048], (i as u64 + 1) * 2048).unwrap();
        }
        fs.power_cut(PowerCut::TearUnsynced { seed });
        let data = read_all(&fs, "/db/a");
        assert!(data.len() >= 2048 && data[..2048].iter().all(|&b| b == 0xEE), "synced kept");
        assert!(data.len().is_multiple_of(512), "whole sectors only (seed {seed})");
        for (i, chunk) in data[2048..].chunks(2048).enumerate() {
            assert!(chunk.iter().all(|&b| b == i as u8 + 1), "in-order prefix (seed {seed})");
        }
    }
}

#[test]
fn lock_is_exclusive_until_released() {
    let fs = setup();
    let lock = fs.lock(Path::new("/db/LOCK")).unwrap();
    assert!(matches!(fs.lock(Path::new("/db/LOCK")), Err(Error::Locked { .. })));
    drop(lock);
    assert!(fs.lock(Path::new("/db/LOCK")).is_ok());
}

#[test]
fn corrupt_byte_changes_both_images() {
    let fs = setup();
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    file.write_all_at(b"abcd", 0).unwrap();
    file.sync_data().unwrap();
    assert!(fs.corrupt_byte(Path::new("/db/a"), 1, 0x01));
    assert_eq!(read_all(&fs, "/db/a"), b"accd");
    fs.power_cut(PowerCut::DropUnsynced);
    assert_eq!(read_all(&fs, "/db/a"), b"accd");
    assert!(!fs.corrupt_byte(Path::new("/db/a"), 99, 0x01), "no such byte");
}

#[test]
fn crash_before_a_point_keeps_a_reordered_subset() {
    let mut kept_first_only = false;
    let mut kept_second_only = false;
    for seed in 0..64u64 {
        let fs = setup();
        let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
        fs.sync_dir(Path::new("/db")).unwrap();
        file.write_all_at(&[1u8; 512], 0).unwrap();
        file.write_all_at(&[2u8; 512], 512).unwrap();
        let next = fs.durability_points() + 1;
        let cut = PowerCut::ReorderUnsynced { seed };
        fs.inject(FaultKind::CrashBeforePoint { n: next, cut });
        assert!(file.sync_data().is_err(), "the sync never ran");
        fs.restart();
        let data = read_all(&fs, "/db/a");
        let first = data.len() >= 512 && data[..512].iter().all(|&b| b == 1);
        let second = data.len() == 1024 && data[512..].iter().all(|&b| b == 2);
        kept_first_only |= first && !second;
        kept_second_only |= second && !first;
    }
    assert!(kept_first_only && kept_second_only, "a reordering disk keeps any subset");
}

#[test]
fn finish_with_crash_cuts_the_power_when_the_armed_crash_never_fired() {
    let fs = setup();
    let base = fs.durability_points();
    fs.inject(FaultKind::CrashAfterPoint { n: base + 100, cut: PowerCut::DropUnsynced });
    let file = fs.open(Path::new("/db/a"), OpenMode::CreateNew).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();
    file.write_all_at(b"synced", 0).unwrap();
    file.sync_data().unwrap();
    file.write_all_at(b" and not", 6).unwrap();
    assert!(!fs.is_dead(), "the run ended before the armed point");
    fs.finish_with_crash();
    assert!(!fs.is_dead(), "up again");
    assert_eq!(read_all(&fs, "/db/a"), b"synced", "only what was synced is kept");
    let file = fs.open(Path::new("/db/b"), OpenMode::CreateNew).unwrap();
    for _ in 0..200 {
        file.sync_data().unwrap(); // the armed crash was disarmed
    }
    assert!(!fs.is_dead());
}
