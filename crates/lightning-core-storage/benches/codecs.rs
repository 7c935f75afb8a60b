//! Criterion benchmarks of the compression codecs (compress and decompress MB/s on 4 KiB and
//! 64 KiB blocks of realistic, text-like data) and of xxh3 page checksumming.
//!
//! Run: `cargo bench -p lightning-core-storage --bench codecs`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lightning_core_storage::{
    PageId,
    codec::{Compression, compress_block, decompress_block},
    page::{PageFormat, PageSize, PageType},
};
use std::{hint::black_box, time::Duration};

/// Records that look like what a key-value store holds: JSON-ish values with repeated field
/// names, ids and a little randomness (roughly 2-4x compressible, like real pages).
fn realistic(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 128);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut id = 0u64;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        id += 1 + x % 5;
        let status = ["active", "suspended", "pending"][(x % 3) as usize];
        let record = format!(
            "{{\"id\":{id},\"user\":\"user{:06}\",\"status\":\"{status}\",\"score\":{},\"tag\":\"{:x}\"}}",
            x % 100_000,
            x % 1000,
            x >> 40
        );
        out.extend_from_slice(record.as_bytes());
    }
    out.truncate(len);
    out
}

fn codecs(c: &mut Criterion) {
    let settings = [
        ("lz4", Compression::Lz4),
        ("snappy", Compression::Snappy),
        ("zstd-1", Compression::Zstd { level: 1 }),
        ("zstd-3", Compression::Zstd { level: 3 }),
    ];
    for size in [4096usize, 65536] {
        let input = realistic(size);
        let mut group = c.benchmark_group(format!("codec/{}KiB", size / 1024));
        group.throughput(Throughput::Bytes(size as u64));
        group.measurement_time(Duration::from_secs(2));
        group.warm_up_time(Duration::from_millis(500));
        for (name, compression) in settings {
            let codec = compression.codec();
            let mut block = Vec::new();
            compress_block(codec.as_ref(), &input, &mut block).unwrap();
            eprintln!(
                "ratio {name} {}KiB: {:.2}x ({} -> {} bytes)",
                size / 1024,
                size as f64 / block.len() as f64,
                size,
                block.len()
            );
            group.bench_function(BenchmarkId::new("compress", name), |b| {
                let mut out = Vec::with_capacity(size * 2);
                b.iter(|| {
                    out.clear();
                    compress_block(codec.as_ref(), black_box(&input), &mut out).unwrap();
                })
            });
            group.bench_function(BenchmarkId::new("decompress", name), |b| {
                let mut out = Vec::with_capacity(size);
                b.iter(|| {
                    out.clear();
                    decompress_block(black_box(&block), &mut out).unwrap();
                })
            });
        }
        group.finish();
    }
}

fn checksums(c: &mut Criterion) {
    let mut group = c.benchmark_group("page-checksum");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    for size in [4096u32, 16384, 65536] {
        let format = PageFormat::plain(PageSize::new(size).unwrap());
        let mut page = format.new_page(PageType(20), PageId(7));
        page.body_mut().copy_from_slice(&realistic(format.body_len()));
        let mut bytes = Vec::new();
        format.encode(&page, &mut bytes).unwrap();
        group.throughput(Throughput::Bytes(u64::from(size)));
        group.bench_function(BenchmarkId::new("xxh3-64", size), |b| {
            b.iter(|| xxhash_rust::xxh3::xxh3_64(black_box(&bytes[8..])))
        });
        group.bench_function(BenchmarkId::new("verify+decode", size), |b| {
            b.iter(|| format.decode(black_box(bytes.clone()), PageId(7), "bench").unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, codecs, checksums);
criterion_main!(benches);
