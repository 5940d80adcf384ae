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

/// Whether a key with deadline `expire_at` is logically gone at `now_ms`. Redis keeps a key alive through
/// the very millisecond of its deadline (`now > when`), while EXPIRE treats a deadline equal to now as
/// already past (`when <= now`, see the expire commands).
#[inline]
pub fn is_expired(expire_at: Option<i64>, now_ms: i64) -> bool {
    expire_at.is_some_and(|t| now_ms > t)
}

/// Redis's LFU bookkeeping in an entry's 24-bit access clock, used when `maxmemory-policy` is an LFU one:
/// the high 16 bits hold the minute of the last decrement, the low 8 a logarithmic access counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lfu {
    pub log_factor: u32,
    /// Minutes per counter decrement (`lfu-decay-time`); 0 never decays.
    pub decay_time: u32,
    /// The current time in minutes, modulo 2^16.
    pub minutes: u32,
}

impl Lfu {
    /// What a new key starts with (Redis's `LFU_INIT_VAL`), so new keys are not evicted at once.
    pub const INIT_VAL: u32 = 5;

    pub fn new_stamp(&self) -> u32 {
        (self.minutes << 8) | Self::INIT_VAL
    }

    /// The counter after decay, without changing anything (`OBJECT FREQ`).
    pub fn decayed_counter(&self, stamp: u32) -> u32 {
        let ldt = stamp >> 8;
        let counter = stamp & 255;
        let elapsed = if self.minutes >= ldt {
            self.minutes - ldt
        } else {
            65535 - ldt + self.minutes
        };
        let periods = elapsed.checked_div(self.decay_time).unwrap_or(0);
        counter.saturating_sub(periods)
    }

    /// An access: decay, then a probabilistic increment that gets rarer as the counter grows.
    pub fn touch(&self, stamp: u32) -> u32 {
        let mut counter = self.decayed_counter(stamp);
        if counter < 255 {
            let base = counter.saturating_sub(Self::INIT_VAL) as f64;
            let p = 1.0 / (base * self.log_factor as f64 + 1.0);
            if rand::random::<f64>() < p {
                counter += 1;
            }
        }
        (self.minutes << 8) | counter
    }
}

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
    /// Set under an LFU `maxmemory-policy`: the access clock then holds an LFU counter.
    pub lfu: Option<Lfu>,
    pub stats: &'a mut Stats,
    pub journal: &'a mut Journal,
    /// Clients blocked on keys: a collection stored under a key somebody waits for wakes them.
    pub blocking: &'a mut Blocking,
    /// Replicas hide expired keys but leave their deletion to the master; so does a server whose clients
    /// are paused (the dataset must stay still).
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
    /// Whether a deadline has passed (the key is logically gone).
    #[inline]
    pub fn is_expired(&self, expire_at: Option<i64>) -> bool {
        is_expired(expire_at, self.now_ms)
    }

    /// If `key` exists but has expired, delete it (as the master) and report true. A missing key is not
    /// expired.
    pub fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let expired = match self.db.get(key) {
            Some(e) => self.is_expired(e.expire_at()),
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
            self.touch(key);
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
        self.touch(key);
        self.db.get_mut(key)
    }

    /// Update a present key's access clock (LRU time, or LFU counter).
    fn touch(&mut self, key: &[u8]) {
        let (lfu, lru) = (self.lfu, self.lru_clock);
        if let Some(mut e) = self.db.get_mut(key) {
            let stamp = match lfu {
                Some(l) => l.touch(e.lru()),
                None => lru,
            };
            e.set_lru(stamp);
        }
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
        // The old entry matters only for KEEPTTL and LFU (the common SET pays no extra lookup).
        let old = if ttl == Ttl::Keep || self.lfu.is_some() {
            self.db.get(key).map(|e| (e.expire_at(), e.lru()))
        } else {
            None
        };
        let expire = match ttl {
            Ttl::Clear => None,
            Ttl::At(t) => Some(t),
            Ttl::Keep => old.and_then(|(t, _)| t),
        };
        // A new value starts a fresh LRU time; under LFU an overwrite keeps the key's counter.
        let stamp = match (self.lfu, old) {
            (None, _) => self.lru_clock,
            (Some(_), Some((_, lru))) => lru,
            (Some(l), None) => l.new_stamp(),
        };
        self.stats.dirty += 1;
        // Like Redis's dbAdd: a key (re)created with a collection may be what a blocked client waits for.
        if matches!(value, NewValue::Obj(_)) {
            self.blocking.signal(self.index, key);
        }
        self.db.insert(key, value, expire, stamp)
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
