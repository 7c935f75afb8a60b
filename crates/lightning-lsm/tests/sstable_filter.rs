//! The bloom filter's measured false-positive rate over 100,000+ absent keys is within 1.5×
//! of theory, at 10 and at 5 bits per key, both for the bare filter and through a table's
//! point reads (which count the filter's answers).

mod sstable_support;

use lightning_core_storage::Timestamp;
use lightning_lsm::filter::{
    BloomFilter, BloomFilterBuilder, probes_for, theoretical_false_positive_rate,
};
use lightning_lsm::sstable::TableOptions;
use sstable_support::*;

const KEYS: u32 = 100_000;
const ABSENT: u32 = 200_000;

fn present(i: u32) -> Vec<u8> {
    format!("user:{i:010}").into_bytes()
}

fn absent(i: u32) -> Vec<u8> {
    format!("user:{i:010}:absent").into_bytes()
}

/// Asserts `measured` within a factor 1.5 of `theory` (either way: a filter much better than
/// theory would mean the measurement is wrong).
fn assert_near_theory(what: &str, measured: f64, theory: f64) {
    println!(
        "{what}: measured false-positive rate {:.4}%, theory {:.4}%",
        measured * 100.0,
        theory * 100.0
    );
    assert!(measured <= 1.5 * theory, "{what}: {measured} above 1.5 x {theory}");
    assert!(measured >= theory / 1.5, "{what}: {measured} implausibly below {theory}");
}

#[test]
fn the_bare_filter_meets_theory_at_10_and_5_bits_per_key() {
    for bits_per_key in [10, 5] {
        let mut builder = BloomFilterBuilder::new(bits_per_key);
        (0..KEYS).for_each(|i| builder.add_key(&present(i)));
        let filter = BloomFilter::decode(builder.finish()).expect("decodes");
        assert!((0..KEYS).all(|i| filter.may_contain(&present(i))), "no false negatives");
        let false_positives = (0..ABSENT).filter(|i| filter.may_contain(&absent(*i))).count();
        let measured = false_positives as f64 / f64::from(ABSENT);
        let theory = theoretical_false_positive_rate(
            filter.num_bits(),
            u64::from(KEYS),
            probes_for(bits_per_key),
        );
        assert_near_theory(&format!("bare filter, {bits_per_key} bits/key"), measured, theory);
    }
}

#[test]
fn point_reads_of_absent_keys_count_false_positives_at_the_theoretical_rate() {
    let fs = both_file_systems().remove(1);
    for (number, bits_per_key) in [(1u64, 10u32), (2, 5)] {
        let options = TableOptions { bloom_bits_per_key: bits_per_key, ..TableOptions::default() };
        let path = fs.table_path(number);
        let mut writer =
            lightning_lsm::sstable::TableWriter::create(fs.vfs.as_ref(), &path, number, &options)
                .expect("create");
        for i in 0..KEYS {
            // Two versions per key: the filter holds user keys, not versions.
            writer.add(&present(i), Timestamp(9), Some(b"new")).expect("add");
            writer.add(&present(i), Timestamp(3), Some(b"old")).expect("add");
        }
        writer.finish().expect("finish");
        let table = fs.open(number);
        assert_eq!(table.properties().distinct_keys, u64::from(KEYS));
        for i in 0..ABSENT {
            assert_eq!(table.get(&absent(i), Timestamp::MAX).expect("get"), None);
        }
        let counters = table.filter_counters();
        assert_eq!(counters.useful + counters.false_positive, u64::from(ABSENT));
        let measured = counters.false_positive as f64 / f64::from(ABSENT);
        let bits = (u64::from(KEYS) * u64::from(bits_per_key)).div_ceil(8) * 8;
        let theory =
            theoretical_false_positive_rate(bits, u64::from(KEYS), probes_for(bits_per_key));
        assert_near_theory(&format!("table, {bits_per_key} bits/key"), measured, theory);

        // A key present only in versions newer than the read is absent at that read, but not a
        // false positive of the filter.
        assert_eq!(table.get(&present(7), Timestamp(2)).expect("get"), None);
        assert_eq!(table.filter_counters(), counters);
    }
}
