//! Access to one database with Redis's policy applied.
//!
//! Expiry: a key whose deadline has passed is logically gone. Every lookup goes through this view, which
//! deletes such a key and records a `DEL` effect in the journal (so AOF and replicas never expire keys on
//! their own clock); a replica only hides it. The active cycle (server cron) merely bounds the memory held
//! by keys nobody reads.
//!
//! Writes bump the dirty counter (persistence and the journal's default effect rely on it).

use crate::journal::Journal;
use crate::server::blocking::Blocking;
use crate::server::core::Stats;
use crate::storage::{Db, EntryMut, EntryRef, NewValue, OwnedValue, ValueRef};

/// Lookup flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Update the key's access clock (reads and writes by commands).
    Yes,
    /// Leave it (`OBJECT`, `TYPE`?, `TTL`... commands that must not disturb LRU/LFU).
    No,
}

/// A view of one database for the duration of a command.
pub struct DbView<'a> {
    pub db: &'a mut Db,
    pub index: usize,
    pub now_ms: i64,
    pub lru_clock: u32,
    pub stats: &'a mut Stats,
    pub journal: &'a mut Journal,
    /// Clients blocked on keys: a collection stored under a key somebody waits for wakes them.
    pub blocking: &'a mut Blocking,
    /// Replicas hide expired keys but leave their deletion to the master.
    pub is_replica: bool,
}

/// How a write treats an existing TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Remove any TTL (plain SET).
    Clear,
    /// Keep the key's TTL (SET KEEPTTL, and in-place updates).
    Keep,
    /// Set this absolute deadline in milliseconds.
    At(i64),
}

impl<'a> DbView<'a> {
    /// If `key` exists but has expired, delete it (as the master) and report true.
    fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let expired = match self.db.get(key) {
            Some(e) => e.expire_at().is_some_and(|t| t <= self.now_ms),
            None => return false,
        };
        if !expired {
            return false;
        }
        if self.is_replica {
            return true;
        }
        self.delete_expired(key);
        true
    }

    /// Delete a key whose TTL passed: counted in `expired_keys`, journaled as `DEL`.
    pub fn delete_expired(&mut self, key: &[u8]) {
        if self.db.remove(key).is_some() {
            self.stats.expired_keys += 1;
            self.journal.also(self.index, &[b"DEL", key]);
        }
    }

    /// Look a key up for reading: hits/misses are counted and the access clock updated.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<EntryRef<'_>> {
        self.lookup_read_flags(key, Touch::Yes, true)
    }

    /// Look a key up for reading, choosing whether to touch it and whether to count hits and misses.
    pub fn lookup_read_flags(&mut self, key: &[u8], touch: Touch, count: bool) -> Option<EntryRef<'_>> {
        if self.expire_if_needed(key) {
            if count {
                self.stats.keyspace_misses += 1;
            }
            return None;
        }
        if touch == Touch::Yes {
            if let Some(mut e) = self.db.get_mut(key) {
                e.set_lru(self.lru_clock);
            }
        }
        match self.db.get(key) {
            Some(e) => {
                if count {
                    self.stats.keyspace_hits += 1;
                }
                Some(e)
            }
            None => {
                if count {
                    self.stats.keyspace_misses += 1;
                }
                None
            }
        }
    }

    /// Look a key up for writing (no hit/miss counting, as in Redis).
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<EntryMut<'_>> {
        self.expire_if_needed(key);
        let lru = self.lru_clock;
        let mut e = self.db.get_mut(key)?;
        e.set_lru(lru);
        Some(e)
    }

    /// Whether a key exists (expired keys do not), without touching it or counting.
    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.lookup_read_flags(key, Touch::No, false).is_some()
    }

    /// The value of an existing live key, without touching it.
    pub fn peek(&mut self, key: &[u8]) -> Option<ValueRef<'_>> {
        self.lookup_read_flags(key, Touch::No, false).map(|e| e.value())
    }

    /// Store a value. Returns the previous value of a live key, if any.
    pub fn set(&mut self, key: &[u8], value: NewValue<'_>, ttl: Ttl) -> Option<OwnedValue> {
        self.expire_if_needed(key);
        let expire = match ttl {
            Ttl::Clear => None,
            Ttl::At(t) => Some(t),
            Ttl::Keep => self.db.get(key).and_then(|e| e.expire_at()),
        };
        self.stats.dirty += 1;
        // Like Redis's dbAdd: a key (re)created with a collection may be what a blocked client waits for.
        if matches!(value, NewValue::Obj(_)) {
            self.blocking.signal(self.index, key);
        }
        self.db.insert(key, value, expire, self.lru_clock)
    }

    /// Wake clients blocked on `key` if it now holds what they wait for (a push into an existing key
    /// that was empty-and-deleted is covered by `set`; this is for handlers that refill a key in place).
    #[inline]
    pub fn signal_ready(&mut self, key: &[u8]) {
        self.blocking.signal(self.index, key);
    }

    /// Delete a live key. Returns its value.
    pub fn delete(&mut self, key: &[u8]) -> Option<OwnedValue> {
        if self.expire_if_needed(key) {
            return None;
        }
        let (v, _) = self.db.remove(key)?;
        self.stats.dirty += 1;
        Some(v)
    }

    /// Set or clear a live key's TTL. Returns false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<i64>) -> bool {
        match self.lookup_write(key) {
            Some(mut e) => {
                e.set_expire(at);
                self.stats.dirty += 1;
                true
            }
            None => false,
        }
    }

    /// Count a change that happened through an `EntryMut` obtained from `lookup_write`.
    #[inline]
    pub fn mark_dirty(&mut self, n: u64) {
        self.stats.dirty += n;
    }

    pub fn len(&self) -> usize {
        self.db.len()
    }

    pub fn is_empty(&self) -> bool {
        self.db.len() == 0
    }
}
