//! Member nodes: one heap allocation per member of a large sorted set, holding the member's bytes, its
//! score and the link of the hash chain it sits in.
//!
//! Layout (8-byte aligned): `[next: 8][score: 8][len: u32][bytes]`; a member of `u32::MAX` bytes or more
//! stores `u32::MAX` there and its real length as a `u64` right after, before the bytes. A 10-byte member
//! thus takes 30 bytes (jemalloc's 32-byte class), where Redis spends a dict entry, an sds string and a
//! skiplist node.
//!
//! Ownership: the [`super::dict::Dict`] owns every node; the ordered index keeps copies of the same
//! [`NodeRef`] handles, which it only dereferences while the dict still holds the node. Handles never
//! leave the `zset` module, and every path that frees a node (`Dict::remove` followed by
//! [`NodeRef::free`], or dropping the dict) first removes it from the index. That is the one invariant
//! the safe-looking accessors below rely on.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

#[repr(C)]
struct Header {
    next: Option<NodeRef>,
    score: f64,
    len: u32,
}

const HDR: usize = std::mem::size_of::<Header>() - 4; // 20: the padding after `len` holds bytes
const LONG: u32 = u32::MAX;

/// A handle to a member node (see the module docs for who may dereference it and when).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeRef(NonNull<Header>);

impl std::fmt::Debug for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}={}", String::from_utf8_lossy(self.member()), self.score())
    }
}

fn layout_for(len: usize) -> (Layout, usize) {
    let data_at = if len >= LONG as usize { HDR + 4 + 8 } else { HDR };
    let size = (data_at + len).max(std::mem::size_of::<Header>());
    let layout = Layout::from_size_align(size, 8).expect("member size fits a layout");
    (layout, data_at)
}

impl NodeRef {
    /// Allocate a node for `member` with `score`, unlinked.
    pub(crate) fn alloc(member: &[u8], score: f64) -> NodeRef {
        let (layout, data_at) = layout_for(member.len());
        // SAFETY: the layout has a non-zero size; the writes below stay inside it (the header, the
        // optional long length at offset 24, then `member.len()` bytes at `data_at`).
        unsafe {
            let p = alloc(layout);
            if p.is_null() {
                handle_alloc_error(layout);
            }
            let h = p as *mut Header;
            std::ptr::addr_of_mut!((*h).next).write(None);
            std::ptr::addr_of_mut!((*h).score).write(score);
            if member.len() >= LONG as usize {
                std::ptr::addr_of_mut!((*h).len).write(LONG);
                (p.add(HDR + 4) as *mut u64).write_unaligned(member.len() as u64);
            } else {
                std::ptr::addr_of_mut!((*h).len).write(member.len() as u32);
            }
            std::ptr::copy_nonoverlapping(member.as_ptr(), p.add(data_at), member.len());
            NodeRef(NonNull::new_unchecked(h))
        }
    }

    /// Free the node. The caller has removed it from the dict and the index.
    pub(crate) fn free(self) {
        let len = self.member().len();
        let (layout, _) = layout_for(len);
        // SAFETY: allocated by `alloc` with this same layout; no handle is used afterwards.
        unsafe { dealloc(self.0.as_ptr() as *mut u8, layout) }
    }

    fn header(&self) -> &Header {
        // SAFETY: a live node (module invariant).
        unsafe { self.0.as_ref() }
    }

    /// The member's bytes. The lifetime is the caller's promise that the node stays alive meanwhile.
    pub(crate) fn member<'a>(self) -> &'a [u8] {
        // SAFETY: a live node (module invariant); the length and data offset were written by `alloc`.
        unsafe {
            let p = self.0.as_ptr() as *const u8;
            let n = (*self.0.as_ptr()).len;
            if n == LONG {
                let len = (p.add(HDR + 4) as *const u64).read_unaligned() as usize;
                std::slice::from_raw_parts(p.add(HDR + 12), len)
            } else {
                std::slice::from_raw_parts(p.add(HDR), n as usize)
            }
        }
    }

    #[inline]
    pub(crate) fn score(self) -> f64 {
        self.header().score
    }

    #[inline]
    pub(crate) fn set_score(self, score: f64) {
        // SAFETY: a live node; nodes are only reached through the zset that owns them, which is
        // borrowed mutably for every write.
        unsafe { (*self.0.as_ptr()).score = score }
    }

    #[inline]
    pub(crate) fn next(self) -> Option<NodeRef> {
        self.header().next
    }

    #[inline]
    pub(crate) fn set_next(self, next: Option<NodeRef>) {
        // SAFETY: as for `set_score`.
        unsafe { (*self.0.as_ptr()).next = next }
    }

    /// Bytes requested from the allocator for this node.
    pub(crate) fn alloc_size(self) -> usize {
        layout_for(self.member().len()).0.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for len in [0usize, 1, 3, 4, 5, 12, 13, 100, 5000] {
            let m: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let n = NodeRef::alloc(&m, -1.5);
            assert_eq!(n.member(), &m[..]);
            assert_eq!(n.score(), -1.5);
            n.set_score(f64::INFINITY);
            assert_eq!(n.score(), f64::INFINITY);
            assert_eq!(n.next(), None);
            assert!(n.alloc_size() >= 20 + len);
            n.free();
        }
    }
}
