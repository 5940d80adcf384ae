//! OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ | HELP: what is known about a key's value.
//!
//! The lookups never touch the key's access clock (they would otherwise reset the very idle time or
//! frequency they report) but do count as keyspace hits or misses, as in Redis. A missing key answers
//! null.

use resp::ReplyBuf;

use super::super::keyspace::{DbView, Report, Touch};
use super::super::{Args, Ctx};
use crate::config::MaxmemoryPolicy;
use crate::error::{CmdError, CmdResult};
use crate::server::core::LRU_CLOCK_MAX;
use crate::storage::{EntryRef, ValueRef};

/// Redis keeps one shared object for each integer below this and hands it to every key holding that
/// value, so its reference count is the "immortal" `INT_MAX`.
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

const LFU_SELECTED: &str = "An LFU maxmemory policy is selected, idle time not tracked. Please note that when \
                            switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_NOT_SELECTED: &str = "An LFU maxmemory policy is not selected, access frequency not tracked. Please note \
                                that when switching between policies at runtime LRU and LFU data will take some \
                                time to adjust.";

fn lookup<'a>(db: &'a mut DbView<'_>, args: &Args<'_>) -> Option<EntryRef<'a>> {
    db.lookup_read_flags(args.get(2), Touch::No, Report::Stats)
}

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    matches!(
        ctx.core.config.maxmemory_policy,
        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu
    )
}

/// OBJECT HELP
pub fn object_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    The name of the internal representation of the key's value.",
        "FREQ <key>",
        "    The key's logarithmic access-frequency counter (LFU maxmemory policies only).",
        "IDLETIME <key>",
        "    Seconds since the key was last read or written (not under LFU policies).",
        "REFCOUNT <key>",
        "    How many references the key's value has.",
        "HELP",
        "    Print this help.",
    ];
    out.array(LINES.len());
    for l in LINES {
        out.simple(l.as_bytes());
    }
    Ok(())
}

/// OBJECT ENCODING key
pub fn object_encoding(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    match lookup(&mut db, args).map(|e| e.value()) {
        None => out.null(),
        Some(ValueRef::Int(_)) => out.bulk(b"int"),
        Some(ValueRef::Str(_, enc)) => out.bulk(enc.name().as_bytes()),
        Some(ValueRef::Obj(o)) => out.bulk(o.encoding().as_bytes()),
    }
    Ok(())
}

/// OBJECT REFCOUNT key
///
/// Values are never shared here, but Redis shares small integers unless an LRU or LFU policy with a
/// memory limit needs per-key access clocks; clients see Redis's count. (A small integer made by COPY is
/// a private object in Redis, with a count of 1; that distinction is not tracked.)
pub fn object_refcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let config = &ctx.core.config;
    let sharing = config.maxmemory == 0
        || !matches!(
            config.maxmemory_policy,
            MaxmemoryPolicy::AllkeysLru
                | MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::AllkeysLfu
                | MaxmemoryPolicy::VolatileLfu
        );
    let mut db = ctx.db();
    match lookup(&mut db, args).map(|e| (e.value(), e.unshared())) {
        None => out.null(),
        Some((ValueRef::Int(i), false)) if sharing && (0..SHARED_INTEGERS).contains(&i) => out.int(SHARED_REFCOUNT),
        Some(_) => out.int(1),
    }
    Ok(())
}

/// Seconds since the access clock `lru` was set, on the 24-bit clock `now` that wraps every 194 days.
pub fn idle_seconds(now: u32, lru: u32) -> i64 {
    if now >= lru {
        i64::from(now - lru)
    } else {
        i64::from(now) + i64::from(LRU_CLOCK_MAX - lru)
    }
}

/// OBJECT IDLETIME key
pub fn object_idletime(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let lfu = lfu_policy(ctx);
    let now = ctx.core.lru_clock;
    let mut db = ctx.db();
    let Some(lru) = lookup(&mut db, args).map(|e| e.lru()) else {
        out.null();
        return Ok(());
    };
    if lfu {
        return Err(CmdError::err(LFU_SELECTED));
    }
    out.int(idle_seconds(now, lru));
    Ok(())
}

/// OBJECT FREQ key
pub fn object_freq(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let lfu = db.lfu;
    let Some(stamp) = lookup(&mut db, args).map(|e| e.lru()) else {
        out.null();
        return Ok(());
    };
    match lfu {
        // The counter as it stands after decay; reading it does not store the decay.
        Some(l) => out.int(i64::from(l.decayed_counter(stamp))),
        None => return Err(CmdError::err(LFU_NOT_SELECTED)),
    }
    Ok(())
}
