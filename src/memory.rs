//! Memory accounting. jemalloc is the allocator; [`CountingAllocator`] wraps it and keeps `used_memory`
//! (the bytes allocated, counted at jemalloc's size-class granularity, i.e. what Redis's zmalloc counts)
//! as a running counter: one relaxed atomic add per allocation, never an estimate and never a scan.
//!
//! The server binary installs it as the global allocator. In a process that does not (unit tests), the
//! counter stays at zero and `used_memory()` reports 0.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

use tikv_jemallocator::Jemalloc;

static USED: AtomicUsize = AtomicUsize::new(0);

/// jemalloc with a running count of allocated bytes.
pub struct CountingAllocator;

/// The size class jemalloc serves for `layout` (the bytes the allocation really occupies).
#[inline]
fn usable(layout: &Layout) -> usize {
    let flags = if layout.align() <= 16 {
        0
    } else {
        layout.align().trailing_zeros() as i32
    };
    // SAFETY: nallocx only computes a size; a zero size is not passed (GlobalAlloc forbids it).
    unsafe { tikv_jemalloc_sys::nallocx(layout.size(), flags) }
}

// SAFETY: every method forwards to jemalloc with the same arguments; the counter is bookkeeping only.
unsafe impl GlobalAlloc for CountingAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(layout);
        if !p.is_null() {
            USED.fetch_add(usable(&layout), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc_zeroed(layout);
        if !p.is_null() {
            USED.fetch_add(usable(&layout), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(usable(&layout), Ordering::Relaxed);
        Jemalloc.dealloc(ptr, layout)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = Jemalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            // SAFETY: the new layout is valid: GlobalAlloc's contract guarantees new_size fits the align.
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let (old, new) = (usable(&layout), usable(&new_layout));
            if new >= old {
                USED.fetch_add(new - old, Ordering::Relaxed);
            } else {
                USED.fetch_sub(old - new, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Bytes currently allocated through the counting allocator (Redis's `used_memory`).
#[inline]
pub fn used_memory() -> u64 {
    USED.load(Ordering::Relaxed) as u64
}

/// The bytes jemalloc really allocates for a request of `n` bytes (its size class; 0 for 0), the way
/// `used_memory` counts it. For MEMORY USAGE figures of values that know their allocation sizes.
#[inline]
pub fn size_class(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: nallocx only computes a size for a non-zero request.
    unsafe { tikv_jemalloc_sys::nallocx(n, 0) }
}
