//! `get_or_load` under concurrency: threads hammering overlapping keys load each key once per
//! residency, never deadlock, and keep the counters consistent; errors and panics of a
//! loader reach every waiter; a key invalidated or inserted during its load is not cached.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use lightning_cache::{ArcCache, CacheConfig};

type Cache = ArcCache<(u64, u64), u64>;

const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread and fails the test if it does not finish by the deadline
/// (a deadlock shows up as this failure, not as a hung test run).
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).expect("the test thread is waiting"));
    rx.recv_timeout(DEADLINE).expect("the run finished in time (no deadlock)")
}

/// Polls `condition` until it holds or the deadline passes.
fn wait_until(condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < DEADLINE, "condition not reached in time");
        thread::sleep(Duration::from_millis(1));
    }
}

/// `threads` threads each look up `rounds` times every key in `0..keys` (half of them in the
/// same order, so that they miss the same key at the same moment, half in another order).
/// Returns the loads per key and the number of calls.
fn hammer(cache: &Arc<Cache>, threads: usize, keys: u64, rounds: usize) -> (Vec<u32>, u64) {
    let loads: Arc<Vec<AtomicU32>> = Arc::new((0..keys).map(|_| AtomicU32::new(0)).collect());
    let loading: Arc<Vec<AtomicBool>> =
        Arc::new((0..keys).map(|_| AtomicBool::new(false)).collect());
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (cache, loads, loading, barrier) =
                (cache.clone(), loads.clone(), loading.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                for round in 0..rounds {
                    for i in 0..keys {
                        let k = if t % 2 == 0 { i } else { (i * 7 + round as u64) % keys };
                        let key = (k % 3, k);
                        let value = cache
                            .get_or_load(&key, || {
                                assert!(
                                    !loading[k as usize].swap(true, Ordering::SeqCst),
                                    "two loads of {k} at once"
                                );
                                assert!(!cache.contains(&key), "{k} loaded while resident");
                                loads[k as usize].fetch_add(1, Ordering::SeqCst);
                                thread::yield_now(); // widen the window for other missers
                                loading[k as usize].store(false, Ordering::SeqCst);
                                Ok::<_, String>((k * 10, 64))
                            })
                            .unwrap();
                        assert_eq!(*value, k * 10);
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a hammering thread panicked");
    }
    let loads = loads.iter().map(|l| l.load(Ordering::SeqCst)).collect();
    (loads, (threads * rounds) as u64 * keys)
}

#[test]
fn every_key_is_loaded_exactly_once_when_everything_fits() {
    let cache = Arc::new(Cache::new(CacheConfig::new(1 << 20).with_shards(4)).unwrap());
    let c = cache.clone();
    let (loads, calls) = bounded(move || hammer(&c, 4, 2_000, 3));
    assert!(
        loads.iter().all(|&n| n == 1),
        "loads per key: {:?}",
        loads.iter().filter(|&&n| n != 1).count()
    );
    let s = cache.stats().total;
    assert_eq!(s.hits + s.misses, calls, "every call counted once");
    assert_eq!(s.loads, 2_000);
    assert_eq!(s.misses, s.loads + s.load_waits, "a miss either loads or waits");
    assert_eq!((s.entries, s.evictions, s.rejected), (2_000, 0, 0));
    cache.check_invariants().unwrap();
}

#[test]
fn a_small_cache_loads_once_per_residency_and_stays_consistent() {
    // 200 keys of 64 bytes over 4 KiB: constant eviction and reloading.
    let cache = Arc::new(Cache::new(CacheConfig::new(4_096).with_shards(2)).unwrap());
    let c = cache.clone();
    let (loads, calls) = bounded(move || hammer(&c, 3, 200, 20));
    let s = cache.stats().total;
    assert_eq!(s.hits + s.misses, calls);
    assert_eq!(s.loads, loads.iter().map(|&n| u64::from(n)).sum::<u64>());
    assert_eq!(s.misses, s.loads + s.load_waits);
    assert!(s.evictions > 0 && s.loads > 200, "the keys were evicted and reloaded");
    assert!(s.resident_bytes <= 4_096);
    cache.check_invariants().unwrap();
}

#[test]
fn waiters_share_one_load_and_its_error_which_is_not_cached() {
    let cache = Arc::new(Cache::new(CacheConfig::new(1 << 16).with_shards(1)).unwrap());
    let key = (1, 1);
    let errors = bounded({
        let cache = cache.clone();
        move || {
            let calls: Vec<_> = (0..4)
                .map(|_| {
                    let cache = cache.clone();
                    thread::spawn(move || {
                        cache.get_or_load(&key, || {
                            // The loader waits until the three other threads wait for it.
                            wait_until(|| cache.stats().total.load_waits == 3);
                            Err::<(u64, usize), _>(format!("bad checksum in page {}", key.1))
                        })
                    })
                })
                .collect();
            calls.into_iter().map(|h| h.join().unwrap().unwrap_err()).collect::<Vec<_>>()
        }
    });
    assert!(errors.iter().all(|e| Arc::ptr_eq(e, &errors[0])), "every caller got the same error");
    assert_eq!(*errors[0], "bad checksum in page 1");
    assert!(!cache.contains(&key), "an error is not cached");
    let s = cache.stats().total;
    assert_eq!((s.loads, s.load_waits, s.load_failures, s.misses), (1, 3, 1, 4));

    let value = cache.get_or_load(&key, || Ok::<_, String>((5, 8))).unwrap();
    assert_eq!((*value, cache.stats().total.loads), (5, 2), "the next call loads again");
}

#[test]
fn a_panicking_loader_hands_the_load_to_a_waiter() {
    let cache = Arc::new(Cache::new(CacheConfig::new(1 << 16).with_shards(1)).unwrap());
    let key = (2, 9);
    let results = bounded({
        let cache = cache.clone();
        move || {
            let panicker = {
                let cache = cache.clone();
                thread::spawn(move || {
                    cache.get_or_load(&key, || -> Result<(u64, usize), String> {
                        wait_until(|| cache.stats().total.load_waits == 2);
                        panic!("loader crashed");
                    })
                })
            };
            wait_until(|| cache.stats().total.loads == 1);
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let cache = cache.clone();
                    thread::spawn(move || {
                        cache.get_or_load(&key, || Ok::<_, String>((99, 8))).map(|v| *v)
                    })
                })
                .collect();
            assert!(panicker.join().is_err(), "the panic propagates to the loader's caller");
            waiters.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
        }
    });
    assert_eq!(results, [Ok(99), Ok(99)]);
    let s = cache.stats().total;
    assert_eq!(s.loads, 2, "one waiter took over the load");
    assert_eq!(s.hits + s.misses, 3);
    assert!(cache.contains(&key));
}

#[test]
fn a_key_invalidated_or_replaced_during_its_load_keeps_the_loaded_value_out() {
    let cache = Arc::new(Cache::new(CacheConfig::new(1 << 16).with_shards(1)).unwrap());
    for (key, interfere) in [((3, 1), 0), ((3, 2), 1), ((3, 3), 2)] {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let loader = {
            let cache = cache.clone();
            thread::spawn(move || {
                cache.get_or_load(&key, move || {
                    release_rx.recv().unwrap();
                    Ok::<_, String>((1, 8))
                })
            })
        };
        wait_until(|| cache.stats().total.loads as usize == interfere + 1);
        match interfere {
            0 => assert_eq!(cache.invalidate_file(3), 0),
            1 => assert_eq!(cache.remove(&key), None),
            _ => assert!(cache.insert(key, 2, 8)),
        }
        release_tx.send(()).unwrap();
        assert_eq!(*loader.join().unwrap().unwrap(), 1, "the caller still gets what it loaded");
        let cached = cache.get(&key).map(|v| *v);
        let expected = if interfere == 2 { Some(2) } else { None };
        assert_eq!(cached, expected, "the stale load did not land in the cache");
    }
}

#[test]
fn a_loader_asking_for_its_own_key_panics_instead_of_deadlocking() {
    let cache = Cache::new(CacheConfig::new(1 << 16).with_shards(1)).unwrap();
    let key = (4, 4);
    let reentered = catch_unwind(AssertUnwindSafe(|| {
        cache.get_or_load(&key, || {
            cache.get_or_load(&key, || Ok::<_, String>((1, 8))).map(|v| (*v, 8))
        })
    }));
    assert!(reentered.is_err());
    assert_eq!(
        *cache.get_or_load(&key, || Ok::<_, String>((7, 8))).unwrap(),
        7,
        "the slot was cleaned up"
    );
}
