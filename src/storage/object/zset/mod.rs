//! A sorted set: members (byte strings) with `f64` scores, ordered by score and then by member bytes.
//!
//! Two encodings, chosen exactly when Redis 7.0 chooses them, because `OBJECT ENCODING` shows it:
//! - `listpack`: Redis's listpack of member, score, member, score... in order. A score is stored as an
//!   integer when it is integral and within ±2^62 (Redis's `double2ll`), else as its `%.17g` text
//!   (`inf`, `-inf`), so the bytes are Redis's and `-0` reads back as `0`, as there. Every operation is
//!   a linear scan, which is what makes it compact.
//! - `skiplist` (the name Redis reports): a hash table from member to node ([`dict`], O(1) score lookup,
//!   ZSCAN's cursor) and an order-statistics B+tree over `(score, node)` ([`btree`], O(log n) rank,
//!   insert, remove, interval search). A member's bytes and score live once, in its node ([`node`]).
//!   `docs/zsets.md` has the measurements that chose the B+tree over a skiplist.
//!
//! Promotion: [`ZSet::insert`] converts a listpack to the large form before an insert that would make it
//! longer than `zset-max-listpack-entries` or that brings a member longer than `zset-max-listpack-value`
//! ([`Limits`]). Nothing converts back except building a new value: [`ZSet::from_sorted`] (the results of
//! ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE) picks the encoding from the final size, as Redis's conversion
//! of those results does; [`ZSet::build_in_order`] (ZRANGESTORE) inserts entry by entry as Redis does.
//!
//! Ranks are 0-based and ascending; commands that count from the top convert. Ranges of ranks are
//! half-open (`Range<usize>`).

mod btree;
mod dict;
mod node;

use std::cmp::Ordering;
use std::ops::Range;

pub use super::listpack::Limits;
use super::listpack::{Listpack, LpItem, MAX_SAFE_BYTES};
use crate::util::int_text::IntText;
use btree::{cmp_key, BTree, KeyMember};
use dict::Dict;
use node::NodeRef;

/// Redis's defaults for `zset-max-listpack-entries` / `-value`.
pub const DEFAULT_LIMITS: Limits = Limits {
    entries: 128,
    value: 64,
};

/// A score interval (`(1 5`, `-inf +inf`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    #[inline]
    pub fn gte_min(&self, s: f64) -> bool {
        if self.minex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    #[inline]
    pub fn lte_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// Whether no score can be inside (Redis tests this before looking at the data).
    pub fn is_void(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lex interval: `-`, `+`, `[member` or `(member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    /// Position of the bound, for comparing two bounds: (-1 | 0 | 1, bytes).
    fn order_key(&self) -> (i8, &[u8]) {
        match self {
            LexBound::Min => (-1, b""),
            LexBound::Max => (1, b""),
            LexBound::Incl(b) | LexBound::Excl(b) => (0, b),
        }
    }

    fn exclusive(&self) -> bool {
        matches!(self, LexBound::Excl(_))
    }
}

/// A lex interval (`[a (b`, `- +`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    #[inline]
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(b) => m >= &b[..],
            LexBound::Excl(b) => m > &b[..],
        }
    }

    #[inline]
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(b) => m <= &b[..],
            LexBound::Excl(b) => m < &b[..],
        }
    }

    /// Whether no member can be inside (Redis tests this before looking at the data).
    pub fn is_void(&self) -> bool {
        let c = self.min.order_key().cmp(&self.max.order_key());
        c == Ordering::Greater || (c == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

/// A member as read from the set: borrowed bytes, or an integer the listpack stored as such.
#[derive(Clone, Copy)]
pub enum Member<'a> {
    Bytes(&'a [u8]),
    Int(IntText),
}

impl<'a> Member<'a> {
    fn of(item: LpItem<'a>) -> Member<'a> {
        match item {
            LpItem::Int(i) => Member::Int(IntText::new(i)),
            LpItem::Str(s) => Member::Bytes(s),
        }
    }
}

impl AsRef<[u8]> for Member<'_> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Member::Bytes(b) => b,
            Member::Int(i) => i.as_ref(),
        }
    }
}

/// Redis's `double2ll`: the score as an integer when that loses nothing and it is within ±2^62.
#[inline]
fn double_as_int(d: f64) -> Option<i64> {
    const LIM: f64 = (i64::MAX / 2) as f64;
    if !(-LIM..=LIM).contains(&d) {
        return None;
    }
    let i = d as i64;
    (i as f64 == d).then_some(i)
}

/// Call `f` with the listpack form of a score.
fn with_score_item<R>(score: f64, f: impl FnOnce(LpItem<'_>) -> R) -> R {
    match double_as_int(score) {
        Some(i) => f(LpItem::Int(i)),
        None => {
            let mut text = Vec::with_capacity(24);
            resp::num::format_double(&mut text, score);
            f(LpItem::Str(&text))
        }
    }
}

/// A score as the listpack stored it. Text that is not a number (only possible in a foreign file that
/// passed validation) reads as 0.
#[inline]
fn lp_score(item: LpItem<'_>) -> f64 {
    match item {
        LpItem::Int(i) => i as f64,
        LpItem::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(0.0),
    }
}

/// The bytes jemalloc really hands out for a request of `n` bytes (its size class).
fn size_class(n: usize) -> usize {
    // SAFETY: nallocx computes a size class only; it allocates nothing, and `n` is never 0 here.
    unsafe { tikv_jemalloc_sys::nallocx(n.max(1), 0) }
}

/// The set's large form; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct Large(Sorted);

/// The large form: the hash table owning the member nodes, and the B+tree ordering the same nodes.
#[derive(Default)]
pub(crate) struct Sorted {
    dict: Dict,
    index: BTree,
    /// Bytes of the member nodes, in jemalloc's size classes (kept so MEMORY USAGE is O(1) in members).
    node_bytes: usize,
}

// SAFETY: a `Sorted` owns every node its handles point to (see `node`); nothing else aliases them, so
// moving the whole value to another thread (lazy free, a snapshot writer) moves all of it.
unsafe impl Send for Sorted {}
// SAFETY: nodes are written only through `&mut self` methods (`set_score` and the chain links are
// reached from `insert`, `remove`, `set_score`, `remove_ranks`); through `&self` they are only read.
unsafe impl Sync for Sorted {}

impl Drop for Sorted {
    fn drop(&mut self) {
        self.dict.drain(|n| n.free());
    }
}

impl Sorted {
    pub fn with_capacity(n: usize) -> Self {
        Sorted {
            dict: Dict::with_capacity(n),
            index: BTree::default(),
            node_bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.dict.find(member).map(|n| n.score())
    }

    /// Add a member that is not in the set.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let n = NodeRef::alloc(member, score);
        self.node_bytes += size_class(n.alloc_size());
        self.dict.insert(n);
        self.index.insert(score, n);
    }

    /// Change a present member's score.
    pub fn set_score(&mut self, member: &[u8], score: f64) {
        if let Some(n) = self.dict.find(member) {
            self.index.remove(n.score(), member);
            n.set_score(score);
            self.index.insert(score, n);
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let n = self.dict.remove(member)?;
        let s = n.score();
        self.index.remove(s, member);
        self.node_bytes -= size_class(n.alloc_size());
        n.free();
        Some(s)
    }

    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let s = self.score(member)?;
        let r = self
            .index
            .partition_point(|s2, m2| cmp_key(s2, m2, s, member) == Ordering::Less);
        Some((r, s))
    }

    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.index.get(rank).map(|(s, n)| (n.member(), s))
    }

    /// The ranks whose entries satisfy `before` (a prefix of the order) are below the result.
    fn partition_point(&self, before: impl FnMut(f64, KeyMember<'_>) -> bool) -> usize {
        self.index.partition_point(before)
    }

    pub fn visit(&self, ranks: Range<usize>, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        if ranks.is_empty() {
            return;
        }
        let mut left = ranks.len();
        let from = if rev { ranks.end - 1 } else { ranks.start };
        self.index.walk(from, rev, |s, n| {
            left -= 1;
            f(n.member(), s) && left > 0
        });
    }

    pub fn remove_ranks(&mut self, ranks: Range<usize>) {
        let Sorted {
            dict,
            index,
            node_bytes,
        } = self;
        index.remove_range(ranks.start, ranks.end, |_, n| {
            if let Some(n) = dict.remove(n.member()) {
                *node_bytes -= size_class(n.alloc_size());
                n.free();
            }
        });
    }

    /// Every member and score, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.dict.nodes().map(|n| (n.member(), n.score()))
    }

    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        self.dict.scan(cursor, |n| f(n.member(), n.score()))
    }

    /// Bytes allocated: nodes, bucket arrays and the index.
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<Self>() + self.dict.table_bytes() + self.index.mem_bytes() + self.node_bytes
    }
}

impl Clone for Sorted {
    fn clone(&self) -> Self {
        let mut c = Sorted::with_capacity(self.len());
        self.index.walk(0, false, |s, n| {
            c.insert(n.member(), s);
            true
        });
        c
    }
}

impl std::fmt::Debug for Sorted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        self.index.walk(0, false, |s, n| {
            l.entry(&(String::from_utf8_lossy(n.member()), s));
            true
        });
        l.finish()
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub enum ZSet {
    Listpack(Listpack),
    Large(Box<Large>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Listpack::new())
    }
}

impl ZSet {
    /// An empty set in the encoding ZADD creates a key with: the large one when the listpack may hold
    /// nothing, or when the first member given is already too long for it.
    pub fn for_new_key(first_member_len: usize, lim: Limits) -> ZSet {
        if lim.entries == 0 || first_member_len > lim.value {
            ZSet::Large(Box::default())
        } else {
            ZSet::default()
        }
    }

    /// Build a set from entries in order (score, then member; no duplicates), in the encoding Redis
    /// gives a stored result of that size.
    pub fn from_sorted<M: AsRef<[u8]>>(items: &[(M, f64)], lim: Limits) -> ZSet {
        let max_len = items.iter().map(|(m, _)| m.as_ref().len()).max().unwrap_or(0);
        let total: usize = items.iter().map(|(m, _)| m.as_ref().len()).sum();
        if items.len() <= lim.entries && max_len <= lim.value && total < MAX_SAFE_BYTES {
            let mut lp = Listpack::new();
            for (m, s) in items {
                lp.push_back(LpItem::Str(m.as_ref()));
                with_score_item(*s, |it| lp.push_back(it));
            }
            ZSet::Listpack(lp)
        } else {
            let mut l = Sorted::with_capacity(items.len());
            for (m, s) in items {
                l.insert(m.as_ref(), *s);
            }
            ZSet::Large(Box::new(Large(l)))
        }
    }

    /// Build a set the way Redis 7.0 builds ZRANGESTORE's result: created for `size_hint` members (a
    /// listpack when that fits), then one insert per entry in the order given, converting when the
    /// listpack outgrows `lim`. The order matters only for `-0`: an entry inserted while the set is a
    /// listpack reads back as `0`, as in Redis.
    pub fn build_in_order<M: AsRef<[u8]>>(items: &[(M, f64)], size_hint: usize, lim: Limits) -> ZSet {
        let mut z = if size_hint <= lim.entries {
            ZSet::default()
        } else {
            ZSet::Large(Box::new(Large(Sorted::with_capacity(size_hint))))
        };
        for (m, s) in items {
            z.insert(m.as_ref(), *s, lim);
        }
        z
    }

    /// Accept a listpack read from a file (RDB, RESTORE), after the checks Redis makes: pairs of member
    /// and score, every score a number, no member twice.
    pub fn from_listpack(lp: Listpack) -> Result<ZSet, &'static str> {
        if !lp.len().is_multiple_of(2) {
            return Err("a sorted-set listpack holds member, score pairs");
        }
        let mut seen = std::collections::HashSet::new();
        let mut p = lp.first();
        while let Some(mp) = p {
            let sp = lp.next(mp).ok_or("a member without its score")?;
            if let LpItem::Str(s) = lp.get(sp) {
                let ok = std::str::from_utf8(s).ok().and_then(|t| t.parse::<f64>().ok());
                if ok.is_none_or(f64::is_nan) {
                    return Err("a score that is not a number");
                }
            }
            if !seen.insert(lp.get(mp).to_vec()) {
                return Err("a member twice");
            }
            p = lp.next(sp);
        }
        Ok(ZSet::Listpack(lp))
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Large(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len() / 2,
            ZSet::Large(l) => l.0.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            ZSet::Listpack(lp) => lp.is_empty(),
            ZSet::Large(l) => l.0.is_empty(),
        }
    }

    /// Redis's lazy-free effort: the large form frees one allocation per member.
    pub fn free_effort(&self) -> usize {
        match self {
            ZSet::Listpack(_) => 1,
            ZSet::Large(l) => l.0.len(),
        }
    }

    /// Bytes the value allocates (its own bytes live in the key's entry).
    pub fn mem_usage(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => crate::memory::size_class(lp.alloc_size()),
            ZSet::Large(l) => l.0.mem_usage(),
        }
    }

    /// The listpack, when that is the encoding (RDB writes it as is).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match self {
            ZSet::Listpack(lp) => Some(lp),
            ZSet::Large(_) => None,
        }
    }

    /// Every member with its score: in order for a listpack, in no particular order for the large form
    /// (DEBUG DIGEST, which does not depend on the order).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (Member<'_>, f64)> + '_> {
        match self {
            ZSet::Listpack(lp) => Box::new(LpPairs::new(lp).map(|(m, s, _)| (Member::of(m), s))),
            ZSet::Large(l) => Box::new(l.0.iter().map(|(m, s)| (Member::Bytes(m), s))),
        }
    }

    /// The members and scores of a listpack into a vector, in order; the large form walks its index.
    pub fn to_vec(&self) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::with_capacity(self.len());
        self.visit(0..self.len(), false, |m, s| {
            v.push((m.to_vec(), s));
            true
        });
        v
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => lp_find(lp, member).map(|(_, s)| s),
            ZSet::Large(l) => l.0.score(member),
        }
    }

    /// Add a member that is not in the set, converting to the large form first when the listpack would
    /// outgrow `lim`.
    pub fn insert(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let ZSet::Listpack(lp) = self {
            if lp.len() / 2 >= lim.entries
                || member.len() > lim.value
                || lp.total_bytes() + member.len() > MAX_SAFE_BYTES
            {
                self.convert_to_large();
            }
        }
        match self {
            ZSet::Listpack(lp) => lp_insert(lp, member, score),
            ZSet::Large(l) => l.0.insert(member, score),
        }
    }

    /// Change the score of a member that is in the set.
    pub fn set_score(&mut self, member: &[u8], score: f64) {
        match self {
            ZSet::Listpack(lp) => {
                if let Some((pos, _)) = lp_find(lp, member) {
                    lp.delete_run(pos, 2);
                    lp_insert(lp, member, score);
                }
            }
            ZSet::Large(l) => l.0.set_score(member, score),
        }
    }

    /// Remove a member; its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => {
                let (pos, s) = lp_find(lp, member)?;
                lp.delete_run(pos, 2);
                Some(s)
            }
            ZSet::Large(l) => l.0.remove(member),
        }
    }

    /// A member's ascending rank and score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Listpack(lp) => LpPairs::new(lp)
                .enumerate()
                .find(|(_, (m, _, _))| m.eq_bytes(member))
                .map(|(rank, (_, s, _))| (rank, s)),
            ZSet::Large(l) => l.0.rank(member),
        }
    }

    /// The ranks of the entries whose score is inside `r`.
    pub fn score_ranks(&self, r: &ScoreRange) -> Range<usize> {
        if r.is_void() {
            return 0..0;
        }
        let (start, end) = match self {
            ZSet::Listpack(lp) => {
                let (mut start, mut end) = (0, 0);
                for (_, s, _) in LpPairs::new(lp) {
                    if !r.gte_min(s) {
                        start += 1;
                    }
                    if r.lte_max(s) {
                        end += 1;
                    } else {
                        break;
                    }
                }
                (start, end)
            }
            ZSet::Large(l) => (
                l.0.partition_point(|s, _| !r.gte_min(s)),
                l.0.partition_point(|s, _| r.lte_max(s)),
            ),
        };
        start..end.max(start)
    }

    /// The ranks of the entries whose member is inside `r`. Meaningful when every score is equal (what
    /// lex ranges are for); otherwise the answer follows Redis's walk: the first entry at or above the
    /// minimum, then entries while at or below the maximum.
    pub fn lex_ranks(&self, r: &LexRange) -> Range<usize> {
        if r.is_void() || self.is_empty() {
            return 0..0;
        }
        match self {
            ZSet::Listpack(lp) => {
                // Redis's listpack walk, including its quick checks of the two ends.
                let last = lp.seek(-2).map(|p| lp.get(p).to_vec()).unwrap_or_default();
                let first = lp.first().map(|p| lp.get(p).to_vec()).unwrap_or_default();
                if !r.gte_min(&last) || !r.lte_max(&first) {
                    return 0..0;
                }
                let mut start = None;
                let mut i = 0;
                let mut buf = itoa::Buffer::new();
                for (m, _, _) in LpPairs::new(lp) {
                    let b = m.as_bytes(&mut buf);
                    match start {
                        None if r.gte_min(b) => {
                            if !r.lte_max(b) {
                                return 0..0;
                            }
                            start = Some(i);
                        }
                        Some(_) if !r.lte_max(b) => break,
                        _ => {}
                    }
                    i += 1;
                }
                match start {
                    Some(s) => s..i,
                    None => 0..0,
                }
            }
            ZSet::Large(l) => {
                let l = &l.0;
                let (first, last) = match (l.get(0), l.get(l.len() - 1)) {
                    (Some((f, _)), Some((t, _))) => (f, t),
                    _ => return 0..0,
                };
                if !r.gte_min(last) || !r.lte_max(first) {
                    return 0..0;
                }
                let start = l.partition_point(|_, m| !r.gte_min(m.bytes()));
                let end = l.partition_point(|_, m| r.lte_max(m.bytes()));
                start..end.max(start)
            }
        }
    }

    /// Visit the entries of `ranks` in ascending order, or descending when `rev`, while `f` returns true.
    pub fn visit(&self, ranks: Range<usize>, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        let ranks = ranks.start..ranks.end.min(self.len());
        if ranks.is_empty() {
            return;
        }
        match self {
            ZSet::Listpack(lp) => {
                let mut buf = itoa::Buffer::new();
                let n = ranks.len();
                if rev {
                    let Some(mut p) = lp.seek(2 * (ranks.end as i64 - 1)) else {
                        return;
                    };
                    for k in 0..n {
                        let Some(sp) = lp.next(p) else { return };
                        if !f(lp.get(p).as_bytes(&mut buf), lp_score(lp.get(sp))) {
                            return;
                        }
                        if k + 1 < n {
                            match lp.prev(p).and_then(|q| lp.prev(q)) {
                                Some(q) => p = q,
                                None => return,
                            }
                        }
                    }
                } else {
                    let Some(p) = lp.seek(2 * ranks.start as i64) else {
                        return;
                    };
                    for (m, s, _) in LpPairs::from(lp, Some(p)).take(n) {
                        if !f(m.as_bytes(&mut buf), s) {
                            return;
                        }
                    }
                }
            }
            ZSet::Large(l) => l.0.visit(ranks, rev, f),
        }
    }

    /// The entry at an ascending rank, copied out.
    pub fn get(&self, rank: usize) -> Option<(Vec<u8>, f64)> {
        let mut r = None;
        self.visit(rank..rank + 1, false, |m, s| {
            r = Some((m.to_vec(), s));
            false
        });
        r
    }

    /// Remove the entries of `ranks`.
    pub fn remove_ranks(&mut self, ranks: Range<usize>) {
        let ranks = ranks.start..ranks.end.min(self.len());
        if ranks.is_empty() {
            return;
        }
        match self {
            ZSet::Listpack(lp) => {
                if let Some(p) = lp.seek(2 * ranks.start as i64) {
                    lp.delete_run(p, 2 * ranks.len());
                }
            }
            ZSet::Large(l) => l.0.remove_ranks(ranks),
        }
    }

    /// One ZSCAN step: a listpack is returned whole (cursor 0 next); the large form walks its hash table
    /// with Redis's reverse-binary cursor.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(_) => {
                self.visit(0..self.len(), false, |m, s| {
                    f(m, s);
                    true
                });
                0
            }
            ZSet::Large(l) => l.0.scan(cursor, f),
        }
    }

    /// A ZSCAN step giving each score as text: a listpack's as stored (an integer score in decimal, so
    /// `1e18` reads `1000000000000000000`), the large form's as `%.17g`.
    pub fn scan_text(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            ZSet::Listpack(lp) => {
                let (mut mb, mut sb) = (itoa::Buffer::new(), itoa::Buffer::new());
                let mut p = lp.first();
                while let Some(mp) = p {
                    let Some(sp) = lp.next(mp) else { break };
                    f(lp.get(mp).as_bytes(&mut mb), lp.get(sp).as_bytes(&mut sb));
                    p = lp.next(sp);
                }
                0
            }
            ZSet::Large(l) => {
                let mut text = Vec::with_capacity(24);
                l.0.scan(cursor, |m, s| {
                    text.clear();
                    resp::num::format_double(&mut text, s);
                    f(m, &text);
                })
            }
        }
    }

    /// Move a listpack's members to the large encoding (a large set stays as it is).
    pub fn convert_to_large(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut l = Sorted::with_capacity(lp.len() / 2);
            let mut buf = itoa::Buffer::new();
            for (m, s, _) in LpPairs::new(lp) {
                l.insert(m.as_bytes(&mut buf), s);
            }
            *self = ZSet::Large(Box::new(Large(l)));
        }
    }
}

/// The (member, score, member position) pairs of a sorted-set listpack, in order.
struct LpPairs<'a> {
    lp: &'a Listpack,
    pos: Option<usize>,
}

impl<'a> LpPairs<'a> {
    fn new(lp: &'a Listpack) -> Self {
        LpPairs { lp, pos: lp.first() }
    }

    fn from(lp: &'a Listpack, pos: Option<usize>) -> Self {
        LpPairs { lp, pos }
    }
}

impl<'a> Iterator for LpPairs<'a> {
    type Item = (LpItem<'a>, f64, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let p = self.pos?;
        let sp = self.lp.next(p)?;
        self.pos = self.lp.next(sp);
        Some((self.lp.get(p), lp_score(self.lp.get(sp)), p))
    }
}

/// A member's position and score in a sorted-set listpack.
fn lp_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    let p = lp.find(lp.first(), member, 1)?;
    let sp = lp.next(p)?;
    Some((p, lp_score(lp.get(sp))))
}

/// Insert a member that is not there at its place in the order.
fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let mut at = None;
    for (m, s, p) in LpPairs::new(lp) {
        if s > score || (s == score && m.cmp_bytes(member) == Ordering::Greater) {
            at = Some(p);
            break;
        }
    }
    match at {
        Some(p) => {
            let p = lp.insert_before(p, LpItem::Str(member));
            with_score_item(score, |it| lp.insert_after(p, it));
        }
        None => {
            lp.push_back(LpItem::Str(member));
            with_score_item(score, |it| lp.push_back(it));
        }
    }
}

#[cfg(test)]
mod tests;
