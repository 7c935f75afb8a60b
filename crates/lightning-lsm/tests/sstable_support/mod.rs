//! Helpers shared by the `sstable_*` integration tests: a model of a table's contents, sample
//! data with versions, tombstones, empty and oversized values, and both file systems.

#![allow(dead_code)] // each test file uses its own subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lightning_core_storage::codec::{BLOCK_HEADER_LEN, NoCodec, compress_block, decompress_block};
use lightning_core_storage::rng::SplitMix64;
use lightning_core_storage::vfs::{FaultFs, OpenMode, StdFs, Vfs};
use lightning_core_storage::{Timestamp, engine::Version};
use lightning_lsm::InternalIter;
use lightning_lsm::internal_key::InternalKey;
use lightning_lsm::sstable::format::{FOOTER_LEN, Footer};
use lightning_lsm::sstable::{Table, TableOptions, TableWriter};
use lightning_lsm::table_meta::TableMeta;

/// A table's intended contents, in internal order.
pub type Model = BTreeMap<InternalKey, Option<Vec<u8>>>;

/// Writes `model` as table `file_number` at `path`.
pub fn write_table(
    vfs: &dyn Vfs,
    path: &Path,
    number: u64,
    options: &TableOptions,
    model: &Model,
) -> TableMeta {
    let mut writer = TableWriter::create(vfs, path, number, options).expect("create");
    for (key, value) in model {
        writer.add(&key.key, key.ts, value.as_deref()).expect("add in order");
    }
    assert_eq!(writer.entries(), model.len() as u64);
    writer.finish().expect("finish")
}

/// `keys` user keys with one to three versions each; about one version in eight is a
/// tombstone, one in sixteen an empty value, and a few values span several blocks.
pub fn sample_model(keys: usize, seed: u64) -> Model {
    let mut rng = SplitMix64::new(seed);
    let mut model = Model::new();
    for i in 0..keys {
        let key = format!("key-{:08}-{}", i * 7, "x".repeat((i % 5) * 3)).into_bytes();
        let versions = 1 + rng.below(3);
        for v in 0..versions {
            let ts = Timestamp(10 + 10 * v + rng.below(5));
            let value = match rng.below(16) {
                0 | 1 => None,
                2 => Some(Vec::new()),
                3 if i % 97 == 0 => Some(rng.bytes(9_000 + (i % 3) * 7_000)),
                _ => Some(format!("value {i} at {ts} {}", "v".repeat(i % 40)).into_bytes()),
            };
            model.insert(InternalKey::new(key.clone(), ts), value);
        }
    }
    model
}

/// The model's answer to `get(key, read_ts)`.
pub fn model_get(model: &Model, key: &[u8], read_ts: Timestamp) -> Option<Version> {
    model
        .range(InternalKey::new(key, read_ts)..)
        .next()
        .filter(|(k, _)| k.key == key)
        .map(|(k, value)| Version { commit_ts: k.ts, value: value.clone() })
}

/// Every entry of a cursor from its first to its last.
pub fn collect_forward(iter: &mut dyn InternalIter) -> Vec<(InternalKey, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    iter.seek_to_first().expect("seek_to_first");
    while iter.valid() {
        out.push((InternalKey::new(iter.key(), iter.ts()), iter.value().map(<[u8]>::to_vec)));
        iter.next().expect("next");
    }
    out
}

/// Every entry of a cursor from its last to its first.
pub fn collect_backward(iter: &mut dyn InternalIter) -> Vec<(InternalKey, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    iter.seek_to_last().expect("seek_to_last");
    while iter.valid() {
        out.push((InternalKey::new(iter.key(), iter.ts()), iter.value().map(<[u8]>::to_vec)));
        iter.prev().expect("prev");
    }
    out
}

/// A file system to run a test on, and the directory to put tables in.
pub struct TestFs {
    pub name: &'static str,
    pub vfs: Arc<dyn Vfs>,
    pub fault: Option<Arc<FaultFs>>,
    pub dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl TestFs {
    /// The path of table `number` in the test directory.
    pub fn table_path(&self, number: u64) -> PathBuf {
        self.dir.join(TableMeta::file_name(number))
    }

    /// Opens table `number` without a cache.
    pub fn open(&self, number: u64) -> Arc<Table> {
        Table::open(self.vfs.as_ref(), &self.table_path(number), number, None).expect("open")
    }
}

/// A real directory (StdFs over a tempdir) and an in-memory FaultFs.
pub fn both_file_systems() -> Vec<TestFs> {
    let temp = tempfile::tempdir().expect("tempdir");
    let fault = Arc::new(FaultFs::new());
    let fault_dir = PathBuf::from("/db");
    fault.create_dir_all(&fault_dir).expect("mkdir");
    vec![
        TestFs {
            name: "StdFs",
            vfs: Arc::new(StdFs::new()),
            fault: None,
            dir: temp.path().to_path_buf(),
            _temp: Some(temp),
        },
        TestFs {
            name: "FaultFs",
            vfs: fault.clone(),
            fault: Some(fault),
            dir: fault_dir,
            _temp: None,
        },
    ]
}

pub fn read_file(fs: &TestFs, path: &Path) -> Vec<u8> {
    let file = fs.vfs.open(path, OpenMode::Read).expect("open");
    let mut bytes = vec![0u8; file.len().expect("len") as usize];
    file.read_exact_at(&mut bytes, 0).expect("read");
    bytes
}

pub fn write_at(fs: &TestFs, path: &Path, offset: u64, bytes: &[u8]) {
    let file = fs.vfs.open(path, OpenMode::ReadWrite).expect("open");
    file.write_all_at(bytes, offset).expect("write");
    file.sync_data().expect("sync");
}

pub fn footer_of(bytes: &[u8]) -> Footer {
    let mut footer = [0u8; FOOTER_LEN];
    footer.copy_from_slice(&bytes[bytes.len() - FOOTER_LEN..]);
    Footer::decode(&footer, "test").expect("an intact footer")
}

/// The on-disk length of the compressed block starting at `offset`.
pub fn block_len(bytes: &[u8], offset: usize) -> usize {
    let payload = u32::from_le_bytes(bytes[offset + 16..offset + 20].try_into().expect("4 bytes"));
    BLOCK_HEADER_LEN + payload as usize
}

/// Rewrites the raw (uncompressed) block at `offset` with `edit` applied and a fresh checksum,
/// so that only the checks above the checksum can see the change.
pub fn rewrite_block(fs: &TestFs, path: &Path, offset: u64, edit: impl FnOnce(&mut Vec<u8>)) {
    let bytes = read_file(fs, path);
    let start = offset as usize;
    let len = block_len(&bytes, start);
    let mut contents = Vec::new();
    decompress_block(&bytes[start..start + len], &mut contents).expect("an intact block");
    edit(&mut contents);
    let mut rewritten = Vec::new();
    compress_block(&NoCodec, &contents, &mut rewritten).expect("compress");
    assert_eq!(rewritten.len(), len, "the edit keeps the block's length");
    write_at(fs, path, offset, &rewritten);
}
