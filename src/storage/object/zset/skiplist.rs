//! A skiplist index with spans (Pugh's structure as Redis extends it: ranks through per-level spans,
//! a backward link at level 0), kept with the same interface as [`super::btree::BTree`] so the two can
//! be measured against each other on the same member nodes (`examples/zset_index.rs`).
//!
//! Each skiplist node is one allocation: score, member handle, backward link, level count, then
//! `levels` pairs of (forward link, span).

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cmp::Ordering;
use std::ptr::{null_mut, NonNull};

use super::btree::{cmp_key, KeyMember};
use super::node::NodeRef;

const MAX_LEVEL: usize = 32;

#[repr(C)]
struct Level {
    forward: *mut SlNode,
    span: usize,
}

#[repr(C)]
struct SlNode {
    score: f64,
    member: Option<NodeRef>,
    backward: *mut SlNode,
    nlevels: usize,
    // followed by `nlevels` Levels
}

fn layout(levels: usize) -> Layout {
    Layout::from_size_align(
        std::mem::size_of::<SlNode>() + levels * std::mem::size_of::<Level>(),
        std::mem::align_of::<SlNode>(),
    )
    .expect("small layout")
}

unsafe fn lvl(n: *mut SlNode, i: usize) -> *mut Level {
    (n.add(1) as *mut Level).add(i)
}

unsafe fn new_node(levels: usize, score: f64, member: Option<NodeRef>) -> *mut SlNode {
    let l = layout(levels);
    let p = alloc(l) as *mut SlNode;
    if p.is_null() {
        handle_alloc_error(l);
    }
    p.write(SlNode {
        score,
        member,
        backward: null_mut(),
        nlevels: levels,
    });
    for i in 0..levels {
        lvl(p, i).write(Level {
            forward: null_mut(),
            span: 0,
        });
    }
    p
}

unsafe fn free_node(n: *mut SlNode) {
    dealloc(n as *mut u8, layout((*n).nlevels));
}

/// See the module docs.
pub(crate) struct SkipList {
    header: NonNull<SlNode>,
    tail: *mut SlNode,
    len: usize,
    level: usize,
    rng: u64,
}

impl Default for SkipList {
    fn default() -> Self {
        // SAFETY: a fresh allocation with MAX_LEVEL levels, all links null.
        let h = unsafe { new_node(MAX_LEVEL, 0.0, None) };
        SkipList {
            header: NonNull::new(h).expect("allocated"),
            tail: null_mut(),
            len: 0,
            level: 1,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Drop for SkipList {
    fn drop(&mut self) {
        // SAFETY: every node reachable at level 0 was allocated by `new_node` and is freed once.
        unsafe {
            let mut x = (*lvl(self.header.as_ptr(), 0)).forward;
            while !x.is_null() {
                let next = (*lvl(x, 0)).forward;
                free_node(x);
                x = next;
            }
            free_node(self.header.as_ptr());
        }
    }
}

#[inline]
unsafe fn before_key(x: *mut SlNode, score: f64, member: &[u8]) -> bool {
    let m = (*x).member.expect("not the header");
    cmp_key((*x).score, KeyMember::Node(m), score, member) == Ordering::Less
}

impl SkipList {
    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            if (self.rng & 0xFFFF) < 0x4000 && level < MAX_LEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn insert(&mut self, score: f64, node: NodeRef) {
        let member = node.member();
        let mut update = [null_mut(); MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        // SAFETY: all pointers followed are live nodes of this list (or the header).
        unsafe {
            let mut x = self.header.as_ptr();
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let f = (*lvl(x, i)).forward;
                    if f.is_null() || !before_key(f, score, member) {
                        break;
                    }
                    rank[i] += (*lvl(x, i)).span;
                    x = f;
                }
                update[i] = x;
            }
            let level = self.random_level();
            if level > self.level {
                for i in self.level..level {
                    rank[i] = 0;
                    update[i] = self.header.as_ptr();
                    (*lvl(update[i], i)).span = self.len;
                }
                self.level = level;
            }
            let x = new_node(level, score, Some(node));
            for i in 0..level {
                (*lvl(x, i)).forward = (*lvl(update[i], i)).forward;
                (*lvl(update[i], i)).forward = x;
                (*lvl(x, i)).span = (*lvl(update[i], i)).span - (rank[0] - rank[i]);
                (*lvl(update[i], i)).span = rank[0] - rank[i] + 1;
            }
            for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
                (*lvl(u, i)).span += 1;
            }
            (*x).backward = if update[0] == self.header.as_ptr() {
                null_mut()
            } else {
                update[0]
            };
            let f = (*lvl(x, 0)).forward;
            if f.is_null() {
                self.tail = x;
            } else {
                (*f).backward = x;
            }
        }
        self.len += 1;
    }

    unsafe fn delete_node(&mut self, x: *mut SlNode, update: &[*mut SlNode; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if (*lvl(u, i)).forward == x {
                (*lvl(u, i)).span += (*lvl(x, i)).span;
                (*lvl(u, i)).span -= 1;
                (*lvl(u, i)).forward = (*lvl(x, i)).forward;
            } else {
                (*lvl(u, i)).span -= 1;
            }
        }
        let f = (*lvl(x, 0)).forward;
        if f.is_null() {
            self.tail = (*x).backward;
        } else {
            (*f).backward = (*x).backward;
        }
        while self.level > 1 && (*lvl(self.header.as_ptr(), self.level - 1)).forward.is_null() {
            self.level -= 1;
        }
        self.len -= 1;
    }

    pub(crate) fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let mut update = [null_mut(); MAX_LEVEL];
        // SAFETY: as in `insert`.
        unsafe {
            let mut x = self.header.as_ptr();
            for i in (0..self.level).rev() {
                loop {
                    let f = (*lvl(x, i)).forward;
                    if f.is_null() || !before_key(f, score, member) {
                        break;
                    }
                    x = f;
                }
                update[i] = x;
            }
            let x = (*lvl(x, 0)).forward;
            if !x.is_null() {
                let m = (*x).member.expect("not the header");
                if cmp_key((*x).score, KeyMember::Node(m), score, member) == Ordering::Equal {
                    self.delete_node(x, &update);
                    free_node(x);
                    return true;
                }
            }
        }
        false
    }

    /// The node at 1-based `rank` (0 = the header).
    unsafe fn node_at(&self, rank: usize) -> *mut SlNode {
        let mut x = self.header.as_ptr();
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            loop {
                let f = (*lvl(x, i)).forward;
                if f.is_null() || traversed + (*lvl(x, i)).span > rank {
                    break;
                }
                traversed += (*lvl(x, i)).span;
                x = f;
            }
            if traversed == rank {
                return x;
            }
        }
        x
    }

    pub(crate) fn get(&self, rank: usize) -> Option<(f64, NodeRef)> {
        if rank >= self.len {
            return None;
        }
        // SAFETY: rank + 1 is within 1..=len, so the node is a real one.
        unsafe {
            let x = self.node_at(rank + 1);
            Some(((*x).score, (*x).member.expect("not the header")))
        }
    }

    pub(crate) fn partition_point(&self, mut before: impl FnMut(f64, KeyMember<'_>) -> bool) -> usize {
        let mut rank = 0;
        // SAFETY: as in `insert`.
        unsafe {
            let mut x = self.header.as_ptr();
            for i in (0..self.level).rev() {
                loop {
                    let f = (*lvl(x, i)).forward;
                    if f.is_null() || !before((*f).score, KeyMember::Node((*f).member.expect("not the header"))) {
                        break;
                    }
                    rank += (*lvl(x, i)).span;
                    x = f;
                }
            }
        }
        rank
    }

    pub(crate) fn walk(&self, from: usize, rev: bool, mut f: impl FnMut(f64, NodeRef) -> bool) {
        if from >= self.len {
            return;
        }
        // SAFETY: links of live nodes.
        unsafe {
            let mut x = self.node_at(from + 1);
            while !x.is_null() {
                if !f((*x).score, (*x).member.expect("not the header")) {
                    return;
                }
                x = if rev { (*x).backward } else { (*lvl(x, 0)).forward };
            }
        }
    }

    pub(crate) fn remove_range(&mut self, start: usize, end: usize, mut f: impl FnMut(f64, NodeRef)) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let mut update = [null_mut(); MAX_LEVEL];
        // SAFETY: as in `insert`.
        unsafe {
            let mut x = self.header.as_ptr();
            let mut traversed = 0;
            for i in (0..self.level).rev() {
                loop {
                    let fw = (*lvl(x, i)).forward;
                    if fw.is_null() || traversed + (*lvl(x, i)).span > start {
                        break;
                    }
                    traversed += (*lvl(x, i)).span;
                    x = fw;
                }
                update[i] = x;
            }
            let mut x = (*lvl(x, 0)).forward;
            for _ in start..end {
                let next = (*lvl(x, 0)).forward;
                f((*x).score, (*x).member.expect("not the header"));
                self.delete_node(x, &update);
                free_node(x);
                x = next;
            }
        }
    }

    pub(crate) fn mem_bytes(&self) -> usize {
        let mut total = layout(MAX_LEVEL).size();
        // SAFETY: links of live nodes.
        unsafe {
            let mut x = (*lvl(self.header.as_ptr(), 0)).forward;
            while !x.is_null() {
                total += layout((*x).nlevels).size();
                x = (*lvl(x, 0)).forward;
            }
        }
        total
    }
}
