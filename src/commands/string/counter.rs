//! Counters: INCR, DECR, INCRBY, DECRBY (i64, stored `int`) and INCRBYFLOAT (`long double`, stored as
//! its printed text). The TTL of an existing key is kept.

use resp::ReplyBuf;

use super::{IntText, StrBytes};
use crate::commands::keyspace::Ttl;
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult, OVERFLOW};
use crate::server::notify::class;
use crate::storage::{NewValue, ValueRef};
use crate::util::ldouble::{self, LdError};

/// The integer a stored value holds (Redis's `getLongLongFromObject`: strict, no blanks, no `+`).
fn stored_int(v: ValueRef<'_>) -> Result<i64, CmdError> {
    match v {
        ValueRef::Int(i) => Ok(i),
        ValueRef::Str(s, _) => resp::request::parse_i64_strict(s).ok_or_else(CmdError::not_integer),
        ValueRef::Obj(_) => Err(CmdError::WrongType),
    }
}

fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], by: i64, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let updated = match db.lookup_write(key) {
        Some(mut e) => {
            let old = stored_int(e.value())?;
            let new = old.checked_add(by).ok_or_else(|| CmdError::err(OVERFLOW))?;
            e.set_value(NewValue::Int(new));
            Some(new)
        }
        None => None,
    };
    let new = match updated {
        Some(new) => {
            db.changed(key, 1, class::STRING, "incrby");
            new
        }
        None => {
            db.set(key, NewValue::Int(by), Ttl::Clear);
            db.stored(key, 1, class::STRING, "incrby");
            by
        }
    };
    out.int(new);
    Ok(())
}

/// INCR key
pub fn incr(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    incr_decr(ctx, args.get(1), 1, out)
}

/// DECR key
pub fn decr(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    incr_decr(ctx, args.get(1), -1, out)
}

/// INCRBY key increment
pub fn incrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let by = args.int(2)?;
    incr_decr(ctx, args.get(1), by, out)
}

/// DECRBY key decrement (i64::MIN cannot be negated: Redis's own message for it).
pub fn decrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let by = args.int(2)?;
    if by == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_decr(ctx, args.get(1), -by, out)
}

fn float_error(e: LdError) -> CmdError {
    match e {
        LdError::BadBase | LdError::BadIncrement => CmdError::not_float(),
        LdError::NotFinite => CmdError::err("increment would produce NaN or Infinity"),
    }
}

/// INCRBYFLOAT key increment
///
/// Always propagated as `SET key <result> KEEPTTL`, so replicas and the AOF store the same digits
/// whatever their floating point.
pub fn incrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, incr) = (args.get(1), args.get(2));
    let mut db = ctx.db();
    let updated = match db.lookup_write(key) {
        Some(mut e) => {
            let sum = {
                let base = StrBytes::of(e.value())?;
                ldouble::add(base.as_bytes(), incr).map_err(float_error)?
            };
            e.set_value(NewValue::Str(&sum));
            Some(sum)
        }
        None => None,
    };
    let sum = match updated {
        Some(sum) => {
            db.changed(key, 1, class::STRING, "incrbyfloat");
            sum
        }
        None => {
            let sum = ldouble::add(IntText::new(0).as_bytes(), incr).map_err(float_error)?;
            db.set(key, NewValue::Str(&sum), Ttl::Clear);
            db.stored(key, 1, class::STRING, "incrbyfloat");
            sum
        }
    };
    out.bulk(&sum);
    db.journal.replace(db.index, &[b"SET", key, &sum, b"KEEPTTL"]);
    Ok(())
}
