//! Unit tests of one block's layout: prefix compression, restart points, and refusal of
//! damaged entries and restart arrays (below any checksum).

use std::sync::Arc;

use lightning_core_storage::Timestamp;

use super::{Block, BlockIter};
use crate::iter::InternalIter;
use crate::sstable::block_builder::BlockBuilder;

fn built(restart_interval: usize, keys: usize) -> Vec<u8> {
    let mut builder = BlockBuilder::new(restart_interval);
    for i in 0..keys {
        builder.add(format!("user/profile/{i:06}").as_bytes(), Timestamp(5), Some(b"v"));
    }
    builder.finish().to_vec()
}

fn first_error(bytes: Vec<u8>) -> String {
    let block = match Block::decode(bytes, "t.sst offset 0".to_owned()) {
        Ok(block) => block,
        Err(error) => return error.to_string(),
    };
    let mut iter = BlockIter::new(Arc::new(block));
    let mut step = iter.seek_to_first();
    while step.is_ok() && iter.valid() {
        step = iter.next();
    }
    step.expect_err("the damage is found").to_string()
}

#[test]
fn keys_are_prefix_compressed_between_restart_points() {
    let every_key_whole = built(1, 200).len();
    let compressed = built(16, 200).len();
    // 19-byte keys sharing 15 or more bytes: most of each key is not stored again.
    assert!(compressed * 10 < every_key_whole * 6, "{compressed} vs {every_key_whole}");
    let block = Block::decode(built(16, 200), "t".to_owned()).expect("decodes");
    assert_eq!(block.num_restarts, 13, "one restart per 16 entries");
}

#[test]
fn a_blob_reference_an_unknown_kind_and_a_tombstone_with_bytes_are_refused() {
    let mut builder = BlockBuilder::new(16);
    builder.add(b"k", Timestamp(1), Some(b"value"));
    let bytes = builder.finish().to_vec();
    // Entry 0: shared (1 byte), unshared (1 byte), then the kind at offset 2.
    for (kind, what) in
        [(2u8, "blob reference"), (9, "unknown value kind"), (0, "tombstone with value")]
    {
        let mut damaged = bytes.clone();
        damaged[2] = kind;
        let error = first_error(damaged);
        assert!(error.contains(what), "kind {kind}: {error}");
        assert!(error.contains("t.sst offset 0"), "{error}");
    }
}

#[test]
fn damaged_restart_arrays_and_lengths_are_refused() {
    let bytes = built(4, 10);
    let len = bytes.len();
    let mut no_restarts = bytes.clone();
    no_restarts[len - 4..].copy_from_slice(&0u32.to_le_bytes());
    assert!(first_error(no_restarts).contains("no restart points"));
    let mut too_many = bytes.clone();
    too_many[len - 4..].copy_from_slice(&1_000u32.to_le_bytes());
    assert!(first_error(too_many).contains("do not fit"));
    let mut out_of_order = bytes.clone();
    out_of_order[len - 12..len - 8].copy_from_slice(&0u32.to_le_bytes());
    assert!(first_error(out_of_order).contains("out of place"));
    // In order, but inside an entry: only a walk of the entries (as `check` does) sees it.
    let mut inside = bytes.clone();
    inside[len - 12..len - 8].copy_from_slice(&1u32.to_le_bytes());
    let block = Block::decode(inside, "t".to_owned()).expect("the array itself is plausible");
    let error = block.check_restarts().expect_err("restart 1 is not an entry");
    assert!(error.to_string().contains("restart point 1"), "{error}");
    let intact = Block::decode(bytes.clone(), "t".to_owned()).expect("decodes");
    intact.check_restarts().expect("an intact block's restarts are its entries");
    assert!(first_error(vec![1, 2]).contains("restart count"));
    // The second entry claims to share more bytes than the first key has.
    let mut builder = BlockBuilder::new(16);
    builder.add(b"ab", Timestamp(1), None);
    builder.add(b"abc", Timestamp(1), None);
    let mut sharing = builder.finish().to_vec();
    let second = 1 + 1 + 1 + 1 + 2 + 8;
    sharing[second] = 3;
    assert!(first_error(sharing).contains("shares 3 bytes of a 2"));
    // A value length past the entries.
    let mut builder = BlockBuilder::new(16);
    builder.add(b"k", Timestamp(1), Some(b"v"));
    let mut long_value = builder.finish().to_vec();
    long_value[3] = 100;
    assert!(first_error(long_value).contains("runs past"));
}

#[test]
fn seeks_binary_search_the_restarts_and_prev_crosses_them() {
    let block = Arc::new(Block::decode(built(3, 50), "t".to_owned()).expect("decodes"));
    let mut iter = BlockIter::new(Arc::clone(&block));
    iter.seek(b"user/profile/000031", Timestamp::MAX).expect("seek");
    assert_eq!(iter.key(), b"user/profile/000031");
    for i in (0..31).rev() {
        iter.prev().expect("prev");
        assert_eq!(iter.key(), format!("user/profile/{i:06}").as_bytes());
    }
    iter.prev().expect("prev");
    assert!(!iter.valid());
    iter.seek_for_prev(b"user/profile/000031a", Timestamp::MAX).expect("seek_for_prev");
    assert_eq!(iter.key(), b"user/profile/000031");
    iter.seek(b"zzz", Timestamp::MAX).expect("seek");
    assert!(!iter.valid());
    iter.seek_to_last().expect("seek_to_last");
    assert_eq!(iter.key(), b"user/profile/000049");
}
