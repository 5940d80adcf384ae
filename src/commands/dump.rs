//! DUMP and RESTORE: a key's value as an RDB payload (the value in RDB form, the RDB version in two
//! bytes, a CRC64 of all of it), the format Redis 7.0 produces and accepts, so values move between
//! Ferrite and Redis (MIGRATE's payload too, later).
//!
//! RESTORE checks, in Redis's order: options, an existing key without REPLACE (`BUSYKEY`), the TTL, the
//! footer (`DUMP payload version or checksum are wrong`), then the value itself with every check the
//! RDB loader makes (`Bad data format`). A relative TTL is journaled as absolute (`ABSTTL`), and a
//! deadline already past deletes a replaced key (journaled as DEL/UNLINK) instead of storing it.

use resp::ReplyBuf;

use super::keyspace::{delete_verb, Ttl};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::persistence::payload::{self, Reader};
use crate::persistence::rdb::value::{read_value, write_value, LoadLimits};
use crate::server::core::LRU_CLOCK_MAX;
use crate::server::notify::class;

/// DUMP key
pub fn dump(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let compress = ctx.core.config.rdbcompression;
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        out.null();
        return Ok(());
    };
    let mut body = vec![0u8];
    body[0] = write_value(&mut body, e.value(), compress);
    out.bulk(&payload::seal(body));
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
pub fn restore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut i = 4;
    while i < args.len() {
        let more = i + 1 < args.len();
        if args.is(i, "replace") {
            replace = true;
        } else if args.is(i, "absttl") {
            absttl = true;
        } else if args.is(i, "idletime") && more && freq.is_none() {
            let v = args.int(i + 1)?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            i += 1;
        } else if args.is(i, "freq") && more && idle.is_none() {
            let v = args.int(i + 1)?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if !replace && ctx.db().lookup_write(key).is_some() {
        return Err(CmdError::Coded("BUSYKEY Target key name already exists.".into()));
    }
    let ttl = args.int(2)?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let body = payload::open(args.get(3)).map_err(|_| CmdError::err("DUMP payload version or checksum are wrong"))?;
    let limits = LoadLimits::from_config(&ctx.core.config);
    let mut r = Reader::new(body);
    let value = r
        .byte()
        .ok()
        .and_then(|t| read_value(&mut r, t, &limits).ok())
        .ok_or_else(|| CmdError::err("Bad data format"))?;
    let deadline = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(t.saturating_add(ctx.core.now_ms)),
    };
    let (lru_clock, lazy) = (ctx.core.lru_clock, ctx.core.config.lazyfree_lazy_server_del);
    let db_index = ctx.client.db;
    let mut db = ctx.db();
    if deadline.is_some_and(|at| at <= db.now_ms) {
        // Already expired: a replaced key is deleted, and that is the effect.
        if replace && db.delete(key).is_some() {
            db.journal.replace(db_index, &[delete_verb(lazy), key]);
        } else {
            db.journal.suppress();
        }
        out.ok();
        return Ok(());
    }
    let ttl_arg = match deadline {
        Some(at) => Ttl::At(at),
        None => Ttl::Clear,
    };
    db.set(key, value, ttl_arg);
    if let Some(mut e) = db.db.get_mut(key) {
        if let (Some(l), Some(f)) = (db.lfu, freq) {
            e.set_lru((l.minutes << 8) | f as u32);
        } else if let (None, Some(secs)) = (db.lfu, idle) {
            e.set_lru(idle_stamp(lru_clock, secs));
        }
    }
    db.notify(class::GENERIC, "restore", key);
    if let (Some(at), false) = (deadline, absttl) {
        let at = at.to_string();
        let mut effect: Vec<&[u8]> = args.iter().collect();
        effect[2] = at.as_bytes();
        effect.push(b"ABSTTL");
        ctx.core.journal.replace(db_index, &effect);
    }
    out.ok();
    Ok(())
}

/// The access clock of a key idle for `secs` seconds (Redis's `objectSetLRUOrLFU`): wrapped to the
/// middle of the clock's range when it would go below zero.
fn idle_stamp(clock: u32, secs: i64) -> u32 {
    let max = i64::from(LRU_CLOCK_MAX);
    let abs = i64::from(clock) - secs.min(max + 1);
    if abs < 0 {
        ((i64::from(clock) + max / 2) % max) as u32
    } else {
        abs as u32
    }
}
