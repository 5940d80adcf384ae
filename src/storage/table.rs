//! The keyspace hash table: chained buckets over power-of-two arrays, resized incrementally the way
//! Redis's dict is, so that no single operation pays for a whole rehash.
//!
//! Model: `ht[0]` is the table. A resize creates `ht[1]` (segments allocated zeroed on first write,
//! see buckets.rs) and moves `ht[0]` into it one bucket per write operation (skipping at most 10
//! empty buckets per step), plus whatever the cron does with `rehash_for`, freeing each segment of
//! `ht[0]` as it is passed. When `ht[0]` is empty it is dropped and `ht[1]` takes its place.
//!
//! Invariants:
//! - each array is empty or has a power-of-two length; `ht[0]` is at least `MIN_BUCKETS` once used;
//!   `ht[1]` is empty unless a rehash is under way (`rehash_idx` is `Some`);
//! - an entry lives in exactly one array, in bucket `hash(key) & (len - 1)`; keys are unique
//!   (the caller checks before `insert_new`);
//! - during a rehash every `ht[0]` bucket below `rehash_idx` is empty, and new entries go to `ht[1]`;
//! - `used[t]` counts the entries in `ht[t]`;
//! - the table grows (doubles) when an insert finds `used >= buckets` and no rehash is under way,
//!   and shrinks only through `try_shrink`, when under 10% full, to the smallest power of two that
//!   holds every key (at least 4).
//!
//! SCAN follows Redis's reverse-binary cursor: the cursor's masked bits are incremented from the
//! top bit down, so the buckets a cursor has covered stay covered when the mask widens (a bucket
//! of the small table expands into buckets that share its low bits) or narrows. During a rehash a
//! call visits one bucket of the smaller table and every bucket of the larger table that expands
//! from it. Hence every key present for a whole scan is returned at least once, across any number
//! of resizes; some may be returned twice.
//!
//! Snapshots (DESIGN §6): a point-in-time image taken while writes go on, without fork. While a
//! [`Snap`] is attached the arrays are frozen (no resize, no rehash step), so a bucket is a fixed
//! place; the saver walks the buckets in order, and every mutation of a bucket (insert, remove, an
//! in-place value change through `entry_mut`) obtains it through `bucket_mut`, which first serializes
//! the bucket if the saver has not passed it yet. So every key present at the cut is written exactly
//! once, as it was at the cut, and no key created after it. Access-clock stamps (`stamp_mut`) are not
//! mutations and bypass the hook. `Db::clear` finishes the walk of the old table first.

#![forbid(unsafe_code)]

use std::mem;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ahash::RandomState;
use rand::Rng;

use super::buckets::Buckets;
use super::db::EntryRef;
use super::entry::Entry;

/// Smallest bucket array (Redis's DICT_HT_INITIAL_SIZE).
pub(crate) const MIN_BUCKETS: usize = 4;
/// `try_shrink` resizes a table less full than this (Redis's HASHTABLE_MIN_FILL).
const MIN_FILL_PERCENT: usize = 10;
/// Empty buckets one rehash step may skip before giving up for now, so a step is O(1).
const EMPTY_VISITS_PER_STEP: usize = 10;
/// Random bucket probes before `random_entry` falls back to walking from a random bucket.
const RANDOM_PROBES: usize = 64;
/// `rehash_for` reads the clock once per this many steps (as Redis's dictRehashMilliseconds).
const STEPS_PER_CLOCK_READ: usize = 100;

/// The process's hash seed: random per process (hash-flooding resistance, like Redis's siphash
/// seed), shared by every table so that a hash can be computed once and used in any database.
fn process_hasher() -> RandomState {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    SEED.get_or_init(RandomState::new).clone()
}

/// Where an entry sits: array, bucket, position in the chain. Valid until the table is next
/// changed structurally (an insert, a remove or a rehash step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    table: usize,
    bucket: usize,
    depth: usize,
}

/// A chain from its head.
#[derive(Clone)]
pub(crate) struct Chain<'a>(Option<&'a Entry>);

impl<'a> Iterator for Chain<'a> {
    type Item = &'a Entry;
    fn next(&mut self) -> Option<&'a Entry> {
        let e = self.0?;
        self.0 = e.next();
        Some(e)
    }
}

pub(crate) struct Table {
    ht: [Buckets; 2],
    used: [usize; 2],
    rehash_idx: Option<usize>,
    hasher: RandomState,
    snap: Option<Box<Snap>>,
}

/// Serializes one entry of a snapshot (its key, TTL and value), or nothing for a key the image must
/// not hold (expired at the cut).
pub type EntryWriter = Box<dyn Fn(EntryRef<'_>, &mut Vec<u8>) + Send>;

/// A snapshot in progress over a table (module docs).
pub(crate) struct Snap {
    /// The saver's position: array, then bucket. Buckets before it are saved.
    cursor: (usize, usize),
    /// How many arrays the image covers (two when a rehash was under way at the cut).
    arrays: usize,
    /// Buckets at or past the cursor already saved because a write was about to change them (one bit
    /// per bucket, per array).
    early: [Vec<u64>; 2],
    /// What those early saves wrote, waiting for the saver to take it.
    out: Vec<u8>,
    write: EntryWriter,
}

impl Snap {
    fn is_saved(&self, table: usize, bucket: usize) -> bool {
        (table, bucket) < self.cursor
            || self.early[table]
                .get(bucket / 64)
                .is_some_and(|w| w & (1 << (bucket % 64)) != 0)
    }

    fn mark(&mut self, table: usize, bucket: usize) {
        if let Some(w) = self.early[table].get_mut(bucket / 64) {
            *w |= 1 << (bucket % 64);
        }
    }

    /// Save a bucket ahead of the cursor (a write is about to change it).
    fn save_early(&mut self, head: Option<&Entry>) {
        for e in Chain(head) {
            (self.write)(EntryRef::of(e), &mut self.out);
        }
    }
}

impl Table {
    pub(crate) fn new() -> Table {
        Table {
            ht: [Buckets::default(), Buckets::default()],
            used: [0, 0],
            rehash_idx: None,
            hasher: process_hasher(),
            snap: None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.used[0] + self.used[1]
    }

    pub(crate) fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// Bucket counts of both arrays.
    pub(crate) fn buckets(&self) -> (usize, usize) {
        (self.ht[0].len(), self.ht[1].len())
    }

    /// Bytes allocated for the bucket arrays.
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.ht[0].allocated_bytes() + self.ht[1].allocated_bytes()
    }

    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn tables(&self) -> usize {
        if self.rehash_idx.is_some() {
            2
        } else {
            1
        }
    }

    fn bucket_of(&self, table: usize, hash: u64) -> usize {
        hash as usize & (self.ht[table].len() - 1)
    }

    fn chain(&self, table: usize, bucket: usize) -> Chain<'_> {
        Chain(self.ht[table].head(bucket))
    }

    /// The one place a bucket is handed out for mutation: a snapshot saves it first if the saver has
    /// not passed it yet (module docs).
    fn bucket_mut(&mut self, table: usize, bucket: usize) -> &mut Option<Entry> {
        if let Some(snap) = self.snap.as_deref_mut() {
            if table < snap.arrays && !snap.is_saved(table, bucket) {
                snap.save_early(self.ht[table].head(bucket));
                snap.mark(table, bucket);
            }
        }
        self.ht[table].slot_mut(bucket)
    }

    /// The link holding the entry at `loc`, from `head` (its bucket) down the chain.
    fn link_in(head: &mut Option<Entry>, depth: usize) -> &mut Option<Entry> {
        let mut link = head;
        for _ in 0..depth {
            link = link.as_mut().expect("a Loc points into a chain").next_mut();
        }
        link
    }

    /// Start a snapshot of this table (module docs). The arrays stay frozen until `end_snapshot`.
    pub(crate) fn begin_snapshot(&mut self, write: EntryWriter) {
        let arrays = self.tables();
        let early = [
            vec![0u64; self.ht[0].len().div_ceil(64)],
            if arrays == 2 {
                vec![0u64; self.ht[1].len().div_ceil(64)]
            } else {
                Vec::new()
            },
        ];
        // Buckets of ht[0] below the rehash index are empty (and may be freed).
        let start = self.rehash_idx.unwrap_or(0);
        self.snap = Some(Box::new(Snap {
            cursor: (0, start),
            arrays,
            early,
            out: Vec::new(),
            write,
        }));
    }

    pub(crate) fn snapshot_active(&self) -> bool {
        self.snap.is_some()
    }

    /// Walk on: serialize the buckets at the cursor into `out` until it holds `max_bytes` or
    /// `max_buckets` buckets were visited. Returns whether buckets remain.
    pub(crate) fn snapshot_step(&mut self, out: &mut Vec<u8>, max_bytes: usize, max_buckets: usize) -> bool {
        let Some(snap) = self.snap.as_deref_mut() else {
            return false;
        };
        let mut visited = 0;
        while snap.cursor.0 < snap.arrays {
            let (t, b) = snap.cursor;
            if b >= self.ht[t].len() {
                snap.cursor = (t + 1, 0);
                continue;
            }
            if visited >= max_buckets || out.len() >= max_bytes {
                return true;
            }
            if !snap.is_saved(t, b) {
                for e in Chain(self.ht[t].head(b)) {
                    (snap.write)(EntryRef::of(e), out);
                }
            }
            snap.cursor = (t, b + 1);
            visited += 1;
        }
        false
    }

    /// Take what early saves wrote since the last call.
    pub(crate) fn take_snapshot_early(&mut self) -> Vec<u8> {
        self.snap
            .as_deref_mut()
            .map(|s| mem::take(&mut s.out))
            .unwrap_or_default()
    }

    /// Detach the snapshot; the arrays may resize again.
    pub(crate) fn end_snapshot(&mut self) {
        self.snap = None;
    }

    /// The first entry in `hash`'s buckets that satisfies `pred`.
    pub(crate) fn find_by(&self, hash: u64, mut pred: impl FnMut(&Entry) -> bool) -> Option<(Loc, &Entry)> {
        if self.len() == 0 {
            return None;
        }
        for table in 0..self.tables() {
            let bucket = self.bucket_of(table, hash);
            let found = self.chain(table, bucket).enumerate().find(|(_, e)| pred(e));
            if let Some((depth, e)) = found {
                let loc = Loc { table, bucket, depth };
                return Some((loc, e));
            }
        }
        None
    }

    pub(crate) fn find(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        self.find_by(hash, |e| e.key() == key).map(|(_, e)| e)
    }

    pub(crate) fn locate(&self, hash: u64, key: &[u8]) -> Option<Loc> {
        self.find_by(hash, |e| e.key() == key).map(|(loc, _)| loc)
    }

    pub(crate) fn entry(&self, loc: Loc) -> &Entry {
        self.chain(loc.table, loc.bucket)
            .nth(loc.depth)
            .expect("a Loc points at an entry")
    }

    fn link_mut(&mut self, loc: Loc) -> &mut Option<Entry> {
        Self::link_in(self.bucket_mut(loc.table, loc.bucket), loc.depth)
    }

    pub(crate) fn entry_mut(&mut self, loc: Loc) -> &mut Entry {
        self.link_mut(loc).as_mut().expect("a Loc points at an entry")
    }

    /// The entry at `loc` for an access-clock stamp only: not a mutation, so no snapshot hook.
    pub(crate) fn stamp_mut(&mut self, loc: Loc) -> &mut Entry {
        Self::link_in(self.ht[loc.table].slot_mut(loc.bucket), loc.depth)
            .as_mut()
            .expect("a Loc points at an entry")
    }

    /// Unlinks the entry at `loc`.
    pub(crate) fn remove_at(&mut self, loc: Loc) -> Entry {
        let link = self.link_mut(loc);
        let mut e = link.take().expect("a Loc points at an entry");
        *link = e.next_mut().take();
        self.used[loc.table] -= 1;
        e
    }

    /// Inserts an entry whose key is known to be absent, growing first if the table is full.
    pub(crate) fn insert_new(&mut self, hash: u64, mut entry: Entry) {
        self.expand_if_needed();
        let table = self.tables() - 1;
        let bucket = self.bucket_of(table, hash);
        let head = self.bucket_mut(table, bucket);
        *entry.next_mut() = head.take();
        *head = Some(entry);
        self.used[table] += 1;
    }

    /// Size an empty, unused table for `keys` entries (Redis's dictExpand on RESIZEDB): the smallest
    /// power of two holding them, so inserting them never resizes. The bucket segments are allocated
    /// as they are first written (buckets.rs), so an overestimate costs only the segment directory.
    pub(crate) fn reserve(&mut self, keys: usize) {
        if self.len() > 0 || self.rehash_idx.is_some() || self.snap.is_some() || keys <= self.ht[0].len() {
            return;
        }
        self.ht[0] = Buckets::new(keys.max(MIN_BUCKETS).next_power_of_two());
    }

    fn expand_if_needed(&mut self) {
        // A snapshot freezes the arrays (chains grow longer meanwhile).
        if self.rehash_idx.is_some() || (self.snap.is_some() && !self.ht[0].is_empty()) {
            return;
        }
        if self.ht[0].is_empty() {
            self.ht[0] = Buckets::new(MIN_BUCKETS);
        } else if self.used[0] >= self.ht[0].len() {
            self.start_resize((self.used[0] + 1).next_power_of_two());
        }
    }

    fn start_resize(&mut self, buckets: usize) {
        debug_assert!(self.rehash_idx.is_none() && buckets.is_power_of_two());
        self.ht[1] = Buckets::new(buckets);
        self.rehash_idx = Some(0);
    }

    /// Starts shrinking a table that is less than 10% full. Returns whether it did.
    pub(crate) fn try_shrink(&mut self) -> bool {
        let size = self.ht[0].len();
        if self.rehash_idx.is_some()
            || self.snap.is_some()
            || size <= MIN_BUCKETS
            || self.used[0] * 100 / size >= MIN_FILL_PERCENT
        {
            return false;
        }
        let target = self.used[0].max(MIN_BUCKETS).next_power_of_two();
        if target >= size {
            return false;
        }
        self.start_resize(target);
        true
    }

    /// Moves up to `steps` buckets of `ht[0]` to `ht[1]`. Returns whether work remains.
    pub(crate) fn rehash(&mut self, steps: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        if self.snap.is_some() {
            return false;
        }
        let mut empty_visits = steps * EMPTY_VISITS_PER_STEP;
        let mask = self.ht[1].len() - 1;
        for _ in 0..steps {
            if self.used[0] == 0 {
                break;
            }
            // Terminates inside the array: used[0] > 0 and all buckets below idx are empty.
            while self.ht[0].head(idx).is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    self.ht[0].release_below(idx);
                    return true;
                }
            }
            let mut chain = self.bucket_mut(0, idx).take();
            while let Some(mut e) = chain {
                chain = e.next_mut().take();
                let bucket = self.hash(e.key()) as usize & mask;
                let head = self.bucket_mut(1, bucket);
                *e.next_mut() = head.take();
                *head = Some(e);
                self.used[0] -= 1;
                self.used[1] += 1;
            }
            idx += 1;
        }
        if self.used[0] > 0 {
            self.rehash_idx = Some(idx);
            self.ht[0].release_below(idx);
            return true;
        }
        let new = mem::take(&mut self.ht[1]);
        mem::replace(&mut self.ht[0], new).free_empty();
        self.used = [self.used[1], 0];
        self.rehash_idx = None;
        false
    }

    /// Rehashes for about `micros` microseconds. Returns whether work remains.
    pub(crate) fn rehash_for(&mut self, micros: u64) -> bool {
        let start = Instant::now();
        let budget = Duration::from_micros(micros);
        while self.rehash(STEPS_PER_CLOCK_READ) {
            if start.elapsed() >= budget {
                return true;
            }
        }
        false
    }

    /// One SCAN step (module docs). Cursor 0 starts a scan; a returned 0 ends it.
    pub(crate) fn scan(&self, cursor: u64, mut f: impl FnMut(&Entry)) -> u64 {
        if self.len() == 0 {
            return 0;
        }
        let mask = |t: usize| (self.ht[t].len() - 1) as u64;
        let mut v = cursor;
        if self.rehash_idx.is_none() {
            let m0 = mask(0);
            self.chain(0, (v & m0) as usize).for_each(&mut f);
            return next_cursor(v, m0);
        }
        let (small, large) = if self.ht[0].len() <= self.ht[1].len() {
            (0, 1)
        } else {
            (1, 0)
        };
        let (m0, m1) = (mask(small), mask(large));
        self.chain(small, (v & m0) as usize).for_each(&mut f);
        // The large table's buckets whose low bits are this small-table bucket: the cursor
        // counts through the bits the large mask has and the small one lacks.
        loop {
            self.chain(large, (v & m1) as usize).for_each(&mut f);
            v = next_cursor(v, m1);
            if v & (m0 ^ m1) == 0 {
                return v;
            }
        }
    }

    /// Every entry, in bucket order.
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter {
            table: self,
            array: 0,
            bucket: 0,
            chain: Chain(None),
        }
    }

    /// Buckets that may hold entries: the unmoved part of `ht[0]` and all of `ht[1]`.
    fn live_buckets(&self) -> usize {
        match self.rehash_idx {
            None => self.ht[0].len(),
            Some(r) => self.ht[0].len() - r + self.ht[1].len(),
        }
    }

    /// The `i`th of `live_buckets`, as (array, bucket).
    fn live_bucket(&self, i: usize) -> (usize, usize) {
        match self.rehash_idx {
            None => (0, i),
            Some(r) if i < self.ht[0].len() - r => (0, r + i),
            Some(r) => (1, i - (self.ht[0].len() - r)),
        }
    }

    /// A random entry: random non-empty bucket, then a random element of its chain (Redis's
    /// dictGetRandomKey). Expected O(1) probes while the table is at least ~10% full, which
    /// `try_shrink` maintains; after `RANDOM_PROBES` misses it walks from a random bucket.
    pub(crate) fn random_entry(&self, rng: &mut impl Rng) -> Option<&Entry> {
        if self.len() == 0 {
            return None;
        }
        let live = self.live_buckets();
        for _ in 0..RANDOM_PROBES {
            let (t, b) = self.live_bucket(rng.gen_range(0..live));
            if self.ht[t].head(b).is_some() {
                return Some(random_in_chain(self.chain(t, b), rng));
            }
        }
        let start = rng.gen_range(0..live);
        (0..live)
            .map(|k| self.live_bucket((start + k) % live))
            .find(|&(t, b)| self.ht[t].head(b).is_some())
            .map(|(t, b)| random_in_chain(self.chain(t, b), rng))
    }

    /// Up to `count` entries from a run of consecutive buckets starting at a random one, jumping
    /// elsewhere after a long run of empty buckets (Redis's dictGetSomeKeys, for eviction pools).
    /// Visits at most `10 * count` buckets, so it may return fewer; an entry may repeat.
    /// Returns how many entries were passed to `f`.
    pub(crate) fn sample(&self, rng: &mut impl Rng, count: usize, mut f: impl FnMut(&Entry)) -> usize {
        let count = count.min(self.len());
        if count == 0 {
            return 0;
        }
        let live = self.live_buckets();
        let mut i = rng.gen_range(0..live);
        let (mut got, mut empty_run) = (0, 0);
        for _ in 0..count * 10 {
            let (t, b) = self.live_bucket(i);
            if self.ht[t].head(b).is_none() {
                empty_run += 1;
                if empty_run >= 5 && empty_run > count {
                    i = rng.gen_range(0..live);
                    empty_run = 0;
                    continue;
                }
            } else {
                empty_run = 0;
                for e in self.chain(t, b) {
                    f(e);
                    got += 1;
                    if got == count {
                        return got;
                    }
                }
            }
            i = (i + 1) % live;
        }
        got
    }

    /// Checks every structural invariant (tests only: it visits everything).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        for t in 0..2 {
            let n = self.ht[t].len();
            assert!(n == 0 || n.is_power_of_two());
            let mut count = 0;
            for b in 0..n {
                for e in self.chain(t, b) {
                    assert_eq!(self.bucket_of(t, self.hash(e.key())), b);
                    count += 1;
                }
            }
            assert_eq!(count, self.used[t]);
        }
        match self.rehash_idx {
            None => assert!(self.ht[1].is_empty()),
            Some(r) => {
                assert!(!self.ht[1].is_empty());
                assert!((0..r).all(|b| self.ht[0].head(b).is_none()));
            }
        }
        if self.used[0] > 0 {
            assert!(self.ht[0].len() >= MIN_BUCKETS);
        }
    }
}

/// Advances a SCAN cursor over the buckets of a `mask + 1`-bucket table: increments the masked
/// bits in reverse order (the bits above the mask are set so the carry runs through them).
fn next_cursor(v: u64, mask: u64) -> u64 {
    (v | !mask).reverse_bits().wrapping_add(1).reverse_bits()
}

fn random_in_chain<'a>(chain: Chain<'a>, rng: &mut impl Rng) -> &'a Entry {
    let len = chain.clone().count();
    chain
        .clone()
        .nth(rng.gen_range(0..len))
        .expect("index below the chain's length")
}

/// Iterator over every entry of a table.
pub(crate) struct Iter<'a> {
    table: &'a Table,
    array: usize,
    bucket: usize,
    chain: Chain<'a>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Entry;
    fn next(&mut self) -> Option<&'a Entry> {
        loop {
            if let Some(e) = self.chain.next() {
                return Some(e);
            }
            if self.bucket < self.table.ht[self.array].len() {
                self.chain = self.table.chain(self.array, self.bucket);
                self.bucket += 1;
            } else if self.array == 0 && self.table.is_rehashing() {
                self.array = 1;
                self.bucket = 0;
            } else {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    use super::*;
    use crate::storage::entry::NewValue;

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    fn insert(t: &mut Table, i: usize) {
        let k = key(i);
        let h = t.hash(&k);
        assert!(t.find(h, &k).is_none());
        t.rehash(1);
        t.insert_new(h, Entry::new(&k, NewValue::Int(i as i64), None, 0));
    }

    fn remove(t: &mut Table, i: usize) -> bool {
        let k = key(i);
        t.rehash(1);
        match t.locate(t.hash(&k), &k) {
            Some(loc) => {
                let e = t.remove_at(loc);
                assert_eq!(e.key(), &k[..]);
                true
            }
            None => false,
        }
    }

    /// A table holding keys 0..n, not rehashing.
    fn filled(n: usize) -> Table {
        let mut t = Table::new();
        for i in 0..n {
            insert(&mut t, i);
        }
        while t.rehash(100) {}
        t
    }

    fn scale(n: usize) -> usize {
        if cfg!(miri) {
            n / 20
        } else {
            n
        }
    }

    #[test]
    fn grows_incrementally_and_finds_everything() {
        let mut t = Table::new();
        let n = scale(5000);
        let mut saw_rehash = false;
        for i in 0..n {
            insert(&mut t, i);
            saw_rehash |= t.is_rehashing();
            if i % 97 == 0 {
                t.check();
            }
        }
        assert!(saw_rehash);
        t.check();
        assert_eq!(t.len(), n);
        for i in 0..n {
            let k = key(i);
            assert_eq!(t.find(t.hash(&k), &k).map(Entry::key), Some(&k[..]));
        }
        assert_eq!(t.iter().count(), n);
        let (b0, _) = t.buckets();
        assert!(b0 >= n / 2 && b0.is_power_of_two());
    }

    #[test]
    fn rehash_frees_old_segments_as_it_goes() {
        // Big enough for several segments in the old table: 2^16 buckets, 4 segments.
        let n = if cfg!(miri) { 1 << 12 } else { 1 << 16 };
        let mut t = filled(n);
        insert(&mut t, n);
        assert!(t.is_rehashing());
        let full = t.ht[0].allocated_bytes();
        while t.rehash_idx.is_some_and(|r| r < n / 2 + 1) {
            t.rehash(1);
        }
        if n >= 1 << 16 {
            assert!(t.ht[0].allocated_bytes() <= full / 2 + 64);
        }
        t.check();
        while t.rehash(1000) {}
        assert_eq!(t.len(), n + 1);
    }

    #[test]
    fn shrinks_below_ten_percent() {
        let n = scale(4000);
        let mut t = filled(n);
        let (big, _) = t.buckets();
        assert!(!t.try_shrink());
        for i in 0..n - n / 20 {
            assert!(remove(&mut t, i));
        }
        assert!(t.try_shrink());
        assert!(!t.try_shrink(), "no second resize while rehashing");
        while t.rehash_for(1000) {}
        t.check();
        let (small, none) = t.buckets();
        assert_eq!(none, 0);
        assert!(small < big && small >= t.len() && small / 2 < t.len().max(MIN_BUCKETS));
        for i in n - n / 20..n {
            assert!(remove(&mut t, i));
        }
        assert!(t.try_shrink());
        while t.rehash(1) {}
        assert_eq!(t.buckets(), (MIN_BUCKETS, 0));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn rehash_step_skips_at_most_ten_empty_buckets() {
        let mut t = filled(scale(2000).max(64));
        // Empty the table but for one key, then shrink: one step visits at most 10 empty buckets.
        let keep = t.iter().last().map(|e| e.key().to_vec()).expect("non-empty");
        let all: Vec<Vec<u8>> = t.iter().map(|e| e.key().to_vec()).collect();
        for k in all.iter().filter(|k| **k != keep) {
            let loc = t.locate(t.hash(k), k).expect("present");
            t.remove_at(loc);
        }
        assert!(t.try_shrink());
        let before = t.rehash_idx.expect("rehashing");
        assert!(t.rehash(1));
        assert_eq!(t.rehash_idx, Some(before + EMPTY_VISITS_PER_STEP));
        while t.rehash(1) {}
        t.check();
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn scan_without_resize_visits_each_key_once() {
        let n = scale(3000);
        let t = filled(n);
        let mut seen = HashMap::new();
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, |e| *seen.entry(e.key().to_vec()).or_insert(0) += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), n);
        assert!(seen.values().all(|&c| c == 1));
    }

    #[test]
    fn scan_across_grow_and_shrink_returns_every_stable_key() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut t = Table::new();
        let stable = scale(400);
        for i in 0..stable {
            insert(&mut t, i);
        }
        let mut next = stable;
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut transient: Vec<usize> = Vec::new();
        let mut calls = 0;
        loop {
            cursor = t.scan(cursor, |e| {
                seen.insert(e.key().to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
            // Alternate phases: flood the table (grow), then drain it (shrink).
            if (calls / 15) % 2 == 0 {
                for _ in 0..rng.gen_range(0..scale(200).max(4)) {
                    insert(&mut t, next);
                    transient.push(next);
                    next += 1;
                }
            } else {
                while let Some(i) = transient.pop() {
                    assert!(remove(&mut t, i));
                }
                t.try_shrink();
            }
            t.rehash(rng.gen_range(0..3));
        }
        for i in 0..stable {
            assert!(seen.contains(&key(i)), "stable key {i} missed");
        }
        t.check();
    }

    #[test]
    fn random_entry_reaches_every_key() {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut t = Table::new();
        assert!(t.random_entry(&mut rng).is_none());
        let n = 20;
        for i in 0..n {
            insert(&mut t, i);
        }
        let mut seen = HashSet::new();
        for _ in 0..scale(2000).max(400) {
            seen.insert(t.random_entry(&mut rng).expect("non-empty").key().to_vec());
        }
        assert_eq!(seen.len(), n);
        // A nearly empty big table still answers (through the walking fallback).
        for i in 0..scale(3000) {
            insert(&mut t, n + i);
        }
        for i in 0..n + scale(3000) - 1 {
            remove(&mut t, i);
        }
        let last = key(n + scale(3000) - 1);
        for _ in 0..10 {
            assert_eq!(t.random_entry(&mut rng).map(Entry::key), Some(&last[..]));
        }
    }

    #[test]
    fn sample_returns_distinct_entries_from_a_full_table() {
        let mut rng = SmallRng::seed_from_u64(3);
        let t = filled(scale(1000).max(50));
        let mut got = HashSet::new();
        let n = t.sample(&mut rng, 16, |e| assert!(got.insert(e.key().to_vec())));
        assert_eq!((n, got.len()), (16, 16));
        let small = Table::new();
        assert_eq!(small.sample(&mut rng, 5, |_| panic!("empty")), 0);
    }

    #[test]
    fn next_cursor_is_reverse_binary_increment() {
        // With 8 buckets the order is 0 4 2 6 1 5 3 7, then back to 0.
        let mut v = 0;
        let mut order = Vec::new();
        loop {
            order.push(v);
            v = next_cursor(v, 7);
            if v == 0 {
                break;
            }
        }
        assert_eq!(order, [0, 4, 2, 6, 1, 5, 3, 7]);
    }
}
