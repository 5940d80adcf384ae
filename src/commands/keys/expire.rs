//! TTLs: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX, GT, LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME,
//! PERSIST.
//!
//! Deadlines are absolute milliseconds. The journal carries them as `PEXPIREAT key <ms> [flags]` whatever
//! form the client used, so a replica or an AOF replay sets the same instant; a deadline that is already
//! past deletes the key on the spot and is journaled as `DEL key` (`UNLINK key` under
//! `lazyfree-lazy-expire`, whose value is then freed in the background when that is expensive).

use resp::ReplyBuf;

use super::super::keyspace::{Report, Touch};
use super::super::{Args, Ctx};
use crate::error::{CmdError, CmdResult, INVALID_EXPIRE};
use crate::server::notify::class;

/// The condition flags of the EXPIRE family.
#[derive(Debug, Default, Clone, Copy)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Conditions {
    /// Parse the options after the time, as Redis does: before the time itself is looked at.
    fn parse(args: &Args<'_>) -> Result<Conditions, CmdError> {
        let mut c = Conditions::default();
        for opt in args.rest(3) {
            match opt.to_ascii_lowercase().as_slice() {
                b"nx" => c.nx = true,
                b"xx" => c.xx = true,
                b"gt" => c.gt = true,
                b"lt" => c.lt = true,
                _ => {
                    // Redis formats the option with %s: it ends at a NUL byte.
                    let shown = opt.split(|&b| b == 0).next().unwrap_or_default();
                    return Err(CmdError::err(format!(
                        "Unsupported option {}",
                        String::from_utf8_lossy(shown)
                    )));
                }
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CmdError::err("GT and LT options at the same time are not compatible"));
        }
        Ok(c)
    }

    /// Whether the new deadline `when` may replace `current`. No TTL counts as an infinite one: GT never
    /// beats it, LT always does.
    fn allow(&self, current: Option<i64>, when: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        if self.gt && !matches!(current, Some(t) if when > t) {
            return false;
        }
        if self.lt && current.is_some_and(|t| when >= t) {
            return false;
        }
        true
    }
}

/// EXPIRE key seconds [NX|XX|GT|LT]
pub fn expire(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    expire_generic(ctx, args, out, true, 1000)
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
pub fn pexpire(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    expire_generic(ctx, args, out, true, 1)
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
pub fn expireat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    expire_generic(ctx, args, out, false, 1000)
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
pub fn pexpireat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    expire_generic(ctx, args, out, false, 1)
}

/// The shared body: `relative` adds the current time, `unit` is the milliseconds per unit of the argument.
fn expire_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, relative: bool, unit: i64) -> CmdResult {
    let cond = Conditions::parse(args)?;
    let invalid = || CmdError::err(INVALID_EXPIRE.replace("%s", ctx.cmd.full_name));
    let base = if relative { ctx.now_ms() } else { 0 };
    // Negative times are allowed (they delete the key); only overflow is refused.
    let when = args
        .int(2)?
        .checked_mul(unit)
        .and_then(|ms| ms.checked_add(base))
        .ok_or_else(invalid)?;
    let key = args.get(1);
    let index = ctx.client.db;
    // Replicas and a loading server store deadlines in the past as they are: the master's DEL follows.
    let past = when <= ctx.now_ms() && !ctx.core.loading && !ctx.core.is_replica;
    let mut db = ctx.db();
    let Some(mut entry) = db.lookup_write(key) else {
        out.int(0);
        return Ok(());
    };
    if !cond.allow(entry.expire_at(), when) {
        out.int(0);
        return Ok(());
    }
    if past {
        db.delete_past_deadline(key);
    } else {
        entry.set_expire(Some(when));
        db.changed(key, 1, class::GENERIC, "expire");
        // PEXPIREAT is journaled as received; the others become it, with their options kept.
        if relative || unit != 1 {
            let ms = when.to_string();
            let mut effect: Vec<&[u8]> = vec![b"PEXPIREAT", key, ms.as_bytes()];
            effect.extend(args.rest(3));
            db.journal.replace(index, &effect);
        }
    }
    out.int(1);
    Ok(())
}

/// TTL key
pub fn ttl(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args, out, false, false)
}

/// PTTL key
pub fn pttl(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args, out, true, false)
}

/// EXPIRETIME key
pub fn expiretime(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args, out, false, true)
}

/// PEXPIRETIME key
pub fn pexpiretime(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args, out, true, true)
}

/// -2 for a missing key, -1 for a key without TTL, else the remaining time (or the deadline) in ms or
/// rounded seconds. Does not touch the key's access clock.
fn ttl_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now_ms();
    let mut db = ctx.db();
    let Some(e) = db.lookup_read_flags(args.get(1), Touch::No, Report::All) else {
        out.int(-2);
        return Ok(());
    };
    let Some(at) = e.expire_at() else {
        out.int(-1);
        return Ok(());
    };
    let left = if absolute { at } else { at.saturating_sub(now) }.max(0);
    // Seconds round to nearest, without overflow near the largest deadline (Redis's compiled arithmetic
    // gives the exact quotient there too).
    out.int(if ms {
        left
    } else {
        ((i128::from(left) + 500) / 1000) as i64
    });
    Ok(())
}

/// PERSIST key
pub fn persist(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let removed = match db.lookup_write(args.get(1)) {
        Some(mut e) if e.expire_at().is_some() => {
            e.set_expire(None);
            true
        }
        _ => false,
    };
    db.changed(args.get(1), u64::from(removed), class::GENERIC, "persist");
    out.int(i64::from(removed));
    Ok(())
}
