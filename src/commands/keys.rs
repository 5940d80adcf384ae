//! Keys and databases: DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX, COPY, MOVE, RANDOMKEY here;
//! the EXPIRE and TTL families and PERSIST in `expire`; KEYS and SCAN in `scan`; OBJECT in `object`;
//! DBSIZE, SWAPDB, FLUSHDB and FLUSHALL in `db`.
//!
//! Every key is reached through `DbView`, so lazy expiry, hit/miss counting and the access clock follow
//! Redis: the commands that only inspect a key (EXISTS, TYPE, the TTL family, OBJECT) look it up without
//! touching its access clock, and a lookup that finds a key past its deadline deletes it and journals a
//! `DEL` before the command's own effect. Values moved between keys (RENAME, MOVE) keep their encoding,
//! TTL and access clock; an overwritten or deleted value is freed in the background when the
//! `lazyfree-lazy-*` directive (or UNLINK) says so and the value is big enough (`server::lazyfree`).

pub(crate) mod db;
mod expire;
mod object;
mod scan;

pub use db::{dbsize, flushall, flushdb, swapdb};
pub use expire::{expire, expireat, expiretime, persist, pexpire, pexpireat, pexpiretime, pttl, ttl};
pub use object::{object_encoding, object_freq, object_help, object_idletime, object_refcount};
pub use scan::{keys, parse_cursor, parse_scan_options, scan, ScanOptions};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use resp::ReplyBuf;

use super::keyspace::{DbView, Report, Touch, Ttl};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult, DB_INDEX, NO_SUCH_KEY, SAME_OBJECT, SYNTAX};
use crate::server::notify::class;
use crate::storage::{NewValue, OwnedValue, StrEncoding, ValueRef};

/// The name TYPE reports for a value.
pub fn type_name(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Int(_) | ValueRef::Str(..) => "string",
        ValueRef::Obj(o) => o.type_name(),
    }
}

/// A database index argument, checked against the configured number of databases.
fn db_index(ctx: &Ctx<'_>, id: i32) -> Result<usize, CmdError> {
    usize::try_from(id)
        .ok()
        .filter(|&i| i < ctx.core.dbs.len())
        .ok_or(CmdError::err(DB_INDEX))
}

/// An owned copy of a value (COPY duplicates; nothing is shared between keys). Collections are cloned
/// in their encoding.
fn duplicate(v: ValueRef<'_>) -> OwnedValue {
    match v {
        ValueRef::Int(i) => OwnedValue::Int(i),
        ValueRef::Str(s, enc) => OwnedValue::Str(s.to_vec(), enc),
        ValueRef::Obj(o) => OwnedValue::Obj(o.clone()),
    }
}

/// What a stored value carries from the key it came from besides its bytes: RENAME and MOVE keep the
/// object (its access clock, and whether it is a private copy rather than Redis's shared integer);
/// COPY makes a new object, which starts with a fresh clock and is never the shared one.
#[derive(Clone, Copy)]
struct Carried {
    stamp: Option<u32>,
    unshared: bool,
}

impl Carried {
    /// The object itself moves (RENAME, MOVE).
    fn same_object(e: &crate::storage::EntryRef<'_>) -> Carried {
        Carried {
            stamp: Some(e.lru()),
            unshared: e.unshared(),
        }
    }
}

/// Store a value taken from another key under `key` with the given deadline and what it carries along.
/// A value `key` held before is disposed of as `lazyfree-lazy-server-del` says. Returns whether it held
/// one.
fn put_value(db: &mut DbView<'_>, key: &[u8], value: OwnedValue, expire: Option<i64>, carried: Carried) -> bool {
    let ttl = match expire {
        Some(t) => Ttl::At(t),
        None => Ttl::Clear,
    };
    let replaced = match value {
        // Passed as bytes so the store keeps it embedded (an owned value would be stored as raw).
        OwnedValue::Str(s, StrEncoding::Embstr) => db.set(key, NewValue::Str(&s), ttl),
        v => db.set(key, v.into(), ttl),
    };
    if let Some(mut e) = db.db.get_mut(key) {
        if let Some(stamp) = carried.stamp {
            e.set_lru(stamp);
        }
        if carried.unshared {
            e.mark_unshared();
        }
    }
    replaced
}

/// DEL key [key ...]
///
/// With `lazyfree-lazy-user-del` it behaves as UNLINK.
pub fn del(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let lazy = ctx.core.config.lazyfree_lazy_user_del;
    delete_keys(ctx, args, out, lazy)
}

/// UNLINK key [key ...]
///
/// DEL whose big values are freed by the lazy-free thread.
pub fn unlink(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    delete_keys(ctx, args, out, true)
}

fn delete_keys(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, lazy: bool) -> CmdResult {
    let mut deleted = 0;
    for key in args.rest(1) {
        // A key named twice is deleted once; an expired one is reported as a DEL of its own.
        if let Some(v) = ctx.db().delete(key) {
            deleted += 1;
            ctx.core.lazyfree.free(v, lazy);
        }
    }
    out.int(deleted);
    Ok(())
}

/// EXISTS key [key ...]
///
/// Counts a key as often as it is named. Does not touch the keys' access clocks.
pub fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = args
        .rest(1)
        .filter(|key| db.lookup_read_flags(key, Touch::No, Report::All).is_some())
        .count();
    out.int(n as i64);
    Ok(())
}

/// TOUCH key [key ...]
///
/// A read that only updates the access clocks; answers how many of the keys exist.
pub fn touch(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = args.rest(1).filter(|key| db.lookup_read(key).is_some()).count();
    out.int(n as i64);
    Ok(())
}

/// TYPE key
pub fn type_(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let name = db
        .lookup_read_flags(args.get(1), Touch::No, Report::All)
        .map_or("none", |e| type_name(e.value()));
    out.simple(name.as_bytes());
    Ok(())
}

/// RENAME key newkey
pub fn rename(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rename_generic(ctx, args, out, false)
}

/// RENAMENX key newkey
pub fn renamenx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rename_generic(ctx, args, out, true)
}

fn rename_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let mut db = ctx.db();
    let Some((expire, carried)) = db
        .lookup_write(src)
        .map(|e| (e.expire_at(), Carried::same_object(&e.to_ref())))
    else {
        return Err(CmdError::err(NO_SUCH_KEY));
    };
    // Renaming a key to itself changes nothing, but the key must exist.
    if src == dst {
        if nx {
            out.int(0);
        } else {
            out.ok();
        }
        return Ok(());
    }
    if db.lookup_write(dst).is_some() && nx {
        out.int(0);
        return Ok(());
    }
    let Some((value, _)) = db.take(src) else {
        return Err(CmdError::err(NO_SUCH_KEY));
    };
    if put_value(&mut db, dst, value, expire, carried) {
        // Redis deletes the destination and adds the key anew: `new` even over an existing key.
        db.notify(class::NEW, "new", dst);
    }
    db.notify(class::GENERIC, "rename_from", src);
    db.notify(class::GENERIC, "rename_to", dst);
    if nx {
        out.int(1);
    } else {
        out.ok();
    }
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
pub fn copy(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if args.is(i, "replace") {
            replace = true;
            i += 1;
        } else if args.is(i, "db") && i + 1 < args.len() {
            dst_db = db_index(ctx, args.int32(i + 1)?)?;
            i += 2;
        } else {
            return Err(CmdError::err(SYNTAX));
        }
    }
    if src_db == dst_db && src == dst {
        return Err(CmdError::err(SAME_OBJECT));
    }
    let Some((value, expire)) = ctx.db().lookup_read(src).map(|e| (duplicate(e.value()), e.expire_at())) else {
        out.int(0);
        return Ok(());
    };
    let lazy = ctx.core.config.lazyfree_lazy_server_del;
    let mut db = ctx.db_at(dst_db);
    let mut old = None;
    if db.lookup_write(dst).is_some() {
        if !replace {
            out.int(0);
            return Ok(());
        }
        // The copy is a new object: it must not inherit the replaced key's access clock.
        old = db.db.remove(dst).map(|(v, _)| v);
    }
    // Redis duplicates the object: even a small integer is then not the shared one.
    let carried = Carried {
        stamp: None,
        unshared: matches!(value, OwnedValue::Int(_)),
    };
    put_value(&mut db, dst, value, expire, carried);
    db.notify(class::GENERIC, "copy_to", dst);
    if let Some(old) = old {
        ctx.core.lazyfree.free(old, lazy);
    }
    out.int(1);
    Ok(())
}

/// MOVE key db
pub fn move_(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let dst_db = db_index(ctx, args.int32(2)?)?;
    if dst_db == ctx.client.db {
        return Err(CmdError::err(SAME_OBJECT));
    }
    let Some((expire, carried)) = ctx
        .db()
        .lookup_write(key)
        .map(|e| (e.expire_at(), Carried::same_object(&e.to_ref())))
    else {
        out.int(0);
        return Ok(());
    };
    if ctx.db_at(dst_db).lookup_write(key).is_some() {
        out.int(0);
        return Ok(());
    }
    let Some((value, _)) = ctx.db().take(key) else {
        out.int(0);
        return Ok(());
    };
    put_value(&mut ctx.db_at(dst_db), key, value, expire, carried);
    ctx.db().notify(class::GENERIC, "move_from", key);
    ctx.db_at(dst_db).notify(class::GENERIC, "move_to", key);
    out.int(1);
    Ok(())
}

/// RANDOMKEY
///
/// A key picked at random among the live ones. Keys found past their deadline are deleted on the way
/// (each journaled as its own `DEL`). Where expired keys are only hidden (a replica, or during a client
/// pause) and every key has a TTL, all of them may be expired and hidden: after 100 picks the last one is
/// returned anyway, as Redis does, rather than looping forever.
pub fn randomkey(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut rng = SmallRng::seed_from_u64(ctx.core.rng.gen());
    let mut db = ctx.db();
    let all_volatile = db.is_replica && db.db.volatile_len() == db.len();
    let mut tries = 100;
    loop {
        let Some((key, volatile)) = db
            .db
            .random_entry(&mut rng)
            .map(|e| (e.key().to_vec(), e.expire_at().is_some()))
        else {
            out.null();
            return Ok(());
        };
        if volatile {
            if all_volatile {
                tries -= 1;
                if tries == 0 {
                    out.bulk(&key);
                    return Ok(());
                }
            }
            if db.expire_if_needed(&key) {
                continue;
            }
        }
        out.bulk(&key);
        return Ok(());
    }
}

#[cfg(test)]
mod tests;
