//! Lazy freeing: dropping big values and whole databases on a background thread.
//!
//! Freeing a collection with millions of elements takes as long as building it, and the shard thread
//! must not stall for that. Values taken out of the keyspace (`OwnedValue`) and emptied databases
//! (`DbContents`) are `Send`, so UNLINK, FLUSHALL/FLUSHDB ASYNC (and, with the `lazyfree-lazy-*`
//! directives, DEL, flushes, overwrites and expiry) hand them to this thread instead of dropping them.
//!
//! Redis's rule decides per value: free in the background only when the *free effort* (roughly the number
//! of allocations to release) exceeds 64; below that, queueing costs more than freeing. A whole database
//! always goes to the thread. The counters are Redis's `lazyfree_pending_objects` (handed over, not yet
//! freed) and `lazyfreed_objects` (freed by the thread since start); a database counts as its number of
//! keys.
//!
//! The thread is started on first use, so servers and tests that never free lazily do not pay for it. It
//! ends when the sender is dropped, after draining what was queued.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use crate::storage::{DbContents, OwnedValue};

/// Above this free effort a value is freed in the background (Redis's `LAZYFREE_THRESHOLD`).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// Roughly how many allocations freeing `value` releases. Strings are one allocation; a collection counts
/// its elements (or nodes) unless it is in a compact single-allocation encoding.
pub fn free_effort(value: &OwnedValue) -> usize {
    match value {
        OwnedValue::Int(_) | OwnedValue::Str(..) => 1,
        OwnedValue::Obj(o) => o.free_effort(),
    }
}

enum Job {
    Value(OwnedValue),
    Db(DbContents, u64),
    /// Answered once everything queued before it is freed (tests, shutdown).
    Barrier(mpsc::Sender<()>),
}

#[derive(Default)]
struct Counters {
    pending: AtomicU64,
    freed: AtomicU64,
}

/// The shard's handle on the lazy-free thread.
#[derive(Default)]
pub struct LazyFree {
    counters: Arc<Counters>,
    tx: Option<mpsc::Sender<Job>>,
}

// Both kinds of job cross to the free thread.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<OwnedValue>();
    assert_send::<DbContents>();
};

impl LazyFree {
    pub fn new() -> LazyFree {
        LazyFree::default()
    }

    /// Objects handed over and not yet freed (`lazyfree_pending_objects`).
    pub fn pending_objects(&self) -> u64 {
        self.counters.pending.load(Ordering::Relaxed)
    }

    /// Objects the thread has freed since start (`lazyfreed_objects`).
    pub fn freed_objects(&self) -> u64 {
        self.counters.freed.load(Ordering::Relaxed)
    }

    /// Free a value taken out of the keyspace: in the background when it is big enough to be worth it,
    /// at once otherwise. Returns whether it went to the background.
    pub fn free_value(&mut self, value: OwnedValue) -> bool {
        if free_effort(&value) <= LAZYFREE_THRESHOLD {
            drop(value);
            return false;
        }
        self.counters.pending.fetch_add(1, Ordering::Relaxed);
        self.send(Job::Value(value));
        true
    }

    /// Free a value as the `lazy` flag says (a `lazyfree-lazy-*` directive or an explicit ASYNC).
    pub fn free(&mut self, value: OwnedValue, lazy: bool) {
        if lazy {
            self.free_value(value);
        }
    }

    /// Free an emptied database holding `keys` keys in the background.
    pub fn free_db(&mut self, contents: DbContents, keys: u64) {
        if keys == 0 {
            return;
        }
        self.counters.pending.fetch_add(keys, Ordering::Relaxed);
        self.send(Job::Db(contents, keys));
    }

    /// Wait until everything handed over so far has been freed.
    pub fn wait_idle(&mut self) {
        if self.tx.is_none() {
            return;
        }
        let (done_tx, done_rx) = mpsc::channel();
        self.send(Job::Barrier(done_tx));
        let _ = done_rx.recv();
    }

    fn send(&mut self, job: Job) {
        let tx = self.tx.get_or_insert_with(|| spawn(Arc::clone(&self.counters)));
        if let Err(mpsc::SendError(job)) = tx.send(job) {
            // The thread is gone (it only ends when we drop the sender, so this is a spawn failure):
            // free here rather than lose the counters' balance.
            self.tx = None;
            run(job, &self.counters);
        }
    }
}

fn spawn(counters: Arc<Counters>) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let started = std::thread::Builder::new().name("lazyfree".into()).spawn(move || {
        for job in rx {
            run(job, &counters);
        }
    });
    if let Err(e) = started {
        crate::log_warning!("Can't start the lazy free thread: {e}; freeing inline");
    }
    tx
}

fn run(job: Job, counters: &Counters) {
    let n = match job {
        Job::Value(v) => {
            drop(v);
            1
        }
        Job::Db(contents, keys) => {
            drop(contents);
            keys
        }
        Job::Barrier(done) => {
            let _ = done.send(());
            return;
        }
    };
    counters.pending.fetch_sub(n, Ordering::Relaxed);
    counters.freed.fetch_add(n, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Db, NewValue};

    #[test]
    fn strings_free_inline() {
        let mut lf = LazyFree::new();
        assert!(!lf.free_value(OwnedValue::Str(b"x".to_vec(), crate::storage::StrEncoding::Raw)));
        assert!(lf.tx.is_none(), "no thread for inline frees");
        assert_eq!((lf.pending_objects(), lf.freed_objects()), (0, 0));
    }

    #[test]
    fn databases_are_freed_in_the_background_and_counted_by_keys() {
        let mut lf = LazyFree::new();
        let mut db = Db::new();
        for i in 0..1000 {
            db.insert(format!("k{i}").as_bytes(), NewValue::Int(i), None, 0);
        }
        let n = db.len() as u64;
        lf.free_db(db.clear(), n);
        lf.free_db(Db::new().clear(), 0);
        lf.wait_idle();
        assert_eq!(lf.pending_objects(), 0);
        assert_eq!(lf.freed_objects(), 1000);
    }
}
