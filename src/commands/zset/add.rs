//! ZADD and ZINCRBY.

use resp::ReplyBuf;

use super::super::{Args, Ctx};
use super::{limits, with_zset, NAN_SCORE};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::object::zset::{Limits, ZSet};
use crate::storage::{NewValue, Object};

#[derive(Debug, Default, Clone, Copy)]
struct Flags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What one ZADD element did (Redis's `zsetAdd` out-flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Added,
    Updated,
    /// The member was there with that score already: nothing changed, but it counts as processed.
    Same,
    /// NX, XX, GT or LT stopped it.
    Nop,
}

/// Redis's `zsetAdd`: apply one score to one member under the flags. `Err` when INCR makes NaN.
fn add_one(z: &mut ZSet, member: &[u8], score: f64, f: Flags, lim: Limits) -> Result<(Outcome, f64), CmdError> {
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return Ok((Outcome::Nop, cur));
            }
            let new = if f.incr { cur + score } else { score };
            if new.is_nan() {
                return Err(CmdError::err(NAN_SCORE));
            }
            if (f.lt && new >= cur) || (f.gt && new <= cur) {
                return Ok((Outcome::Nop, cur));
            }
            // Bit-for-bit: -0 replacing 0 is no change to Redis either (they compare equal).
            if new == cur {
                return Ok((Outcome::Same, new));
            }
            z.set_score(member, new);
            Ok((Outcome::Updated, new))
        }
        None if f.xx => Ok((Outcome::Nop, score)),
        None => {
            z.insert(member, score, lim);
            Ok((Outcome::Added, score))
        }
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut f = Flags::default();
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        let is = |w: &str| a.eq_ignore_ascii_case(w.as_bytes());
        if is("nx") {
            f.nx = true;
        } else if is("xx") {
            f.xx = true;
        } else if is("ch") {
            f.ch = true;
        } else if is("incr") {
            f.incr = true;
        } else if is("gt") {
            f.gt = true;
        } else if is("lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if elements == 0 || elements % 2 == 1 {
        return Err(CmdError::syntax());
    }
    if f.nx && f.xx {
        return Err(CmdError::err("XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && elements > 2 {
        return Err(CmdError::err("INCR option supports a single increment-element pair"));
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    for j in (i..args.len()).step_by(2) {
        pairs.push((args.float(j)?, args.get(j + 1)));
    }
    add_generic(ctx, args.get(1), f, &pairs, out)
}

/// ZINCRBY key increment member (ZADD INCR without flags).
pub fn zincrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let incr = args.float(2)?;
    let f = Flags {
        incr: true,
        ..Flags::default()
    };
    add_generic(ctx, args.get(1), f, &[(incr, args.get(3))], out)
}

fn add_generic(ctx: &mut Ctx<'_>, key: &[u8], f: Flags, pairs: &[(f64, &[u8])], out: &mut ReplyBuf) -> CmdResult {
    let lim = limits(ctx);
    let mut db = ctx.db();
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last = 0.0;
    let mut apply = |z: &mut ZSet| {
        for &(score, member) in pairs {
            let (o, s) = add_one(z, member, score, f, lim)?;
            match o {
                Outcome::Added => added += 1,
                Outcome::Updated => updated += 1,
                Outcome::Same | Outcome::Nop => {}
            }
            if o != Outcome::Nop {
                processed += 1;
            }
            last = s;
        }
        Ok::<(), CmdError>(())
    };
    let event = if f.incr { "zincr" } else { "zadd" };
    let result = match with_zset(&mut db, key, &mut apply)? {
        Some((r, _)) => {
            db.changed(key, added + updated, class::ZSET, event);
            r
        }
        None if f.xx => Ok(()),
        None => {
            // Like Redis's dbAdd: the new key may be what a blocked BZPOPMIN waits for.
            let mut z = ZSet::for_new_key(pairs[0].1.len(), lim);
            let r = apply(&mut z);
            db.set(key, NewValue::Obj(Object::ZSet(z)), super::Ttl::Clear);
            db.stored(key, added + updated, class::ZSET, event);
            r
        }
    };
    result?;
    if f.incr {
        if processed > 0 {
            out.double(last);
        } else {
            out.null();
        }
    } else {
        out.int((if f.ch { added + updated } else { added }) as i64);
    }
    Ok(())
}
