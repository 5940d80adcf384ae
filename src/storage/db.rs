//! A database: the keyspace table plus the volatile index of the keys that carry a TTL.
//!
//! Invariants:
//! - an entry has a TTL if and only if the volatile index holds its hash at the entry's slot
//!   (volatile.rs); every path that adds, changes or drops a TTL, or unlinks an entry, goes through
//!   `apply_expire`, `upsert` or `unlink`, which update both sides together;
//! - nothing here checks deadlines: `get` returns a key whose deadline has passed. Expiry policy
//!   (delete and propagate on a master, only hide on a replica) is the commands layer's, and the
//!   active cycle lives in `expire.rs`;
//! - every write (`insert`, `put`, `remove`, `get_mut`) first performs one rehash step, so a
//!   resize finishes within about as many writes as the old table had buckets.

#![forbid(unsafe_code)]

use std::fmt;
use std::mem;

use rand::Rng;

use super::entry::{Entry, NewValue, OwnedValue, ValueRef};
use super::object::Object;
use super::table::{EntryWriter, Loc, Table};
use super::volatile::VolatileIndex;

/// One database of the keyspace (Redis's `redisDb` without the blocking/watch state).
pub struct Db {
    table: Table,
    /// The snapshot this database's table is being saved into: the database index the image files
    /// its keys under (SWAPDB moves a `Db`, and its keys stay where they were at the cut).
    snap_index: Option<usize>,
    /// Snapshot bytes of a table `clear` took away, waiting for the saver.
    snap_tail: Vec<u8>,
    volatile: VolatileIndex,
    /// Next volatile index position the active expiry cycle looks at.
    expire_cursor: usize,
    /// Running estimate of the TTL of volatile keys, in ms (INFO keyspace `avg_ttl`).
    avg_ttl: i64,
}

/// The contents taken out of a database by `Db::clear`; dropping it frees every key, so it can
/// be sent to another thread to do that (FLUSHALL ASYNC).
pub struct DbContents {
    table: Table,
    _volatile: VolatileIndex,
}

const _: fn() = || {
    fn send<T: Send>() {}
    send::<Db>();
    send::<DbContents>();
    send::<OwnedValue>();
};

impl DbContents {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl Db {
    pub fn new() -> Db {
        Db {
            table: Table::new(),
            snap_index: None,
            snap_tail: Vec::new(),
            volatile: VolatileIndex::default(),
            expire_cursor: 0,
            avg_ttl: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys with a TTL (INFO keyspace `expires`).
    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    /// Estimated average TTL of volatile keys in ms, maintained by the active expiry cycle
    /// (INFO keyspace `avg_ttl`); 0 when unknown.
    pub fn avg_ttl(&self) -> i64 {
        self.avg_ttl
    }

    /// Bucket counts of the main and the rehash target table (DEBUG HTSTATS, MEMORY STATS).
    pub fn buckets(&self) -> (usize, usize) {
        self.table.buckets()
    }

    /// Bytes allocated for the bucket arrays and the volatile index, beyond the entries
    /// (MEMORY STATS `overhead.hashtable.main` and `overhead.hashtable.expires`).
    pub fn overhead_bytes(&self) -> (usize, usize) {
        (self.table.allocated_bytes(), self.volatile.allocated_bytes())
    }

    pub fn is_rehashing(&self) -> bool {
        self.table.is_rehashing()
    }

    /// The entry for `key`, expired or not.
    pub fn get(&self, key: &[u8]) -> Option<EntryRef<'_>> {
        self.table.find(self.table.hash(key), key).map(EntryRef)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// The entry for `key`, expired or not, for modification.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<EntryMut<'_>> {
        self.table.rehash(1);
        let hash = self.table.hash(key);
        let loc = self.table.locate(hash, key)?;
        Some(EntryMut { db: self, loc, hash })
    }

    /// Inserts or replaces. `expire_at: None` = no TTL (a replaced key loses its TTL, as SET
    /// without KEEPTTL). Returns the previous value if any.
    pub fn insert(&mut self, key: &[u8], value: NewValue<'_>, expire_at: Option<i64>, lru: u32) -> Option<OwnedValue> {
        self.upsert(key, value, expire_at, lru, true)
    }

    /// Size an empty table for `keys` keys at once (a loader announced them: RDB's RESIZEDB), so
    /// that filling it never rehashes. Does nothing to a table in use.
    pub fn reserve(&mut self, keys: usize) {
        self.table.reserve(keys);
    }

    /// Like `insert`, but drops the previous value in place (no copy of an old embstr is made
    /// just to be dropped). Returns whether the key existed.
    pub fn put(&mut self, key: &[u8], value: NewValue<'_>, expire_at: Option<i64>, lru: u32) -> bool {
        self.upsert(key, value, expire_at, lru, false).is_some()
    }

    fn upsert(
        &mut self,
        key: &[u8],
        value: NewValue<'_>,
        expire_at: Option<i64>,
        lru: u32,
        keep_old: bool,
    ) -> Option<OwnedValue> {
        self.table.rehash(1);
        let hash = self.table.hash(key);
        let Some(loc) = self.table.locate(hash, key) else {
            let expire = expire_at.map(|at| (at, self.volatile.push(hash)));
            self.table.insert_new(hash, Entry::new(key, value, expire, lru));
            return None;
        };
        Some(self.reset_at(loc, hash, value, expire_at, lru, keep_old))
    }

    /// Replace the value, deadline and access clock of the entry at `loc` in one reset (at most one
    /// reallocation). Returns the old value (a placeholder when `keep_old` is false).
    fn reset_at(
        &mut self,
        loc: Loc,
        hash: u64,
        value: NewValue<'_>,
        expire_at: Option<i64>,
        lru: u32,
        keep_old: bool,
    ) -> OwnedValue {
        let old_slot = self.table.entry(loc).volatile_slot();
        let expire = match (expire_at, old_slot) {
            (Some(at), Some(slot)) => Some((at, slot)),
            (Some(at), None) => Some((at, self.volatile.push(hash))),
            (None, _) => None,
        };
        let e = self.table.entry_mut(loc);
        let old = e.reset(value, expire, keep_old);
        e.set_lru(lru);
        if let (None, Some(slot)) = (expire, old_slot) {
            self.volatile_remove(slot);
        }
        old
    }

    /// Removes `key`; returns its value and deadline.
    pub fn remove(&mut self, key: &[u8]) -> Option<(OwnedValue, Option<i64>)> {
        self.table.rehash(1);
        let loc = self.table.locate(self.table.hash(key), key)?;
        Some(self.unlink(loc).into_parts())
    }

    /// One SCAN step: calls `f` for the entries under `cursor`, returns the next cursor (0 when
    /// done). Every key present for the whole scan is returned at least once, across resizes.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(EntryRef<'_>)) -> u64 {
        self.table.scan(cursor, |e| f(EntryRef(e)))
    }

    pub fn for_each(&self, f: impl FnMut(EntryRef<'_>)) {
        self.iter().for_each(f);
    }

    pub fn iter(&self) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.table.iter().map(EntryRef)
    }

    /// A random key (RANDOMKEY), in O(1) expected.
    pub fn random_entry(&self, rng: &mut impl Rng) -> Option<EntryRef<'_>> {
        self.table.random_entry(rng).map(EntryRef)
    }

    /// Up to `count` keys from a random region of the table, for eviction sampling; a key may
    /// repeat. Returns how many were passed to `f`.
    pub fn sample(&self, rng: &mut impl Rng, count: usize, mut f: impl FnMut(EntryRef<'_>)) -> usize {
        self.table.sample(rng, count, |e| f(EntryRef(e)))
    }

    /// A uniformly random key among those with a TTL (volatile-* eviction policies).
    pub fn random_volatile(&self, rng: &mut impl Rng) -> Option<EntryRef<'_>> {
        let pos = self.volatile.random(rng)?;
        Some(EntryRef(self.volatile_entry(pos).1))
    }

    /// Start saving this database into a snapshot under `index` (see table.rs): `write` serializes
    /// one entry. An empty database has nothing to save and is left alone. Returns whether it
    /// started.
    pub fn begin_snapshot(&mut self, index: usize, write: EntryWriter) -> bool {
        if self.table.len() == 0 {
            return false;
        }
        self.table.begin_snapshot(write);
        self.snap_index = Some(index);
        true
    }

    /// The index this database's keys are saved under, while its snapshot is in progress.
    pub fn snapshot_index(&self) -> Option<usize> {
        self.snap_index
    }

    /// Walk the snapshot on (see `Table::snapshot_step`). Returns whether buckets remain.
    pub fn snapshot_step(&mut self, out: &mut Vec<u8>, max_bytes: usize, max_buckets: usize) -> bool {
        self.table.snapshot_step(out, max_bytes, max_buckets)
    }

    /// Bytes saved ahead of the walk, since the last call.
    pub fn take_snapshot_early(&mut self) -> Vec<u8> {
        let mut bytes = mem::take(&mut self.snap_tail);
        bytes.extend_from_slice(&self.table.take_snapshot_early());
        bytes
    }

    /// Stop taking part in the snapshot (finished or abandoned).
    pub fn end_snapshot(&mut self) {
        self.table.end_snapshot();
        self.snap_index = None;
        self.snap_tail = Vec::new();
    }

    /// Empties the database, returning the old contents to be dropped wherever suits. A snapshot
    /// in progress first saves what it has not yet of the old table (the new one is born saved).
    pub fn clear(&mut self) -> DbContents {
        if self.table.snapshot_active() {
            let mut rest = self.table.take_snapshot_early();
            while self.table.snapshot_step(&mut rest, usize::MAX, usize::MAX) {}
            self.snap_tail.extend_from_slice(&rest);
            self.table.end_snapshot();
        }
        self.expire_cursor = 0;
        self.avg_ttl = 0;
        DbContents {
            table: mem::replace(&mut self.table, Table::new()),
            _volatile: self.volatile.take(),
        }
    }

    /// Rehashes for about `micros` µs (the cron's incremental rehash). Returns whether work remains.
    pub fn rehash_for(&mut self, micros: u64) -> bool {
        self.table.rehash_for(micros)
    }

    /// Performs up to `n` rehash steps. Returns whether work remains.
    pub fn rehash_steps(&mut self, n: usize) -> bool {
        self.table.rehash(n)
    }

    /// Starts shrinking the table if it is less than 10% full (the cron calls this). Returns
    /// whether a resize started.
    pub fn try_shrink(&mut self) -> bool {
        self.table.try_shrink()
    }

    /// The entry at volatile position `pos`, and where it is.
    fn volatile_entry(&self, pos: u32) -> (Loc, &Entry) {
        self.table
            .find_by(self.volatile.get(pos), |e| e.volatile_slot() == Some(pos))
            .expect("every volatile position has its entry")
    }

    /// Frees volatile position `slot`; the entry that moved into it learns its new slot.
    fn volatile_remove(&mut self, slot: u32) {
        if let Some((_, from)) = self.volatile.swap_remove(slot) {
            // The moved hash is at `slot` now, but its entry still says `from`.
            let (loc, _) = self
                .table
                .find_by(self.volatile.get(slot), |e| e.volatile_slot() == Some(from))
                .expect("every volatile position has its entry");
            self.table.entry_mut(loc).set_volatile_slot(slot);
        }
    }

    fn apply_expire(&mut self, loc: Loc, hash: u64, expire_at: Option<i64>) {
        match (expire_at, self.table.entry(loc).volatile_slot()) {
            (None, None) => {}
            (Some(at), Some(slot)) => self.table.entry_mut(loc).set_expire(Some((at, slot))),
            (Some(at), None) => {
                let slot = self.volatile.push(hash);
                self.table.entry_mut(loc).set_expire(Some((at, slot)));
            }
            (None, Some(slot)) => {
                self.table.entry_mut(loc).set_expire(None);
                self.volatile_remove(slot);
            }
        }
    }

    fn unlink(&mut self, loc: Loc) -> Entry {
        let e = self.table.remove_at(loc);
        if let Some(slot) = e.volatile_slot() {
            self.volatile_remove(slot);
        }
        e
    }

    /// Looks at the next volatile key in cursor order for the active expiry cycle: removes it if
    /// its deadline has passed (`now_ms > expire_at`, Redis's rule), handing key and value to
    /// `on_expired`. `None` when no key has a TTL.
    pub(crate) fn probe_volatile(
        &mut self,
        now_ms: i64,
        on_expired: &mut impl FnMut(&[u8], OwnedValue),
    ) -> Option<Probe> {
        if self.volatile.len() == 0 {
            return None;
        }
        if self.expire_cursor >= self.volatile.len() {
            self.expire_cursor = 0;
        }
        let pos = self.expire_cursor as u32;
        let (loc, e) = self.volatile_entry(pos);
        let at = e.expire_at().expect("a volatile entry has a deadline");
        if now_ms <= at {
            self.expire_cursor += 1;
            return Some(Probe::Alive { ttl: at - now_ms });
        }
        // The cursor stays: the last volatile key has just moved into this position.
        self.unlink(loc).into_parts_with(|key, value, _| on_expired(key, value));
        Some(Probe::Expired)
    }

    pub(crate) fn avg_ttl_mut(&mut self) -> &mut i64 {
        &mut self.avg_ttl
    }

    /// Checks every invariant of the table and the volatile index (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.table.check();
        for pos in 0..self.volatile.len() as u32 {
            let (_, e) = self.volatile_entry(pos);
            assert_eq!(self.table.hash(e.key()), self.volatile.get(pos));
        }
        let with_ttl = self.table.iter().filter(|e| e.expire_at().is_some()).count();
        assert_eq!(with_ttl, self.volatile.len());
    }
}

/// What the active expiry cycle found at one volatile position.
pub(crate) enum Probe {
    Alive { ttl: i64 },
    Expired,
}

/// A stored key and its value.
#[derive(Clone, Copy)]
pub struct EntryRef<'a>(&'a Entry);

impl<'a> EntryRef<'a> {
    pub(crate) fn of(e: &'a Entry) -> EntryRef<'a> {
        EntryRef(e)
    }

    pub fn key(&self) -> &'a [u8] {
        self.0.key()
    }

    pub fn value(&self) -> ValueRef<'a> {
        self.0.value()
    }

    /// Absolute deadline in ms, if the key has a TTL.
    pub fn expire_at(&self) -> Option<i64> {
        self.0.expire_at()
    }

    /// The 24-bit LRU clock or LFU counter+time.
    pub fn lru(&self) -> u32 {
        self.0.lru()
    }

    /// Bytes of the entry's own allocation, not counting a heap string or collection it owns
    /// (MEMORY USAGE adds those).
    pub fn alloc_size(&self) -> usize {
        self.0.alloc_size()
    }

    /// Whether an integer value is held as an object of its own, where Redis would otherwise share
    /// it (`OBJECT REFCOUNT`); see [`EntryMut::mark_unshared`].
    pub fn unshared(&self) -> bool {
        self.0.unshared()
    }
}

impl fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryRef")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &self.value())
            .field("expire_at", &self.expire_at())
            .field("lru", &self.lru())
            .finish()
    }
}

/// A stored key opened for modification. Holds the database mutably, so nothing else changes
/// the table while it lives.
pub struct EntryMut<'a> {
    db: &'a mut Db,
    loc: Loc,
    hash: u64,
}

impl<'a> EntryMut<'a> {
    fn entry(&self) -> &Entry {
        self.db.table.entry(self.loc)
    }

    fn entry_mut(&mut self) -> &mut Entry {
        self.db.table.entry_mut(self.loc)
    }

    pub fn to_ref(&self) -> EntryRef<'_> {
        EntryRef(self.entry())
    }

    /// Give up write access, keeping the entry for reading for as long as the handle lived.
    pub fn into_ref(self) -> EntryRef<'a> {
        let db: &'a Db = self.db;
        EntryRef(db.table.entry(self.loc))
    }

    /// Replace value, deadline and access clock at once, as `Db::insert` does for an existing key (one
    /// lookup instead of two). Returns the previous value.
    pub fn reset(self, value: NewValue<'_>, expire_at: Option<i64>, lru: u32) -> OwnedValue {
        self.db.reset_at(self.loc, self.hash, value, expire_at, lru, true)
    }

    /// Like [`EntryMut::reset`], dropping the previous value in place (no copy of an old embstr).
    pub fn overwrite(self, value: NewValue<'_>, expire_at: Option<i64>, lru: u32) {
        self.db.reset_at(self.loc, self.hash, value, expire_at, lru, false);
    }

    pub fn key(&self) -> &[u8] {
        self.entry().key()
    }

    pub fn value(&self) -> ValueRef<'_> {
        self.entry().value()
    }

    pub fn expire_at(&self) -> Option<i64> {
        self.entry().expire_at()
    }

    pub fn lru(&self) -> u32 {
        self.entry().lru()
    }

    /// Record that this integer value is a private copy (Redis's COPY duplicates the object, so its
    /// refcount is 1 even for a small integer). Any later change of the value clears the mark.
    pub fn mark_unshared(&mut self) {
        self.entry_mut().set_unshared(true);
    }

    /// Replaces the value, keeping the TTL; the old value is dropped here.
    pub fn set_value(&mut self, value: NewValue<'_>) {
        self.entry_mut().set_value(value);
    }

    /// Replaces the value, keeping the TTL; returns the old value.
    pub fn replace_value(&mut self, value: NewValue<'_>) -> OwnedValue {
        self.entry_mut().replace_value(value)
    }

    /// Sets (`Some` absolute ms deadline) or removes the TTL.
    pub fn set_expire(&mut self, expire_at: Option<i64>) {
        self.db.apply_expire(self.loc, self.hash, expire_at);
    }

    /// Stamp the access clock (not a change of the key: a snapshot does not save it first).
    pub fn set_lru(&mut self, lru: u32) {
        self.db.table.stamp_mut(self.loc).set_lru(lru);
    }

    /// The collection, if the value is one.
    pub fn obj_mut(&mut self) -> Option<&mut Object> {
        self.entry_mut().obj_mut()
    }

    /// The collection, if the value is one, for as long as the handle lived (a handler can then keep
    /// it while it uses the rest of its view).
    pub fn into_obj_mut(self) -> Option<&'a mut Object> {
        let db: &'a mut Db = self.db;
        db.table.entry_mut(self.loc).obj_mut()
    }

    /// The string as a growable buffer, converting an int or embstr to a raw string first (as
    /// Redis does before modifying a string in place); `None` if the value is not a string.
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        self.entry_mut().string_mut()
    }

    /// Removes the key; returns its value and deadline.
    pub fn remove(self) -> (OwnedValue, Option<i64>) {
        self.db.unlink(self.loc).into_parts()
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    use super::*;
    use crate::storage::entry::StrEncoding;

    fn s(v: ValueRef<'_>) -> Vec<u8> {
        match v {
            ValueRef::Int(i) => i.to_string().into_bytes(),
            ValueRef::Str(s, _) => s.to_vec(),
            ValueRef::Obj(_) => unreachable!("these tests store no collections"),
        }
    }

    #[test]
    fn insert_get_replace_remove() {
        let mut db = Db::new();
        assert!(db.insert(b"a", NewValue::Str(b"1"), None, 3).is_none());
        assert!(db.insert(b"b", NewValue::Int(2), Some(100), 3).is_none());
        assert_eq!((db.len(), db.volatile_len()), (2, 1));
        let b = db.get(b"b").expect("present");
        assert_eq!((s(b.value()), b.expire_at(), b.lru()), (b"2".to_vec(), Some(100), 3));
        // Replacing without a TTL drops it, like SET.
        let old = db.insert(b"b", NewValue::Str(b"x"), None, 4);
        assert!(matches!(old, Some(OwnedValue::Int(2))));
        assert_eq!((db.get(b"b").and_then(|e| e.expire_at()), db.volatile_len()), (None, 0));
        assert!(db.put(b"a", NewValue::Int(5), Some(7), 0));
        assert_eq!(db.volatile_len(), 1);
        let (v, at) = db.remove(b"a").expect("present");
        assert!(matches!(v, OwnedValue::Int(5)));
        assert_eq!((at, db.volatile_len(), db.len()), (Some(7), 0, 1));
        assert!(db.remove(b"a").is_none());
        db.check();
    }

    #[test]
    fn entry_mut_keeps_volatile_index_right() {
        let mut db = Db::new();
        for i in 0..50 {
            db.insert(format!("k{i}").as_bytes(), NewValue::Int(i), Some(1000 + i), 0);
        }
        db.check();
        let mut e = db.get_mut(b"k3").expect("present");
        e.set_expire(None);
        e.set_expire(Some(5));
        e.set_expire(Some(6));
        e.set_lru(9);
        e.string_mut().expect("a string").extend_from_slice(b"!");
        assert_eq!(
            (e.key(), s(e.value()), e.expire_at(), e.lru()),
            (&b"k3"[..], b"3!".to_vec(), Some(6), 9)
        );
        assert!(matches!(e.value(), ValueRef::Str(_, StrEncoding::Raw)));
        db.check();
        for i in (0..50).step_by(3) {
            db.get_mut(format!("k{i}").as_bytes())
                .expect("present")
                .set_expire(None);
            db.check();
        }
        let (v, at) = db.get_mut(b"k4").expect("present").remove();
        assert!(matches!(v, OwnedValue::Int(4)));
        assert_eq!(at, Some(1004));
        db.check();
        assert_eq!(db.volatile_len(), 50 - 17 - 1);
    }

    #[test]
    fn random_volatile_only_returns_keys_with_ttl() {
        let mut rng = SmallRng::seed_from_u64(5);
        let mut db = Db::new();
        assert!(db.random_volatile(&mut rng).is_none());
        for i in 0..40 {
            let ttl = (i % 4 == 0).then_some(10);
            db.insert(format!("k{i}").as_bytes(), NewValue::Int(i), ttl, 0);
        }
        for _ in 0..100 {
            assert!(db.random_volatile(&mut rng).expect("some").expire_at().is_some());
        }
    }

    #[test]
    fn clear_hands_back_contents() {
        let mut db = Db::new();
        for i in 0..100 {
            db.insert(format!("k{i}").as_bytes(), NewValue::Str(&[b'v'; 60]), Some(i), 0);
        }
        let old = db.clear();
        assert_eq!((old.len(), db.len(), db.volatile_len()), (100, 0, 0));
        std::thread::spawn(move || drop(old)).join().expect("drop thread");
        db.insert(b"again", NewValue::Int(1), Some(1), 0);
        db.check();
    }
}
