//! The large form of a hash: a chained hash table whose records are single allocations.
//!
//! Why this shape. Redis's `hashtable` encoding spends, per field, a 24-byte dict entry (jemalloc's
//! 32-byte class) plus two sds strings (each a header, the bytes and a NUL, rounded to a class) plus
//! its bucket slot. Here a field and its value live in one allocation with the chain link:
//!
//! ```text
//!  +-----------+-------------+--------------+-------------+--------------+
//!  | next: 8 B | field len   | field bytes  | value len   | value bytes  |
//!  | (Link)    | LEB128      |              | LEB128      |              |
//!  +-----------+-------------+--------------+-------------+--------------+
//! ```
//!
//! so an 8-byte field with a 16-byte value takes 34 bytes (the 48-byte class) against Redis's
//! 32 + 16 + 32 = 80, and the bucket array costs the same 8 bytes per slot. Chaining (rather than open
//! addressing) is what makes Redis's SCAN guarantee simple to keep: a field's bucket is a pure
//! function of its hash and the table size, so the reverse-binary cursor (below) works as it does in
//! Redis's dict, and it makes random sampling O(1) on average (a random non-empty bucket, then a
//! random record of its chain, as Redis's `dictGetRandomKey`).
//!
//! Resizing is done in one step (doubling when an insert finds as many records as buckets, shrinking
//! after a delete leaves the table under 10% full, Redis's thresholds), not incrementally: a hash
//! this large is one value, and the cost is amortised O(1) per insert. SCAN needs no incremental
//! rehash to keep its guarantee: the cursor is read against whatever size the table has at each call.
//!
//! Invariants:
//! - `buckets.len()` is a power of two, at least [`MIN_BUCKETS`];
//! - every record is reachable from exactly one bucket, the one its field's hash selects; fields are
//!   unique; `len` counts the records and `bytes` the size classes of their allocations;
//! - a record's allocation size is a pure function of its contents (`record_size`), so it is never
//!   stored: every allocation and free use `Layout::from_size_align(record_size, 8)`;
//! - the table owns its records: they are freed by `remove` or by `Drop`, never elsewhere.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};
use std::sync::OnceLock;

use ahash::RandomState;
use rand::Rng;

/// Smallest bucket array (Redis's DICT_HT_INITIAL_SIZE).
pub const MIN_BUCKETS: usize = 4;
/// A table less full than this (in percent) shrinks after a delete (Redis's HASHTABLE_MIN_FILL).
const MIN_FILL_PERCENT: usize = 10;
const ALIGN: usize = 8;
/// Bytes of the chain link at the start of a record.
const LINK_SIZE: usize = std::mem::size_of::<Link>();

/// A chain link: the next record, or the end of the chain. A record pointer is the address of its
/// allocation.
type Link = Option<NonNull<u8>>;

/// The hash seed: random per process (resistance to hash flooding, like Redis's siphash seed).
fn hasher() -> &'static RandomState {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    SEED.get_or_init(RandomState::new)
}

#[inline]
fn hash_of(field: &[u8]) -> u64 {
    hasher().hash_one(field)
}

/// The size class jemalloc hands out for `n` bytes (what `used_memory` counts).
pub fn malloc_size(n: usize) -> usize {
    if n == 0 || cfg!(miri) {
        return n;
    }
    // SAFETY: nallocx only computes a size class; it allocates nothing and `n` is non-zero.
    unsafe { tikv_jemalloc_sys::nallocx(n, 0) }
}

// ---- records ----

fn varint_size(mut n: usize) -> usize {
    let mut s = 1;
    while n >= 0x80 {
        n >>= 7;
        s += 1;
    }
    s
}

/// Bytes of the allocation holding `field` and `value`.
fn record_size(field_len: usize, value_len: usize) -> usize {
    LINK_SIZE + varint_size(field_len) + field_len + varint_size(value_len) + value_len
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, ALIGN).expect("record sizes are bounded by the protocol's bulk limit")
}

/// Write `n` as LEB128 at `p`; returns the bytes written.
///
/// # Safety
/// `p` must be valid for `varint_size(n)` bytes of writes.
unsafe fn put_varint(p: *mut u8, mut n: usize) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        *p.add(i) = (n as u8) | 0x80;
        n >>= 7;
        i += 1;
    }
    *p.add(i) = n as u8;
    i + 1
}

/// Read a LEB128 number at `p`: (value, bytes read).
///
/// # Safety
/// `p` must point at a varint written by `put_varint` inside a live record.
unsafe fn get_varint(p: *const u8) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = *p.add(i);
        v |= ((b & 0x7F) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (v, i);
        }
        shift += 7;
    }
}

/// Allocate a record for `field`/`value` whose link is `next`.
fn record_new(field: &[u8], value: &[u8], next: Link) -> NonNull<u8> {
    let size = record_size(field.len(), value.len());
    let lay = layout(size);
    // SAFETY: the layout has a non-zero size (at least the link); every byte written below lies inside
    // the `size` bytes just allocated, as `record_size` adds up exactly these parts.
    unsafe {
        let p = alloc::alloc(lay);
        let Some(p) = NonNull::new(p) else {
            alloc::handle_alloc_error(lay)
        };
        ptr::write(p.as_ptr() as *mut Link, next);
        let mut at = LINK_SIZE;
        at += put_varint(p.as_ptr().add(at), field.len());
        ptr::copy_nonoverlapping(field.as_ptr(), p.as_ptr().add(at), field.len());
        at += field.len();
        at += put_varint(p.as_ptr().add(at), value.len());
        ptr::copy_nonoverlapping(value.as_ptr(), p.as_ptr().add(at), value.len());
        p
    }
}

/// A record's field and value, and its allocation size.
///
/// # Safety
/// `p` must be a live record of this table; the slices live as long as it does (`'a` is chosen by the
/// caller to be a borrow of the table).
unsafe fn record_parts<'a>(p: NonNull<u8>) -> (&'a [u8], &'a [u8], usize) {
    let base = p.as_ptr();
    let mut at = LINK_SIZE;
    let (flen, n) = get_varint(base.add(at));
    at += n;
    let field = std::slice::from_raw_parts(base.add(at), flen);
    at += flen;
    let (vlen, n) = get_varint(base.add(at));
    at += n;
    let value = std::slice::from_raw_parts(base.add(at), vlen);
    (field, value, at + vlen)
}

/// # Safety
/// `p` must be a live record.
#[inline]
unsafe fn record_field<'a>(p: NonNull<u8>) -> &'a [u8] {
    let base = p.as_ptr();
    let (flen, n) = get_varint(base.add(LINK_SIZE));
    std::slice::from_raw_parts(base.add(LINK_SIZE + n), flen)
}

/// The link stored at the start of a record.
///
/// # Safety
/// `p` must be a live record.
#[inline]
unsafe fn next_of(p: NonNull<u8>) -> Link {
    ptr::read(p.as_ptr() as *const Link)
}

/// # Safety
/// `p` must be a live record.
#[inline]
unsafe fn next_slot(p: NonNull<u8>) -> *mut Link {
    p.as_ptr() as *mut Link
}

/// Free a record (not its chain).
///
/// # Safety
/// `p` must be a live record that nothing links to any more.
unsafe fn record_free(p: NonNull<u8>) -> usize {
    let (_, _, size) = record_parts(p);
    alloc::dealloc(p.as_ptr(), layout(size));
    size
}

// ---- the table ----

/// A chained hash table of field/value records (see the module docs).
pub struct FieldTable {
    buckets: Box<[Link]>,
    len: usize,
    /// Size classes of the record allocations, for MEMORY USAGE.
    bytes: usize,
}

// SAFETY: the table uniquely owns its records (plain bytes, no interior mutability, no thread-bound
// state), so moving it to another thread or sharing `&FieldTable` is as safe as for a `Vec<Vec<u8>>`.
unsafe impl Send for FieldTable {}
// SAFETY: see above; `&self` methods only read.
unsafe impl Sync for FieldTable {}

impl Default for FieldTable {
    fn default() -> Self {
        FieldTable::with_capacity(0)
    }
}

impl std::fmt::Debug for FieldTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

fn empty_buckets(n: usize) -> Box<[Link]> {
    vec![None; n].into_boxed_slice()
}

impl FieldTable {
    /// An empty table sized for `n` records without growing.
    pub fn with_capacity(n: usize) -> FieldTable {
        FieldTable {
            buckets: empty_buckets(n.next_power_of_two().max(MIN_BUCKETS)),
            len: 0,
            bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buckets (for tests and statistics).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn bucket_of(&self, hash: u64) -> usize {
        (hash as usize) & (self.buckets.len() - 1)
    }

    /// The slot (a bucket or a record's link) that points at `field`'s record, if present.
    fn find_slot(&mut self, field: &[u8]) -> Option<*mut Link> {
        let b = self.bucket_of(hash_of(field));
        let mut slot: *mut Link = &mut self.buckets[b];
        // SAFETY: `slot` is a bucket of this table or the link of one of its live records, and every
        // record reached through it is live; nothing else mutates the table meanwhile (`&mut self`).
        unsafe {
            while let Some(p) = *slot {
                if record_field(p) == field {
                    return Some(slot);
                }
                slot = next_slot(p);
            }
        }
        None
    }

    fn find(&self, field: &[u8]) -> Option<NonNull<u8>> {
        let mut link = self.buckets[self.bucket_of(hash_of(field))];
        while let Some(p) = link {
            // SAFETY: records reachable from a bucket are live while `&self` is borrowed.
            unsafe {
                if record_field(p) == field {
                    return Some(p);
                }
                link = next_of(p);
            }
        }
        None
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        // SAFETY: the record is live and the returned slice borrows `self`.
        self.find(field).map(|p| unsafe { record_parts(p).1 })
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.find(field).is_some()
    }

    /// Set `field` to `value`; true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Some(slot) = self.find_slot(field) {
            // SAFETY: `slot` points at the live record for `field` (found above, nothing changed since).
            // The record is reallocated to its new size (its link and field move with it), the value part
            // rewritten inside the new size, and the slot redirected to the new address.
            unsafe {
                let old = (*slot).expect("find_slot returns a filled slot");
                let (_, old_value, old_size) = record_parts(old);
                if old_value == value {
                    return false;
                }
                let new_size = record_size(field.len(), value.len());
                let p = alloc::realloc(old.as_ptr(), layout(old_size), new_size);
                let Some(p) = NonNull::new(p) else {
                    alloc::handle_alloc_error(layout(new_size))
                };
                let at = LINK_SIZE + varint_size(field.len()) + field.len();
                let n = put_varint(p.as_ptr().add(at), value.len());
                ptr::copy_nonoverlapping(value.as_ptr(), p.as_ptr().add(at + n), value.len());
                *slot = Some(p);
                self.bytes = self.bytes - malloc_size(old_size) + malloc_size(new_size);
            }
            return false;
        }
        self.insert_new(field, value);
        true
    }

    /// Insert a field known to be absent (conversion from a listpack, cloning).
    pub fn insert_new(&mut self, field: &[u8], value: &[u8]) {
        if self.len >= self.buckets.len() {
            self.resize((self.len + 1).next_power_of_two());
        }
        let b = self.bucket_of(hash_of(field));
        let rec = record_new(field, value, self.buckets[b]);
        self.buckets[b] = Some(rec);
        self.len += 1;
        self.bytes += malloc_size(record_size(field.len(), value.len()));
    }

    /// Remove `field`; true when it was there. The table may shrink afterwards.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let Some(slot) = self.find_slot(field) else {
            return false;
        };
        // SAFETY: `slot` points at the live record for `field`; it is unlinked before it is freed.
        unsafe {
            let p = (*slot).expect("find_slot returns a filled slot");
            *slot = next_of(p);
            let size = record_free(p);
            self.bytes -= malloc_size(size);
        }
        self.len -= 1;
        if self.buckets.len() > MIN_BUCKETS && self.len * 100 / self.buckets.len() < MIN_FILL_PERCENT {
            self.resize(self.len.next_power_of_two().max(MIN_BUCKETS));
        }
        true
    }

    /// Move every record to a bucket array of `n` buckets (a power of two).
    fn resize(&mut self, n: usize) {
        let n = n.max(MIN_BUCKETS);
        if n == self.buckets.len() {
            return;
        }
        let mut new = empty_buckets(n);
        let mask = n - 1;
        let old = std::mem::replace(&mut self.buckets, empty_buckets(0));
        for mut link in old.iter().copied() {
            while let Some(p) = link {
                // SAFETY: each record is live and reachable from exactly one old chain; it is relinked
                // at the head of its new chain after its old successor was read.
                unsafe {
                    link = next_of(p);
                    let b = (hash_of(record_field(p)) as usize) & mask;
                    ptr::write(next_slot(p), new[b]);
                    new[b] = Some(p);
                }
            }
        }
        self.buckets = new;
    }

    /// Every field and value, in bucket order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            table: self,
            bucket: 0,
            link: None,
        }
    }

    /// A random field and value: a random non-empty bucket, then a random record of its chain (as
    /// Redis's `dictGetRandomKey`). The table is at least 10% full, so this takes O(1) tries on average.
    pub fn random<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(&[u8], &[u8])> {
        if self.len == 0 {
            return None;
        }
        let head = loop {
            if let Some(p) = self.buckets[rng.gen_range(0..self.buckets.len())] {
                break p;
            }
        };
        let mut chain_len = 0;
        let mut link = Some(head);
        while let Some(p) = link {
            chain_len += 1;
            // SAFETY: live records reachable from a bucket.
            link = unsafe { next_of(p) };
        }
        let mut p = head;
        for _ in 0..rng.gen_range(0..chain_len) {
            // SAFETY: as above; the walk stays within the chain counted just before.
            p = unsafe { next_of(p) }.expect("within the chain's length");
        }
        // SAFETY: a live record; the slices borrow `self`.
        let (f, v, _) = unsafe { record_parts(p) };
        Some((f, v))
    }

    /// One step of a SCAN: report every record of the bucket `cursor` designates and return the next
    /// cursor (0 when the scan is complete).
    ///
    /// Redis's reverse-binary cursor: the bucket bits of the cursor are incremented from the most
    /// significant one down. A bucket of a table of size `s` expands into the buckets of a table of
    /// size `2s` that share its low bits, which a reversed increment visits together, so buckets
    /// already visited stay visited when the table grows or shrinks between calls. Every field
    /// present for the whole scan is reported at least once (some may be reported twice).
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut link = self.buckets[(cursor & mask) as usize];
        while let Some(p) = link {
            // SAFETY: live records reachable from a bucket; the slices borrow `self`.
            unsafe {
                let (k, v, _) = record_parts(p);
                f(k, v);
                link = next_of(p);
            }
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// Bytes allocated: the bucket array and every record, by size class.
    pub fn mem_usage(&self) -> usize {
        malloc_size(self.buckets.len() * LINK_SIZE) + self.bytes
    }
}

impl Clone for FieldTable {
    fn clone(&self) -> Self {
        let mut t = FieldTable::with_capacity(self.buckets.len());
        for (f, v) in self.iter() {
            t.insert_new(f, v);
        }
        t
    }
}

impl Drop for FieldTable {
    fn drop(&mut self) {
        for mut link in self.buckets.iter().copied() {
            while let Some(p) = link {
                // SAFETY: each record is live and reachable from exactly one chain; its successor is read
                // before it is freed, and the buckets are dropped right after without being read.
                unsafe {
                    link = next_of(p);
                    record_free(p);
                }
            }
        }
    }
}

/// Iterator over a table's fields and values.
pub struct Iter<'a> {
    table: &'a FieldTable,
    bucket: usize,
    link: Link,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(p) = self.link {
                // SAFETY: live records reachable from the table borrowed for 'a.
                unsafe {
                    self.link = next_of(p);
                    let (f, v, _) = record_parts(p);
                    return Some((f, v));
                }
            }
            let b = self.table.buckets.get(self.bucket)?;
            self.link = *b;
            self.bucket += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn varints_round_trip() {
        for n in [0usize, 1, 127, 128, 255, 16383, 16384, 1 << 21, usize::MAX >> 1] {
            let mut buf = [0u8; 16];
            // SAFETY: the buffer holds the largest varint (10 bytes).
            let (w, (r, used)) = unsafe { (put_varint(buf.as_mut_ptr(), n), get_varint(buf.as_ptr())) };
            assert_eq!((r, used), (n, w));
            assert_eq!(w, varint_size(n));
        }
    }

    #[test]
    fn grows_and_shrinks_at_redis_thresholds() {
        let mut t = FieldTable::default();
        assert_eq!(t.bucket_count(), 4);
        for i in 0..4 {
            t.set(format!("f{i}").as_bytes(), b"v");
        }
        assert_eq!(t.bucket_count(), 4);
        t.set(b"f4", b"v");
        assert_eq!(t.bucket_count(), 8);
        for i in 5..100 {
            t.set(format!("f{i}").as_bytes(), b"v");
        }
        assert_eq!(t.bucket_count(), 128);
        for i in 0..88 {
            assert!(t.remove(format!("f{i}").as_bytes()));
        }
        // 12 left of 128: 9% full, shrunk to 16.
        assert_eq!((t.len(), t.bucket_count()), (12, 16));
    }

    #[test]
    fn scan_covers_everything_across_resizes() {
        // Smaller under Miri, which runs this test too (it is slow there).
        let (keep, churn) = if cfg!(miri) { (60, 40) } else { (500, 300) };
        let mut t = FieldTable::default();
        for i in 0..keep {
            t.set(format!("keep{i}").as_bytes(), b"v");
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = t.scan(cursor, |f, _| {
                seen.insert(f.to_vec());
            });
            // Grow and shrink the table while the scan runs.
            step += 1;
            if step % 7 == 0 {
                for j in 0..churn {
                    t.set(format!("tmp{step}-{j}").as_bytes(), b"x");
                }
            } else if step % 7 == 3 {
                let tmp: Vec<Vec<u8>> = t
                    .iter()
                    .filter(|(f, _)| f.starts_with(b"tmp"))
                    .map(|(f, _)| f.to_vec())
                    .collect();
                for f in tmp {
                    t.remove(&f);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..keep {
            assert!(seen.contains(format!("keep{i}").as_bytes()), "keep{i} missed");
        }
    }

    #[test]
    fn random_sampling_reaches_every_field() {
        let mut t = FieldTable::default();
        for i in 0..50 {
            t.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes());
        }
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            let (f, v) = t.random(&mut rng).expect("not empty");
            assert_eq!(t.get(f), Some(v));
            seen.insert(f.to_vec());
        }
        assert_eq!(seen.len(), 50);
        assert!(FieldTable::default().random(&mut rng).is_none());
    }

    #[test]
    fn memory_is_counted_by_size_class() {
        let mut t = FieldTable::default();
        t.set(b"field:12", b"0123456789abcdef");
        // 8 + 1 + 8 + 1 + 16 = 34 bytes: the 48-byte class, where Redis spends 80 on the same pair.
        assert_eq!(t.mem_usage(), malloc_size(32) + malloc_size(34));
        t.set(b"field:12", b"x");
        assert_eq!(t.mem_usage(), malloc_size(32) + malloc_size(19));
        t.remove(b"field:12");
        assert_eq!(t.mem_usage(), malloc_size(32));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Vec<u8>),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<u8>(), prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(k, v)| Op::Set(k, v)),
            1 => any::<u8>().prop_map(Op::Remove),
        ]
    }

    fn field(k: u8) -> Vec<u8> {
        // Some fields longer than 127 bytes exercise two-byte lengths.
        if k.is_multiple_of(5) {
            vec![k; 130 + k as usize]
        } else {
            format!("field-{k}").into_bytes()
        }
    }

    proptest! {
        #[test]
        fn behaves_like_a_hashmap(ops in prop::collection::vec(op(), 0..400)) {
            let mut t = FieldTable::default();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for op in ops {
                match op {
                    Op::Set(k, v) => {
                        let f = field(k);
                        prop_assert_eq!(t.set(&f, &v), model.insert(f, v).is_none());
                    }
                    Op::Remove(k) => {
                        let f = field(k);
                        prop_assert_eq!(t.remove(&f), model.remove(&f).is_some());
                    }
                }
                prop_assert_eq!(t.len(), model.len());
            }
            let all: HashMap<Vec<u8>, Vec<u8>> = t.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(&all, &model);
            for (f, v) in &model {
                prop_assert_eq!(t.get(f), Some(v.as_slice()));
            }
            let c = t.clone();
            let copied: HashMap<Vec<u8>, Vec<u8>> = c.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(copied, model);
        }
    }
}
