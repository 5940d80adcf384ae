//! A hash: a listpack of field/value pairs while small, a hash table once large.
//!
//! Encodings and promotion follow Redis 7.0 exactly, because `OBJECT ENCODING` shows them:
//! - a new hash is a listpack (`[field, value, field, value, ...]`, new fields appended at the tail, so
//!   HGETALL answers in insertion order, as in Redis);
//! - it becomes a table (`hashtable`) when a field or value longer than `hash-max-listpack-value` is
//!   written, when the listpack would pass Redis's 1 GiB safety bound, or when a new field makes the
//!   count exceed `hash-max-listpack-entries`;
//! - it is never demoted, however small it gets.
//!
//! The table is [`table::FieldTable`]: single-allocation records, O(1) random sampling, Redis's SCAN
//! cursor. Values are read as [`LpItem`]s, since a listpack keeps canonical integers as integers; the
//! table stores bytes.

pub mod table;

use rand::Rng;

use super::listpack::{Listpack, LpItem};
pub use table::{malloc_size, FieldTable};

pub use super::listpack::Limits;
use super::listpack::MAX_SAFE_BYTES;

/// Redis's defaults for `hash-max-listpack-entries` / `-value`.
pub const DEFAULT_LIMITS: Limits = Limits {
    entries: 512,
    value: 64,
};

/// See the module docs.
///
/// The table is boxed so that a `Hash` is no larger than a listpack handle (24 bytes): the `Object`
/// holding it is allocated once per key, and a small hash is the common case.
#[derive(Debug, Clone)]
pub enum Hash {
    Listpack(Listpack),
    Table(Box<FieldTable>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

/// Owned bytes of a listpack element (integers printed in decimal).
fn item_vec(item: LpItem<'_>) -> Vec<u8> {
    item.to_vec()
}

impl Hash {
    /// An empty hash, in a listpack.
    pub fn new() -> Hash {
        Hash::Listpack(Listpack::new())
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Redis's lazy-free effort: one allocation for a listpack, one per field for a table.
    pub fn free_effort(&self) -> usize {
        match self {
            Hash::Listpack(_) => 1,
            Hash::Table(t) => t.len(),
        }
    }

    /// Bytes the value allocates, by jemalloc size class (its own bytes live in the key's entry).
    pub fn mem_usage(&self) -> usize {
        match self {
            Hash::Listpack(lp) => malloc_size(lp.alloc_size()),
            Hash::Table(t) => malloc_size(std::mem::size_of::<FieldTable>()) + t.mem_usage(),
        }
    }

    /// Position of `field` in a listpack (the value follows it).
    fn lp_find(lp: &Listpack, field: &[u8]) -> Option<usize> {
        lp.find(lp.first(), field, 1)
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<LpItem<'_>> {
        match self {
            Hash::Listpack(lp) => {
                let f = Self::lp_find(lp, field)?;
                lp.next(f).map(|v| lp.get(v))
            }
            Hash::Table(t) => t.get(field).map(LpItem::Str),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => Self::lp_find(lp, field).is_some(),
            Hash::Table(t) => t.contains(field),
        }
    }

    /// Set `field` to `value`, promoting the listpack where Redis 7.0 does. True when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Hash::Listpack(lp) = self {
            let too_long = field.len() > limits.value || value.len() > limits.value;
            if too_long || lp.total_bytes() + field.len() + value.len() > MAX_SAFE_BYTES {
                self.convert();
            }
        }
        match self {
            Hash::Listpack(lp) => {
                let new = match Self::lp_find(lp, field) {
                    Some(f) => {
                        let v = lp.next(f).expect("listpack hash: a field is followed by its value");
                        lp.replace(v, LpItem::Str(value));
                        false
                    }
                    None => {
                        lp.push_back(LpItem::Str(field));
                        lp.push_back(LpItem::Str(value));
                        true
                    }
                };
                if new && lp.len() / 2 > limits.entries {
                    self.convert();
                }
                new
            }
            Hash::Table(t) => t.set(field, value),
        }
    }

    /// Remove `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match Self::lp_find(lp, field) {
                Some(f) => {
                    lp.delete_run(f, 2);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.remove(field),
        }
    }

    /// Accept a listpack read from a file (RDB, RESTORE) after the checks Redis makes: field, value
    /// pairs and no field twice.
    pub fn from_listpack(lp: Listpack) -> Result<Hash, &'static str> {
        if !lp.len().is_multiple_of(2) {
            return Err("a hash listpack holds field, value pairs");
        }
        let mut seen = std::collections::HashSet::with_capacity(lp.len() / 2);
        let mut it = lp.iter();
        while let (Some(f), Some(_)) = (it.next(), it.next()) {
            if !seen.insert(f.to_vec()) {
                return Err("a field twice");
            }
        }
        Ok(Hash::Listpack(lp))
    }

    /// The longest field or value, in bytes (a loaded listpack over `hash-max-listpack-value` is
    /// converted).
    pub fn longest_item(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp
                .iter()
                .map(|i| match i {
                    LpItem::Str(s) => s.len(),
                    LpItem::Int(_) => 0,
                })
                .max()
                .unwrap_or(0),
            Hash::Table(t) => t.iter().map(|(f, v)| f.len().max(v.len())).max().unwrap_or(0),
        }
    }

    /// Promote a listpack to a table (a table stays as it is).
    pub fn convert(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut t = FieldTable::with_capacity(lp.len() / 2);
            let mut it = lp.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                t.insert_new(&item_vec(f), &item_vec(v));
            }
            *self = Hash::Table(Box::new(t));
        }
    }

    /// Every field and value: insertion order for a listpack, bucket order for a table. This is also
    /// the order DEBUG DIGEST reads them in (which does not matter to it).
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Hash::Listpack(lp) => Iter::Listpack(lp.iter()),
            Hash::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// A random field and value (uniform for a listpack; Redis's bucket-then-chain pick for a table).
    pub fn random<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(LpItem<'_>, LpItem<'_>)> {
        match self {
            Hash::Listpack(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                let f = lp.seek(2 * rng.gen_range(0..n) as i64)?;
                let v = lp.next(f)?;
                Some((lp.get(f), lp.get(v)))
            }
            Hash::Table(t) => t.random(rng).map(|(f, v)| (LpItem::Str(f), LpItem::Str(v))),
        }
    }

    /// The table, when the hash is one (HSCAN walks it by cursor).
    pub fn as_table(&self) -> Option<&FieldTable> {
        match self {
            Hash::Table(t) => Some(&**t),
            Hash::Listpack(_) => None,
        }
    }
}

/// Iterator over a hash's fields and values.
pub enum Iter<'a> {
    Listpack(super::listpack::Iter<'a>),
    Table(table::Iter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (LpItem<'a>, LpItem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => Some((it.next()?, it.next()?)),
            Iter::Table(it) => it.next().map(|(f, v)| (LpItem::Str(f), LpItem::Str(v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn contents(h: &Hash) -> HashMap<Vec<u8>, Vec<u8>> {
        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
    }

    #[test]
    fn promotes_exactly_at_the_thresholds() {
        let lim = Limits { entries: 4, value: 8 };
        let mut h = Hash::new();
        for i in 0..4 {
            assert!(h.set(format!("f{i}").as_bytes(), b"v", lim));
        }
        assert_eq!(h.encoding(), "listpack");
        // Updating an existing field never promotes by count.
        assert!(!h.set(b"f0", b"w", lim));
        assert_eq!(h.encoding(), "listpack");
        assert!(h.set(b"f4", b"v", lim));
        assert_eq!((h.encoding(), h.len()), ("hashtable", 5));

        let mut h = Hash::new();
        h.set(b"f", b"12345678", lim);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f", b"123456789", lim);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.set(b"123456789", b"v", lim);
        assert_eq!(h.encoding(), "hashtable");
        // Never demoted.
        h.remove(b"123456789");
        assert_eq!((h.encoding(), h.len()), ("hashtable", 0));
    }

    #[test]
    fn listpack_keeps_insertion_order_and_integers() {
        let mut h = Hash::new();
        h.set(b"b", b"1", DEFAULT_LIMITS);
        h.set(b"a", b"007", DEFAULT_LIMITS);
        h.set(b"10", b"-5", DEFAULT_LIMITS);
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(
            pairs,
            vec![
                (b"b".to_vec(), b"1".to_vec()),
                (b"a".to_vec(), b"007".to_vec()),
                (b"10".to_vec(), b"-5".to_vec())
            ]
        );
        assert_eq!(h.get(b"b"), Some(LpItem::Int(1)));
        assert_eq!(h.get(b"10"), Some(LpItem::Int(-5)));
        assert_eq!(h.get(b"010"), None);
        assert!(h.remove(b"a"));
        assert_eq!(h.len(), 2);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Vec<u8>),
        Remove(u8),
        Convert,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<u8>(), prop_oneof![
                prop::collection::vec(b'a'..=b'z', 0..12),
                any::<i64>().prop_map(|i| i.to_string().into_bytes()),
                prop::collection::vec(any::<u8>(), 0..20),
            ]).prop_map(|(k, v)| Op::Set(k, v)),
            3 => any::<u8>().prop_map(Op::Remove),
            1 => Just(Op::Convert),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_hashmap_across_promotions(
            ops in prop::collection::vec(op(), 0..200),
            entries in 0usize..40,
            value in 0usize..16,
        ) {
            let lim = Limits { entries, value };
            let mut h = Hash::new();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            let mut must_be_table = false;
            for op in ops {
                match op {
                    Op::Set(k, v) => {
                        let f = if k % 3 == 0 { k.to_string().into_bytes() } else { format!("f{k}").into_bytes() };
                        must_be_table |= f.len() > value || v.len() > value;
                        prop_assert_eq!(h.set(&f, &v, lim), model.insert(f, v).is_none());
                        must_be_table |= model.len() > entries;
                    }
                    Op::Remove(k) => {
                        let f = if k % 3 == 0 { k.to_string().into_bytes() } else { format!("f{k}").into_bytes() };
                        prop_assert_eq!(h.remove(&f), model.remove(&f).is_some());
                    }
                    Op::Convert => {
                        h.convert();
                        must_be_table = true;
                    }
                }
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.encoding(), if must_be_table { "hashtable" } else { "listpack" });
            }
            prop_assert_eq!(contents(&h), model.clone());
            for (f, v) in &model {
                prop_assert_eq!(h.get(f).map(|i| i.to_vec()), Some(v.clone()));
                prop_assert!(h.contains(f));
            }
            prop_assert_eq!(contents(&h.clone()), model);
        }
    }
}
