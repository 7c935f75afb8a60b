//! Damage anywhere in a table is `Error::Corruption` naming the file and the offset of the
//! damaged block: one flipped byte in a data block (through `get`, the cursor and `check`),
//! the index, filter or properties block or the footer (through `open`), over StdFs and
//! FaultFs. And `check` finds inconsistencies that checksums cannot see.

mod sstable_support;

use std::path::Path;

use lightning_core_storage::codec::Compression;
use lightning_core_storage::vfs::OpenMode;
use lightning_core_storage::{Error, Timestamp};
use lightning_lsm::InternalIter;
use lightning_lsm::sstable::format::FOOTER_LEN;
use lightning_lsm::sstable::varint::get_varint;
use lightning_lsm::sstable::{Table, TableOptions};
use sstable_support::*;

fn flip(fs: &TestFs, path: &Path, offset: u64) {
    match &fs.fault {
        Some(fault) => assert!(fault.corrupt_byte(path, offset, 0x40)),
        None => {
            let byte = read_file(fs, path)[offset as usize] ^ 0x40;
            write_at(fs, path, offset, &[byte]);
        }
    }
}

fn expect_corruption<T: std::fmt::Debug>(
    result: lightning_core_storage::Result<T>,
    location: &str,
) -> String {
    match result {
        Err(Error::Corruption { what, location: at }) => {
            assert_eq!(at, location, "{what}");
            what
        }
        other => panic!("expected corruption at {location}, got {other:?}"),
    }
}

const NUMBER: u64 = 1;

fn fresh_table(fs: &TestFs, model: &Model) -> (std::path::PathBuf, Vec<u8>) {
    let path = fs.table_path(NUMBER);
    if fs.vfs.exists(&path).expect("exists") {
        fs.vfs.remove(&path).expect("remove");
    }
    write_table(fs.vfs.as_ref(), &path, NUMBER, &TableOptions::default(), model);
    let bytes = read_file(fs, &path);
    (path, bytes)
}

#[test]
fn a_flipped_byte_in_a_data_block_fails_get_the_cursor_and_check_naming_the_block() {
    let model = sample_model(2_000, 5);
    for fs in both_file_systems() {
        let (path, bytes) = fresh_table(&fs, &model);
        let second_block = block_len(&bytes, 0) as u64;
        flip(&fs, &path, second_block + 30);
        let location = format!("000001.sst offset {second_block}");
        let table = fs.open(NUMBER);

        // Forward: block 0 reads, then the move into block 1 fails.
        let mut iter = table.iter();
        iter.seek_to_first().expect("block 0 is intact");
        let mut last_good = None;
        let mut step = Ok(());
        while iter.valid() && step.is_ok() {
            last_good = Some(lightning_lsm::InternalKey::new(iter.key(), iter.ts()));
            step = iter.next();
        }
        let what = expect_corruption(step, &location);
        assert!(what.contains("checksum"), "{what}");
        assert!(!iter.valid(), "a failed move leaves the cursor invalid");

        // Backward from the last block: the move into block 1 fails too.
        iter.seek_to_last().expect("the last block is intact");
        let mut back = Ok(());
        while iter.valid() && back.is_ok() {
            back = iter.prev();
        }
        expect_corruption(back, &location);

        // A point read of the first version in block 1 fails; one in block 0 does not.
        let last_good = last_good.expect("block 0 has entries");
        let (in_block_1, _) = model.range(last_good.clone()..).nth(1).expect("block 1 has entries");
        expect_corruption(table.get(&in_block_1.key, in_block_1.ts), &location);
        assert!(table.get(&last_good.key, last_good.ts).is_ok(), "block 0 is intact");
        expect_corruption(table.iter().seek(&in_block_1.key, in_block_1.ts), &location);

        let problems = table.check().expect("check reads the whole table");
        assert_eq!(problems.len(), 1, "{} {problems:?}", fs.name);
        assert_eq!(problems[0].location, location);
        assert!(problems[0].what.contains("checksum"), "{problems:?}");
    }
}

#[test]
fn a_flipped_byte_in_the_index_filter_properties_or_footer_fails_open_naming_it() {
    let model = sample_model(500, 9);
    for fs in both_file_systems() {
        let (_, bytes) = fresh_table(&fs, &model);
        let footer = footer_of(&bytes);
        let footer_offset = bytes.len() as u64 - FOOTER_LEN as u64;
        let regions = [
            ("index", footer.index.offset, footer.index.length),
            ("filter", footer.filter.offset, footer.filter.length),
            ("properties", footer.properties.offset, footer.properties.length),
            ("footer", footer_offset, FOOTER_LEN as u64),
        ];
        for (name, offset, length) in regions {
            assert!(length > 0, "{name} is present");
            // The first byte, one in the middle and the last: header, payload and tail.
            for at in [offset, offset + length / 2, offset + length - 1] {
                let (path, _) = fresh_table(&fs, &model);
                flip(&fs, &path, at);
                let opened = Table::open(fs.vfs.as_ref(), &path, NUMBER, None);
                let what = expect_corruption(opened, &format!("000001.sst offset {offset}"));
                assert!(what.starts_with(name), "{} {name} byte {at}: {what}", fs.name);
            }
        }
    }
}

#[test]
fn a_file_shorter_than_a_footer_or_cut_short_is_corruption() {
    let model = sample_model(100, 2);
    let fs = both_file_systems().remove(1);
    let (path, bytes) = fresh_table(&fs, &model);
    let file = fs.vfs.open(&path, OpenMode::ReadWrite).expect("open");
    file.set_len(bytes.len() as u64 - 10).expect("cut");
    let what = expect_corruption(
        Table::open(fs.vfs.as_ref(), &path, NUMBER, None),
        &format!("000001.sst offset {}", bytes.len() - 10 - FOOTER_LEN),
    );
    assert!(what.contains("magic"), "{what}");
    file.set_len(FOOTER_LEN as u64 - 1).expect("cut");
    expect_corruption(Table::open(fs.vfs.as_ref(), &path, NUMBER, None), "000001.sst offset 0");
}

#[test]
fn check_finds_what_checksums_cannot_see() {
    let model = sample_model(300, 4);
    let fs = both_file_systems().remove(1);
    let options = TableOptions { compression: Compression::None, ..TableOptions::default() };
    let path = fs.table_path(NUMBER);
    let fresh = || {
        if fs.vfs.exists(&path).expect("exists") {
            fs.vfs.remove(&path).expect("remove");
        }
        write_table(fs.vfs.as_ref(), &path, NUMBER, &options, &model);
        footer_of(&read_file(&fs, &path))
    };

    // Properties that miscount the entries (bytes 4..12 of the properties).
    let footer = fresh();
    rewrite_block(&fs, &path, footer.properties.offset, |p| p[4] ^= 1);
    let problems = fs.open(NUMBER).check().expect("check");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].what.contains("entries"), "{problems:?}");
    assert_eq!(problems[0].location, format!("000001.sst offset {}", footer.properties.offset));

    // A filter with its bits cleared says "absent" for keys the table holds.
    let footer = fresh();
    rewrite_block(&fs, &path, footer.filter.offset, |f| {
        let probes = f.len() - 1;
        f[..probes].fill(0);
    });
    let table = fs.open(NUMBER);
    let problems = table.check().expect("check");
    assert_eq!(problems.len(), 300, "one per distinct key: {:?}", &problems[..1]);
    assert!(problems.iter().all(|p| p.what.contains("filter")), "{:?}", problems[0]);
    assert_eq!(
        table.get(&model.keys().next().expect("a key").key, Timestamp::MAX).expect("get"),
        None
    );

    // A key changed inside data block 0 (its first entry's first key byte, raised past the
    // next entries) breaks the order within the block.
    fresh();
    rewrite_block(&fs, &path, 0, |block| {
        let at = first_key_byte(block);
        block[at] = b'z';
    });
    let problems = fs.open(NUMBER).check().expect("check");
    assert!(
        problems
            .iter()
            .any(|p| p.what.contains("does not sort after") && p.location == "000001.sst offset 0"),
        "{problems:?}"
    );

    // An index key that is not its block's last key.
    let footer = fresh();
    rewrite_block(&fs, &path, footer.index.offset, |index| {
        let at = first_key_byte(index);
        index[at] = b'a';
    });
    let problems = fs.open(NUMBER).check().expect("check");
    assert!(
        problems
            .iter()
            .any(|p| p.what.contains("as this block's last key")
                && p.location == "000001.sst offset 0"),
        "{problems:?}"
    );
}

/// The offset of the first key byte of a block's first entry.
fn first_key_byte(block: &[u8]) -> usize {
    let mut pos = 0;
    get_varint(block, &mut pos).expect("shared");
    get_varint(block, &mut pos).expect("unshared");
    pos += 1; // kind
    get_varint(block, &mut pos).expect("value length");
    pos
}
