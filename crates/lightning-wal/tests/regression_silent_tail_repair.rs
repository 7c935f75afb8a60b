//! Regression: opening a log whose tail was torn cut it back (and removed later segments)
//! without a word. Every such repair is now logged through `tracing` with what and how much;
//! this test captures the events with `lightning_core_storage::LogCapture`.

mod common;

use common::{open, segment, small};
use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};
use lightning_wal::Durability;

#[test]
fn a_torn_tail_cut_at_open_is_logged_with_segment_offset_and_bytes() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(64 << 10)).unwrap();
    for _ in 0..10u64 {
        wal.append(&[0xff; 8], Durability::Immediate).unwrap();
    }
    drop(wal);
    // The segment is preallocated: the records end at its last non-zero byte. Ten bytes of a
    // fragment header there, then zeros: what a torn append leaves.
    let bytes = fs.file_contents(&segment(1)).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).unwrap() as u64 + 1;
    let file = fs.open(&segment(1), OpenMode::ReadWrite).unwrap();
    file.write_all_at(&[0xab; 10], end).unwrap();
    file.sync_data().unwrap();
    drop(file);

    let capture = lightning_core_storage::LogCapture::new();
    let wal = capture.during(|| open(&fs, small(64 << 10)).unwrap());
    assert_eq!(wal.last_lsn().0, 10, "every whole record kept");
    let lines = capture.lines();
    let cut = lines
        .iter()
        .find(|line| line.contains("cut the write-ahead log's tail"))
        .unwrap_or_else(|| panic!("no tail-cut event in {lines:?}"));
    assert!(cut.contains("segment=1 "), "{cut}");
    assert!(cut.contains(&format!("offset={end} ")), "{cut}");
    let cut_bytes = bytes.len() as u64 - end;
    assert!(cut.contains(&format!("bytes={cut_bytes} ")), "{cut}");
    assert!(lines.iter().any(|l| l.contains("damage accepted")), "the damage itself: {lines:?}");
}
