//! The facade's data operations on every engine: put/get/delete, ranges in both directions,
//! prefixes, batches, limits.

mod common;

use std::ops::ControlFlow;

use common::{ENGINES, collect, keys_of, temp_db};
use lightning_db::{Error, MAX_KEY_LEN, MAX_VALUE_LEN, WriteBatch};

#[test]
fn put_get_delete_and_empty_values() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        assert_eq!(db.get(b"missing").unwrap(), None);
        db.put(b"k", b"v").unwrap();
        assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
        db.put(b"k", b"v2").unwrap();
        assert_eq!(db.get(b"k").unwrap().unwrap(), b"v2");
        db.put(b"empty", b"").unwrap();
        assert_eq!(db.get(b"empty").unwrap(), Some(Vec::new()), "the empty value is a value");
        db.delete(b"k").unwrap();
        assert_eq!(db.get(b"k").unwrap(), None);
        db.delete(b"never-existed").unwrap();
        db.put(b"", b"empty key").unwrap();
        assert_eq!(db.get(b"").unwrap().unwrap(), b"empty key");
        db.put(vec![0u8, 255, 0], vec![255u8, 0]).unwrap();
        assert_eq!(db.get([0u8, 255, 0]).unwrap().unwrap(), vec![255u8, 0]);
    }
}

#[test]
fn ranges_prefixes_and_reverse_iteration() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        for key in ["a", "b", "c", "d", "e", "user:1", "user:2", "user:3", "v"] {
            db.put(key, format!("value-{key}")).unwrap();
        }
        let r = collect(db.range(b"b".to_vec()..b"e".to_vec()).unwrap());
        assert_eq!(keys_of(&r), ["b", "c", "d"]);
        assert_eq!(r[0].1, b"value-b");
        let r = collect(db.range(b"b".to_vec()..=b"e".to_vec()).unwrap().rev());
        assert_eq!(keys_of(&r), ["e", "d", "c", "b"]);
        let r = collect(db.range(b"user:".to_vec()..).unwrap());
        assert_eq!(keys_of(&r), ["user:1", "user:2", "user:3", "v"]);
        let r = collect(db.range(..b"c".to_vec()).unwrap());
        assert_eq!(keys_of(&r), ["a", "b"]);
        let r = collect(db.prefix(b"user:").unwrap().rev());
        assert_eq!(keys_of(&r), ["user:3", "user:2", "user:1"]);
        assert_eq!(collect(db.iter().unwrap()).len(), 9);
        assert!(collect(db.prefix(b"nothing").unwrap()).is_empty());
        // Mixing both ends yields each entry exactly once.
        let mut iter = db.iter().unwrap();
        let mut seen = Vec::new();
        loop {
            let front = iter.next().map(|kv| kv.unwrap().0);
            let back = iter.next_back().map(|kv| kv.unwrap().0);
            if front.is_none() && back.is_none() {
                break;
            }
            seen.extend(front);
            seen.extend(back);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9, "double-ended iteration meets in the middle");
    }
}

#[test]
fn snapshot_scan_with_lends_what_range_yields_and_stops_when_told() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        let other = db.keyspace("other").unwrap();
        other.put("b-other", "not in the default keyspace").unwrap();
        for i in 0..2_000u32 {
            db.put(format!("k{i:05}"), format!("value-{i}")).unwrap();
        }
        db.put("empty", "").unwrap();
        db.delete("k00007").unwrap();
        let snapshot = db.snapshot().unwrap();
        db.put("k00008", "written after the snapshot").unwrap();
        let mut lent = Vec::new();
        snapshot
            .scan_with(b"k00005".to_vec().., |key, value| {
                lent.push((key.to_vec(), value.to_vec()));
                ControlFlow::Continue(())
            })
            .unwrap();
        let iterated = collect(snapshot.range(b"k00005".to_vec()..).unwrap());
        assert_eq!(lent, iterated, "scan_with lends exactly what the iterator yields");
        assert_eq!(lent.len(), 2_000 - 5 - 1, "the deleted key is skipped");
        assert_eq!(lent[2], (b"k00008".to_vec(), b"value-8".to_vec()), "the snapshot's view");
        let mut all = 0;
        snapshot
            .scan_with::<&[u8]>(.., |_, _| {
                all += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(all, 2_000, "the default keyspace only, the empty value included");
        let mut first = Vec::new();
        snapshot
            .scan_with(b"k01000".to_vec()..b"k01100".to_vec(), |key, _| {
                first.push(key.to_vec());
                if first.len() == 10 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })
            .unwrap();
        let expected: Vec<Vec<u8>> =
            (1000..1010).map(|i| format!("k{i:05}").into_bytes()).collect();
        assert_eq!(first, expected, "stops when told");
    }
}

#[test]
fn iterators_see_a_consistent_view() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        for i in 0..100u32 {
            db.put(format!("k{i:03}"), b"old").unwrap();
        }
        let iter = db.iter().unwrap();
        let mut later = db.iter().unwrap();
        let first = later.next().unwrap().unwrap();
        for i in 0..100u32 {
            db.put(format!("k{i:03}"), b"new").unwrap();
            db.put(format!("k{i:03}x"), b"inserted").unwrap();
        }
        let all = collect(iter);
        assert_eq!(all.len(), 100, "no new keys in an iterator opened before them");
        assert!(all.iter().all(|(_, v)| v == b"old"), "no new values either");
        assert_eq!(first.1, b"old");
        assert!(later.all(|kv| kv.unwrap().1 == b"old"));
    }
}

#[test]
fn write_batches_are_atomic_and_validated() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        db.put(b"b", b"old").unwrap();
        let mut batch = WriteBatch::new();
        batch.put(b"a", b"1").put(b"c", b"3").delete(b"b");
        assert_eq!(batch.len(), 3);
        db.write(batch).unwrap();
        assert_eq!(keys_of(&collect(db.iter().unwrap())), ["a", "c"]);
        let mut bad = WriteBatch::new();
        bad.put(b"d", b"4").put(vec![b'x'; MAX_KEY_LEN + 1], b"too long");
        assert!(db.write(bad).is_err(), "a batch with a bad entry is refused whole");
        assert_eq!(db.get(b"d").unwrap(), None, "nothing of it was applied");
        db.write(WriteBatch::new()).unwrap();
    }
}

#[test]
fn key_and_value_limits() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        let key = vec![b'k'; MAX_KEY_LEN];
        db.put(&key, b"v").unwrap();
        assert_eq!(db.get(&key).unwrap().unwrap(), b"v");
        let err = db.put(vec![b'k'; MAX_KEY_LEN + 1], b"v").unwrap_err();
        assert!(matches!(err, Error::KeyTooLarge { max, .. } if max == MAX_KEY_LEN), "{err}");
        let value: Vec<u8> = (0..MAX_VALUE_LEN).map(|i| (i % 251) as u8).collect();
        db.put(b"big", &value).unwrap();
        assert_eq!(db.get(b"big").unwrap().unwrap(), value);
        let err = db.put(b"bigger", vec![0u8; MAX_VALUE_LEN + 1]).unwrap_err();
        assert!(matches!(err, Error::ValueTooLarge { .. }), "{err}");
        assert!(err.to_string().contains("exceeds the maximum"));
    }
}
