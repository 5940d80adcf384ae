//! MEMORY USAGE, PURGE, MALLOC-STATS and HELP. (`MEMORY STATS` and `MEMORY DOCTOR` are absent until
//! the figures they report — client buffers, replication backlog, per-database overheads — exist.)
//!
//! MEMORY USAGE is our own accounting, in bytes as jemalloc hands them out (each allocation rounded
//! up to its size class, which is what `used_memory` counts too):
//!
//! - the entry itself: the storage layer's `alloc_size()` of the key's entry (header, key, and the
//!   value when it is stored inline: integers and strings of up to 44 bytes), rounded to its class;
//! - a heap string (`raw`, over 44 bytes): its buffer, rounded to its class;
//! - a collection: its own estimate, from `samples` elements (5 by default, all with `SAMPLES 0`),
//!   as Redis does (filled in with the collections);
//! - the key's share of the bucket array: one 8-byte slot (the table grows when it holds as many keys
//!   as buckets, so a key's share is between 8 and 16 bytes; the lower bound is reported).
//!
//! Like Redis, the key is read without expiring it and without touching its access time.

use resp::ReplyBuf;

use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::storage::{EntryRef, StrEncoding, ValueRef};

/// Elements sampled in a collection by default (Redis's `OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
pub const DEFAULT_SAMPLES: u64 = 5;
/// A key's share of the bucket array.
pub const BUCKET_SLOT: usize = std::mem::size_of::<usize>();

/// The bytes jemalloc really gives for a request of `n` bytes.
pub fn malloc_size(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: nallocx only computes a size class; it allocates nothing and `n` is non-zero.
    unsafe { tikv_jemalloc_sys::nallocx(n, 0) }
}

/// MEMORY USAGE's figure for one entry (see the module docs).
pub fn entry_usage(e: &EntryRef<'_>, _samples: u64) -> usize {
    let mut n = malloc_size(e.alloc_size()) + BUCKET_SLOT;
    match e.value() {
        ValueRef::Str(s, StrEncoding::Raw) => n += malloc_size(s.len()),
        ValueRef::Str(..) | ValueRef::Int(_) => {}
        ValueRef::Obj(o) => n += o.mem_usage(),
    }
    n
}

/// MEMORY USAGE key [SAMPLES count]
pub fn usage(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < args.len() {
        if args.is(j, "samples") && j + 1 < args.len() {
            let n = args.int(j + 1)?;
            if n < 0 {
                return Err(CmdError::syntax());
            }
            samples = if n == 0 { u64::MAX } else { n as u64 };
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let db = &ctx.core.dbs[ctx.client.db];
    match db.get(args.get(2)) {
        Some(e) => out.int(entry_usage(&e, samples) as i64),
        None => out.null(),
    }
    Ok(())
}

/// MEMORY PURGE: ask jemalloc to return the dirty pages of every arena to the system.
pub fn purge(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // 4096 is jemalloc's MALLCTL_ARENAS_ALL.
    let name = b"arena.4096.purge\0";
    // SAFETY: a NUL-terminated control name; this control reads and writes no value.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr() as *const libc::c_char,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return Err(CmdError::err("Error purging dirty pages"));
    }
    out.ok();
    Ok(())
}

/// MEMORY MALLOC-STATS: jemalloc's own statistics report.
pub fn malloc_stats(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    unsafe extern "C" fn append(opaque: *mut libc::c_void, text: *const libc::c_char) {
        // SAFETY: `opaque` is the `Vec<u8>` passed below, alive for the whole call; jemalloc hands
        // a NUL-terminated string.
        unsafe {
            let buf = &mut *(opaque as *mut Vec<u8>);
            buf.extend_from_slice(std::ffi::CStr::from_ptr(text).to_bytes());
        }
    }
    let mut buf: Vec<u8> = Vec::new();
    // SAFETY: the callback only appends to `buf`, which outlives the call; no options string.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            &mut buf as *mut Vec<u8> as *mut libc::c_void,
            std::ptr::null(),
        )
    };
    out.verbatim(b"txt", &buf);
    Ok(())
}

/// MEMORY HELP
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::reply_help(
        out,
        "memory",
        &[
            "MALLOC-STATS",
            "    Print the allocator's (jemalloc's) statistics report.",
            "PURGE",
            "    Ask the allocator to give unused dirty pages back to the system.",
            "USAGE <key> [SAMPLES <count>]",
            "    Estimate the bytes a key and its value take. For a collection, <count> elements",
            "    are measured and the rest extrapolated (5 by default, 0 measures them all).",
        ],
    );
    Ok(())
}
