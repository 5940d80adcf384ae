//! The member → node hash table of a large sorted set: chained buckets over power-of-two arrays, the
//! chain links living in the member nodes themselves, resized incrementally like Redis's dict.
//!
//! Invariants:
//! - every node of the set is in exactly one chain, of bucket `hash(member) & (len - 1)` of one array;
//! - `tables[1]` is empty unless a rehash is under way (`rehash_idx` is `Some`), and then every bucket of
//!   `tables[0]` below `rehash_idx` is empty and new nodes go to `tables[1]`;
//! - the table grows (doubles) when an insert finds as many members as buckets, and shrinks when fewer
//!   than a tenth of the buckets are used (to the smallest power of two holding every member, at least 4).
//!
//! SCAN uses Redis's reverse-binary cursor, so that every member present for a whole ZSCAN is returned
//! at least once across any number of resizes, including while a rehash is under way.

use std::sync::OnceLock;

use ahash::RandomState;

use super::node::NodeRef;

const MIN_BUCKETS: usize = 4;
/// Empty buckets one rehash step may skip before giving up for now, so that a step is O(1).
const EMPTY_VISITS: usize = 10;

/// The process's seed for member hashes (random per process, against hash flooding).
fn hasher() -> &'static RandomState {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    SEED.get_or_init(RandomState::new)
}

#[inline]
pub(crate) fn hash(member: &[u8]) -> u64 {
    hasher().hash_one(member)
}

#[derive(Default)]
struct Table {
    buckets: Vec<Option<NodeRef>>,
    used: usize,
}

impl Table {
    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    fn find(&self, member: &[u8], h: u64) -> Option<NodeRef> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[h as usize & self.mask()];
        while let Some(n) = cur {
            if n.member() == member {
                return Some(n);
            }
            cur = n.next();
        }
        None
    }

    fn push(&mut self, node: NodeRef, h: u64) {
        let b = h as usize & self.mask();
        node.set_next(self.buckets[b]);
        self.buckets[b] = Some(node);
        self.used += 1;
    }

    fn unlink(&mut self, member: &[u8], h: u64) -> Option<NodeRef> {
        if self.buckets.is_empty() {
            return None;
        }
        let b = h as usize & self.mask();
        let mut prev: Option<NodeRef> = None;
        let mut cur = self.buckets[b];
        while let Some(n) = cur {
            if n.member() == member {
                match prev {
                    None => self.buckets[b] = n.next(),
                    Some(p) => p.set_next(n.next()),
                }
                n.set_next(None);
                self.used -= 1;
                return Some(n);
            }
            prev = cur;
            cur = n.next();
        }
        None
    }
}

/// See the module docs.
#[derive(Default)]
pub(crate) struct Dict {
    tables: [Table; 2],
    rehash_idx: Option<usize>,
}

impl Dict {
    pub(crate) fn with_capacity(n: usize) -> Dict {
        let mut d = Dict::default();
        if n > 0 {
            d.tables[0].buckets = vec![None; n.next_power_of_two().max(MIN_BUCKETS)];
        }
        d
    }

    pub(crate) fn len(&self) -> usize {
        self.tables[0].used + self.tables[1].used
    }

    #[cfg(test)]
    pub(crate) fn buckets(&self) -> usize {
        self.tables[0].buckets.len() + self.tables[1].buckets.len()
    }

    pub(crate) fn find(&self, member: &[u8]) -> Option<NodeRef> {
        let h = hash(member);
        self.tables[0]
            .find(member, h)
            .or_else(|| self.rehash_idx.and_then(|_| self.tables[1].find(member, h)))
    }

    /// Add a node whose member is not in the table.
    pub(crate) fn insert(&mut self, node: NodeRef) {
        self.rehash_step();
        self.grow_if_needed();
        let h = hash(node.member());
        let t = if self.rehash_idx.is_some() { 1 } else { 0 };
        self.tables[t].push(node, h);
    }

    /// Unlink a member's node and hand it to the caller (who frees it).
    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<NodeRef> {
        self.rehash_step();
        let h = hash(member);
        let n = self.tables[0].unlink(member, h).or_else(|| match self.rehash_idx {
            Some(_) => self.tables[1].unlink(member, h),
            None => None,
        })?;
        if self.len() == 0 {
            // Nothing left to move: drop both arrays rather than wait for steps that may never come.
            *self = Dict::default();
        } else {
            self.shrink_if_needed();
        }
        Some(n)
    }

    fn grow_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let t = &self.tables[0];
        if t.buckets.is_empty() {
            self.tables[0].buckets = vec![None; MIN_BUCKETS];
        } else if t.used >= t.buckets.len() {
            self.start_rehash((t.used + 1).next_power_of_two());
        }
    }

    fn shrink_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let t = &self.tables[0];
        if t.buckets.len() > MIN_BUCKETS && t.used * 10 < t.buckets.len() {
            self.start_rehash(t.used.next_power_of_two().max(MIN_BUCKETS));
        }
    }

    fn start_rehash(&mut self, size: usize) {
        if size == self.tables[0].buckets.len() {
            return;
        }
        self.tables[1] = Table {
            buckets: vec![None; size],
            used: 0,
        };
        self.rehash_idx = Some(0);
        self.rehash_step();
    }

    /// Move one non-empty bucket of the old array (visiting at most `EMPTY_VISITS` empty ones).
    fn rehash_step(&mut self) {
        let Some(mut i) = self.rehash_idx else { return };
        let mut empty = 0;
        while i < self.tables[0].buckets.len() && self.tables[0].buckets[i].is_none() {
            i += 1;
            empty += 1;
            if empty == EMPTY_VISITS {
                self.rehash_idx = Some(i);
                return;
            }
        }
        if i < self.tables[0].buckets.len() {
            let mut cur = self.tables[0].buckets[i].take();
            while let Some(n) = cur {
                cur = n.next();
                self.tables[0].used -= 1;
                let h = hash(n.member());
                self.tables[1].push(n, h);
            }
            i += 1;
        }
        if self.tables[0].used == 0 {
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.rehash_idx = None;
        } else {
            self.rehash_idx = Some(i);
        }
    }

    /// Every node, in no particular order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = NodeRef> + '_ {
        self.tables.iter().flat_map(|t| t.buckets.iter()).flat_map(|head| {
            let mut cur = *head;
            std::iter::from_fn(move || {
                let n = cur?;
                cur = n.next();
                Some(n)
            })
        })
    }

    /// One step of a ZSCAN: call `f` for the members of the bucket(s) `cursor` designates and return the
    /// next cursor (0 when the scan is complete).
    pub(crate) fn scan(&self, cursor: u64, mut f: impl FnMut(NodeRef)) -> u64 {
        let mut v = cursor;
        if self.len() == 0 {
            return 0;
        }
        let emit = |t: &Table, b: usize, f: &mut dyn FnMut(NodeRef)| {
            let mut cur = t.buckets[b];
            while let Some(n) = cur {
                cur = n.next();
                f(n);
            }
        };
        if self.rehash_idx.is_none() {
            let t = &self.tables[0];
            let m0 = t.mask() as u64;
            emit(t, (v & m0) as usize, &mut f);
            v |= !m0;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
        } else {
            let (small, large) = if self.tables[0].buckets.len() <= self.tables[1].buckets.len() {
                (&self.tables[0], &self.tables[1])
            } else {
                (&self.tables[1], &self.tables[0])
            };
            let (m0, m1) = (small.mask() as u64, large.mask() as u64);
            emit(small, (v & m0) as usize, &mut f);
            loop {
                emit(large, (v & m1) as usize, &mut f);
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// Bytes of the bucket arrays.
    pub(crate) fn table_bytes(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.buckets.capacity() * std::mem::size_of::<Option<NodeRef>>())
            .sum()
    }

    /// Unlink every node, handing each to `f` (which frees it).
    pub(crate) fn drain(&mut self, mut f: impl FnMut(NodeRef)) {
        for t in &mut self.tables {
            for head in t.buckets.iter_mut() {
                let mut cur = head.take();
                while let Some(n) = cur {
                    cur = n.next();
                    f(n);
                }
            }
            *t = Table::default();
        }
        self.rehash_idx = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn m(i: usize) -> Vec<u8> {
        format!("member:{i}").into_bytes()
    }

    #[test]
    fn insert_find_remove_through_resizes() {
        let mut d = Dict::default();
        for i in 0..2000 {
            d.insert(NodeRef::alloc(&m(i), i as f64));
            assert_eq!(d.len(), i + 1);
        }
        for i in 0..2000 {
            assert_eq!(d.find(&m(i)).map(|n| n.score()), Some(i as f64));
        }
        assert!(d.find(b"nope").is_none());
        for i in (0..2000).step_by(2) {
            d.remove(&m(i)).expect("present").free();
        }
        for i in 0..2000 {
            assert_eq!(d.find(&m(i)).is_some(), i % 2 == 1);
        }
        for i in (1..2000).step_by(2) {
            d.remove(&m(i)).expect("present").free();
        }
        assert_eq!(d.len(), 0);
        assert!(d.buckets() <= 64, "shrank: {}", d.buckets());
    }

    #[test]
    fn scan_returns_every_stable_member_across_resizes() {
        let mut d = Dict::default();
        for i in 0..50 {
            d.insert(NodeRef::alloc(&m(i), 0.0));
        }
        let stable: HashSet<Vec<u8>> = (0..50).map(m).collect();
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = d.scan(cursor, |n| {
                seen.insert(n.member().to_vec());
            });
            // Churn between calls: grow past several doublings, then shrink back, rehashing meanwhile.
            round += 1;
            match round % 4 {
                1 => {
                    for i in 1000..2000 {
                        d.insert(NodeRef::alloc(&m(i), 0.0));
                    }
                }
                3 => {
                    for i in 1000..2000 {
                        d.remove(&m(i)).expect("present").free();
                    }
                }
                _ => {}
            }
            if cursor == 0 {
                break;
            }
            assert!(round < 100_000, "the scan ends");
        }
        assert!(stable.is_subset(&seen));
        d.drain(|n| n.free());
    }
}
