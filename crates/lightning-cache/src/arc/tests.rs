//! Unit tests of one shard's ARC: the paper's cases, byte sizes, pinning and removal.

use std::sync::Arc;

use super::{ArcCore, B1, B2, T1, T2};

/// Keys are their own hash here: the core does not hash.
fn insert(core: &mut ArcCore<u64, u64>, key: u64, size: usize) -> bool {
    core.insert(key, key, Arc::new(key), size)
}

fn get(core: &mut ArcCore<u64, u64>, key: u64) -> Option<u64> {
    core.get(key, &key).map(|v| *v)
}

fn list_of(core: &ArcCore<u64, u64>, key: u64) -> Option<usize> {
    core.find(key, &key).map(|idx| core.slab.list_of(idx))
}

#[test]
fn first_insert_goes_to_t1_and_a_hit_promotes_to_t2() {
    let mut core = ArcCore::new(100);
    assert!(insert(&mut core, 1, 10));
    assert_eq!(list_of(&core, 1), Some(T1));
    assert_eq!(get(&mut core, 1), Some(1));
    assert_eq!(list_of(&core, 1), Some(T2));
    assert_eq!(get(&mut core, 2), None);
    core.check_invariants().unwrap();
}

#[test]
fn t1_victims_become_b1_ghosts_and_t2_victims_b2_ghosts() {
    let mut core = ArcCore::new(30);
    for key in 0..3 {
        insert(&mut core, key, 10);
        get(&mut core, key); // T2 = {0, 1, 2}
    }
    insert(&mut core, 3, 10); // T1 empty: T2's LRU (key 0) becomes a ghost
    assert_eq!(list_of(&core, 0), Some(B2));
    assert_eq!(get(&mut core, 0), None, "a ghost is not a hit");
    insert(&mut core, 4, 10); // |T1| > p = 0: T1's LRU (key 3) becomes a ghost
    assert_eq!(list_of(&core, 3), Some(B1));
    assert_eq!(core.counters.evictions, 2);
    assert_eq!(core.remove(0, &0), None, "removing a ghost returns nothing");
    assert_eq!(list_of(&core, 0), None, "but forgets it");
    core.check_invariants().unwrap();
}

#[test]
fn t1_alone_full_drops_its_lru_without_a_ghost() {
    // ARC case IV(A) with |T1| = c: one-time keys leave no ghosts behind.
    let mut core = ArcCore::new(30);
    for key in 0..10 {
        insert(&mut core, key, 10);
    }
    let s = core.stats();
    assert_eq!((s.t1_bytes, s.ghost_entries, s.evictions), (30, 0, 7));
    core.check_invariants().unwrap();
}

#[test]
fn b1_ghost_hit_grows_p_and_b2_ghost_hit_shrinks_it() {
    let mut core = ArcCore::new(30);
    for key in 0..3 {
        insert(&mut core, key, 10);
        get(&mut core, key);
    }
    insert(&mut core, 3, 10); // key 0 -> B2
    insert(&mut core, 4, 10); // key 3 -> B1
    assert_eq!((list_of(&core, 0), list_of(&core, 3)), (Some(B2), Some(B1)));
    assert_eq!(core.target_t1, 0);

    insert(&mut core, 3, 10);
    assert_eq!(list_of(&core, 3), Some(T2), "a re-inserted ghost is frequent");
    assert_eq!(core.target_t1, 10, "a B1 ghost hit grows p by its size (|B2| = |B1|)");
    assert_eq!(core.counters.ghost_hits_b1, 1);

    insert(&mut core, 0, 10);
    assert_eq!(list_of(&core, 0), Some(T2));
    assert_eq!(core.target_t1, 0, "a B2 ghost hit shrinks p");
    assert_eq!(core.counters.ghost_hits_b2, 1);
    core.check_invariants().unwrap();
}

#[test]
fn capacity_is_in_bytes_and_oversized_entries_are_refused() {
    let mut core = ArcCore::new(100);
    assert!(insert(&mut core, 1, 60));
    assert!(insert(&mut core, 2, 60), "evicts key 1 to fit");
    assert!(!core.contains(1, &1));
    assert_eq!(core.resident_bytes(), 60);
    assert!(!insert(&mut core, 3, 101), "larger than the whole shard");
    assert!(insert(&mut core, 4, 0), "size 0 counts as 1 byte");
    assert_eq!(core.resident_bytes(), 61);
    // Replacing key 2 with a version too large removes the stale one.
    assert!(!core.insert(2, 2, Arc::new(22), 1000));
    assert!(!core.contains(2, &2));
    assert_eq!(core.counters.rejected, 2);
    core.check_invariants().unwrap();
}

#[test]
fn replacing_a_value_changes_its_size_and_value() {
    let mut core = ArcCore::new(100);
    insert(&mut core, 1, 10);
    assert!(core.insert(1, 1, Arc::new(11), 50));
    assert_eq!(get(&mut core, 1), Some(11));
    assert_eq!(core.resident_bytes(), 50);
    assert_eq!(core.len(), 1);
    core.check_invariants().unwrap();
}

#[test]
fn pinned_entries_are_skipped_and_an_all_pinned_shard_refuses() {
    let mut core = ArcCore::new(30);
    for key in 0..3 {
        insert(&mut core, key, 10);
    }
    let pin0 = core.get(0, &0).unwrap(); // keys 0 and 1 move to T2, pinned
    let pin1 = core.get(1, &1).unwrap();
    assert!(insert(&mut core, 3, 10), "key 2 is unpinned and goes");
    assert!(core.contains(0, &0) && core.contains(1, &1));
    assert!(!core.contains(2, &2));
    let pin3 = core.get(3, &3).unwrap();
    assert!(!insert(&mut core, 4, 10), "every resident entry is pinned");
    assert_eq!(core.resident_bytes(), 30, "capacity is not exceeded");
    drop((pin0, pin3));
    assert!(insert(&mut core, 4, 10), "unpinned entries can go again");
    assert!(core.contains(1, &1), "key 1 is still pinned");
    drop(pin1);
    core.check_invariants().unwrap();
}

#[test]
fn remove_and_remove_if_forget_residents_and_ghosts() {
    let mut core = ArcCore::new(30);
    for key in 0..3 {
        insert(&mut core, key, 10);
    }
    get(&mut core, 0);
    for key in 3..6 {
        insert(&mut core, key, 10);
    }
    // T2 = {0}, T1 = {4, 5}, B1 = {3}.
    assert_eq!(list_of(&core, 3), Some(B1));
    assert_eq!(core.remove(4, &4).map(|v| *v), Some(4));
    assert_eq!(core.remove_if(|k| k % 2 == 1), 1, "resident 5 goes, and ghost 3 too");
    assert_eq!(list_of(&core, 3), None);
    assert_eq!(core.counters.removals, 2);
    core.clear();
    assert_eq!((core.len(), core.resident_bytes(), core.target_t1), (0, 0, 0));
    core.check_invariants().unwrap();
}

#[test]
fn ghost_directory_stays_within_twice_the_capacity() {
    let mut core = ArcCore::new(50);
    for key in 0..1000 {
        insert(&mut core, key, 1 + (key as usize % 7));
        if key % 3 == 0 {
            get(&mut core, key / 2);
        }
        let s = core.stats();
        assert!(s.resident_bytes <= 50);
        assert!(s.t1_bytes + s.b1_bytes <= 50);
        assert!(s.resident_bytes + s.b1_bytes + s.b2_bytes <= 100);
    }
    assert!(core.stats().ghost_entries > 0);
    assert!(core.slab.len(B2) + core.slab.len(B1) <= 100);
    core.check_invariants().unwrap();
}
