//! `StdFs` and `MmapFs` against a real directory.

use lightning_core_storage::{
    Error,
    vfs::{MmapFs, OpenMode, StdFs, Vfs},
};

#[test]
fn std_fs_reads_writes_renames_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let path = dir.path().join("data");
    let file = fs.open(&path, OpenMode::CreateNew).unwrap();
    file.write_all_at(b"hello world", 0).unwrap();
    file.write_all_at(b"W", 6).unwrap();
    file.sync_data().unwrap();
    fs.sync_dir(dir.path()).unwrap();
    let mut buf = [0u8; 11];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"hello World");
    assert_eq!(file.len().unwrap(), 11);
    let err = file.read_exact_at(&mut [0u8; 4], 10).unwrap_err();
    assert!(err.is_corruption(), "short read is reported, not padded: {err}");
    assert!(fs.open(&path, OpenMode::CreateNew).is_err(), "CreateNew refuses an existing file");
    fs.rename(&path, &dir.path().join("renamed")).unwrap();
    assert_eq!(fs.list(dir.path()).unwrap(), vec!["renamed".to_string()]);
    file.set_len(5).unwrap();
    assert_eq!(file.len().unwrap(), 5);
    fs.remove(&dir.path().join("renamed")).unwrap();
    assert!(!fs.exists(&dir.path().join("renamed")).unwrap());
    let missing = fs.open(&dir.path().join("missing"), OpenMode::Read).unwrap_err();
    assert!(missing.to_string().contains("missing"), "errors name the path: {missing}");
}

#[test]
fn std_fs_lock_excludes_a_second_opener() {
    let dir = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let lock_path = dir.path().join("LOCK");
    let held = fs.lock(&lock_path).unwrap();
    // flock locks belong to an open file description, so a second open in the same process is
    // refused exactly as another process would be.
    let err = fs.lock(&lock_path).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(err.to_string().contains("locked by another process"));
    drop(held);
    fs.lock(&lock_path).unwrap();
}

#[test]
fn mmap_fs_reads_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let writer = StdFs::new().open(&path, OpenMode::CreateNew).unwrap();
    writer.write_all_at(&[42u8; 10_000], 0).unwrap();
    let fs = MmapFs::new();
    let file = fs.open(&path, OpenMode::Read).unwrap();
    let mut buf = [0u8; 100];
    file.read_exact_at(&mut buf, 9_900).unwrap();
    assert!(buf.iter().all(|&b| b == 42));
    // The file grows after mapping: the reader remaps.
    writer.write_all_at(&[7u8; 100], 10_000).unwrap();
    file.read_exact_at(&mut buf, 10_000).unwrap();
    assert!(buf.iter().all(|&b| b == 7));
    assert!(file.read_exact_at(&mut buf, 10_050).unwrap_err().is_corruption());
    assert!(matches!(file.write_all_at(b"x", 0), Err(Error::Unsupported(_))));
    assert!(matches!(fs.open(&path, OpenMode::ReadWrite), Err(Error::Unsupported(_))));
    let empty = dir.path().join("empty");
    StdFs::new().open(&empty, OpenMode::CreateNew).unwrap();
    let file = fs.open(&empty, OpenMode::Read).unwrap();
    assert!(file.read_exact_at(&mut [0u8; 1], 0).is_err(), "empty file maps to nothing");
}
