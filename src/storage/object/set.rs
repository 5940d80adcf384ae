//! A set: an intset while every member is an integer and there are at most `set-max-intset-entries`
//! of them, else a hash table ([`table`]). `OBJECT ENCODING` reports `intset` or `hashtable`, and the
//! conversions happen exactly where Redis 7.0 makes them:
//!
//! - a set is created as an intset when its first member is an integer, else as a table
//!   ([`Set::for_first`], Redis's `setTypeCreate`); result sets built by SINTERSTORE, SUNIONSTORE,
//!   SDIFFSTORE and SPOP start as an empty intset ([`Set::new`]) and go through the same additions;
//! - adding a non-integer, or an integer that makes the intset longer than the limit, converts the
//!   intset to a table;
//! - a table never becomes an intset again, however few integers it holds.
//!
//! Redis 7.0 has no compact form for small sets of strings (the listpack came in 7.2). None is used
//! here either: the table keeps integers and strings of up to 14 bytes inside its 16-byte slots, so a
//! small table is already about as compact as a listpack would be, and measurably smaller than
//! Redis's dict (see `bench/sets.sh`).
//!
//! An intset of at most seven values that fit in 32 bits is kept inside the value itself
//! ([`SmallInts`]) rather than in an allocation of its own; it is an intset in every visible way.
//!
//! Members are bytes. A member whose bytes are the canonical decimal form of an i64 (Redis's
//! `string2ll`: no sign but `-`, no leading zeros, no `-0`) is an integer everywhere: [`Member::of`]
//! classifies once, and the intset and the table both hold it as an `i64`.

mod table;

pub use table::next_cursor;

use super::intset::Intset;
use super::listpack::parse_canonical_int;

/// A member as stored: an integer (canonical text) or any other byte string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Member<'a> {
    /// Classify a member given as bytes.
    #[inline]
    pub fn of(bytes: &'a [u8]) -> Member<'a> {
        match parse_canonical_int(bytes) {
            Some(v) => Member::Int(v),
            None => Member::Str(bytes),
        }
    }

    /// The member's bytes (an integer as its decimal text, formatted on the stack).
    #[inline]
    pub fn bytes(&self) -> MemberBytes<'a> {
        match *self {
            Member::Int(v) => MemberBytes::Int(IntBuf::new(v)),
            Member::Str(s) => MemberBytes::Str(s),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes().as_ref().to_vec()
    }
}

/// An integer's decimal text, without allocating.
#[derive(Clone, Copy)]
pub struct IntBuf {
    buf: [u8; 20],
    len: u8,
}

impl IntBuf {
    fn new(v: i64) -> IntBuf {
        let mut f = itoa::Buffer::new();
        let text = f.format(v).as_bytes();
        let mut buf = [0u8; 20];
        buf[..text.len()].copy_from_slice(text);
        IntBuf {
            buf,
            len: text.len() as u8,
        }
    }
}

/// A member's bytes; see [`Member::bytes`].
#[derive(Clone, Copy)]
pub enum MemberBytes<'a> {
    Int(IntBuf),
    Str(&'a [u8]),
}

impl AsRef<[u8]> for MemberBytes<'_> {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        match self {
            MemberBytes::Int(b) => &b.buf[..b.len as usize],
            MemberBytes::Str(s) => s,
        }
    }
}

impl std::ops::Deref for MemberBytes<'_> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_ref()
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub enum Set {
    /// A small intset kept inside the value itself (see [`SmallInts`]); `OBJECT ENCODING` `intset`.
    Small(SmallInts),
    Ints(Intset),
    Table(table::Table),
}

/// The most values a [`SmallInts`] holds.
pub const SMALL_MAX: usize = 7;

/// An intset of at most [`SMALL_MAX`] values that fit in 32 bits, stored in the set's own bytes
/// instead of an allocation of its own (small sets of integers are common, and the allocation
/// would cost as much as the values). It behaves as an intset in every way that shows: the encoding
/// name, the order, and the bytes [`Set::intset_bytes`] gives, whose width follows Redis's rule
/// (the smallest that ever held every value: it widens, never narrows).
#[derive(Debug, Clone, Copy, Default)]
pub struct SmallInts {
    len: u8,
    /// Some value needed 32 bits at some point (Redis's intset would be 4 bytes wide).
    wide: bool,
    vals: [i32; SMALL_MAX],
}

impl SmallInts {
    #[inline]
    fn values(&self) -> &[i32] {
        &self.vals[..self.len as usize]
    }

    #[inline]
    fn position(&self, v: i64) -> Option<Result<usize, usize>> {
        i32::try_from(v).ok().map(|v| self.values().binary_search(&v))
    }

    fn contains(&self, v: i64) -> bool {
        matches!(self.position(v), Some(Ok(_)))
    }

    /// Insert an absent value that fits, with room left.
    fn insert_at(&mut self, at: usize, v: i32) {
        let n = self.len as usize;
        self.vals.copy_within(at..n, at + 1);
        self.vals[at] = v;
        self.len += 1;
        self.wide |= i16::try_from(v).is_err();
    }

    fn remove(&mut self, v: i64) -> bool {
        match self.position(v) {
            Some(Ok(at)) => {
                let n = self.len as usize;
                self.vals.copy_within(at + 1..n, at);
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    /// The same values as an allocated intset, of the same width.
    fn to_intset(self) -> Intset {
        let mut i = Intset::new();
        if self.wide {
            // Widen first, as the values that made Redis's intset wide did.
            i.insert(i64::from(i32::MAX));
            i.remove(i64::from(i32::MAX));
        }
        for &v in self.values() {
            i.insert(i64::from(v));
        }
        i
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

impl Set {
    /// An empty intset (Redis's `createIntsetObject`): what computed result sets start from.
    pub fn new() -> Set {
        Set::Small(SmallInts::default())
    }

    /// The empty set a first member `first` goes into (Redis's `setTypeCreate`): an intset for an
    /// integer, else a table.
    pub fn for_first(first: &[u8]) -> Set {
        match Member::of(first) {
            Member::Int(_) => Set::new(),
            Member::Str(_) => Set::Table(table::Table::default()),
        }
    }

    /// A set holding `members`, added in order to an empty intset (so its encoding is what Redis
    /// gives a result set with this content).
    pub fn from_members<'a>(members: impl IntoIterator<Item = Member<'a>>, max_intset: usize) -> Set {
        let mut s = Set::new();
        for m in members {
            s.add_member(m, max_intset);
        }
        s
    }

    /// An intset read from a file or a RESTORE payload.
    pub fn from_intset(i: Intset) -> Set {
        Set::Ints(i)
    }

    /// The intset's bytes in Redis's format, when that is the encoding (RDB writes them as a copy).
    pub fn intset_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Set::Small(s) => Some(std::borrow::Cow::Owned(s.to_intset().as_bytes().to_vec())),
            Set::Ints(i) => Some(std::borrow::Cow::Borrowed(i.as_bytes())),
            Set::Table(_) => None,
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Small(_) | Set::Ints(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Set::Small(s) => s.len as usize,
            Set::Ints(i) => i.len(),
            Set::Table(t) => t.len(),
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `m` (bytes) is a member.
    #[inline]
    pub fn contains(&self, m: &[u8]) -> bool {
        self.contains_member(Member::of(m))
    }

    #[inline]
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (self, m) {
            (Set::Small(s), Member::Int(v)) => s.contains(v),
            (Set::Ints(i), Member::Int(v)) => i.contains(v),
            (Set::Small(_) | Set::Ints(_), Member::Str(_)) => false,
            (Set::Table(t), m) => t.contains(m),
        }
    }

    /// Add `m` (bytes); false if it was already a member. May convert an intset to a table.
    #[inline]
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        self.add_member(Member::of(m), max_intset)
    }

    pub fn add_member(&mut self, m: Member<'_>, max_intset: usize) -> bool {
        let Member::Int(v) = m else {
            return self.table_mut().insert(m);
        };
        match self {
            Set::Table(t) => t.insert(m),
            Set::Small(s) => match s.position(v) {
                Some(Ok(_)) => false,
                _ if s.len() + 1 > max_intset => self.table_mut().insert(m),
                Some(Err(at)) if s.len() < SMALL_MAX => {
                    s.insert_at(at, v as i32);
                    true
                }
                _ => {
                    let mut i = s.to_intset();
                    i.insert(v);
                    *self = Set::Ints(i);
                    true
                }
            },
            Set::Ints(i) => {
                if !i.insert(v) {
                    return false;
                }
                if i.len() > max_intset {
                    self.table_mut();
                }
                true
            }
        }
    }

    /// The table, converting an intset first (keeping its members).
    fn table_mut(&mut self) -> &mut table::Table {
        if !matches!(self, Set::Table(_)) {
            // Room for one more: conversions happen on the way to adding a member.
            let mut t = table::Table::with_capacity(self.len() + 1);
            for m in self.iter() {
                t.insert(m);
            }
            *self = Set::Table(t);
        }
        match self {
            Set::Table(t) => t,
            _ => unreachable!("converted just above"),
        }
    }

    /// Remove `m` (bytes); false if it was not a member.
    #[inline]
    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.remove_member(Member::of(m))
    }

    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match (self, m) {
            (Set::Small(s), Member::Int(v)) => s.remove(v),
            (Set::Ints(i), Member::Int(v)) => i.remove(v),
            (Set::Small(_) | Set::Ints(_), Member::Str(_)) => false,
            (Set::Table(t), m) => t.remove(m),
        }
    }

    /// The members: an intset in increasing order, a table in slot order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Small(s) => Iter::Small(s.values().iter()),
            Set::Ints(i) => Iter::Ints { set: i, next: 0 },
            Set::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// A member chosen uniformly at random, `None` when empty.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<Member<'_>> {
        match self {
            Set::Table(t) => t.random(rng),
            _ if self.is_empty() => None,
            Set::Small(s) => Some(Member::Int(i64::from(s.values()[rng.gen_range(0..s.values().len())]))),
            Set::Ints(i) => Some(Member::Int(i.get(rng.gen_range(0..i.len())))),
        }
    }

    /// Remove a member chosen uniformly at random and return its bytes.
    pub fn pop_random(&mut self, rng: &mut impl rand::Rng) -> Option<Vec<u8>> {
        match self {
            Set::Table(t) => t.pop_random(rng, |m| m.to_vec()),
            _ => {
                let m = self.random(rng)?.to_vec();
                self.remove(&m);
                Some(m)
            }
        }
    }

    /// One SSCAN step from `cursor`: call `f` for the members it covers and return the next cursor
    /// (0 at the end). An intset is returned whole in one step with cursor 0, as Redis does.
    pub fn scan<'a>(&'a self, cursor: u64, f: impl FnMut(Member<'a>)) -> u64 {
        match self {
            Set::Table(t) => t.scan(cursor, f),
            _ => {
                self.iter().for_each(f);
                0
            }
        }
    }

    /// Whether [`Set::scan`] walks buckets (a table) rather than returning everything at once.
    pub fn scans_by_bucket(&self) -> bool {
        matches!(self, Set::Table(_))
    }

    /// Redis's lazy-free effort: one allocation for an intset, one per member for a table.
    pub fn free_effort(&self) -> usize {
        match self {
            Set::Small(_) | Set::Ints(_) => 1,
            Set::Table(t) => t.len(),
        }
    }

    /// Bytes the value allocates (its own bytes live in the key's entry).
    pub fn mem_usage(&self) -> usize {
        match self {
            Set::Small(_) => 0,
            Set::Ints(i) => crate::memory::size_class(i.alloc_size()),
            Set::Table(t) => t.alloc_size(),
        }
    }
}

impl SmallInts {
    #[inline]
    fn len(&self) -> usize {
        self.len as usize
    }
}

// A set must stay as small as the other collection types' values.
const _: () = assert!(std::mem::size_of::<Set>() <= 32);

/// Iterator over a set's members; see [`Set::iter`].
pub enum Iter<'a> {
    Small(std::slice::Iter<'a, i32>),
    Ints { set: &'a Intset, next: usize },
    Table(table::Iter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    #[inline]
    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Small(vals) => vals.next().map(|&v| Member::Int(i64::from(v))),
            Iter::Ints { set, next } => {
                if *next < set.len() {
                    *next += 1;
                    Some(Member::Int(set.get(*next - 1)))
                } else {
                    None
                }
            }
            Iter::Table(t) => t.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Small(vals) => vals.size_hint(),
            Iter::Ints { set, next } => (set.len() - next, Some(set.len() - next)),
            Iter::Table(t) => t.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests;
