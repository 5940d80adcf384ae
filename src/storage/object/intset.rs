//! Intset: Redis's sorted array of integers for sets whose members are all integers, byte for byte
//! (`[encoding u32 LE][length u32 LE][values LE]`, encoding 2, 4 or 8 bytes per value), so RDB files store
//! and load it as a copy.
//!
//! Invariants: values are strictly increasing; the encoding is the smallest width that holds them all
//! (it only widens — Redis never narrows an intset); `buf` always holds exactly header + length × width.

#[derive(Clone, PartialEq, Eq)]
pub struct Intset {
    buf: Vec<u8>,
}

/// An intset that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIntset(pub &'static str);

impl std::fmt::Debug for Intset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for Intset {
    fn default() -> Self {
        Self::new()
    }
}

fn width_for(v: i64) -> usize {
    if v >= i16::MIN as i64 && v <= i16::MAX as i64 {
        2
    } else if v >= i32::MIN as i64 && v <= i32::MAX as i64 {
        4
    } else {
        8
    }
}

impl Intset {
    pub fn new() -> Intset {
        let mut buf = Vec::with_capacity(8);
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        Intset { buf }
    }

    /// Accept untrusted bytes (RDB, RESTORE): header, size, and strictly increasing values are checked.
    pub fn from_bytes(buf: Vec<u8>) -> Result<Intset, InvalidIntset> {
        if buf.len() < 8 {
            return Err(InvalidIntset("shorter than a header"));
        }
        let w = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if !matches!(w, 2 | 4 | 8) {
            return Err(InvalidIntset("bad encoding"));
        }
        let n = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
        if n.checked_mul(w).and_then(|b| b.checked_add(8)) != Some(buf.len()) {
            return Err(InvalidIntset("length does not match the size"));
        }
        if n == 0 {
            return Err(InvalidIntset("empty intset"));
        }
        let s = Intset { buf };
        let mut prev = None;
        for v in s.iter() {
            if prev.is_some_and(|p| p >= v) {
                return Err(InvalidIntset("values not strictly increasing"));
            }
            prev = Some(v);
        }
        Ok(s)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn alloc_size(&self) -> usize {
        self.buf.capacity()
    }

    #[inline]
    fn width(&self) -> usize {
        u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize
    }

    #[inline]
    pub fn len(&self) -> usize {
        u32::from_le_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_len(&mut self, n: usize) {
        self.buf[4..8].copy_from_slice(&(n as u32).to_le_bytes());
    }

    /// Value at sorted position `i`.
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width();
        let p = &self.buf[8 + i * w..8 + (i + 1) * w];
        match w {
            2 => i16::from_le_bytes([p[0], p[1]]) as i64,
            4 => i32::from_le_bytes([p[0], p[1], p[2], p[3]]) as i64,
            _ => i64::from_le_bytes([p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]]),
        }
    }

    fn put(&mut self, i: usize, v: i64) {
        let w = self.width();
        let p = &mut self.buf[8 + i * w..8 + (i + 1) * w];
        match w {
            2 => p.copy_from_slice(&(v as i16).to_le_bytes()),
            4 => p.copy_from_slice(&(v as i32).to_le_bytes()),
            _ => p.copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// Binary search: `Ok(pos)` if present, `Err(insert position)` otherwise.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let m = self.get(mid);
            if m == v {
                return Ok(mid);
            } else if m < v {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        width_for(v) <= self.width() && self.search(v).is_ok()
    }

    /// Add `v`; false if it was already present.
    pub fn insert(&mut self, v: i64) -> bool {
        let need = width_for(v);
        if need > self.width() {
            self.upgrade(need);
        } else if self.search(v).is_ok() {
            return false;
        }
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(p) => p,
        };
        let w = self.width();
        let at = 8 + pos * w;
        self.buf.splice(at..at, std::iter::repeat_n(0u8, w));
        let n = self.len();
        self.set_len(n + 1);
        self.put(pos, v);
        true
    }

    /// Widen every value to `w` bytes.
    fn upgrade(&mut self, w: usize) {
        let values: Vec<i64> = self.iter().collect();
        self.buf.truncate(8);
        self.buf[0..4].copy_from_slice(&(w as u32).to_le_bytes());
        self.buf.resize(8 + values.len() * w, 0);
        for (i, v) in values.into_iter().enumerate() {
            self.put(i, v);
        }
    }

    /// Remove `v`; false if it was absent.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_for(v) > self.width() {
            return false;
        }
        let Ok(pos) = self.search(v) else { return false };
        let w = self.width();
        self.buf.drain(8 + pos * w..8 + (pos + 1) * w);
        let n = self.len();
        self.set_len(n - 1);
        true
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn layout_is_redis_s() {
        let mut s = Intset::new();
        s.insert(5);
        s.insert(-3);
        assert_eq!(s.as_bytes(), &[2, 0, 0, 0, 2, 0, 0, 0, 0xFD, 0xFF, 5, 0]);
        s.insert(70000);
        assert_eq!(&s.as_bytes()[..8], &[4, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 5, 70000]);
        assert!(Intset::from_bytes(s.as_bytes().to_vec()).is_ok());
        // Swap the first two values: no longer increasing.
        let mut bad = s.as_bytes().to_vec();
        let (a, b) = bad[8..16].split_at_mut(4);
        a.swap_with_slice(b);
        assert!(Intset::from_bytes(bad).is_err());
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in prop::collection::vec((any::<bool>(), prop_oneof![
            -100i64..100, any::<i16>().prop_map(i64::from), any::<i32>().prop_map(i64::from), any::<i64>()]), 0..200)) {
            let mut s = Intset::new();
            let mut m = BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), m.insert(v));
                } else {
                    prop_assert_eq!(s.remove(v), m.remove(&v));
                }
                prop_assert_eq!(s.len(), m.len());
            }
            prop_assert_eq!(s.iter().collect::<Vec<_>>(), m.iter().copied().collect::<Vec<_>>());
            for v in &m {
                prop_assert!(s.contains(*v));
            }
            if !m.is_empty() {
                prop_assert!(Intset::from_bytes(s.as_bytes().to_vec()).is_ok());
            }
        }

        #[test]
        fn untrusted_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(s) = Intset::from_bytes(data) {
                let _ = s.iter().count();
            }
        }
    }
}
