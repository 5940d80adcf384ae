//! Stream commands: XADD, XTRIM, XDEL, XLEN, XSETID ([`add`]), XRANGE, XREVRANGE ([`range`]), XREAD,
//! XREADGROUP ([`read`]), XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM ([`group`]), XINFO ([`info`]).
//!
//! Every handler follows Redis 7.0's order of checks (which decides which error wins): XADD and XTRIM
//! parse their options before looking the key up, XDEL looks the key up before parsing its IDs (a
//! missing key answers 0 whatever the IDs), XACK/XCLAIM/XAUTOCLAIM/XPENDING each have their own order,
//! kept in their handlers. Error texts are Redis's.
//!
//! Effects, as Redis 7.0 propagates them:
//! - XADD: as received, except that an ID made by the server (`*`, `<ms>-*`) is written as the actual
//!   ID, and an approximate trim (`~`) becomes an exact one (`=`) at the effective threshold (the length
//!   left for MAXLEN, the first entry's ID for MINID). XTRIM likewise, when it removed something.
//! - XREADGROUP: nothing as received; per entry delivered (without NOACK) an `XCLAIM key group consumer
//!   0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last-id`; with NOACK an `XGROUP CREATECONSUMER` when
//!   the consumer is new and an `XGROUP SETID key group last-id ENTRIESREAD n` when the group moved.
//! - XCLAIM and XAUTOCLAIM: the same XCLAIM per entry claimed, or per PEL entry dropped because its
//!   stream entry was deleted; XCLAIM's LASTID alone becomes `XGROUP SETID`.
//! - The others: as received, when they changed something.
//!
//! Known differences from Redis 7.0 are listed in `docs/streams.md`.

mod add;
mod group;
mod info;
mod range;
mod read;

pub use add::{xadd, xdel, xlen, xsetid, xtrim};
pub use group::{
    xack, xautoclaim, xclaim, xgroup_create, xgroup_createconsumer, xgroup_delconsumer, xgroup_destroy, xgroup_help,
    xgroup_setid, xpending,
};
pub use info::{xinfo_consumers, xinfo_groups, xinfo_help, xinfo_stream};
pub use range::{xrange, xrevrange};
pub use read::{xread, xreadgroup};

use resp::ReplyBuf;

use super::keyspace::DbView;
use super::Ctx;
use crate::error::CmdError;
use crate::storage::object::stream::{Entry, IdSyntax, Nack, NodeLimits, ParsedId, Stream, StreamId};
use crate::storage::{Object, ValueRef};

pub const INVALID_ID: &str = "Invalid stream ID specified as stream command argument";
pub const INVALID_START: &str = "invalid start ID for the interval";
pub const INVALID_END: &str = "invalid end ID for the interval";

/// `-` and `+` allowed; an ID without a sequence gets `missing_seq`.
fn syntax(missing_seq: u64) -> IdSyntax {
    IdSyntax {
        missing_seq,
        strict: false,
        seq_star: false,
    }
}

/// `-` and `+` refused (IDs that name one entry).
const STRICT: IdSyntax = IdSyntax {
    missing_seq: 0,
    strict: true,
    seq_star: false,
};

/// An ID argument (Redis's `streamParseIDOrReply` with `-`/`+`).
fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    StreamId::parse(arg, syntax(missing_seq))
        .map(|p| p.id)
        .ok_or(CmdError::err(INVALID_ID))
}

/// An ID argument naming one entry (`streamParseStrictIDOrReply`).
fn parse_strict_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    StreamId::parse(arg, STRICT)
        .map(|p| p.id)
        .ok_or(CmdError::err(INVALID_ID))
}

/// XADD's ID: strict, with `<ms>-*`.
fn parse_add_id(arg: &[u8]) -> Result<ParsedId, CmdError> {
    StreamId::parse(
        arg,
        IdSyntax {
            seq_star: true,
            ..STRICT
        },
    )
    .ok_or(CmdError::err(INVALID_ID))
}

/// One end of an interval, `(` making it exclusive (`streamParseIntervalIDOrReply`); the exclusive
/// bound is moved by one, with Redis's errors at the ends of the ID space.
fn parse_interval(arg: &[u8], end: bool) -> Result<StreamId, CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = StreamId::parse(
            &arg[1..],
            IdSyntax {
                missing_seq: if end { u64::MAX } else { 0 },
                ..STRICT
            },
        )
        .ok_or(CmdError::err(INVALID_ID))?
        .id;
        return if end {
            id.decr().ok_or(CmdError::err(INVALID_END))
        } else {
            id.incr().ok_or(CmdError::err(INVALID_START))
        };
    }
    parse_id(arg, if end { u64::MAX } else { 0 })
}

/// The node limits from the configuration.
fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    NodeLimits {
        max_bytes: ctx.core.config.stream_node_max_bytes,
        max_entries: ctx.core.config.stream_node_max_entries,
    }
}

/// The stream at `key` for a read command: `None` when missing, WRONGTYPE for another type.
fn read_stream<'v>(db: &'v mut DbView<'_>, key: &[u8]) -> Result<Option<&'v Stream>, CmdError> {
    match db.lookup_read(key) {
        None => Ok(None),
        Some(e) => match e.value() {
            ValueRef::Obj(Object::Stream(s)) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The stream at `key` to change, looked up as Redis's `lookupKeyWrite` (no hit/miss count; `counted`
/// counts them, and reports a miss, as `lookupKeyRead` does, for the commands that change a stream they
/// looked up for reading).
fn write_stream<'v>(db: &'v mut DbView<'_>, key: &[u8], counted: bool) -> Result<Option<&'v mut Stream>, CmdError> {
    if counted {
        // `lookup_write` leaves the statistics alone; a read lookup counts.
        if db.exists(key) {
            db.stats.keyspace_hits += 1;
        } else {
            db.stats.keyspace_misses += 1;
            db.notify(crate::server::notify::class::KEY_MISS, "keymiss", key);
        }
    }
    let found = db.lookup_write(key);
    match found.map(|e| e.into_obj_mut()) {
        None => Ok(None),
        Some(Some(Object::Stream(s))) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

// ---- replies ----

/// An ID as a bulk string.
fn reply_id(out: &mut ReplyBuf, id: StreamId) {
    let mut b = itoa::Buffer::new();
    let mut buf = [0u8; 41];
    let ms = b.format(id.ms).as_bytes();
    let n = ms.len();
    buf[..n].copy_from_slice(ms);
    buf[n] = b'-';
    let seq = b.format(id.seq).as_bytes();
    buf[n + 1..n + 1 + seq.len()].copy_from_slice(seq);
    out.bulk(&buf[..n + 1 + seq.len()]);
}

/// An entry: `[id, [field, value, ...]]`.
fn reply_entry(out: &mut ReplyBuf, e: &Entry<'_>) {
    out.array(2);
    reply_id(out, e.id);
    out.array(2 * e.len());
    let mut b = itoa::Buffer::new();
    for (f, v) in e.fields() {
        out.bulk(f.as_bytes(&mut b));
        out.bulk(v.as_bytes(&mut b));
    }
}

/// Entries from `s` in `[start, end]` (at most `count`, 0: all) as an array.
fn reply_range(out: &mut ReplyBuf, s: &Stream, start: StreamId, end: StreamId, rev: bool, count: usize) -> usize {
    let d = out.defer();
    let mut n = 0;
    for e in s.range(start, end, rev) {
        reply_entry(out, &e);
        n += 1;
        if count > 0 && n == count {
            break;
        }
    }
    out.set_deferred(d, resp::reply::Aggregate::Array, n);
    n
}

/// The XCLAIM that Redis propagates for a PEL change: `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT
/// n FORCE JUSTID LASTID last-id`, from the NACK as it now is.
fn xclaim_effect(key: &[u8], group: &[u8], id: &[u8], nack: &Nack, last_id: StreamId) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        nack.consumer.to_vec(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last_id.to_bytes(),
    ]
}

/// `XGROUP SETID key group last-id ENTRIESREAD n`.
fn setid_effect(key: &[u8], group: &[u8], last_id: StreamId, entries_read: i64) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        entries_read.to_string().into_bytes(),
    ]
}

/// Journal `effects` in place of the command as received.
fn journal_effects(ctx: &mut Ctx<'_>, effects: &[Vec<Vec<u8>>]) {
    let db = ctx.client.db;
    let j = &mut ctx.core.journal;
    j.suppress();
    for e in effects {
        let refs: Vec<&[u8]> = e.iter().map(|a| &a[..]).collect();
        j.replace(db, &refs);
    }
}

#[cfg(test)]
mod tests;
