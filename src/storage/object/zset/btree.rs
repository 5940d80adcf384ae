//! The ordered index of a large sorted set: an order-statistics B+tree of `(score, member)` entries.
//!
//! Leaves hold up to [`LEAF_CAP`] entries (a score and a [`NodeRef`], 16 bytes each) in order; inner nodes
//! hold up to [`INNER_CAP`] children, the number of entries below each child (for ranks) and a separator
//! before each child but the first. A separator is an owned copy of a key, not a handle, because it may
//! outlive the member it was copied from: it only has to stay a valid bound (every entry of child `i` is
//! at least `seps[i - 1]` and below `seps[i]`), which deletions never break.
//!
//! Everything is O(log n): insert, remove, rank of a key, entry at a rank, and the search for the first
//! entry of a score or lex interval (a monotone predicate, [`BTree::partition_point`]); a walk from a rank
//! costs O(log n) to start, then O(1) per entry, over contiguous memory.
//!
//! Balance: a node split in the middle leaves two half-full nodes; an insert at the very end (or start)
//! of a full node splits it unevenly instead, so that ascending scores (timestamps) fill leaves entirely.
//! A node that falls below half full after a removal merges with a sibling, or takes entries from it.

use std::cmp::Ordering;

use super::node::NodeRef;

// Unit tests use tiny nodes so that a few hundred entries exercise splits, merges and several levels.
#[cfg(not(test))]
pub(crate) const LEAF_CAP: usize = 64;
#[cfg(not(test))]
pub(crate) const INNER_CAP: usize = 64;
#[cfg(test)]
pub(crate) const LEAF_CAP: usize = 4;
#[cfg(test)]
pub(crate) const INNER_CAP: usize = 4;

/// A member, as the index compares it: a node's member or bytes given by the caller (or a separator).
#[derive(Clone, Copy)]
pub(crate) enum KeyMember<'a> {
    Node(NodeRef),
    Bytes(&'a [u8]),
}

impl<'a> KeyMember<'a> {
    #[inline]
    pub(crate) fn bytes(self) -> &'a [u8] {
        match self {
            KeyMember::Node(n) => n.member(),
            KeyMember::Bytes(b) => b,
        }
    }
}

/// Redis's order: by score (with `-0 == 0`), then by member bytes.
#[inline]
pub(crate) fn cmp_key(s1: f64, m1: KeyMember<'_>, s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.bytes().cmp(m2),
        Some(o) => o,
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    score: f64,
    node: NodeRef,
}

impl Entry {
    #[inline]
    fn cmp(&self, score: f64, member: &[u8]) -> Ordering {
        cmp_key(self.score, KeyMember::Node(self.node), score, member)
    }
}

struct Sep {
    score: f64,
    member: Box<[u8]>,
}

impl Sep {
    fn of(e: &Entry) -> Sep {
        Sep {
            score: e.score,
            member: e.node.member().into(),
        }
    }

    #[inline]
    fn cmp(&self, score: f64, member: &[u8]) -> Ordering {
        cmp_key(self.score, KeyMember::Bytes(&self.member), score, member)
    }
}

enum Node {
    Leaf(Vec<Entry>),
    Inner(Box<Inner>),
}

struct Inner {
    seps: Vec<Sep>,
    counts: Vec<usize>,
    kids: Vec<Node>,
}

impl Node {
    /// Entries below this node.
    fn total(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(i) => i.counts.iter().sum(),
        }
    }

    /// Slots used (entries of a leaf, children of an inner node).
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(i) => i.kids.len(),
        }
    }

    fn min_width(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_CAP / 2,
            Node::Inner(_) => INNER_CAP / 2,
        }
    }

    fn cap(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_CAP,
            Node::Inner(_) => INNER_CAP,
        }
    }

    /// Insert `e` (not present). A node that overflows splits and returns its new right sibling with the
    /// separator that goes before it.
    fn insert(&mut self, e: Entry, member: &[u8]) -> Option<(Sep, Node)> {
        match self {
            Node::Leaf(v) => {
                let pos = v.partition_point(|x| x.cmp(e.score, member) == Ordering::Less);
                if v.len() < LEAF_CAP {
                    v.insert(pos, e);
                    return None;
                }
                let (mut right, pos_in) = if pos == v.len() {
                    (Vec::with_capacity(LEAF_CAP), None)
                } else if pos == 0 {
                    (std::mem::replace(v, Vec::with_capacity(LEAF_CAP)), Some(0))
                } else {
                    (
                        v.split_off(LEAF_CAP / 2),
                        if pos <= LEAF_CAP / 2 { Some(pos) } else { None },
                    )
                };
                match pos_in {
                    Some(p) => v.insert(p, e),
                    None => {
                        let p = right.partition_point(|x| x.cmp(e.score, member) == Ordering::Less);
                        right.insert(p, e);
                    }
                }
                let sep = Sep::of(&right[0]);
                Some((sep, Node::Leaf(right)))
            }
            Node::Inner(inn) => {
                let i = inn
                    .seps
                    .partition_point(|s| s.cmp(e.score, member) != Ordering::Greater);
                inn.counts[i] += 1;
                let (sep, right) = inn.kids[i].insert(e, member)?;
                let moved = right.total();
                inn.counts[i] -= moved;
                inn.kids.insert(i + 1, right);
                inn.counts.insert(i + 1, moved);
                inn.seps.insert(i, sep);
                if inn.kids.len() <= INNER_CAP {
                    return None;
                }
                // Split the children: unevenly when the new child is the last or the first one.
                let n = inn.kids.len();
                let at = if i + 2 == n {
                    n - 1
                } else if i == 0 {
                    1
                } else {
                    n / 2
                };
                let kids = inn.kids.split_off(at);
                let counts = inn.counts.split_off(at);
                let seps = inn.seps.split_off(at);
                let up = inn.seps.pop().expect("a separator before every child but the first");
                Some((up, Node::Inner(Box::new(Inner { seps, counts, kids }))))
            }
        }
    }

    /// Remove the entry `(score, member)`, if present; returns whether it was.
    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        match self {
            Node::Leaf(v) => {
                let pos = v.partition_point(|x| x.cmp(score, member) == Ordering::Less);
                if pos < v.len() && v[pos].cmp(score, member) == Ordering::Equal {
                    v.remove(pos);
                    true
                } else {
                    false
                }
            }
            Node::Inner(inn) => {
                let i = inn.seps.partition_point(|s| s.cmp(score, member) != Ordering::Greater);
                if !inn.kids[i].remove(score, member) {
                    return false;
                }
                inn.counts[i] -= 1;
                inn.fix(i);
                true
            }
        }
    }

    /// Remove the entry at `rank` (below this node's total), found by counts alone.
    fn remove_at(&mut self, rank: usize) -> Entry {
        match self {
            Node::Leaf(v) => v.remove(rank),
            Node::Inner(inn) => {
                let mut i = 0;
                let mut rel = rank;
                while rel >= inn.counts[i] {
                    rel -= inn.counts[i];
                    i += 1;
                }
                let e = inn.kids[i].remove_at(rel);
                inn.counts[i] -= 1;
                inn.fix(i);
                e
            }
        }
    }

    fn get(&self, mut rank: usize) -> Option<Entry> {
        let mut node = self;
        loop {
            match node {
                Node::Leaf(v) => return v.get(rank).copied(),
                Node::Inner(inn) => {
                    let mut i = 0;
                    while i < inn.counts.len() && rank >= inn.counts[i] {
                        rank -= inn.counts[i];
                        i += 1;
                    }
                    node = inn.kids.get(i)?;
                }
            }
        }
    }

    fn partition_point(&self, before: &mut dyn FnMut(f64, KeyMember<'_>) -> bool) -> usize {
        let mut node = self;
        let mut rank = 0;
        loop {
            match node {
                Node::Leaf(v) => return rank + v.partition_point(|e| before(e.score, KeyMember::Node(e.node))),
                Node::Inner(inn) => {
                    let j = inn
                        .seps
                        .partition_point(|s| before(s.score, KeyMember::Bytes(&s.member)));
                    rank += inn.counts[..j].iter().sum::<usize>();
                    node = &inn.kids[j];
                }
            }
        }
    }

    /// Visit entries from rank `from` on (down to rank 0 when `rev`), until `f` says stop. Returns false
    /// when stopped.
    fn walk(&self, from: usize, rev: bool, f: &mut dyn FnMut(f64, NodeRef) -> bool) -> bool {
        match self {
            Node::Leaf(v) => {
                if rev {
                    v[..=from.min(v.len().saturating_sub(1))]
                        .iter()
                        .rev()
                        .all(|e| f(e.score, e.node))
                } else {
                    v.get(from..).unwrap_or(&[]).iter().all(|e| f(e.score, e.node))
                }
            }
            Node::Inner(inn) => {
                let mut i = 0;
                let mut rel = from;
                while i + 1 < inn.counts.len() && rel >= inn.counts[i] {
                    rel -= inn.counts[i];
                    i += 1;
                }
                if rev {
                    if !inn.kids[i].walk(rel, true, f) {
                        return false;
                    }
                    (0..i)
                        .rev()
                        .all(|k| inn.counts[k] == 0 || inn.kids[k].walk(inn.counts[k] - 1, true, f))
                } else {
                    if !inn.kids[i].walk(rel, false, f) {
                        return false;
                    }
                    (i + 1..inn.kids.len()).all(|k| inn.kids[k].walk(0, false, f))
                }
            }
        }
    }

    /// Remove the entries of ranks `start..end` (relative to this node), handing each to `f` in order.
    fn remove_range(&mut self, start: usize, end: usize, f: &mut dyn FnMut(f64, NodeRef)) {
        match self {
            Node::Leaf(v) => {
                for e in v.drain(start..end) {
                    f(e.score, e.node);
                }
            }
            Node::Inner(inn) => {
                let mut off = 0;
                let (mut first_full, mut last_full) = (usize::MAX, 0);
                // At most two children are partly covered: the first and the last of the range.
                let mut partial = [usize::MAX; 2];
                let mut npartial = 0;
                for i in 0..inn.kids.len() {
                    let c = inn.counts[i];
                    let (s, e) = (start.max(off), end.min(off + c));
                    if s < e {
                        if s == off && e == off + c {
                            inn.kids[i].walk(0, false, &mut |score, n| {
                                f(score, n);
                                true
                            });
                            first_full = first_full.min(i);
                            last_full = i;
                        } else {
                            inn.kids[i].remove_range(s - off, e - off, f);
                            inn.counts[i] -= e - s;
                            partial[npartial] = i;
                            npartial += 1;
                        }
                    }
                    off += c;
                    if off >= end {
                        break;
                    }
                }
                if first_full != usize::MAX {
                    let (a, b) = (first_full, last_full + 1);
                    inn.kids.drain(a..b);
                    inn.counts.drain(a..b);
                    if a == 0 {
                        let n = b.min(inn.seps.len());
                        inn.seps.drain(..n);
                    } else {
                        inn.seps.drain(a - 1..b - 1);
                    }
                    for p in partial[..npartial].iter_mut() {
                        if *p >= b {
                            *p -= b - a;
                        }
                    }
                }
                // Fix the partially emptied children, the later one first so indices stay valid.
                for &p in partial[..npartial].iter().rev() {
                    if p < inn.kids.len() {
                        inn.fix(p);
                    }
                }
            }
        }
    }

    fn mem_bytes(&self) -> usize {
        match self {
            Node::Leaf(v) => v.capacity() * std::mem::size_of::<Entry>(),
            Node::Inner(inn) => {
                std::mem::size_of::<Inner>()
                    + inn.seps.capacity() * std::mem::size_of::<Sep>()
                    + inn.seps.iter().map(|s| s.member.len()).sum::<usize>()
                    + inn.counts.capacity() * std::mem::size_of::<usize>()
                    + inn.kids.capacity() * std::mem::size_of::<Node>()
                    + inn.kids.iter().map(Node::mem_bytes).sum::<usize>()
            }
        }
    }
}

impl Inner {
    /// Restore the fill of child `i` after removals: merge it with a sibling, or even them out.
    fn fix(&mut self, i: usize) {
        if self.counts[i] == 0 {
            // An emptied child goes, with its separator (an inner node may have a single child, whose
            // emptying this node's own parent then handles the same way).
            self.kids.remove(i);
            self.counts.remove(i);
            if !self.seps.is_empty() {
                self.seps.remove(i.saturating_sub(1));
            }
            return;
        }
        if self.kids.len() < 2 || self.kids[i].width() >= self.kids[i].min_width() {
            return;
        }
        let l = if i + 1 < self.kids.len() { i } else { i - 1 };
        let r = l + 1;
        let (wl, wr) = (self.kids[l].width(), self.kids[r].width());
        if wl + wr <= self.kids[l].cap() {
            let right = self.kids.remove(r);
            let rc = self.counts.remove(r);
            let sep = self.seps.remove(l);
            self.counts[l] += rc;
            match (&mut self.kids[l], right) {
                (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
                (Node::Inner(a), Node::Inner(b)) => {
                    let b = *b;
                    a.seps.push(sep);
                    a.seps.extend(b.seps);
                    a.counts.extend(b.counts);
                    a.kids.extend(b.kids);
                }
                _ => unreachable!("siblings are at the same depth"),
            }
            return;
        }
        // Even out: move entries (or children) across the boundary.
        let (left, right) = {
            let (a, b) = self.kids.split_at_mut(r);
            (&mut a[l], &mut b[0])
        };
        let target = (wl + wr) / 2;
        let sep = &mut self.seps[l];
        let moved = match (left, right) {
            (Node::Leaf(a), Node::Leaf(b)) => {
                let moved;
                if wl > target {
                    let tail: Vec<Entry> = a.drain(target..).collect();
                    moved = -(tail.len() as isize);
                    b.splice(0..0, tail);
                } else {
                    let k = target - wl;
                    a.extend(b.drain(..k));
                    moved = k as isize;
                }
                *sep = Sep::of(&b[0]);
                moved
            }
            (Node::Inner(a), Node::Inner(b)) => {
                if wl > target {
                    let k = wl - target;
                    let n = a.kids.len();
                    let kids: Vec<Node> = a.kids.drain(n - k..).collect();
                    let counts: Vec<usize> = a.counts.drain(n - k..).collect();
                    let mut seps: Vec<Sep> = a.seps.drain(n - k..).collect();
                    let up = a.seps.pop().expect("a separator before every child but the first");
                    seps.push(std::mem::replace(sep, up));
                    seps.append(&mut b.seps);
                    b.seps = seps;
                    let sum: usize = counts.iter().sum();
                    b.kids.splice(0..0, kids);
                    b.counts.splice(0..0, counts);
                    -(sum as isize)
                } else {
                    let k = target - wl;
                    let kids: Vec<Node> = b.kids.drain(..k).collect();
                    let counts: Vec<usize> = b.counts.drain(..k).collect();
                    let mut seps: Vec<Sep> = b.seps.drain(..k).collect();
                    let up = seps.pop().expect("k separators taken");
                    a.seps.push(std::mem::replace(sep, up));
                    a.seps.extend(seps);
                    let sum: usize = counts.iter().sum();
                    a.kids.extend(kids);
                    a.counts.extend(counts);
                    sum as isize
                }
            }
            _ => unreachable!("siblings are at the same depth"),
        };
        self.counts[l] = (self.counts[l] as isize + moved) as usize;
        self.counts[r] = (self.counts[r] as isize - moved) as usize;
    }
}

/// See the module docs.
pub(crate) struct BTree {
    root: Node,
    len: usize,
}

impl Default for BTree {
    fn default() -> Self {
        BTree {
            root: Node::Leaf(Vec::new()),
            len: 0,
        }
    }
}

impl BTree {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Add a node (its member must not be in the index yet) under `score`.
    pub(crate) fn insert(&mut self, score: f64, node: NodeRef) {
        let member = node.member();
        if let Some((sep, right)) = self.root.insert(Entry { score, node }, member) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let counts = vec![left.total(), right.total()];
            self.root = Node::Inner(Box::new(Inner {
                seps: vec![sep],
                counts,
                kids: vec![left, right],
            }));
        }
        self.len += 1;
    }

    /// Remove the entry `(score, member)`; false if it is not there.
    pub(crate) fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if !self.root.remove(score, member) {
            return false;
        }
        self.len -= 1;
        self.shrink_root();
        true
    }

    fn shrink_root(&mut self) {
        loop {
            match &mut self.root {
                Node::Inner(inn) if inn.kids.len() == 1 => {
                    let kid = inn.kids.pop().expect("one child");
                    self.root = kid;
                }
                Node::Inner(inn) if inn.kids.is_empty() => self.root = Node::Leaf(Vec::new()),
                _ => return,
            }
        }
    }

    /// The entry at `rank` (0-based, ascending).
    pub(crate) fn get(&self, rank: usize) -> Option<(f64, NodeRef)> {
        self.root.get(rank).map(|e| (e.score, e.node))
    }

    /// The rank of the first entry for which `before` is false; `before` must be true for a prefix of
    /// the key order and false after it (it is also asked about separator keys).
    pub(crate) fn partition_point(&self, mut before: impl FnMut(f64, KeyMember<'_>) -> bool) -> usize {
        self.root.partition_point(&mut before)
    }

    /// Visit entries from rank `from` upwards (downwards when `rev`) while `f` returns true.
    pub(crate) fn walk(&self, from: usize, rev: bool, mut f: impl FnMut(f64, NodeRef) -> bool) {
        if from < self.len {
            self.root.walk(from, rev, &mut f);
        }
    }

    /// Remove the entries of ranks `start..end`, handing each to `f` in ascending order.
    pub(crate) fn remove_range(&mut self, start: usize, end: usize, mut f: impl FnMut(f64, NodeRef)) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        if end - start <= 4 {
            // A few entries (ZPOPMIN, ZPOPMAX): one removal each beats rebuilding the path's nodes.
            for _ in start..end {
                let e = self.root.remove_at(start);
                self.len -= 1;
                f(e.score, e.node);
            }
            self.shrink_root();
            return;
        }
        if start == 0 && end == self.len {
            self.root.walk(0, false, &mut |s, n| {
                f(s, n);
                true
            });
            *self = BTree::default();
            return;
        }
        self.root.remove_range(start, end, &mut f);
        self.len -= end - start;
        self.shrink_root();
    }

    /// Bytes allocated for the index (not the member nodes).
    pub(crate) fn mem_bytes(&self) -> usize {
        self.root.mem_bytes()
    }

    /// Check every structural invariant (tests).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        fn rec(n: &Node, lo: Option<(f64, Vec<u8>)>, hi: Option<(f64, Vec<u8>)>, root: bool) -> usize {
            let inside = |s: f64, m: KeyMember<'_>| {
                lo.as_ref()
                    .is_none_or(|(ls, lm)| cmp_key(s, m, *ls, lm) != Ordering::Less)
                    && hi
                        .as_ref()
                        .is_none_or(|(hs, hm)| cmp_key(s, m, *hs, hm) == Ordering::Less)
            };
            match n {
                Node::Leaf(v) => {
                    assert!(root || !v.is_empty(), "empty leaf");
                    assert!(v.len() <= LEAF_CAP);
                    for w in v.windows(2) {
                        assert_eq!(w[0].cmp(w[1].score, w[1].node.member()), Ordering::Less);
                    }
                    for e in v {
                        assert!(inside(e.score, KeyMember::Node(e.node)), "entry outside its bounds");
                    }
                    v.len()
                }
                Node::Inner(inn) => {
                    assert!(inn.kids.len() >= if root { 2 } else { 1 });
                    assert!(inn.kids.len() <= INNER_CAP);
                    assert_eq!(inn.seps.len() + 1, inn.kids.len());
                    assert_eq!(inn.counts.len(), inn.kids.len());
                    let mut total = 0;
                    for (i, k) in inn.kids.iter().enumerate() {
                        let l = if i == 0 {
                            lo.clone()
                        } else {
                            Some((inn.seps[i - 1].score, inn.seps[i - 1].member.to_vec()))
                        };
                        let h = if i + 1 == inn.kids.len() {
                            hi.clone()
                        } else {
                            Some((inn.seps[i].score, inn.seps[i].member.to_vec()))
                        };
                        let c = rec(k, l, h, false);
                        assert_eq!(c, inn.counts[i], "count of child {i}");
                        total += c;
                    }
                    total
                }
            }
        }
        assert_eq!(rec(&self.root, None, None, true), self.len);
    }
}
