//! A pool of page-sized buffers: reuse instead of allocating on the read path.
//!
//! [`BufferPool::acquire`] hands out a [`PooledBuffer`] taken from the pool's idle list, or
//! freshly allocated when the list is empty. Dropping the guard returns the buffer to the
//! idle list if it holds fewer than its cap, and frees it otherwise. The cap bounds the idle
//! memory only: buffers in use belong to their holders (when they are cache values, the
//! cache's capacity bounds them).
//!
//! Contents: [`acquire`](BufferPool::acquire) does not clear a reused buffer, it may still
//! hold the bytes of an earlier page (never uninitialised memory; all of it is safe Rust).
//! Callers that will overwrite the whole buffer, such as a page read, use it; callers that
//! need zeros, or must not see another page's bytes, use
//! [`acquire_zeroed`](BufferPool::acquire_zeroed).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::CacheError;

/// Counters of a [`BufferPool`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers allocated because the idle list was empty.
    pub allocated: u64,
    /// Buffers handed out from the idle list.
    pub reused: u64,
    /// Buffers that came back to the idle list.
    pub returned: u64,
    /// Buffers freed on return because the idle list was full.
    pub discarded: u64,
    /// Buffers in the idle list now.
    pub idle: u64,
    /// Buffers handed out and not yet returned, discarded or detached.
    pub outstanding: u64,
}

#[derive(Debug)]
struct Inner {
    buffer_bytes: usize,
    max_idle: usize,
    /// REQUIRES: a leaf lock (nothing else is locked while holding it).
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    idle: Vec<Box<[u8]>>,
    stats: PoolStats,
}

/// A shared pool of buffers of one size; clones share the pool.
#[derive(Debug, Clone)]
pub struct BufferPool {
    inner: Arc<Inner>,
}

impl BufferPool {
    /// A pool of `buffer_bytes`-sized buffers keeping at most `max_idle_bytes` of idle
    /// buffers (rounded down to whole buffers).
    pub fn new(buffer_bytes: usize, max_idle_bytes: usize) -> Result<Self, CacheError> {
        if buffer_bytes == 0 {
            return Err(CacheError::Zero { what: "buffer_bytes" });
        }
        let max_idle = max_idle_bytes / buffer_bytes;
        let state = Mutex::new(State { idle: Vec::new(), stats: PoolStats::default() });
        Ok(Self { inner: Arc::new(Inner { buffer_bytes, max_idle, state }) })
    }

    /// The size of every buffer.
    pub fn buffer_bytes(&self) -> usize {
        self.inner.buffer_bytes
    }

    /// The most idle buffers kept.
    pub fn max_idle_buffers(&self) -> usize {
        self.inner.max_idle
    }

    /// A buffer whose contents are unspecified (see the module doc).
    pub fn acquire(&self) -> PooledBuffer {
        let reused = {
            let mut state = self.inner.state.lock();
            let reused = state.idle.pop();
            let stats = &mut state.stats;
            if reused.is_some() {
                stats.reused += 1;
                stats.idle -= 1;
            } else {
                stats.allocated += 1;
            }
            stats.outstanding += 1;
            reused
        };
        let buf = reused.unwrap_or_else(|| vec![0; self.inner.buffer_bytes].into_boxed_slice());
        debug_assert_eq!(buf.len(), self.inner.buffer_bytes, "a foreign buffer got into the pool");
        PooledBuffer { buf: Some(buf), pool: Arc::clone(&self.inner) }
    }

    /// A buffer filled with zeros.
    pub fn acquire_zeroed(&self) -> PooledBuffer {
        let mut buf = self.acquire();
        buf.fill(0);
        buf
    }

    /// Frees every idle buffer.
    pub fn clear_idle(&self) {
        let idle = {
            let mut state = self.inner.state.lock();
            state.stats.idle = 0;
            std::mem::take(&mut state.idle)
        };
        drop(idle);
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> PoolStats {
        self.inner.state.lock().stats
    }
}

/// A buffer on loan from a [`BufferPool`]; dereferences to `[u8]` and goes back to the pool
/// when dropped.
pub struct PooledBuffer {
    /// `Some` until dropped or detached.
    buf: Option<Box<[u8]>>,
    pool: Arc<Inner>,
}

impl PooledBuffer {
    /// Takes the buffer out of the pool's accounting for good; it is freed normally.
    pub fn detach(mut self) -> Box<[u8]> {
        let buf = self.buf.take().expect("a PooledBuffer holds its buffer until dropped");
        self.pool.state.lock().stats.outstanding -= 1;
        buf
    }
}

impl Deref for PooledBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.buf.as_deref().expect("a PooledBuffer holds its buffer until dropped")
    }
}

impl DerefMut for PooledBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.buf.as_deref_mut().expect("a PooledBuffer holds its buffer until dropped")
    }
}

impl fmt::Debug for PooledBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBuffer").field("len", &self.len()).finish_non_exhaustive()
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let Some(buf) = self.buf.take() else { return };
        let surplus = {
            let mut state = self.pool.state.lock();
            state.stats.outstanding -= 1;
            if state.idle.len() < self.pool.max_idle {
                state.idle.push(buf);
                state.stats.returned += 1;
                state.stats.idle += 1;
                None
            } else {
                state.stats.discarded += 1;
                Some(buf)
            }
        };
        drop(surplus);
    }
}

#[cfg(test)]
mod tests {
    use super::BufferPool;

    #[test]
    fn buffers_are_reused_after_drop() {
        let pool = BufferPool::new(4096, 4 * 4096).unwrap();
        let mut a = pool.acquire();
        assert_eq!(a.len(), 4096);
        a[0] = 0xAB;
        let addr = a.as_ptr();
        drop(a);
        let b = pool.acquire();
        assert_eq!(b.as_ptr(), addr, "the returned buffer is handed out again");
        assert_eq!(b[0], 0xAB, "acquire does not clear a reused buffer");
        let s = pool.stats();
        assert_eq!((s.allocated, s.reused, s.returned, s.outstanding, s.idle), (1, 1, 1, 1, 0));
    }

    #[test]
    fn acquire_zeroed_clears_a_reused_buffer() {
        let pool = BufferPool::new(512, 512).unwrap();
        let mut a = pool.acquire();
        a.fill(7);
        drop(a);
        let b = pool.acquire_zeroed();
        assert_eq!(pool.stats().reused, 1);
        assert!(b.iter().all(|&x| x == 0));
    }

    #[test]
    fn idle_list_is_capped() {
        let pool = BufferPool::new(1024, 2 * 1024 + 100).unwrap();
        assert_eq!(pool.max_idle_buffers(), 2);
        let bufs: Vec<_> = (0..5).map(|_| pool.acquire()).collect();
        assert_eq!(pool.stats().outstanding, 5);
        drop(bufs);
        let s = pool.stats();
        assert_eq!((s.allocated, s.returned, s.discarded, s.idle, s.outstanding), (5, 2, 3, 2, 0));
        pool.clear_idle();
        assert_eq!(pool.stats().idle, 0);
        let _c = pool.acquire();
        assert_eq!(pool.stats().allocated, 6, "a cleared pool allocates again");
    }

    #[test]
    fn detached_buffers_leave_the_pool() {
        let pool = BufferPool::new(64, 1024).unwrap();
        let owned = pool.acquire().detach();
        assert_eq!(owned.len(), 64);
        let s = pool.stats();
        assert_eq!((s.outstanding, s.returned, s.idle), (0, 0, 0));
        assert!(BufferPool::new(0, 1024).is_err(), "zero-sized buffers are refused");
    }

    #[test]
    fn guards_from_clones_and_threads_return_to_one_pool() {
        let pool = BufferPool::new(256, 256 * 8).unwrap();
        std::thread::scope(|s| {
            for _ in 0..2 {
                let pool = pool.clone();
                s.spawn(move || {
                    for _ in 0..1000 {
                        let mut buf = pool.acquire();
                        buf[0] = 1;
                    }
                });
            }
        });
        let s = pool.stats();
        assert_eq!(s.allocated + s.reused, 2000);
        assert!(
            s.allocated <= 2,
            "at most one buffer per thread was ever needed, got {}",
            s.allocated
        );
        assert_eq!(s.outstanding, 0);
    }
}
