//! The hash table behind a set that is not an intset (`OBJECT ENCODING` `hashtable`).
//!
//! Open addressing with Robin Hood linear probing over a power-of-two array of 16-byte slots, with
//! backward-shift deletion, so a table never holds tombstones. Each slot keeps its member in place:
//!
//! - a canonical integer (what an intset would hold) as its `i64`;
//! - a string of at most [`INLINE_MAX`] bytes inside the slot itself;
//! - a longer string as a pointer to its own heap allocation.
//!
//! A slot also records its distance from its home bucket (`hash & mask`). That is all the three
//! things Redis's guarantees need:
//!
//! - **SCAN**: the cursor walks home buckets in reverse-binary order, as Redis's `dictScan` walks its
//!   buckets, and a call emits every member whose home is the cursor's bucket. Robin Hood keeps
//!   every member between its home and the first empty slot after it, in home order, so the members
//!   of one home are found by walking from the home without hashing anything. A member present for
//!   the whole scan is returned at least once even when the table grows or shrinks in between,
//!   because homes at the larger size refine homes at the smaller one exactly as Redis's buckets do.
//! - **Random member in O(1)**: pick slots uniformly until one is occupied. The table shrinks when
//!   fewer than one slot in eight is used, so that takes at most eight tries on average, and unlike
//!   Redis's bucket sampling every member is equally likely.
//! - **Lean memory**: 16 bytes per slot at a load between 7/16 and 7/8 after growth, and no
//!   separate allocation at all for integers and short strings (Redis spends a 24-byte entry plus an
//!   sds string per member).
//!
//! Members are hashed with one process-wide keyed hash (random keys chosen at start), like Redis's
//! SipHash seed, so clients cannot aim collisions at a table. A table grows all at once (no
//! incremental rehash): the copy is one pass of 16-byte moves.
//!
//! Invariants: `slots.len()` is a power of two, at least [`MIN_SLOTS`]; `len < slots.len()` (at least
//! one empty slot, so every walk ends); for every occupied slot at `i` with distance `d`, the slots
//! `i - d ..= i` are all occupied and the member's hash has home `i - d`; a heap slot owns its
//! allocation of exactly its recorded length.

use std::sync::OnceLock;

use super::Member;

/// Longest string kept inside a slot.
pub const INLINE_MAX: usize = 14;
/// Smallest slot array.
pub const MIN_SLOTS: usize = 4;

const TAG_EMPTY: u8 = 0;
const TAG_INT: u8 = 1;
const TAG_HEAP: u8 = 2;
/// `TAG_INLINE | len` for an inline string of `len` bytes (0..=14).
const TAG_INLINE: u8 = 0x10;
/// Probe distances are kept in a byte; a table that would need more grows instead.
const MAX_DIST: u8 = u8::MAX;

/// One slot: `meta[0]` is the tag, `meta[1]` the distance from home. An inline string occupies
/// bytes 2..16, an integer `tail` as little-endian bytes, a heap string `tail.ptr` with its length
/// in `meta[2..8]` (48 bits).
#[repr(C)]
#[derive(Clone, Copy)]
struct Slot {
    meta: [u8; 8],
    tail: Tail,
}

#[repr(C)]
#[derive(Clone, Copy)]
union Tail {
    bytes: [u8; 8],
    ptr: *mut u8,
}

const EMPTY: Slot = Slot {
    meta: [TAG_EMPTY, 0, 0, 0, 0, 0, 0, 0],
    tail: Tail { bytes: [0; 8] },
};

impl Slot {
    #[inline]
    fn tag(&self) -> u8 {
        self.meta[0]
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.meta[0] == TAG_EMPTY
    }

    #[inline]
    fn dist(&self) -> u8 {
        self.meta[1]
    }

    /// A slot holding `m` (a heap string is copied into a new allocation), at distance 0.
    fn new(m: Member<'_>) -> Slot {
        match m {
            Member::Int(v) => Slot {
                meta: [TAG_INT, 0, 0, 0, 0, 0, 0, 0],
                tail: Tail { bytes: v.to_le_bytes() },
            },
            Member::Str(s) if s.len() <= INLINE_MAX => {
                let mut raw = [0u8; 16];
                raw[0] = TAG_INLINE | s.len() as u8;
                raw[2..2 + s.len()].copy_from_slice(s);
                let mut meta = [0u8; 8];
                meta.copy_from_slice(&raw[..8]);
                let mut tail = [0u8; 8];
                tail.copy_from_slice(&raw[8..]);
                Slot {
                    meta,
                    tail: Tail { bytes: tail },
                }
            }
            Member::Str(s) => {
                let len = (s.len() as u64).to_le_bytes();
                let mut meta = [TAG_HEAP, 0, 0, 0, 0, 0, 0, 0];
                meta[2..8].copy_from_slice(&len[..6]);
                let boxed: Box<[u8]> = s.into();
                Slot {
                    meta,
                    tail: Tail {
                        ptr: Box::into_raw(boxed) as *mut u8,
                    },
                }
            }
        }
    }

    #[inline]
    fn heap_len(&self) -> usize {
        let mut len = [0u8; 8];
        len[..6].copy_from_slice(&self.meta[2..8]);
        u64::from_le_bytes(len) as usize
    }

    /// The member of an occupied slot.
    #[inline]
    fn member(&self) -> Member<'_> {
        let tag = self.tag();
        if tag == TAG_INT {
            // SAFETY: an integer slot was written through `tail.bytes`.
            Member::Int(i64::from_le_bytes(unsafe { self.tail.bytes }))
        } else if tag == TAG_HEAP {
            // SAFETY: a heap slot owns an allocation of `heap_len()` bytes at `tail.ptr`, alive as
            // long as the slot is (the returned borrow is tied to `self`).
            Member::Str(unsafe { std::slice::from_raw_parts(self.tail.ptr, self.heap_len()) })
        } else {
            let len = (tag & 0x0F) as usize;
            // SAFETY: `Slot` is `repr(C)` without padding (8 bytes then an 8-byte union), an inline
            // slot was written whole through `tail.bytes`, and `2 + len <= 16`.
            Member::Str(unsafe { std::slice::from_raw_parts((self as *const Slot as *const u8).add(2), len) })
        }
    }

    /// Whether the occupied slot holds `m`.
    #[inline]
    fn holds(&self, m: Member<'_>) -> bool {
        match m {
            Member::Int(v) => {
                // SAFETY: read only when the tag says the tail holds an integer.
                self.tag() == TAG_INT && i64::from_le_bytes(unsafe { self.tail.bytes }) == v
            }
            Member::Str(s) if s.len() <= INLINE_MAX => {
                self.tag() == TAG_INLINE | s.len() as u8 && matches!(self.member(), Member::Str(x) if x == s)
            }
            Member::Str(s) => self.tag() == TAG_HEAP && self.heap_len() == s.len() && self.member() == Member::Str(s),
        }
    }

    /// Bytes of the slot's own heap allocation (jemalloc's size class), 0 when it has none.
    fn heap_alloc(&self) -> usize {
        if self.tag() == TAG_HEAP {
            crate::memory::size_class(self.heap_len())
        } else {
            0
        }
    }

    /// Release a heap string. The slot must not be used afterwards.
    ///
    /// # Safety
    /// The slot must be an occupied slot that owns its allocation (not a bitwise copy whose original
    /// is still in a table).
    unsafe fn free(&mut self) {
        if self.tag() == TAG_HEAP {
            let len = self.heap_len();
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.tail.ptr, len)));
        }
        *self = EMPTY;
    }
}

fn hasher() -> &'static ahash::RandomState {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new)
}

/// The process-wide hash of a member (integers and strings never collide as members: a string
/// member is never the canonical text of an integer).
#[inline]
pub fn hash(m: Member<'_>) -> u64 {
    match m {
        Member::Int(v) => hasher().hash_one(v),
        Member::Str(s) => hasher().hash_one(s),
    }
}

/// Redis's reverse-binary cursor increment over a table with `mask` (see `dictScan`).
#[inline]
pub fn next_cursor(cursor: u64, mask: u64) -> u64 {
    let mut v = cursor | !mask;
    v = v.reverse_bits();
    v = v.wrapping_add(1);
    v.reverse_bits()
}

/// See the module docs.
pub struct Table {
    slots: Box<[Slot]>,
    len: usize,
}

// SAFETY: a table owns its heap strings exclusively (no sharing, no interior mutability), so moving
// it to or reading it from another thread is as safe as for a `Vec<Box<[u8]>>`.
unsafe impl Send for Table {}
unsafe impl Sync for Table {}

impl Default for Table {
    fn default() -> Self {
        Table::with_capacity(0)
    }
}

impl Clone for Table {
    fn clone(&self) -> Self {
        let slots = self
            .slots
            .iter()
            .map(|s| {
                if s.tag() == TAG_HEAP {
                    let mut copy = Slot::new(s.member());
                    copy.meta[1] = s.dist();
                    copy
                } else {
                    *s
                }
            })
            .collect();
        Table { slots, len: self.len }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        for s in self.slots.iter_mut() {
            // SAFETY: each slot owns its allocation and is dropped once, with the table.
            unsafe { s.free() };
        }
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The most members a table of `slots` slots holds before it grows: 7/8 of it (3 of 4 at the
/// smallest size), always leaving an empty slot.
#[inline]
fn max_load(slots: usize) -> usize {
    slots * 7 / 8
}

/// The slot count for `n` members right after a resize: at most half full.
fn slots_for(n: usize) -> usize {
    n.saturating_mul(2).next_power_of_two().max(MIN_SLOTS)
}

impl Table {
    /// An empty table sized for `n` members.
    pub fn with_capacity(n: usize) -> Table {
        let mut slots = MIN_SLOTS;
        while max_load(slots) < n {
            slots *= 2;
        }
        Table {
            slots: vec![EMPTY; slots].into_boxed_slice(),
            len: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot count (the SCAN cursor's table size).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Position of `m`, if present.
    #[inline]
    fn find(&self, m: Member<'_>, h: u64) -> Option<usize> {
        let mask = self.mask();
        let mut i = h as usize & mask;
        let mut d: usize = 0;
        loop {
            let s = &self.slots[i];
            if s.is_empty() || (s.dist() as usize) < d {
                return None;
            }
            if s.dist() as usize == d && s.holds(m) {
                return Some(i);
            }
            i = (i + 1) & mask;
            d += 1;
        }
    }

    pub fn contains(&self, m: Member<'_>) -> bool {
        self.find(m, hash(m)).is_some()
    }

    /// Add `m`; false if it was already a member.
    pub fn insert(&mut self, m: Member<'_>) -> bool {
        let h = hash(m);
        if self.find(m, h).is_some() {
            return false;
        }
        if self.len + 1 > max_load(self.slots.len()) {
            self.resize(self.slots.len() * 2);
        }
        let mut slot = Slot::new(m);
        while let Err(back) = place(&mut self.slots, slot, h) {
            // A probe run too long for the distance byte: spread the table out and retry.
            slot = back;
            self.resize(self.slots.len() * 2);
        }
        self.len += 1;
        true
    }

    /// Remove `m`; false if it was not a member. The table may shrink.
    pub fn remove(&mut self, m: Member<'_>) -> bool {
        match self.find(m, hash(m)) {
            Some(i) => {
                let mut s = self.take_at(i);
                // SAFETY: `s` was moved out of the table, which no longer refers to it.
                unsafe { s.free() };
                self.maybe_shrink();
                true
            }
            None => false,
        }
    }

    /// Move the member at `i` out (backward-shift deletion). The caller owns the returned slot.
    fn take_at(&mut self, i: usize) -> Slot {
        let mask = self.mask();
        let taken = self.slots[i];
        let mut j = i;
        loop {
            let k = (j + 1) & mask;
            let next = self.slots[k];
            if next.is_empty() || next.dist() == 0 {
                break;
            }
            let mut moved = next;
            moved.meta[1] -= 1;
            self.slots[j] = moved;
            j = k;
        }
        self.slots[j] = EMPTY;
        self.len -= 1;
        taken
    }

    /// Shrink when less than one slot in eight is used (keeps random picks O(1)).
    fn maybe_shrink(&mut self) {
        let n = self.slots.len();
        if n > MIN_SLOTS && self.len * 8 < n {
            self.resize(slots_for(self.len));
        }
    }

    /// Rebuild with `n` slots (a power of two that fits every member), or more if a probe run would
    /// be too long for the distance byte.
    fn resize(&mut self, mut n: usize) {
        loop {
            let mut fresh = vec![EMPTY; n].into_boxed_slice();
            let fits = self
                .slots
                .iter()
                .filter(|s| !s.is_empty())
                .all(|s| place(&mut fresh, *s, hash(s.member())).is_ok());
            if fits {
                // The old array's slots are bitwise copies now owned by `fresh`; dropping the array
                // frees nothing else (`Slot` has no destructor).
                self.slots = fresh;
                return;
            }
            n *= 2;
        }
    }

    /// The members, in slot order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            slots: self.slots.iter(),
            left: self.len,
        }
    }

    /// A member chosen uniformly, or `None` when empty.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<Member<'_>> {
        self.random_index(rng).map(|i| self.slots[i].member())
    }

    fn random_index(&self, rng: &mut impl rand::Rng) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        loop {
            let i = rng.gen::<usize>() & mask;
            if !self.slots[i].is_empty() {
                return Some(i);
            }
        }
    }

    /// Remove a member chosen uniformly and hand it to `f` (which sees it before it is freed).
    pub fn pop_random<R>(&mut self, rng: &mut impl rand::Rng, f: impl FnOnce(Member<'_>) -> R) -> Option<R> {
        let i = self.random_index(rng)?;
        let mut s = self.take_at(i);
        let r = f(s.member());
        // SAFETY: `s` was moved out of the table, which no longer refers to it.
        unsafe { s.free() };
        self.maybe_shrink();
        Some(r)
    }

    /// One SCAN step: call `f` for every member whose home bucket is `cursor`'s, and return the next
    /// cursor (0 when the scan is complete).
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(Member<'a>)) -> u64 {
        let mask = self.mask();
        let home = cursor as usize & mask;
        let mut i = home;
        let mut offset = 0usize;
        loop {
            let s = &self.slots[i];
            if s.is_empty() {
                break;
            }
            let d = s.dist() as usize;
            if d < offset {
                // Members from here on have later homes.
                break;
            }
            if d == offset {
                f(s.member());
            }
            i = (i + 1) & mask;
            offset += 1;
            if offset > mask {
                break;
            }
        }
        next_cursor(cursor, mask as u64)
    }

    /// Bytes allocated: the slot array and the heap strings (jemalloc size classes).
    pub fn alloc_size(&self) -> usize {
        crate::memory::size_class(self.slots.len() * std::mem::size_of::<Slot>())
            + self.slots.iter().map(Slot::heap_alloc).sum::<usize>()
    }

    /// Check the invariants (tests).
    #[cfg(test)]
    pub fn check(&self) {
        let mask = self.mask();
        assert!(self.slots.len().is_power_of_two() && self.slots.len() >= MIN_SLOTS);
        assert!(self.len < self.slots.len());
        let mut n = 0;
        for (i, s) in self.slots.iter().enumerate() {
            if s.is_empty() {
                continue;
            }
            n += 1;
            let d = s.dist() as usize;
            let home = i.wrapping_sub(d) & mask;
            assert_eq!(
                hash(s.member()) as usize & mask,
                home,
                "slot {i} records the wrong distance"
            );
            for back in 0..=d {
                assert!(
                    !self.slots[i.wrapping_sub(back) & mask].is_empty(),
                    "hole before slot {i}"
                );
            }
        }
        assert_eq!(n, self.len);
    }
}

/// Iterator over a table's members; see [`Table::iter`].
pub struct Iter<'a> {
    slots: std::slice::Iter<'a, Slot>,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    #[inline]
    fn next(&mut self) -> Option<Member<'a>> {
        if self.left == 0 {
            return None;
        }
        let s = self.slots.find(|s| !s.is_empty())?;
        self.left -= 1;
        Some(s.member())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Robin Hood placement into `slots` of a member known to be absent, whose home is `h & mask`. On a
/// run too long for the distance byte, nothing is changed and the slot is handed back.
fn place(slots: &mut [Slot], slot: Slot, h: u64) -> Result<(), Slot> {
    let mask = slots.len() - 1;
    let home = h as usize & mask;
    // Rehearse the walk below without changing anything: the distance each member would be written
    // with must fit the byte, else nothing is changed.
    let (mut i, mut carried) = (home, 0usize);
    while !slots[i].is_empty() {
        let resident = slots[i].dist() as usize;
        if resident < carried {
            // The carried member would settle here and the resident move on.
            carried = resident;
        }
        carried += 1;
        if carried >= MAX_DIST as usize {
            return Err(slot);
        }
        i = (i + 1) & mask;
    }
    let mut carry = slot;
    carry.meta[1] = 0;
    let mut i = home;
    loop {
        let s = &mut slots[i];
        if s.is_empty() {
            *s = carry;
            return Ok(());
        }
        if s.dist() < carry.dist() {
            std::mem::swap(s, &mut carry);
        }
        carry.meta[1] += 1;
        i = (i + 1) & mask;
    }
}
