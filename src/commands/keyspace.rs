//! Access to one database with Redis's policy applied.
//!
//! Expiry: a key whose deadline has passed is logically gone. Every lookup goes through this view, which
//! deletes such a key and records a `DEL` effect in the journal (so AOF and replicas never expire keys on
//! their own clock); a replica only hides it. The active cycle (server cron) merely bounds the memory held
//! by keys nobody reads. With `lazyfree-lazy-expire` the value of an expired key is freed in the
//! background when that is expensive, and the effect is `UNLINK` instead (Redis 7.0's propagation).
//!
//! Writes bump the dirty counter (persistence and the journal's default effect rely on it) and report the
//! key they changed to the watched-key table (WATCH); a handler that changes a value in place through
//! `lookup_write` reports it with `changed(key, n, class, event)` (`mark_dirty` and the keyspace event
//! together), one that stored a value with `set` with `stored`; docs/notifications.md lists the events.

use super::transactions::Watches;
use crate::journal::Journal;
use crate::server::blocking::Blocking;
use crate::server::core::Stats;
use crate::server::lazyfree::LazyFree;
use crate::server::notify::{class, notify};
use crate::server::pubsub::PubSub;
use crate::server::tracking::Tracking;
use crate::storage::{Db, EntryMut, EntryRef, NewValue, Object, OwnedValue, ValueRef};

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

/// The entry at `key` if it is live (see `DbView::live_mut`). A free function over the view's fields so
/// the returned handle borrows only the database, leaving the counters and journal usable.
#[allow(clippy::too_many_arguments)]
fn live_entry<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: i64,
    hide_only: bool,
    index: usize,
    stats: &mut Stats,
    journal: &mut Journal,
    expired: ExpiredFree<'_>,
    was_expired: &mut bool,
) -> Option<EntryMut<'d>> {
    *was_expired = false;
    let e = db.get_mut(key)?;
    if !is_expired(e.expire_at(), now_ms) {
        return Some(e);
    }
    *was_expired = true;
    if !hide_only {
        let (value, _) = e.remove();
        expired.expire(key, value, index, stats, journal);
    }
    None
}

/// How the value of a key whose deadline passed is disposed of (`lazyfree-lazy-expire`), and who is told.
pub struct ExpiredFree<'a> {
    pub lazyfree: &'a mut LazyFree,
    pub lazy: bool,
    pub watches: &'a mut Watches,
    pub tracking: &'a mut Tracking,
    pub pubsub: &'a mut PubSub,
    pub notify_flags: u32,
}

impl ExpiredFree<'_> {
    /// A key found past its deadline on access: counted in `expired_keys`, journaled as an extra effect,
    /// its `expired` event published, its watchers told, its value freed.
    fn expire(self, key: &[u8], value: OwnedValue, index: usize, stats: &mut Stats, journal: &mut Journal) {
        stats.expired_keys += 1;
        journal.also(index, &[delete_verb(self.lazy), key]);
        notify(self.pubsub, self.notify_flags, class::EXPIRED, "expired", key, index);
        modified(self.watches, self.tracking, index, key, false);
        self.lazyfree.free(value, self.lazy);
    }
}

/// Whether a value is a stream: its removal wakes the readers blocked on it (Redis's
/// signalDeletedKeyAsReady), so XREADGROUP can answer that it is gone.
fn is_stream(v: ValueRef<'_>) -> bool {
    matches!(v, ValueRef::Obj(Object::Stream(_)))
}

/// Redis's signalModifiedKey: a key changed (`exists`: it still exists), so watchers' transactions fail
/// and clients that may cache it are owed an invalidation.
#[inline]
pub fn modified(watches: &mut Watches, tracking: &mut Tracking, db: usize, key: &[u8], exists: bool) {
    watches.touch(db, key, exists);
    tracking.invalidate(key);
}

/// The command a deletion is journaled as: Redis 7.0 propagates `UNLINK` for one it frees lazily
/// (`lazyfree-lazy-expire` for expiry, `lazyfree-lazy-user-del` for GETDEL) and `DEL` otherwise.
pub fn delete_verb(lazy: bool) -> &'static [u8] {
    if lazy {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

/// `live_entry` over a view's fields, borrowing them one by one so the result borrows only the database.
macro_rules! live {
    ($view:ident, $key:expr) => {
        live_entry(
            $view.db,
            $key,
            $view.now_ms,
            $view.is_replica,
            $view.index,
            $view.stats,
            $view.journal,
            ExpiredFree {
                lazyfree: $view.lazyfree,
                lazy: $view.lazy_expire,
                watches: $view.watches,
                tracking: $view.tracking,
                pubsub: $view.pubsub,
                notify_flags: $view.notify_flags,
            },
            &mut $view.was_expired,
        )
    };
}

/// Lookup flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Update the key's access clock (reads and writes by commands).
    Yes,
    /// Leave it (`OBJECT`, `TYPE`?, `TTL`... commands that must not disturb LRU/LFU).
    No,
}

/// What a read lookup counts and reports (Redis's `LOOKUP_NOSTATS` and `LOOKUP_NONOTIFY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Count a hit or a miss, and report a miss as `keymiss` (reads by commands).
    All,
    /// Count a hit or a miss, report nothing (OBJECT).
    Stats,
    /// Neither (DEBUG's lookups).
    Nothing,
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
    /// Keys watched by clients and keys clients may cache (client tracking): every change is reported
    /// to both (`modified`).
    pub watches: &'a mut Watches,
    pub tracking: &'a mut Tracking,
    /// Where keyspace events are published (`server::notify`), and which classes are enabled
    /// (`notify-keyspace-events`).
    pub pubsub: &'a mut PubSub,
    pub notify_flags: u32,
    /// Replicas hide expired keys but leave their deletion to the master; so does a server whose clients
    /// are paused (the dataset must stay still).
    pub is_replica: bool,
    /// Whether the last lookup found the key expired (as opposed to missing).
    pub was_expired: bool,
    /// Frees big overwritten values off the shard thread when `lazy_server_del` says so.
    pub lazyfree: &'a mut LazyFree,
    /// `lazyfree-lazy-server-del`: values replaced or deleted as a side effect (SET over a big list) are
    /// freed in the background when freeing them is expensive.
    pub lazy_server_del: bool,
    /// `lazyfree-lazy-expire`: expired keys' values are freed in the background when expensive, and
    /// their deletion is journaled as `UNLINK`.
    pub lazy_expire: bool,
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
        let _ = self.live_mut(key);
        self.was_expired
    }

    /// Delete a key because a command gave it a deadline already past (EXPIRE, GETEX ... PXAT): a
    /// change, not counted as expired, its value freed as `lazyfree-lazy-expire` says, and the command
    /// journaled as the `DEL` or `UNLINK` that replaces it, as Redis 7.0 propagates it.
    pub fn delete_past_deadline(&mut self, key: &[u8]) {
        if let Some((value, _)) = self.db.remove(key) {
            self.stats.dirty += 1;
            modified(self.watches, self.tracking, self.index, key, false);
            self.notify(class::GENERIC, "del", key);
            self.lazyfree.free(value, self.lazy_expire);
        }
        self.journal.replace(self.index, &[delete_verb(self.lazy_expire), key]);
    }

    /// The entry at `key` if it is live, with lazy expiry applied, in one table lookup: an expired key is
    /// deleted and journaled (as the master) or only hidden (a replica, a paused server) and reported
    /// absent; `was_expired` tells the two absences apart afterwards.
    fn live_mut(&mut self, key: &[u8]) -> Option<EntryMut<'_>> {
        live!(self, key)
    }

    /// Look a key up for reading: hits/misses are counted and the access clock updated.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<EntryRef<'_>> {
        self.lookup_read_flags(key, Touch::Yes, Report::All)
    }

    /// Look a key up for reading, choosing whether to touch it, whether to count hits and misses and
    /// whether to report a miss.
    pub fn lookup_read_flags(&mut self, key: &[u8], touch: Touch, report: Report) -> Option<EntryRef<'_>> {
        let (lfu, lru) = (self.lfu, self.lru_clock);
        let found = live!(self, key).map(|mut e| {
            if touch == Touch::Yes {
                let stamp = match lfu {
                    Some(l) => l.touch(e.lru()),
                    None => lru,
                };
                e.set_lru(stamp);
            }
            e.into_ref()
        });
        if report != Report::Nothing {
            if found.is_some() {
                self.stats.keyspace_hits += 1;
            } else {
                self.stats.keyspace_misses += 1;
            }
        }
        if report == Report::All && found.is_none() {
            notify(
                self.pubsub,
                self.notify_flags,
                class::KEY_MISS,
                "keymiss",
                key,
                self.index,
            );
        }
        found
    }

    /// Look a key up for writing (no hit/miss counting, as in Redis).
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<EntryMut<'_>> {
        let (lfu, lru) = (self.lfu, self.lru_clock);
        let mut e = self.live_mut(key)?;
        let stamp = match lfu {
            Some(l) => l.touch(e.lru()),
            None => lru,
        };
        e.set_lru(stamp);
        Some(e)
    }

    /// Whether a key exists (expired keys do not), without touching it or counting.
    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.live_mut(key).is_some()
    }

    /// The value of an existing live key, without touching it.
    pub fn peek(&mut self, key: &[u8]) -> Option<ValueRef<'_>> {
        self.live_mut(key).map(|e| e.into_ref().value())
    }

    /// Store a value. Returns whether a live key was replaced (its old value is disposed of as
    /// `lazyfree-lazy-server-del` says, as Redis's dbOverwrite does).
    pub fn set(&mut self, key: &[u8], value: NewValue<'_>, ttl: Ttl) -> bool {
        self.stats.dirty += 1;
        modified(self.watches, self.tracking, self.index, key, true);
        // Like Redis's dbAdd: a key (re)created with a collection may be what a blocked client waits for.
        if matches!(value, NewValue::Obj(_)) {
            self.blocking.signal(self.index, key);
        }
        let (lfu, lru) = (self.lfu, self.lru_clock);
        let live = live!(self, key);
        if let Some(e) = live {
            // Like Redis's dbOverwrite: readers blocked on a stream learn it is gone.
            if is_stream(e.value()) {
                self.blocking.signal(self.index, key);
            }
            let expire = match ttl {
                Ttl::Clear => None,
                Ttl::At(t) => Some(t),
                Ttl::Keep => e.expire_at(),
            };
            // A new value starts a fresh LRU time; under LFU an overwrite keeps the key's counter.
            let stamp = if lfu.is_some() { e.lru() } else { lru };
            if self.lazy_server_del {
                let old = e.reset(value, expire, stamp);
                self.lazyfree.free_value(old);
            } else {
                e.overwrite(value, expire, stamp);
            }
            return true;
        }
        let expire = match ttl {
            Ttl::Clear | Ttl::Keep => None,
            Ttl::At(t) => Some(t),
        };
        let stamp = match lfu {
            Some(l) => l.new_stamp(),
            None => lru,
        };
        self.db.insert(key, value, expire, stamp);
        self.notify(class::NEW, "new", key);
        false
    }

    /// Report an event about `key` (the write record's events): published as a keyspace notification
    /// when its class is enabled. Handlers report the event Redis names for what they did, after
    /// doing it.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        notify(self.pubsub, self.notify_flags, class, event, key, self.index);
    }

    /// Report `n` changes made in place to `key` (through `lookup_write`) and their event: counted as
    /// dirty, watchers told, the event published. Nothing when `n` is 0.
    #[inline]
    pub fn changed(&mut self, key: &[u8], n: u64, class: u32, event: &str) {
        if n > 0 {
            self.mark_dirty(key, n);
            self.notify(class, event, key);
        }
    }

    /// Report a value just stored under `key` by [`set`](Self::set) as the result of `n` changes (`set`
    /// counted one of them; `n` is at least 1) and its event: the rest counted, the event published after
    /// the `new` that `set` reported for a key it created, as Redis's dbAdd precedes the command's event.
    #[inline]
    pub fn stored(&mut self, key: &[u8], n: u64, class: u32, event: &str) {
        self.mark_dirty(key, n.saturating_sub(1));
        self.notify(class, event, key);
    }

    /// Report that a command emptied the collection at `key`, which it removed: Redis reports `del`
    /// after the command's own event (use [`delete`](Self::delete) for a key deleted through the view).
    #[inline]
    pub fn emptied(&mut self, key: &[u8]) {
        self.notify(class::GENERIC, "del", key);
    }

    /// Wake clients blocked on `key` if it now holds what they wait for (a push into an existing key
    /// that was empty-and-deleted is covered by `set`; this is for handlers that refill a key in place).
    #[inline]
    pub fn signal_ready(&mut self, key: &[u8]) {
        self.blocking.signal(self.index, key);
    }

    /// A stream left `key`: wake its blocked readers (see `is_stream`).
    fn signal_if_stream(&mut self, key: &[u8], v: &OwnedValue) {
        if matches!(v, OwnedValue::Obj(Object::Stream(_))) {
            self.blocking.signal(self.index, key);
        }
    }

    /// Delete a live key, reporting its `del` event (every command that deletes a key, DEL, GETDEL, a
    /// STORE of an empty result, reports it so). Returns its value.
    pub fn delete(&mut self, key: &[u8]) -> Option<OwnedValue> {
        let (v, _) = self.live_mut(key)?.remove();
        self.stats.dirty += 1;
        modified(self.watches, self.tracking, self.index, key, false);
        self.notify(class::GENERIC, "del", key);
        self.signal_if_stream(key, &v);
        Some(v)
    }

    /// Take a live key's value and deadline out to store them elsewhere (RENAME, MOVE): a change to
    /// `key`, counted as one with the store that follows.
    pub fn take(&mut self, key: &[u8]) -> Option<(OwnedValue, Option<i64>)> {
        let taken = self.live_mut(key)?.remove();
        modified(self.watches, self.tracking, self.index, key, false);
        self.signal_if_stream(key, &taken.0);
        Some(taken)
    }

    /// Set or clear a live key's TTL. Returns false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: Option<i64>) -> bool {
        match self.lookup_write(key) {
            Some(mut e) => {
                e.set_expire(at);
                self.stats.dirty += 1;
                modified(self.watches, self.tracking, self.index, key, true);
                true
            }
            None => false,
        }
    }

    /// Count `n` changes made to `key` through an `EntryMut` obtained from `lookup_write` (none: nothing
    /// to report).
    #[inline]
    pub fn mark_dirty(&mut self, key: &[u8], n: u64) {
        if n > 0 {
            self.stats.dirty += n;
            self.touched(key);
        }
    }

    /// Report a change to `key` whose count is made elsewhere (a command that changes two keys and
    /// counts one change, as Redis does for LMOVE).
    #[inline]
    pub fn touched(&mut self, key: &[u8]) {
        if !self.watches.is_empty() {
            let exists = self.db.get(key).is_some();
            self.watches.touch(self.index, key, exists);
        }
        self.tracking.invalidate(key);
    }

    pub fn len(&self) -> usize {
        self.db.len()
    }

    pub fn is_empty(&self) -> bool {
        self.db.len() == 0
    }
}
