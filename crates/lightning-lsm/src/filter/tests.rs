//! Unit tests of the bloom filter: no false negatives, the layout's checks, the probe count.

use super::*;

fn filter_of(keys: impl Iterator<Item = Vec<u8>>, bits_per_key: u32) -> BloomFilter {
    let mut builder = BloomFilterBuilder::new(bits_per_key);
    keys.for_each(|key| builder.add_key(&key));
    BloomFilter::decode(builder.finish()).expect("a fresh filter decodes")
}

#[test]
fn every_added_key_may_be_contained() {
    let filter = filter_of((0..5_000u32).map(|i| i.to_be_bytes().to_vec()), 10);
    for i in 0..5_000u32 {
        assert!(filter.may_contain(&i.to_be_bytes()), "false negative for {i}");
    }
}

#[test]
fn the_probe_count_follows_bits_per_key() {
    assert_eq!(probes_for(10), 7);
    assert_eq!(probes_for(5), 3);
    assert_eq!(probes_for(1), 1);
    assert_eq!(probes_for(100), MAX_PROBES);
}

#[test]
fn the_filter_has_the_requested_size_and_a_floor_for_tiny_tables() {
    let filter = filter_of((0..1_000u32).map(|i| i.to_le_bytes().to_vec()), 10);
    assert_eq!(filter.num_bits(), 10_000);
    assert_eq!(filter.probes(), 7);
    let tiny = filter_of(std::iter::once(b"only".to_vec()), 10);
    assert_eq!(tiny.num_bits(), 64);
    assert!(tiny.may_contain(b"only"));
}

#[test]
fn damaged_layouts_are_refused() {
    assert!(BloomFilter::decode(Vec::new()).is_err());
    assert!(BloomFilter::decode(vec![0xff; 4]).is_err(), "bit array too short");
    let mut zero_probes = vec![0xff; 9];
    zero_probes[8] = 0;
    assert!(BloomFilter::decode(zero_probes).is_err());
    let mut many_probes = vec![0xff; 9];
    many_probes[8] = MAX_PROBES + 1;
    assert!(BloomFilter::decode(many_probes).is_err());
}

#[test]
fn theory_gives_the_textbook_rate_at_ten_bits_per_key() {
    let rate = theoretical_false_positive_rate(10_000, 1_000, 7);
    assert!((rate - 0.008_19).abs() < 0.000_05, "{rate}");
}
