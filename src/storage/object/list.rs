//! A list: a quicklist, i.e. a sequence of listpack nodes (OBJECT ENCODING `quicklist`, which Redis 7.0
//! reports for every list, however short).
//!
//! Each node is a [`Listpack`] in Redis's byte format. Nodes sit in a ring buffer (`VecDeque`), so both
//! ends are reached in O(1) and an index is found by walking nodes from the nearer end, skipping whole
//! nodes by their element counts, then scanning inside one node.
//!
//! How big a node may grow is the list's *fill*, taken from `list-max-listpack-size` when the list is
//! created (Redis keeps it per list; a later CONFIG SET only affects new lists) and clamped to
//! -5..=32767 as Redis does:
//! - negative: a byte limit, -1..-5 meaning 4, 8, 16, 32, 64 KiB;
//! - positive: an element count, with a hard byte ceiling of 8 KiB; 0 behaves as 1.
//!
//! Redis 7.0.15's sizing rules, reproduced because `DEBUG OBJECT` (ql_nodes, ql_uncompressed_size) and
//! memory figures show them, were established against a live `redis-server`:
//! - an element joins a node when `node bytes + element length + 8` stays within the limit (the 8 is
//!   a worst-case estimate of an entry's encoding and back-length overhead), otherwise a new node is
//!   started; an element bigger than any limit gets a node of its own;
//! - two nodes may merge when `bytes(a) + bytes(b) - 11` and their combined count respect the limit
//!   (11 is a leftover from ziplist nodes, see [`MERGE_SAVING`]);
//! - pops, LREM and LTRIM delete elements inside their nodes and drop nodes that become empty, without
//!   merging; LSET replaces in place whatever the new size;
//! - LINSERT into a full node prefers the neighbour at the insertion edge, then a fresh node at that
//!   edge, and otherwise splits the node at the pivot and merges around it (see [`List::insert_at`]).
//!
//! Known differences from Redis 7.0, kept on purpose:
//! - `list-compress-depth` is accepted and remembered per list (DEBUG OBJECT's `ql_compressed` shows it)
//!   but nodes are never LZF-compressed: compression trades CPU on every access to interior nodes for
//!   memory, it is off by default in Redis, and nothing a client sees depends on it.
//! - Redis 7.0 keeps an element of 1 GiB or more in a "plain" node holding the bare bytes; here it is a
//!   listpack node with a single entry. Only memory accounting differs (a few header bytes).

use std::collections::VecDeque;

use super::listpack::{parse_canonical_int, Listpack, LpItem};

/// Node byte limits for fills -1..-5.
const BYTE_LIMITS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// The byte ceiling of a node under a count fill.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// What Redis adds to an element's length to estimate the bytes it takes in a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// What Redis 7.0 subtracts from two nodes' sizes when estimating their merged size: 11, the header
/// and terminator of a *ziplist* (the node format before listpacks), not a listpack's 7. Observed: two
/// nodes of 6972 and 1228 bytes merge under the 8 KiB limit.
const MERGE_SAVING: usize = 11;
/// Largest count fill (Redis keeps the fill in 16 signed bits).
const FILL_MAX: i32 = i16::MAX as i32;
const FILL_MIN: i32 = -5;
/// Largest compression depth (16 bits in Redis).
const COMPRESS_MAX: i32 = u16::MAX as i32;

/// See the module docs.
#[derive(Debug, Clone)]
pub struct List {
    nodes: VecDeque<Listpack>,
    len: usize,
    fill: i16,
    compress: u16,
}

impl Default for List {
    fn default() -> Self {
        List::new(-2, 0)
    }
}

/// Whether a node of `bytes` bytes holding `count` elements is over the limit `fill` sets.
fn exceeds(fill: i16, bytes: usize, count: usize) -> bool {
    if fill < 0 {
        let level = (-(fill as i32) - 1) as usize;
        bytes > BYTE_LIMITS[level.min(BYTE_LIMITS.len() - 1)]
    } else {
        bytes > SIZE_SAFETY_LIMIT || count > (fill as usize).max(1)
    }
}

/// Whether an element of `elem_len` bytes may join `node`.
fn fits(node: &Listpack, fill: i16, elem_len: usize) -> bool {
    !exceeds(
        fill,
        node.total_bytes() + elem_len + SIZE_ESTIMATE_OVERHEAD,
        node.len() + 1,
    )
}

/// Whether two nodes may become one.
fn can_merge(a: &Listpack, b: &Listpack, fill: i16) -> bool {
    !exceeds(
        fill,
        (a.total_bytes() + b.total_bytes()).saturating_sub(MERGE_SAVING),
        a.len() + b.len(),
    )
}

/// A node that stops being an end node is full (the next element did not fit) and rarely grows again:
/// give its spare capacity back. Without this, doubling from a 7-byte listpack leaves an 8 KiB node in
/// a 14 KiB buffer (7 * 2^n never lands on 8192), where Redis reallocates a listpack to its exact size
/// on every change.
fn close(node: &mut Listpack) {
    node.shrink_to_fit();
}

/// Give a node's spare capacity back once it holds less than half of it (deletions never shrink a
/// `Vec`; Redis reallocates a listpack to its exact size after every deletion).
fn trim_capacity(node: &mut Listpack) {
    if node.alloc_size() > 2 * node.total_bytes() + 16 {
        node.shrink_to_fit();
    }
}

/// An element compared with list entries the way Redis compares them: integer entries equal a
/// string only when the string is the canonical decimal form of the same integer.
#[derive(Debug, Clone, Copy)]
pub struct Matcher<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Matcher<'a> {
    pub fn new(bytes: &'a [u8]) -> Matcher<'a> {
        Matcher {
            bytes,
            int: parse_canonical_int(bytes),
        }
    }

    #[inline]
    pub fn matches(&self, item: &LpItem<'_>) -> bool {
        match (item, self.int) {
            (LpItem::Int(v), Some(w)) => *v == w,
            (LpItem::Str(s), None) => *s == self.bytes,
            _ => false,
        }
    }
}

/// An element taken out of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popped {
    Int(i64),
    Bytes(Vec<u8>),
}

impl Popped {
    fn of(item: LpItem<'_>) -> Popped {
        match item {
            LpItem::Int(i) => Popped::Int(i),
            LpItem::Str(s) => Popped::Bytes(s.to_vec()),
        }
    }

    /// The element as the item it was stored as.
    pub fn item(&self) -> LpItem<'_> {
        match self {
            Popped::Int(i) => LpItem::Int(*i),
            Popped::Bytes(b) => LpItem::Str(b),
        }
    }

    /// The element's bytes (an integer printed in decimal).
    pub fn to_bytes(&self) -> ElemBytes<'_> {
        ElemBytes::of(self.item())
    }
}

/// An element as bytes: borrowed from the list, or an integer entry printed on the stack.
#[derive(Clone, Copy)]
pub struct ElemBytes<'a> {
    slice: Option<&'a [u8]>,
    buf: [u8; 20],
    len: u8,
}

impl<'a> ElemBytes<'a> {
    pub fn of(item: LpItem<'a>) -> ElemBytes<'a> {
        match item {
            LpItem::Str(s) => ElemBytes {
                slice: Some(s),
                buf: [0; 20],
                len: 0,
            },
            LpItem::Int(i) => {
                let mut b = itoa::Buffer::new();
                let text = b.format(i).as_bytes();
                let mut buf = [0u8; 20];
                buf[..text.len()].copy_from_slice(text);
                ElemBytes {
                    slice: None,
                    buf,
                    len: text.len() as u8,
                }
            }
        }
    }
}

impl AsRef<[u8]> for ElemBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        match self.slice {
            Some(s) => s,
            None => &self.buf[..self.len as usize],
        }
    }
}

impl List {
    /// An empty list with the given `list-max-listpack-size` and `list-compress-depth` (clamped as
    /// Redis clamps them).
    pub fn new(fill: i32, compress: i32) -> List {
        List {
            nodes: VecDeque::new(),
            len: 0,
            fill: fill.clamp(FILL_MIN, FILL_MAX) as i16,
            compress: compress.clamp(0, COMPRESS_MAX) as u16,
        }
    }

    /// A list made of these nodes as they are (an RDB file keeps Redis's node boundaries, and so does
    /// loading it: DEBUG OBJECT's `ql_nodes` matches). Empty nodes are dropped.
    pub fn from_nodes(nodes: impl IntoIterator<Item = Listpack>, fill: i32, compress: i32) -> List {
        let mut l = List::new(fill, compress);
        for mut node in nodes {
            if node.is_empty() {
                continue;
            }
            close(&mut node);
            l.len += node.len();
            l.nodes.push_back(node);
        }
        l
    }

    /// The nodes, head to tail (what an RDB file stores).
    pub fn nodes(&self) -> impl Iterator<Item = &Listpack> + '_ {
        self.nodes.iter()
    }

    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Redis's lazy-free effort for a quicklist: its number of nodes.
    pub fn free_effort(&self) -> usize {
        self.nodes.len()
    }

    /// Number of nodes (DEBUG OBJECT's `ql_nodes`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The fill this list was created with (DEBUG OBJECT's `ql_listpack_max`).
    pub fn fill(&self) -> i32 {
        self.fill as i32
    }

    /// The compression depth this list was created with.
    pub fn compress_depth(&self) -> u32 {
        self.compress as u32
    }

    /// Sum of the nodes' encoded sizes (DEBUG OBJECT's `ql_uncompressed_size`).
    pub fn encoded_bytes(&self) -> usize {
        self.nodes.iter().map(|n| n.total_bytes()).sum()
    }

    /// Elements per node, head to tail (tests and DEBUG).
    pub fn node_lens(&self) -> Vec<usize> {
        self.nodes.iter().map(|n| n.len()).collect()
    }

    /// The elements, head to tail, as bytes (DEBUG DIGEST reads them in this order).
    pub fn iter(&self) -> impl Iterator<Item = ElemBytes<'_>> + '_ {
        self.iter_from(0).map(ElemBytes::of)
    }

    /// Bytes allocated for the list: this header, the node table and every node's buffer, each rounded
    /// up to the allocator's size class (what `used_memory` counts).
    pub fn mem_usage(&self) -> usize {
        let table = malloc_size(self.nodes.capacity() * std::mem::size_of::<Listpack>());
        let nodes: usize = self.nodes.iter().map(|n| malloc_size(n.alloc_size())).sum();
        // The list header is boxed (`Object::List`), so it is an allocation of its own.
        malloc_size(std::mem::size_of::<Self>()) + table + nodes
    }

    // ---- both ends ----

    pub fn push_front(&mut self, v: &[u8]) {
        match self.nodes.front_mut() {
            Some(head) if fits(head, self.fill, v.len()) => head.push_front(LpItem::Str(v)),
            Some(head) => {
                close(head);
                self.nodes.push_front(single(v));
            }
            None => {
                // Most lists have one node: a table of one, not the four a `VecDeque` starts with.
                self.nodes.reserve_exact(1);
                self.nodes.push_front(single(v));
            }
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, v: &[u8]) {
        match self.nodes.back_mut() {
            Some(tail) if fits(tail, self.fill, v.len()) => tail.push_back(LpItem::Str(v)),
            Some(tail) => {
                close(tail);
                self.nodes.push_back(single(v));
            }
            None => {
                self.nodes.reserve_exact(1);
                self.nodes.push_back(single(v));
            }
        }
        self.len += 1;
    }

    /// Push at the head (`left`) or the tail.
    pub fn push(&mut self, v: &[u8], left: bool) {
        if left {
            self.push_front(v)
        } else {
            self.push_back(v)
        }
    }

    pub fn front(&self) -> Option<LpItem<'_>> {
        let n = self.nodes.front()?;
        n.first().map(|p| n.get(p))
    }

    pub fn back(&self) -> Option<LpItem<'_>> {
        let n = self.nodes.back()?;
        n.last().map(|p| n.get(p))
    }

    pub fn pop_front(&mut self) -> Option<Popped> {
        let node = self.nodes.front_mut()?;
        let pos = node.first()?;
        let v = Popped::of(node.get(pos));
        node.delete(pos);
        if node.is_empty() {
            self.nodes.pop_front();
        } else {
            trim_capacity(node);
        }
        self.len -= 1;
        Some(v)
    }

    pub fn pop_back(&mut self) -> Option<Popped> {
        let node = self.nodes.back_mut()?;
        let pos = node.last()?;
        let v = Popped::of(node.get(pos));
        node.delete(pos);
        if node.is_empty() {
            self.nodes.pop_back();
        } else {
            trim_capacity(node);
        }
        self.len -= 1;
        Some(v)
    }

    /// Pop from the head (`left`) or the tail.
    pub fn pop(&mut self, left: bool) -> Option<Popped> {
        if left {
            self.pop_front()
        } else {
            self.pop_back()
        }
    }

    // ---- by index ----

    /// Resolve a Redis index (negative counts from the tail) to a position from the head.
    pub fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if index < 0 { len.checked_add(index)? } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The node holding element `index` (< len) and the element's offset inside it, walking from the
    /// nearer end of the list.
    fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.len);
        if index < self.len / 2 {
            let mut rest = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                let c = n.len();
                if rest < c {
                    return (ni, rest);
                }
                rest -= c;
            }
        } else {
            // Count from the tail: `rest` elements lie after the one we want.
            let mut rest = self.len - 1 - index;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                let c = n.len();
                if rest < c {
                    return (ni, c - 1 - rest);
                }
                rest -= c;
            }
        }
        unreachable!("list invariant: node counts add up to len")
    }

    /// Element `index` (negative counts from the tail).
    pub fn get(&self, index: i64) -> Option<LpItem<'_>> {
        let i = self.resolve(index)?;
        let (ni, off) = self.locate(i);
        let n = &self.nodes[ni];
        n.seek(off as i64).map(|p| n.get(p))
    }

    /// Replace element `index` (negative counts from the tail); false if it is out of range. Like Redis
    /// 7.0, the element is replaced inside its node whatever its new size.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some(i) = self.resolve(index) else {
            return false;
        };
        let (ni, off) = self.locate(i);
        let n = &mut self.nodes[ni];
        match n.seek(off as i64) {
            Some(p) => {
                n.replace(p, LpItem::Str(v));
                true
            }
            None => false,
        }
    }

    /// Elements from position `start` (from the head) towards the tail.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        if start >= self.len {
            return Iter {
                list: self,
                node: self.nodes.len(),
                pos: None,
            };
        }
        let (ni, off) = self.locate(start);
        Iter {
            list: self,
            node: ni,
            pos: self.nodes[ni].seek(off as i64),
        }
    }

    /// Elements from position `start` (from the head) towards the head.
    pub fn iter_rev_from(&self, start: usize) -> RevIter<'_> {
        if start >= self.len {
            return RevIter {
                list: self,
                node: 0,
                pos: None,
            };
        }
        let (ni, off) = self.locate(start);
        RevIter {
            list: self,
            node: ni,
            pos: self.nodes[ni].seek(off as i64),
        }
    }

    /// Delete `count` elements from position `start` (from the head); fewer if the list ends first.
    /// Nodes that become empty are dropped; nothing is merged (Redis's quicklistDelRange).
    pub fn delete_range(&mut self, start: usize, count: usize) {
        if start >= self.len || count == 0 {
            return;
        }
        let (mut ni, mut off) = self.locate(start);
        let mut left = count.min(self.len - start);
        self.len -= left;
        while left > 0 {
            let node = &mut self.nodes[ni];
            let c = node.len();
            if off == 0 && left >= c {
                self.nodes.remove(ni);
                left -= c;
            } else {
                let n = left.min(c - off);
                if let Some(p) = node.seek(off as i64) {
                    node.delete_run(p, n);
                }
                trim_capacity(node);
                left -= n;
                ni += 1;
            }
            off = 0;
        }
    }

    // ---- searching ----

    /// LREM: delete elements equal to `v`, at most `limit` of them (0: all), from the head (`from_head`)
    /// or from the tail. Returns how many were deleted. Emptied nodes are dropped, nothing is merged.
    pub fn remove(&mut self, v: &[u8], limit: usize, from_head: bool) -> usize {
        let m = Matcher::new(v);
        let mut removed = 0;
        let done = |removed: usize| limit != 0 && removed >= limit;
        if from_head {
            let mut ni = 0;
            while ni < self.nodes.len() && !done(removed) {
                let node = &mut self.nodes[ni];
                let mut pos = node.first();
                let before = removed;
                while let Some(p) = pos {
                    if done(removed) {
                        break;
                    }
                    if m.matches(&node.get(p)) {
                        pos = node.delete(p);
                        removed += 1;
                    } else {
                        pos = node.next(p);
                    }
                }
                if node.is_empty() {
                    self.nodes.remove(ni);
                } else {
                    if removed != before {
                        trim_capacity(node);
                    }
                    ni += 1;
                }
            }
        } else {
            let mut ni = self.nodes.len();
            while ni > 0 && !done(removed) {
                ni -= 1;
                let node = &mut self.nodes[ni];
                let mut pos = node.last();
                let before = removed;
                while let Some(p) = pos {
                    if done(removed) {
                        break;
                    }
                    // Positions before `p` survive the deletion of `p`.
                    let prev = node.prev(p);
                    if m.matches(&node.get(p)) {
                        node.delete(p);
                        removed += 1;
                    }
                    pos = prev;
                }
                if node.is_empty() {
                    self.nodes.remove(ni);
                } else if removed != before {
                    trim_capacity(node);
                }
            }
        }
        self.len -= removed;
        removed
    }

    /// LINSERT: insert `v` before or after the first element equal to `pivot` (from the head). False
    /// if there is no such element.
    pub fn insert(&mut self, pivot: &[u8], v: &[u8], after: bool) -> bool {
        let m = Matcher::new(pivot);
        let mut found = None;
        'nodes: for (ni, n) in self.nodes.iter().enumerate() {
            for (off, item) in n.iter().enumerate() {
                if m.matches(&item) {
                    found = Some((ni, off));
                    break 'nodes;
                }
            }
        }
        let Some((ni, off)) = found else {
            return false;
        };
        self.insert_at(ni, off, v, after);
        true
    }

    /// Insert `v` before or after element `off` of node `ni`, with Redis's node rules: into the node if
    /// it has room; else, at the node's edge on the insertion side, into the neighbour if that has room,
    /// or into a new node placed there; else split the node at the pivot (the half beyond it moves to a
    /// new node, which takes `v` on the pivot's side) and merge around the split node.
    fn insert_at(&mut self, ni: usize, off: usize, v: &[u8], after: bool) {
        let fill = self.fill;
        let count = self.nodes[ni].len();
        let full = !fits(&self.nodes[ni], fill, v.len());
        let at_tail = after && off + 1 == count;
        let at_head = !after && off == 0;
        let room_next = at_tail && self.nodes.get(ni + 1).is_some_and(|n| fits(n, fill, v.len()));
        let room_prev = at_head && ni > 0 && fits(&self.nodes[ni - 1], fill, v.len());
        self.len += 1;
        if !full {
            let node = &mut self.nodes[ni];
            if let Some(p) = node.seek(off as i64) {
                if after {
                    node.insert_after(p, LpItem::Str(v));
                } else {
                    node.insert_before(p, LpItem::Str(v));
                }
            }
        } else if room_next {
            self.nodes[ni + 1].push_front(LpItem::Str(v));
        } else if room_prev {
            self.nodes[ni - 1].push_back(LpItem::Str(v));
        } else if at_tail {
            close(&mut self.nodes[ni]);
            self.nodes.insert(ni + 1, single(v));
        } else if at_head {
            close(&mut self.nodes[ni]);
            self.nodes.insert(ni, single(v));
        } else {
            let node = &mut self.nodes[ni];
            // The node keeps the pivot and the elements on its far side.
            let split_at = if after { off + 1 } else { off };
            let mut first = Listpack::new();
            let mut second = Listpack::new();
            for (i, item) in node.iter().enumerate() {
                if i < split_at {
                    first.push_back(item);
                } else {
                    second.push_back(item);
                }
            }
            let center = if after {
                second.push_front(LpItem::Str(v));
                *node = first;
                self.nodes.insert(ni + 1, second);
                ni
            } else {
                first.push_back(LpItem::Str(v));
                *node = second;
                self.nodes.insert(ni, first);
                ni + 1
            };
            close(&mut self.nodes[ni]);
            close(&mut self.nodes[ni + 1]);
            self.merge_around(center);
        }
    }

    /// Redis's merge pass after a split: the two nodes before `center` may merge, then the two after
    /// it, then `center` with its predecessor, then the result with its successor.
    fn merge_around(&mut self, mut center: usize) {
        let fill = self.fill;
        if center >= 2 && can_merge(&self.nodes[center - 1], &self.nodes[center - 2], fill) {
            self.merge_pair(center - 2);
            center -= 1;
        }
        if center + 2 < self.nodes.len() && can_merge(&self.nodes[center + 1], &self.nodes[center + 2], fill) {
            self.merge_pair(center + 1);
        }
        let target = if center >= 1 && can_merge(&self.nodes[center], &self.nodes[center - 1], fill) {
            self.merge_pair(center - 1);
            center - 1
        } else {
            center
        };
        if target + 1 < self.nodes.len() && can_merge(&self.nodes[target], &self.nodes[target + 1], fill) {
            self.merge_pair(target);
        }
    }

    /// Join node `i + 1` onto node `i`.
    fn merge_pair(&mut self, i: usize) {
        let Some(b) = self.nodes.remove(i + 1) else { return };
        let a = &mut self.nodes[i];
        for item in b.iter() {
            a.push_back(item);
        }
        close(a);
    }

    /// Check the structure's invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        assert_eq!(self.nodes.iter().map(|n| n.len()).sum::<usize>(), self.len);
        assert!(self.nodes.iter().all(|n| !n.is_empty()), "empty node");
    }
}

/// A node holding one element.
fn single(v: &[u8]) -> Listpack {
    let mut n = Listpack::new();
    n.push_back(LpItem::Str(v));
    n
}

/// The size class jemalloc serves for `n` bytes.
fn malloc_size(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: nallocx only computes a size class; it allocates nothing and `n` is non-zero.
    unsafe { tikv_jemalloc_sys::nallocx(n, 0) }
}

/// Forward iterator over a list's elements.
pub struct Iter<'a> {
    list: &'a List,
    node: usize,
    pos: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpItem<'a>;

    fn next(&mut self) -> Option<LpItem<'a>> {
        loop {
            let n = self.list.nodes.get(self.node)?;
            if let Some(p) = self.pos {
                self.pos = n.next(p);
                return Some(n.get(p));
            }
            self.node += 1;
            self.pos = self.list.nodes.get(self.node)?.first();
        }
    }
}

/// Backward iterator over a list's elements.
pub struct RevIter<'a> {
    list: &'a List,
    node: usize,
    pos: Option<usize>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = LpItem<'a>;

    fn next(&mut self) -> Option<LpItem<'a>> {
        loop {
            let n = self.list.nodes.get(self.node)?;
            if let Some(p) = self.pos {
                self.pos = n.prev(p);
                return Some(n.get(p));
            }
            self.node = self.node.checked_sub(1)?;
            self.pos = self.list.nodes.get(self.node)?.last();
        }
    }
}

#[cfg(test)]
mod tests;
