//! Every page read is verified: any flipped byte, a misdirected page, a zeroed page, a sealed
//! page moved to another place or file, all are `Corruption`, never a panic or wrong data.

use lightning_core_storage::{
    FileId, Lsn, PageId,
    page::{PageFormat, PageSize, PageType},
};
use lightning_security::DataKey;

fn sample(format: &PageFormat, id: u64) -> Vec<u8> {
    let mut page = format.new_page(PageType(20), PageId(id));
    page.set_lsn(Lsn(99));
    for (i, b) in page.body_mut().iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    let mut bytes = Vec::new();
    format.encode(&page, &mut bytes).unwrap();
    bytes
}

#[test]
fn plain_page_roundtrips() {
    for size in PageSize::all() {
        let format = PageFormat::plain(size);
        assert_eq!(format.body_len(), size.bytes() - 32, "plain pages pay no envelope");
        let bytes = sample(&format, 5);
        assert_eq!(bytes.len(), size.bytes());
        let page = format.decode(bytes, PageId(5), "test").unwrap();
        assert_eq!(page.page_type(), PageType(20));
        assert_eq!(page.lsn(), Lsn(99));
        assert_eq!(page.body()[7], 49);
    }
}

#[test]
fn every_flipped_byte_of_a_plain_page_is_detected() {
    let format = PageFormat::plain(PageSize::DEFAULT);
    let good = sample(&format, 3);
    for offset in 0..good.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = good.clone();
            bad[offset] ^= mask;
            let err = format.decode(bad, PageId(3), "data.db").unwrap_err();
            assert!(err.is_corruption(), "offset {offset}: {err}");
            assert!(err.to_string().contains("data.db page 3"), "names the page: {err}");
        }
    }
}

#[test]
fn misdirected_zeroed_and_short_pages_are_rejected() {
    let format = PageFormat::plain(PageSize::DEFAULT);
    let err = format.decode(sample(&format, 3), PageId(4), "f").unwrap_err();
    assert!(err.to_string().contains("claims to be page 3"), "{err}");
    let err = format.decode(vec![0; 4096], PageId(4), "f").unwrap_err();
    assert!(err.to_string().contains("all zeros"), "{err}");
    let err = format.decode(vec![0; 100], PageId(4), "f").unwrap_err();
    assert!(err.is_corruption(), "{err}");
}

#[test]
fn sealed_pages_roundtrip_and_detect_tampering() {
    let key = DataKey::generate().unwrap();
    let format = PageFormat::encrypted(PageSize::DEFAULT, key.clone(), FileId(1));
    assert_eq!(format.body_len(), 4096 - 32 - 40, "sealed pages spend 40 bytes on the envelope");
    let good = sample(&format, 8);
    let body_plain = format.new_page(PageType(20), PageId(8));
    assert_ne!(&good[32 + 24..32 + 24 + 64], &body_plain.body()[..64], "body is not in the clear");
    let page = format.decode(good.clone(), PageId(8), "f").unwrap();
    assert_eq!(page.body()[7], 49);
    // Every byte of header, nonce, ciphertext and tag matters (sampled every 13 bytes).
    for offset in (0..good.len()).step_by(13) {
        let mut bad = good.clone();
        bad[offset] ^= 0x04;
        assert!(format.decode(bad, PageId(8), "f").unwrap_err().is_corruption(), "offset {offset}");
    }
}

#[test]
fn sealed_page_is_bound_to_its_file_and_place() {
    let key = DataKey::generate().unwrap();
    let format = PageFormat::encrypted(PageSize::DEFAULT, key.clone(), FileId(1));
    let other_file = PageFormat::encrypted(PageSize::DEFAULT, key.clone(), FileId(2));
    let bytes = sample(&format, 8);
    let err = other_file.decode(bytes.clone(), PageId(8), "f").unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");
    let wrong_key =
        PageFormat::encrypted(PageSize::DEFAULT, DataKey::generate().unwrap(), FileId(1));
    assert!(wrong_key.decode(bytes.clone(), PageId(8), "f").unwrap_err().is_corruption());
    // A page moved to another slot (header patched and checksum recomputed, as an attacker
    // would) still fails: the page id is in the associated data.
    let mut moved = bytes;
    moved[16..24].copy_from_slice(&9u64.to_le_bytes());
    let checksum = xxhash_rust::xxh3::xxh3_64(&moved[8..]);
    moved[..8].copy_from_slice(&checksum.to_le_bytes());
    assert!(format.decode(moved, PageId(9), "f").unwrap_err().is_corruption());
}

#[test]
fn plain_and_sealed_pages_are_not_interchangeable() {
    let key = DataKey::generate().unwrap();
    let sealed = PageFormat::encrypted(PageSize::DEFAULT, key, FileId(1));
    let plain = PageFormat::plain(PageSize::DEFAULT);
    let err = sealed.decode(sample(&plain, 2), PageId(2), "f").unwrap_err();
    assert!(err.to_string().contains("plain page in an encrypted file"), "{err}");
    let err = plain.decode(sample(&sealed, 2), PageId(2), "f").unwrap_err();
    assert!(err.to_string().contains("encrypted"), "{err}");
}

#[test]
fn page_sizes_are_validated() {
    assert!(PageSize::new(4096).is_ok());
    assert!(PageSize::new(65536).is_ok());
    for bad in [0, 512, 2048, 5000, 131_072] {
        assert!(PageSize::new(bad).is_err(), "{bad}");
    }
}
