//! Hash commands: HSET and friends, the counters, HRANDFIELD and HSCAN.
//!
//! The value is `storage::object::hash::Hash`, a listpack promoted to a table at Redis's thresholds
//! (`hash-max-listpack-entries`, `hash-max-listpack-value`, read from the configuration at each write, so
//! CONFIG SET applies to the next write as in Redis).
//!
//! Rules kept from Redis 7.0:
//! - every argument is parsed before the key is looked up (a bad increment or count is reported even
//!   for a key of another type), then the type is checked;
//! - a write to a missing key creates it; a hash left without fields is deleted (HDEL);
//! - reads count keyspace hits and misses, writes do not;
//! - the dirty counter grows by the number of fields written or deleted;
//! - HINCRBYFLOAT adds in `long double` and is propagated as `HSET key field <result>`, so replicas and
//!   the AOF store the same digits.

pub(crate) mod random;
mod scan;

pub use random::hrandfield;
pub use scan::hscan;

use resp::ReplyBuf;

use super::keyspace::{DbView, Ttl};
use super::string::IntText;
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult, OVERFLOW};
use crate::server::notify::class;
use crate::storage::object::hash::{Hash, Limits};
use crate::storage::object::listpack::LpItem;
use crate::storage::{NewValue, Object, ValueRef};
use crate::util::ldouble::{self, LdError};

/// The promotion thresholds in force.
fn limits(ctx: &Ctx<'_>) -> Limits {
    let c = &ctx.core.config;
    Limits::from_config(c.hash_max_listpack_entries, c.hash_max_listpack_value)
}

/// The hash at `key` for reading (hits and misses counted): `None` when missing, WRONGTYPE when the key
/// holds another type.
fn read_hash<'a>(db: &'a mut DbView<'_>, key: &[u8]) -> Result<Option<&'a Hash>, CmdError> {
    match db.lookup_read(key).map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::Hash(h))) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Run `f` on the hash at `key`, creating an empty one when the key is missing (Redis's
/// `hashTypeLookupWriteOrCreate`). Returns `f`'s result and whether the key was created. A created hash
/// that `f` leaves empty, or on which `f` fails, is not stored (no command fails on a fresh hash).
fn write_hash<R>(
    db: &mut DbView<'_>,
    key: &[u8],
    f: impl FnOnce(&mut Hash) -> Result<R, CmdError>,
) -> Result<(R, bool), CmdError> {
    if let Some(mut e) = db.lookup_write(key) {
        return match e.obj_mut() {
            Some(Object::Hash(h)) => Ok((f(h)?, false)),
            _ => Err(CmdError::WrongType),
        };
    }
    let mut h = Hash::new();
    let r = f(&mut h)?;
    let created = !h.is_empty();
    if created {
        db.set(key, NewValue::Obj(Object::Hash(h)), Ttl::Clear);
    }
    Ok((r, created))
}

/// Report `n` changes and their event (none when `n` is 0); when the key was `created`, `DbView::set`
/// already counted one of them.
fn report(db: &mut DbView<'_>, key: &[u8], n: u64, created: bool, event: &str) {
    if created {
        db.stored(key, n, class::HASH, event);
    } else {
        db.changed(key, n, class::HASH, event);
    }
}

/// Reply with one stored element as a bulk string.
fn bulk_item(out: &mut ReplyBuf, item: LpItem<'_>) {
    match item {
        LpItem::Int(i) => out.bulk_i64(i),
        LpItem::Str(s) => out.bulk(s),
    }
}

/// Length of an element's text (an integer's decimal digits).
fn item_len(item: LpItem<'_>) -> usize {
    match item {
        LpItem::Int(i) => IntText::new(i).as_bytes().len(),
        LpItem::Str(s) => s.len(),
    }
}

/// HSET and HMSET take field-value pairs; an incomplete pair is Redis's arity error.
fn set_pairs(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Result<i64, CmdError> {
    if args.len() % 2 == 1 {
        return Err(CmdError::err(format!(
            "wrong number of arguments for '{}' command",
            ctx.cmd.full_name
        )));
    }
    let lim = limits(ctx);
    let mut db = ctx.db();
    let (added, created) = write_hash(&mut db, args.get(1), |h| {
        let mut added = 0;
        for i in (2..args.len()).step_by(2) {
            added += i64::from(h.set(args.get(i), args.get(i + 1), lim));
        }
        Ok(added)
    })?;
    report(&mut db, args.get(1), (args.len() as u64 - 2) / 2, created, "hset");
    Ok(added)
}

/// HSET key field value [field value ...]: the number of fields that were new.
pub fn hset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let added = set_pairs(ctx, args)?;
    out.int(added);
    Ok(())
}

/// HMSET key field value [field value ...] (HSET's old form, answering OK).
pub fn hmset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    set_pairs(ctx, args)?;
    out.ok();
    Ok(())
}

/// HSETNX key field value
pub fn hsetnx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let lim = limits(ctx);
    let (field, value) = (args.get(2), args.get(3));
    let mut db = ctx.db();
    let (set, created) = write_hash(&mut db, args.get(1), |h| {
        if h.contains(field) {
            return Ok(false);
        }
        h.set(field, value, lim);
        Ok(true)
    })?;
    report(&mut db, args.get(1), u64::from(set), created, "hset");
    out.int(i64::from(set));
    Ok(())
}

/// HGET key field
pub fn hget(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    match read_hash(&mut db, args.get(1))?.and_then(|h| h.get(args.get(2))) {
        Some(v) => bulk_item(out, v),
        None => out.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]: a missing field (or key) answers null in its place.
pub fn hmget(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let h = read_hash(&mut db, args.get(1))?;
    out.array(args.len() - 2);
    for field in args.rest(2) {
        match h.and_then(|h| h.get(field)) {
            Some(v) => bulk_item(out, v),
            None => out.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]: the number removed; the key goes with its last field.
pub fn hdel(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let mut db = ctx.db();
    let (deleted, empty) = match db.lookup_write(key) {
        None => (0, false),
        Some(mut e) => {
            let Some(Object::Hash(h)) = e.obj_mut() else {
                return Err(CmdError::WrongType);
            };
            let mut n = 0u64;
            for field in args.rest(2) {
                if h.remove(field) {
                    n += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            (n, h.is_empty())
        }
    };
    if empty {
        // Deleting the key counts one change itself, and reports `del` after `hdel`.
        db.mark_dirty(key, deleted - 1);
        db.notify(class::HASH, "hdel", key);
        db.delete(key);
    } else {
        db.changed(key, deleted, class::HASH, "hdel");
    }
    out.int(deleted as i64);
    Ok(())
}

/// HLEN key
pub fn hlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = read_hash(&mut db, args.get(1))?.map_or(0, Hash::len);
    out.int(n as i64);
    Ok(())
}

/// HSTRLEN key field: the length of the value, 0 when missing.
pub fn hstrlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = read_hash(&mut db, args.get(1))?
        .and_then(|h| h.get(args.get(2)))
        .map_or(0, item_len);
    out.int(n as i64);
    Ok(())
}

/// HEXISTS key field
pub fn hexists(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let found = read_hash(&mut db, args.get(1))?.is_some_and(|h| h.contains(args.get(2)));
    out.int(i64::from(found));
    Ok(())
}

/// What HKEYS, HVALS and HGETALL return.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

fn get_all(ctx: &mut Ctx<'_>, args: &Args<'_>, part: Part, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let Some(h) = read_hash(&mut db, args.get(1))? else {
        if part == Part::Both {
            out.map(0);
        } else {
            out.array(0);
        }
        return Ok(());
    };
    match part {
        Part::Both => out.map(h.len()),
        _ => out.array(h.len()),
    }
    for (f, v) in h.iter() {
        if part != Part::Values {
            bulk_item(out, f);
        }
        if part != Part::Fields {
            bulk_item(out, v);
        }
    }
    Ok(())
}

/// HKEYS key
pub fn hkeys(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    get_all(ctx, args, Part::Fields, out)
}

/// HVALS key
pub fn hvals(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    get_all(ctx, args, Part::Values, out)
}

/// HGETALL key: a map in RESP3, a flat field-value array in RESP2.
pub fn hgetall(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    get_all(ctx, args, Part::Both, out)
}

/// HINCRBY key field increment
pub fn hincrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let incr = args.int(3)?;
    let lim = limits(ctx);
    let field = args.get(2);
    let mut db = ctx.db();
    let (new, created) = write_hash(&mut db, args.get(1), |h| {
        let current = match h.get(field) {
            None => 0,
            Some(LpItem::Int(i)) => i,
            Some(LpItem::Str(s)) => {
                resp::request::parse_i64_strict(s).ok_or_else(|| CmdError::err("hash value is not an integer"))?
            }
        };
        let new = current.checked_add(incr).ok_or_else(|| CmdError::err(OVERFLOW))?;
        h.set(field, IntText::new(new).as_bytes(), lim);
        Ok(new)
    })?;
    report(&mut db, args.get(1), 1, created, "hincrby");
    out.int(new);
    Ok(())
}

/// HINCRBYFLOAT key field increment
///
/// The increment must be a finite number (`value is NaN or Infinity` otherwise); the stored value
/// must parse as a `long double` (`hash value is not a float`); the sum must be finite.
pub fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, field, incr) = (args.get(1), args.get(2), args.get(3));
    match ldouble::add(b"0", incr) {
        Ok(_) => {}
        Err(LdError::NotFinite) => return Err(CmdError::err("value is NaN or Infinity")),
        Err(_) => return Err(CmdError::not_float()),
    }
    let lim = limits(ctx);
    let mut db = ctx.db();
    let (sum, created) = write_hash(&mut db, key, |h| {
        let base = h.get(field).map_or_else(|| b"0".to_vec(), |v| v.to_vec());
        let sum = ldouble::add(&base, incr).map_err(|e| match e {
            LdError::BadBase => CmdError::err("hash value is not a float"),
            LdError::NotFinite => CmdError::err("increment would produce NaN or Infinity"),
            LdError::BadIncrement => CmdError::not_float(),
        })?;
        h.set(field, &sum, lim);
        Ok(sum)
    })?;
    report(&mut db, args.get(1), 1, created, "hincrbyfloat");
    out.bulk(&sum);
    db.journal.replace(db.index, &[b"HSET", key, field, &sum]);
    Ok(())
}

#[cfg(test)]
mod tests;
