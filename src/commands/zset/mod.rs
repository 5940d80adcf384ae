//! Sorted-set commands.
//!
//! Every handler follows Redis 7.0's order of checks, which decides which error wins when several apply:
//! ZADD parses its flags, then every score, then looks the key up; the range commands parse their options,
//! then the range, then look the key up; the set operations look every input key up (and check its type)
//! before they parse their options. Scores are replied with `ReplyBuf::double` (`%.17g`, a RESP3 double);
//! WITHSCORES replies are flat in RESP2 and arrays of `[member, score]` pairs in RESP3, as in Redis 7.0.
//!
//! Effects: most commands propagate as received. Those that Redis rewrites are rewritten the same way:
//! ZMPOP and the blocking pops become `ZPOPMIN|ZPOPMAX key [count]` naming the key served and the number
//! of members popped (BZPOPMIN/BZPOPMAX without a count).
//!
//! Known differences from Redis 7.0, kept on purpose:
//! - Over members whose scores differ, a lex range (ZRANGEBYLEX, ZLEXCOUNT...) on the large encoding is
//!   answered by binary search. Redis's skiplist answer then depends on its random node levels, so no
//!   answer is "the" answer; on a listpack both walk the entries the same way and agree.
//! - ZRANDMEMBER and ZSCAN of the large encoding return members in another (equally arbitrary) order.

mod add;
mod pop;
mod range;
mod read;
mod setops;

pub use add::{zadd, zincrby};
pub use pop::{bzmpop, bzpopmax, bzpopmin, zmpop, zpopmax, zpopmin};
pub use range::{
    zrange, zrangebylex, zrangebyscore, zrangestore, zremrangebylex, zremrangebyrank, zremrangebyscore, zrevrange,
    zrevrangebylex, zrevrangebyscore,
};
pub use read::{zcard, zcount, zlexcount, zmscore, zrandmember, zrank, zrem, zrevrank, zscan, zscore};
pub use setops::{zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore};

use resp::ReplyBuf;

use super::keyspace::{DbView, Ttl};
use super::Ctx;
use crate::error::CmdError;
use crate::server::notify::class;
use crate::storage::object::zset::{LexBound, LexRange, Limits, ScoreRange, ZSet};
use crate::storage::{NewValue, Object, ValueRef};

pub const NOT_FLOAT_RANGE: &str = "min or max is not a float";
pub const NOT_LEX_RANGE: &str = "min or max not valid string range item";
pub const NAN_SCORE: &str = "resulting score is not a number (NaN)";

/// The encoding thresholds from the configuration.
fn limits(ctx: &Ctx<'_>) -> Limits {
    let c = &ctx.core.config;
    Limits::from_config(c.zset_max_listpack_entries, c.zset_max_listpack_value)
}

/// The sorted set at `key` for a read command: `None` when missing, WRONGTYPE for another type.
fn read_zset<'v>(db: &'v mut DbView<'_>, key: &[u8]) -> Result<Option<&'v ZSet>, CmdError> {
    match db.lookup_read(key) {
        None => Ok(None),
        Some(e) => match e.value() {
            ValueRef::Obj(Object::ZSet(z)) => Ok(Some(z)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Run `f` on the sorted set at `key`, looked up as a write command looks keys up (Redis's
/// `lookupKeyWrite`: no hit/miss count): `None` when the key is missing, WRONGTYPE for another type. The
/// key is deleted when `f` leaves the set empty (`Emptied::Yes`: the caller reports `del` after its own
/// event).
fn with_zset<R>(
    db: &mut DbView<'_>,
    key: &[u8],
    f: impl FnOnce(&mut ZSet) -> R,
) -> Result<Option<(R, Emptied)>, CmdError> {
    let Some(mut e) = db.lookup_write(key) else {
        return Ok(None);
    };
    let (r, empty) = match e.obj_mut() {
        Some(Object::ZSet(z)) => {
            let r = f(z);
            (r, z.is_empty())
        }
        _ => return Err(CmdError::WrongType),
    };
    if empty {
        e.remove();
        return Ok(Some((r, Emptied::Yes)));
    }
    Ok(Some((r, Emptied::No)))
}

/// Whether a command's change left a sorted set empty, and so deleted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Emptied {
    Yes,
    No,
}

/// Report `n` changes made to the sorted set at `key` through `with_zset`, with `event`, then the
/// deletion of the key when they emptied it.
fn report(db: &mut DbView<'_>, key: &[u8], n: u64, event: &str, emptied: Emptied) {
    db.changed(key, n, class::ZSET, event);
    if emptied == Emptied::Yes {
        db.emptied(key);
    }
}

/// ZREM and ZREMRANGEBY*: remove what `f` chooses from the sorted set at `key` (deleting the key once
/// empty) and reply how many members went; `event` is reported when any did.
fn remove_and_reply(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    event: &str,
    out: &mut ReplyBuf,
    f: impl FnOnce(&mut ZSet) -> usize,
) -> Result<(), CmdError> {
    let mut db = ctx.db();
    let (removed, emptied) = with_zset(&mut db, key, f)?.unwrap_or((0, Emptied::No));
    report(&mut db, key, removed as u64, event, emptied);
    out.int(removed as i64);
    Ok(())
}

/// Store a new sorted set under `key` (replacing whatever was there, TTL cleared), or delete the key when
/// the result is empty. A replaced or deleted value is freed the way `lazyfree-lazy-server-del` says.
/// Reported as `event` (the command's name), or `del` when the key goes.
fn store(ctx: &mut Ctx<'_>, key: &[u8], z: ZSet, event: &str) {
    let lazy = ctx.core.config.lazyfree_lazy_server_del;
    let mut db = ctx.db();
    if !z.is_empty() {
        db.set(key, NewValue::Obj(Object::ZSet(z)), Ttl::Clear);
        db.stored(key, 1, class::ZSET, event);
    } else if let Some(old) = db.delete(key) {
        ctx.core.lazyfree.free(old, lazy);
    }
}

// ---- replies ----

/// The header of a list of `n` members, with their scores when `withscores` (flat in RESP2, pairs in
/// RESP3).
fn entries_header(out: &mut ReplyBuf, n: usize, withscores: bool) {
    if withscores && !out.is_resp3() {
        out.array(2 * n);
    } else {
        out.array(n);
    }
}

fn entry(out: &mut ReplyBuf, member: &[u8], score: f64, withscores: bool) {
    if withscores {
        if out.is_resp3() {
            out.array(2);
        }
        out.bulk(member);
        out.double(score);
    } else {
        out.bulk(member);
    }
}

// ---- argument parsing ----

/// C's `strtod` over a C string (the bytes up to the first NUL), as Redis reads score interval ends:
/// leading blanks and an empty string (0) are accepted, overflow gives ±inf, NaN is refused.
fn strtod_c(s: &[u8]) -> Option<f64> {
    let s = match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    };
    let mut z = Vec::with_capacity(s.len() + 1);
    z.extend_from_slice(s);
    z.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `z` is NUL-terminated and outlives the call; strtod only reads it and points `end` into it.
    let (v, consumed) = unsafe {
        let v = libc::strtod(z.as_ptr() as *const libc::c_char, &mut end);
        (v, end.offset_from(z.as_ptr() as *const libc::c_char) as usize)
    };
    (consumed == s.len() && !v.is_nan()).then_some(v)
}

fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.first() {
        Some(b'(') => strtod_c(&arg[1..]).map(|v| (v, true)),
        _ => strtod_c(arg).map(|v| (v, false)),
    }
}

/// A score interval (`1`, `(1`, `-inf`, `+inf`): "min or max is not a float" otherwise.
pub fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange { min, max, minex, maxex }),
        _ => Err(CmdError::err(NOT_FLOAT_RANGE)),
    }
}

fn lex_bound(arg: &[u8]) -> Option<LexBound> {
    // Redis compares C strings: `+` or `-` followed by a NUL byte is still `+` or `-`.
    let alone = arg.get(1).is_none_or(|&b| b == 0);
    match arg.first() {
        Some(b'+') if alone => Some(LexBound::Max),
        Some(b'-') if alone => Some(LexBound::Min),
        Some(b'(') => Some(LexBound::Excl(arg[1..].to_vec())),
        Some(b'[') => Some(LexBound::Incl(arg[1..].to_vec())),
        _ => None,
    }
}

/// A lex interval (`[a`, `(a`, `-`, `+`): "min or max not valid string range item" otherwise.
pub fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::err(NOT_LEX_RANGE)),
    }
}

/// Redis's rank clamping (ZRANGE, ZREMRANGEBYRANK): negative ranks count from the end; the ascending
/// ranks covered, empty when nothing is.
fn rank_range(start: i64, end: i64, len: usize) -> std::ops::Range<usize> {
    let llen = len as i64;
    let mut start = if start < 0 { llen.saturating_add(start) } else { start };
    let mut end = if end < 0 { llen.saturating_add(end) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return 0..0;
    }
    if end >= llen {
        end = llen - 1;
    }
    start as usize..end as usize + 1
}

/// An integer within `[min, max]`, else Redis's `value is out of range, value must between MIN and MAX`
/// (or the `custom` message for both a bad number and a value out of range).
fn int_in_range(arg: &[u8], min: i64, max: i64, custom: Option<&'static str>) -> Result<i64, CmdError> {
    let v = super::args::parse_int(arg);
    match (v, custom) {
        (Ok(v), _) if (min..=max).contains(&v) => Ok(v),
        (_, Some(msg)) => Err(CmdError::err(msg)),
        (Err(e), None) => Err(e),
        (Ok(_), None) => Err(CmdError::err(format!(
            "value is out of range, value must between {min} and {max}"
        ))),
    }
}

#[cfg(test)]
mod tests;
