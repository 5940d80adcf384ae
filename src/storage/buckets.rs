//! Bucket arrays: power-of-two arrays of chain heads, stored as fixed-size segments that are
//! allocated on first write and freed one at a time.
//!
//! Why segments rather than one flat array: 2^24 buckets are 128 MB. jemalloc serves allocations
//! of 8 MB and more from an arena that hands memory back to the kernel as soon as it is freed, so
//! freeing the old flat array when a rehash finished stalled that insert for 1.1 ms (8 MB) to
//! 2.8 ms (32 MB), growing with the table; and below 8 MB a recycled block must be zeroed by
//! memset. With 128 KB segments:
//! - a new array costs only its segment directory (8 KB for 2^24 buckets); each segment is
//!   allocated zeroed on the first write into it, spreading the cost over the following inserts;
//! - a rehash frees each old segment as soon as it has moved past it;
//! - a region of an array that is never written never gets allocated.
//!
//! Reading a bucket of a segment not allocated yet sees an empty bucket.
//!
//! Invariants: `len` is 0 or a power of two; there are `len >> seg_bits` segments of
//! `1 << seg_bits` slots (one segment of `len` slots for a small array); segments below
//! `released` are freed and, the caller guarantees, were empty.

#![forbid(unsafe_code)]

use super::entry::{Entry, Slots};

/// Buckets per segment: 16384 pointers, 128 KB.
const SEG_BITS: u32 = 14;

#[derive(Default)]
pub(crate) struct Buckets {
    segs: Vec<Option<Slots>>,
    len: usize,
    seg_bits: u32,
    released: usize,
}

impl Buckets {
    pub(crate) fn new(len: usize) -> Buckets {
        if len == 0 {
            return Buckets::default();
        }
        assert!(len.is_power_of_two(), "bucket count is a power of two");
        let seg_bits = len.trailing_zeros().min(SEG_BITS);
        Buckets {
            segs: (0..len >> seg_bits).map(|_| None).collect(),
            len,
            seg_bits,
            released: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first entry of bucket `i`.
    pub(crate) fn head(&self, i: usize) -> Option<&Entry> {
        let seg = self.segs[i >> self.seg_bits].as_ref()?;
        seg[i & ((1 << self.seg_bits) - 1)].as_ref()
    }

    /// Bucket `i` for writing, allocating its segment if needed.
    pub(crate) fn slot_mut(&mut self, i: usize) -> &mut Option<Entry> {
        let seg_len = 1 << self.seg_bits;
        debug_assert!(i >> self.seg_bits >= self.released, "write below the released part");
        let seg = self.segs[i >> self.seg_bits].get_or_insert_with(|| Slots::zeroed(seg_len));
        &mut seg[i & (seg_len - 1)]
    }

    /// Frees the segments wholly below bucket `i`, which the caller guarantees are empty.
    pub(crate) fn release_below(&mut self, i: usize) {
        while self.released < i >> self.seg_bits {
            if let Some(seg) = self.segs[self.released].take() {
                seg.free_empty();
            }
            self.released += 1;
        }
    }

    /// Frees an array the caller guarantees is empty, without visiting its buckets.
    pub(crate) fn free_empty(self) {
        self.segs.into_iter().flatten().for_each(Slots::free_empty);
    }

    /// Bytes allocated for this array (directory and allocated segments).
    pub(crate) fn allocated_bytes(&self) -> usize {
        let seg_bytes = (1usize << self.seg_bits) * std::mem::size_of::<Option<Entry>>();
        self.segs.capacity() * std::mem::size_of::<Option<Slots>>() + self.segs.iter().flatten().count() * seg_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::entry::NewValue;

    #[test]
    fn segments_are_allocated_on_write_and_released_in_order() {
        let n = 4usize << SEG_BITS;
        let mut b = Buckets::new(n);
        assert_eq!(b.allocated_bytes(), 4 * std::mem::size_of::<Option<Slots>>());
        assert!((0..n).step_by(1000).all(|i| b.head(i).is_none()));
        *b.slot_mut(n - 1) = Some(Entry::new(b"k", NewValue::Int(1), None, 0));
        assert_eq!(b.head(n - 1).map(Entry::key), Some(&b"k"[..]));
        assert!(b.segs[3].is_some() && b.segs[0].is_none());
        b.slot_mut(0);
        b.release_below((1 << SEG_BITS) + 5);
        assert!(b.segs[0].is_none() && b.released == 1);
        drop(b);
        let small = Buckets::new(8);
        assert_eq!((small.segs.len(), small.seg_bits), (1, 3));
        small.free_empty();
    }
}
