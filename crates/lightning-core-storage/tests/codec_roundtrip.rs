//! Every codec round-trips arbitrary input, and damaged blocks are errors, never panics.

use lightning_core_storage::codec::{
    BLOCK_HEADER_LEN, CodecId, Compression, compress_block, decompress_block,
};
use proptest::prelude::*;

fn all() -> Vec<Compression> {
    vec![
        Compression::None,
        Compression::Lz4,
        Compression::Snappy,
        Compression::Zstd { level: 1 },
        Compression::Zstd { level: 19 },
    ]
}

/// Text-like data that compresses, as real pages do.
fn realistic(len: usize) -> Vec<u8> {
    let words = ["user:", "order", "\"status\":", "active", "0000", "lightning", ", ", "{}"];
    let mut out = Vec::with_capacity(len);
    let mut i = 7usize;
    while out.len() < len {
        i = i.wrapping_mul(31).wrapping_add(17);
        out.extend_from_slice(words[i % words.len()].as_bytes());
        out.extend_from_slice(format!("{}", i % 1000).as_bytes());
    }
    out.truncate(len);
    out
}

#[test]
fn realistic_blocks_shrink_and_roundtrip() {
    let input = realistic(64 * 1024);
    for compression in all() {
        let codec = compression.codec();
        let mut block = Vec::new();
        compress_block(codec.as_ref(), &input, &mut block).unwrap();
        if compression != Compression::None {
            assert!(block.len() < input.len() / 2, "{compression:?} compresses text-like data");
            assert_eq!(block[8], codec.id() as u8, "header names the codec");
        }
        let mut out = b"prefix".to_vec();
        let used = decompress_block(&block, &mut out).unwrap();
        assert_eq!(used, block.len());
        assert_eq!(&out[6..], &input[..], "{compression:?}");
    }
}

#[test]
fn incompressible_data_is_stored_raw() {
    let mut x = 0x1234_5678_9abc_def0u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut block = Vec::new();
    compress_block(Compression::Lz4.codec().as_ref(), &noise, &mut block).unwrap();
    assert_eq!(block[8], CodecId::None as u8, "falls back to raw");
    assert_eq!(block.len(), BLOCK_HEADER_LEN + noise.len());
}

#[test]
fn every_flipped_byte_is_detected() {
    let input = realistic(4096);
    for compression in all() {
        let mut block = Vec::new();
        compress_block(compression.codec().as_ref(), &input, &mut block).unwrap();
        for offset in 0..block.len() {
            let mut bad = block.clone();
            bad[offset] ^= 0x20;
            let err = decompress_block(&bad, &mut Vec::new()).unwrap_err();
            assert!(err.is_corruption(), "{compression:?} offset {offset}: {err}");
        }
        for len in 0..block.len() {
            assert!(
                decompress_block(&block[..len], &mut Vec::new()).is_err(),
                "truncated to {len}"
            );
        }
    }
}

#[test]
fn codecs_reject_garbage_payloads_directly() {
    // Below the block checksum: each codec's own decoder given nonsense must error, not panic.
    let garbage: Vec<u8> = (0..300u32).map(|i| (i * 97 % 256) as u8).collect();
    for compression in all() {
        let codec = compression.codec();
        if codec.id() == CodecId::None {
            assert!(codec.decompress(&garbage, 301, &mut Vec::new()).is_err());
            continue;
        }
        let result = codec.decompress(&garbage, 10_000, &mut Vec::new());
        assert!(result.is_err(), "{compression:?} accepted garbage");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn roundtrip_arbitrary_input(input in proptest::collection::vec(any::<u8>(), 0..20_000), which in 0usize..5) {
        let compression = all()[which];
        let mut block = Vec::new();
        compress_block(compression.codec().as_ref(), &input, &mut block).unwrap();
        let mut out = Vec::new();
        prop_assert_eq!(decompress_block(&block, &mut out).unwrap(), block.len());
        prop_assert_eq!(out, input);
    }

    #[test]
    fn damaged_payload_below_the_checksum_errors(
        input in proptest::collection::vec(any::<u8>(), 1..5_000),
        which in 1usize..5,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
    ) {
        let codec = all()[which].codec();
        let mut payload = Vec::new();
        codec.compress(&input, &mut payload).unwrap();
        for (index, mask) in flips {
            let at = index.index(payload.len());
            payload[at] ^= mask;
        }
        let mut out = Vec::new();
        // Either an error or (rarely) a different valid stream of the right length: never a panic.
        if codec.decompress(&payload, input.len(), &mut out).is_ok() {
            prop_assert_eq!(out.len(), input.len());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let _ = decompress_block(&bytes, &mut Vec::new());
    }
}
