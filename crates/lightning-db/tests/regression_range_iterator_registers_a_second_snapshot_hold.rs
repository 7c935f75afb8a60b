//! Regression: every end of an `Iter` registered a hold of its own on the snapshot timestamp
//! (the registry mutex and a `BTreeMap` update when it was made, again when it was dropped),
//! although the iterator already keeps its snapshot alive — a fixed cost on every short
//! `range(..).take(n)`. The ends now hold the shared snapshot itself; the view stays
//! consistent (and held down against garbage collection) after the `Snapshot` handle is
//! dropped.

use lightning_db::{Config, Database, Durability};

fn live_snapshots(db: &Database) -> u64 {
    db.stats().unwrap().transactions.live_snapshots
}

fn open_with_keys(dir: &std::path::Path) -> Database {
    let db = Database::open(dir, Config::default().durability(Durability::None)).unwrap();
    for i in 0..100u32 {
        db.put(format!("k{i:03}"), format!("v{i}")).unwrap();
    }
    db
}

#[test]
fn a_range_iterator_holds_its_snapshot_without_a_second_registration() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_with_keys(dir.path());
    assert_eq!(live_snapshots(&db), 0);

    let mut iter = db.range("k010".."k020").unwrap();
    assert_eq!(iter.next().unwrap().unwrap().0, b"k010");
    assert_eq!(live_snapshots(&db), 1, "db.range: one registration for the whole iterator");
    assert_eq!(iter.next_back().unwrap().unwrap().0, b"k019");
    assert_eq!(live_snapshots(&db), 1, "both ends open: still one registration");
    drop(iter);
    assert_eq!(live_snapshots(&db), 0);

    let snapshot = db.snapshot().unwrap();
    let mut iter = snapshot.range("k050"..).unwrap();
    assert_eq!(iter.next().unwrap().unwrap().0, b"k050");
    assert_eq!(live_snapshots(&db), 1, "Snapshot::range: the snapshot's registration only");
    drop(iter);
    assert_eq!(live_snapshots(&db), 1);
    drop(snapshot);
    assert_eq!(live_snapshots(&db), 0);
}

#[test]
fn an_iterator_outliving_its_snapshot_handle_keeps_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_with_keys(dir.path());
    let snapshot = db.snapshot().unwrap();
    let mut iter = snapshot.range::<&str>(..).unwrap();
    assert_eq!(iter.next().unwrap().unwrap(), (b"k000".to_vec(), b"v0".to_vec()));
    drop(snapshot);
    assert_eq!(live_snapshots(&db), 1, "the iterator still holds the view down");
    for i in 0..100u32 {
        db.put(format!("k{i:03}"), "new").unwrap();
    }
    db.delete("k050").unwrap();
    let rest: Vec<_> = iter.map(Result::unwrap).collect();
    assert_eq!(rest.len(), 99);
    for (n, (key, value)) in rest.iter().enumerate() {
        let i = n + 1;
        assert_eq!(key, format!("k{i:03}").as_bytes());
        assert_eq!(value, format!("v{i}").as_bytes(), "the view as of the snapshot");
    }
    assert_eq!(live_snapshots(&db), 0);
}
