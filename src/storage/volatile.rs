//! The volatile index: the hashes of the keys that carry a TTL, densely packed.
//!
//! Invariant (kept by `Db`): position `i` holds the hash of exactly one entry with a TTL, and that
//! entry's slot field is `i`. Hashes are not unique (two keys may collide), but (hash, slot) is:
//! the entry is the one in the hash's buckets whose slot is `i`.
//!
//! Removal is `swap_remove`: the last hash moves into the freed position and the caller fixes the
//! moved entry's slot. Storage is paged (fixed 8 KB pages, a `Vec` of page pointers) so growing
//! never copies the hashes: a flat `Vec` would copy 80 MB when 10M volatile keys double it, a
//! latency spike the incremental table exists to avoid.

#![forbid(unsafe_code)]

use std::mem;

use rand::Rng;

const PAGE_BITS: u32 = 10;
const PAGE: usize = 1 << PAGE_BITS;

#[derive(Default)]
pub(crate) struct VolatileIndex {
    pages: Vec<Box<[u64]>>,
    len: usize,
}

impl VolatileIndex {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, pos: u32) -> u64 {
        let pos = pos as usize;
        assert!(pos < self.len, "volatile position out of range");
        self.pages[pos >> PAGE_BITS][pos & (PAGE - 1)]
    }

    fn set(&mut self, pos: usize, hash: u64) {
        self.pages[pos >> PAGE_BITS][pos & (PAGE - 1)] = hash;
    }

    /// Appends a hash; returns its position.
    pub(crate) fn push(&mut self, hash: u64) -> u32 {
        let pos = self.len;
        let slot = u32::try_from(pos).expect("fewer than 2^32 keys with a TTL per database");
        if pos >> PAGE_BITS == self.pages.len() {
            self.pages.push(vec![0; PAGE].into_boxed_slice());
        }
        self.set(pos, hash);
        self.len += 1;
        slot
    }

    /// Removes position `pos`. If another hash moved into it, returns that hash and the position
    /// it came from, whose entry's slot the caller must change to `pos`.
    pub(crate) fn swap_remove(&mut self, pos: u32) -> Option<(u64, u32)> {
        let last = self.len - 1;
        let moved = (pos as usize != last).then(|| {
            let hash = self.get(last as u32);
            self.set(pos as usize, hash);
            (hash, last as u32)
        });
        self.len = last;
        // Keep one spare page so a key added and removed at a page boundary does not reallocate.
        if self.pages.len() >= 2 && self.len <= (self.pages.len() - 2) << PAGE_BITS {
            self.pages.pop();
        }
        moved
    }

    pub(crate) fn allocated_bytes(&self) -> usize {
        self.pages.capacity() * mem::size_of::<Box<[u64]>>() + self.pages.len() * PAGE * mem::size_of::<u64>()
    }

    /// A uniformly random position.
    pub(crate) fn random(&self, rng: &mut impl Rng) -> Option<u32> {
        (self.len > 0).then(|| rng.gen_range(0..self.len) as u32)
    }

    pub(crate) fn take(&mut self) -> VolatileIndex {
        mem::take(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_swap_remove_across_pages() {
        let mut ix = VolatileIndex::default();
        let n = 3 * PAGE + 5;
        for i in 0..n {
            assert_eq!(ix.push(i as u64 * 10), i as u32);
        }
        assert_eq!(ix.get(PAGE as u32), PAGE as u64 * 10);
        assert_eq!(ix.swap_remove(0), Some(((n as u64 - 1) * 10, n as u32 - 1)));
        assert_eq!(ix.get(0), (n as u64 - 1) * 10);
        assert_eq!(ix.swap_remove(ix.len() as u32 - 1), None);
        while ix.len() > 0 {
            ix.swap_remove(0);
        }
        assert!(ix.pages.len() <= 1);
        assert_eq!(ix.push(5), 0);
    }
}
