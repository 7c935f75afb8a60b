//! Optional payload transforms: per-record compression (core-storage codecs) and encryption
//! (the security envelope with segment, offset and LSN as associated data).

mod common;

use common::{open, payload, replay, segment, small};
use lightning_core_storage::{codec::Compression, vfs::FaultFs};
use lightning_security::DataKey;
use lightning_wal::{Durability, Error, Lsn, WalOptions};

fn compressible(i: u64) -> Vec<u8> {
    format!("key-{i:06} = value value value value value value value value;").repeat(20).into_bytes()
}

#[test]
fn compressed_records_round_trip_with_every_codec_and_take_less_space() {
    let plain_fs = FaultFs::new();
    let plain = open(&plain_fs, small(1 << 20)).unwrap();
    for i in 1..=50 {
        plain.append(&compressible(i), Durability::Eventual).unwrap();
    }
    let plain_bytes = plain.stats().bytes_written;
    plain.close().unwrap();
    for compression in [Compression::Lz4, Compression::Snappy, Compression::Zstd { level: 3 }] {
        let fs = FaultFs::new();
        let options = WalOptions { compression, ..small(1 << 20) };
        let wal = open(&fs, options.clone()).unwrap();
        for i in 1..=50 {
            wal.append(&compressible(i), Durability::Eventual).unwrap();
        }
        wal.append(b"", Durability::Eventual).unwrap();
        let bytes = wal.stats().bytes_written;
        wal.close().unwrap();
        assert!(bytes * 3 < plain_bytes, "{compression:?}: {bytes} bytes vs {plain_bytes} plain");
        let wal = open(&fs, options).unwrap();
        let records = replay(&wal, 1);
        assert_eq!(records.len(), 51);
        assert!(
            records[..50].iter().all(|(lsn, bytes)| *bytes == compressible(*lsn)),
            "{compression:?}"
        );
        assert_eq!(records[50].1, b"");
    }
}

#[test]
fn records_say_whether_they_are_compressed_so_the_setting_may_change() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(4096)).unwrap();
    wal.append(&compressible(1), Durability::Immediate).unwrap();
    wal.close().unwrap();
    let lz4 = WalOptions { compression: Compression::Lz4, ..small(4096) };
    let wal = open(&fs, lz4.clone()).unwrap();
    wal.append(&compressible(2), Durability::Immediate).unwrap();
    wal.close().unwrap();
    let wal = open(&fs, small(4096)).unwrap();
    let records = replay(&wal, 1);
    assert_eq!(records, vec![(1, compressible(1)), (2, compressible(2))]);
}

#[test]
fn encrypted_records_round_trip_and_hide_their_plaintext() {
    let key = DataKey::from_bytes([42; 32]);
    let options =
        WalOptions { encryption: Some(key.clone()), compression: Compression::Lz4, ..small(1024) };
    let fs = FaultFs::new();
    let wal = open(&fs, options.clone()).unwrap();
    let secret = b"the launch code is 0000".to_vec();
    wal.append(&secret, Durability::Immediate).unwrap();
    for i in 2..=20 {
        wal.append(&payload(i, 300), Durability::Eventual).unwrap();
    }
    wal.append(b"", Durability::Immediate).unwrap();
    wal.close().unwrap();
    let disk = fs.file_contents(&segment(1)).unwrap();
    assert!(!disk.windows(secret.len()).any(|w| w == secret), "plaintext on disk");
    assert!(!disk.windows(9).any(|w| w == b"record-2:"), "plaintext on disk");
    let wal = open(&fs, options).unwrap();
    let records = replay(&wal, 1);
    assert_eq!(records.len(), 21);
    assert_eq!(records[0].1, secret);
    assert_eq!(records[10], (11, payload(11, 300)));
    assert_eq!(records[20].1, b"");
}

#[test]
fn a_wrong_or_missing_key_cannot_read_the_records() {
    let fs = FaultFs::new();
    let options = WalOptions { encryption: Some(DataKey::from_bytes([1; 32])), ..small(4096) };
    let wal = open(&fs, options).unwrap();
    wal.append(b"sealed", Durability::Immediate).unwrap();
    wal.close().unwrap();
    let wrong = WalOptions { encryption: Some(DataKey::from_bytes([2; 32])), ..small(4096) };
    let wal = open(&fs, wrong).unwrap();
    let err = wal.replay(Lsn(1)).unwrap().next().unwrap().unwrap_err();
    match err {
        Error::Corruption { segment, offset, what } => {
            assert_eq!((segment, offset), (1, 40));
            assert!(what.contains("decrypt"), "{what}");
        }
        other => panic!("expected Corruption, got {other}"),
    }
    drop(wal);
    let wal = open(&fs, small(4096)).unwrap();
    let err = wal.replay(Lsn(1)).unwrap().next().unwrap().unwrap_err();
    assert!(err.to_string().contains("encrypted"), "{err}");
}
