//! Consumer groups: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.

use std::sync::Arc;

use resp::{Aggregate, ReplyBuf};

use super::{
    journal_effects, parse_interval, parse_strict_id, reply_entry, reply_id, setid_effect, write_stream, xclaim_effect,
};
use crate::commands::keyspace::{DbView, Ttl};
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::object::stream::{ConsumerGroup, Nack, Stream, StreamId, INVALID_ENTRIES_READ};
use crate::storage::{NewValue, Object};

const KEY_REQUIRED: &str = "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use \
                            the MKSTREAM option to create an empty stream automatically.";

/// `NOGROUP No such key '<key>' or consumer group '<group>'`.
fn no_key_or_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Coded(
        format!(
            "NOGROUP No such key '{}' or consumer group '{}'",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(group)
        )
        .into(),
    )
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'`.
pub(super) fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Coded(
        format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(group),
            String::from_utf8_lossy(key)
        )
        .into(),
    )
}

/// Redis's `addReplySubcommandSyntaxError`.
pub(super) fn subcommand_syntax(args: &Args<'_>) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args.get(1)[..args.get(1).len().min(128)]),
        String::from_utf8_lossy(args.get(0)).to_uppercase()
    ))
}

/// An `ENTRIESREAD` value: a count, or -1 for unknown.
fn entries_read_arg(args: &Args<'_>, i: usize) -> Result<i64, CmdError> {
    let n = args.int(i)?;
    if n < 0 && n != INVALID_ENTRIES_READ {
        return Err(CmdError::err("value for ENTRIESREAD must be positive or -1"));
    }
    Ok(n)
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]
pub fn xgroup_create(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < args.len() {
        if args.is(i, "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if args.is(i, "ENTRIESREAD") && i + 1 < args.len() {
            entries_read = entries_read_arg(args, i + 1)?;
            i += 2;
        } else {
            return Err(subcommand_syntax(args));
        }
    }
    let key = args.get(2);
    let exists = {
        let mut db = ctx.db();
        write_stream(&mut db, key, false)?.is_some()
    };
    if !exists && !mkstream {
        return Err(CmdError::err(KEY_REQUIRED));
    }
    if args.len() > 8 {
        return Err(subcommand_syntax(args));
    }
    let group = args.get(3);
    let mut db = ctx.db();
    let last = match write_stream(&mut db, key, false)? {
        Some(s) => s.last_id,
        None => StreamId::MIN,
    };
    let id = if args.get(4) == b"$" {
        last
    } else {
        parse_strict_id(args.get(4))?
    };
    if !exists {
        db.set(key, NewValue::Obj(Object::Stream(Box::default())), Ttl::Clear);
    }
    let Some(s) = write_stream(&mut db, key, false)? else {
        return Ok(());
    };
    if s.groups.contains_key(group) {
        return Err(CmdError::Coded("BUSYGROUP Consumer Group name already exists".into()));
    }
    s.groups.insert(group.to_vec(), ConsumerGroup::new(id, entries_read));
    db.stats.dirty += 1;
    db.notify(class::STREAM, "xgroup-create", key);
    out.ok();
    Ok(())
}

/// The stream of an XGROUP subcommand that needs its group: the key must exist (else Redis's
/// KEY_REQUIRED error) and hold the group (else NOGROUP).
fn existing_group<'v>(db: &'v mut DbView<'_>, args: &Args<'_>) -> Result<&'v mut Stream, CmdError> {
    let (key, group) = (args.get(2), args.get(3));
    match write_stream(db, key, false)? {
        Some(s) if s.groups.contains_key(group) => Ok(s),
        Some(_) => Err(no_group(key, group)),
        None => Err(CmdError::err(KEY_REQUIRED)),
    }
}

/// XGROUP SETID key group id|$ [ENTRIESREAD entries-read]
pub fn xgroup_setid(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut entries_read = INVALID_ENTRIES_READ;
    if args.len() == 7 {
        if !args.is(5, "ENTRIESREAD") {
            return Err(subcommand_syntax(args));
        }
        entries_read = entries_read_arg(args, 6)?;
    } else if args.len() != 5 {
        return Err(subcommand_syntax(args));
    }
    let group = args.get(3);
    let mut db = ctx.db();
    let s = existing_group(&mut db, args)?;
    let id = if args.get(4) == b"$" {
        s.last_id
    } else {
        super::parse_id(args.get(4), 0)?
    };
    if let Some(g) = s.groups.get_mut(group) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    // Redis changes no watched key for group commands (only XADD, XDEL and XTRIM signal it).
    db.stats.dirty += 1;
    db.notify(class::STREAM, "xgroup-setid", args.get(2));
    out.ok();
    Ok(())
}

/// XGROUP DESTROY key group
pub fn xgroup_destroy(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, group) = (args.get(2), args.get(3));
    let mut db = ctx.db();
    let destroyed = match write_stream(&mut db, key, false)? {
        Some(s) => s.groups.remove(group).is_some(),
        None => return Err(CmdError::err(KEY_REQUIRED)),
    };
    if destroyed {
        db.stats.dirty += 1;
        db.notify(class::STREAM, "xgroup-destroy", key);
        // Readers blocked on the group are answered (NOGROUP) when they run again.
        db.signal_ready(key);
    }
    out.int(destroyed as i64);
    Ok(())
}

/// XGROUP CREATECONSUMER key group consumer
pub fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let now = ctx.now_ms();
    let group = args.get(3);
    let mut db = ctx.db();
    let s = existing_group(&mut db, args)?;
    let created = s
        .groups
        .get_mut(group)
        .is_some_and(|g| g.create_consumer(args.get(4), now));
    if created {
        db.stats.dirty += 1;
        db.notify(class::STREAM, "xgroup-createconsumer", args.get(2));
    }
    out.int(created as i64);
    Ok(())
}

/// XGROUP DELCONSUMER key group consumer
pub fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let group = args.get(3);
    let mut db = ctx.db();
    let s = existing_group(&mut db, args)?;
    let pending = s.groups.get_mut(group).and_then(|g| g.delete_consumer(args.get(4)));
    if pending.is_some() {
        db.stats.dirty += 1;
        db.notify(class::STREAM, "xgroup-delconsumer", args.get(2));
    }
    out.int(pending.unwrap_or(0) as i64);
    Ok(())
}

/// XGROUP HELP
pub fn xgroup_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    crate::commands::server::help_reply(
        out,
        "XGROUP",
        &[
            (
                "CREATE <key> <groupname> <id|$> [option]",
                "Create a consumer group starting after <id> ($: the last entry). Options: MKSTREAM (create \
                 the stream if missing), ENTRIESREAD entries_read (the group's read counter).",
            ),
            (
                "CREATECONSUMER <key> <groupname> <consumer>",
                "Add a consumer to a group.",
            ),
            (
                "DELCONSUMER <key> <groupname> <consumer>",
                "Remove a consumer and its pending entries; answers how many it had.",
            ),
            ("DESTROY <key> <groupname>", "Remove a consumer group."),
            (
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "Move the group's last delivered ID (and set its read counter).",
            ),
        ],
    );
    Ok(())
}

/// XACK key group id [id ...]
pub fn xack(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, group) = (args.get(1), args.get(2));
    let mut db = ctx.db();
    let Some(g) = write_stream(&mut db, key, true)?.and_then(|s| s.groups.get_mut(group)) else {
        out.int(0);
        return Ok(());
    };
    let ids = (3..args.len())
        .map(|i| parse_strict_id(args.get(i)))
        .collect::<Result<Vec<StreamId>, CmdError>>()?;
    let acked = ids.iter().filter(|id| g.ack(**id).is_some()).count();
    db.stats.dirty += acked as u64;
    out.int(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub fn xpending(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, group) = (args.get(1), args.get(2));
    let summary = args.len() == 3;
    if !summary && (args.len() < 6 || args.len() > 9) {
        return Err(CmdError::syntax());
    }
    let (mut start, mut end, mut count, mut min_idle, mut consumer) = (StreamId::MIN, StreamId::MAX, 0i64, 0i64, None);
    if !summary {
        let mut at = 3;
        if args.is(3, "IDLE") {
            min_idle = args.int(4)?;
            if args.len() < 8 {
                return Err(CmdError::syntax());
            }
            at += 2;
        }
        count = args.int(at + 2)?.max(0);
        start = parse_interval(args.get(at), false)?;
        end = parse_interval(args.get(at + 1), true)?;
        if at + 3 < args.len() {
            consumer = Some(args.get(at + 3));
        }
    }
    let now = ctx.now_ms();
    let mut db = ctx.db();
    let s = super::read_stream(&mut db, key)?;
    let Some(g) = s.and_then(|s| s.groups.get(group)) else {
        return Err(no_key_or_group(key, group));
    };
    if summary {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(first), Some(last)) => {
                reply_id(out, *first);
                reply_id(out, *last);
                let d = out.defer();
                let mut n = 0;
                for (name, c) in &g.consumers {
                    if c.pel.is_empty() {
                        continue;
                    }
                    out.array(2);
                    out.bulk(name);
                    out.bulk_i64(c.pel.len() as i64);
                    n += 1;
                }
                out.set_deferred(d, Aggregate::Array, n);
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    }
    let owned: Option<Vec<StreamId>> = match consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) if start <= end => Some(c.pel.range(start..=end).copied().collect()),
            Some(_) => Some(vec![]),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => None,
    };
    let d = out.defer();
    let mut n = 0;
    let mut emit = |id: StreamId, nack: &Nack, out: &mut ReplyBuf| {
        if count == 0 {
            return false;
        }
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            return true;
        }
        out.array(4);
        reply_id(out, id);
        out.bulk(&nack.consumer);
        out.int((now - nack.delivery_time).max(0));
        out.int(nack.delivery_count as i64);
        n += 1;
        count -= 1;
        true
    };
    if start <= end {
        match owned {
            Some(ids) => {
                for id in ids {
                    if let Some(nack) = g.pel.get(&id) {
                        if !emit(id, nack, out) {
                            break;
                        }
                    }
                }
            }
            None => {
                for (id, nack) in g.pel.range(start..=end) {
                    if !emit(*id, nack, out) {
                        break;
                    }
                }
            }
        }
    }
    out.set_deferred(d, Aggregate::Array, n);
    Ok(())
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
pub fn xclaim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, group, consumer) = (args.get(1), args.get(2), args.get(3));
    ctx.core.journal.suppress();
    let now = ctx.now_ms();
    {
        let mut db = ctx.db();
        let found = write_stream(&mut db, key, true)?;
        if !found.is_some_and(|s| s.groups.contains_key(group)) {
            return Err(no_key_or_group(key, group));
        }
    }
    let min_idle = args
        .int(4)
        .map_err(|_| CmdError::err("Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    // IDs until the first that does not parse; options after.
    let mut ids: Vec<(StreamId, &[u8])> = vec![];
    let mut j = 5;
    while j < args.len() {
        match crate::storage::object::stream::StreamId::parse(args.get(j), super::STRICT) {
            Some(p) => ids.push((p.id, args.get(j))),
            None => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut delivery_time: Option<i64> = None;
    let mut retry_count: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        let int_opt = |i: usize, what: &str| {
            args.int(i)
                .map_err(|_| CmdError::err(format!("Invalid {what} option argument for XCLAIM")))
        };
        if opt.eq_ignore_ascii_case(b"FORCE") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"JUSTID") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"IDLE") && more > 0 {
            j += 1;
            delivery_time = Some(now.wrapping_sub(int_opt(j, "IDLE")?));
        } else if opt.eq_ignore_ascii_case(b"TIME") && more > 0 {
            j += 1;
            delivery_time = Some(int_opt(j, "TIME")?);
        } else if opt.eq_ignore_ascii_case(b"RETRYCOUNT") && more > 0 {
            j += 1;
            retry_count = Some(int_opt(j, "RETRYCOUNT")?);
        } else if opt.eq_ignore_ascii_case(b"LASTID") && more > 0 {
            j += 1;
            last_id = parse_strict_id(args.get(j))?;
        } else {
            return Err(CmdError::err(format!(
                "Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    // A bogus delivery time (negative, or in the future) becomes now, as Redis decides.
    let delivery_time = match delivery_time {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    };
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, key, false)? else {
        return Ok(());
    };
    let mut effects = vec![];
    let mut dirty = 0;
    let mut propagate_last_id = false;
    if let Some(g) = s.groups.get_mut(group) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    let d = out.defer();
    let mut n = 0;
    let mut claimer: Option<Arc<[u8]>> = None;
    let mut created_consumer = false;
    for (id, arg) in ids {
        let exists = s.contains(id);
        let Some(g) = s.groups.get_mut(group) else { break };
        if !exists {
            // Gone from the stream: its PEL entry goes too (and that is propagated).
            if let Some(nack) = g.pel.get(&id) {
                effects.push(xclaim_effect(key, group, arg, nack, g.last_id));
                propagate_last_id = false;
                dirty += 1;
                g.ack(id);
            }
            continue;
        }
        let pending = g.pel.get(&id).map(|nack| nack.delivery_time);
        if pending.is_none() && !force {
            continue;
        }
        if let Some(t) = pending {
            if min_idle > 0 && now - t < min_idle {
                continue;
            }
        }
        let name = claimer_name(g, &mut claimer, consumer, now, &mut created_consumer);
        if pending.is_none() {
            g.pel.insert(
                id,
                Nack {
                    delivery_time,
                    // Redis's new NACK starts at one delivery; the claim below counts on from there.
                    delivery_count: 1,
                    consumer: name.clone(),
                },
            );
        }
        let last = g.last_id;
        let Some(nack) = g.assign(id, &name) else { continue };
        nack.delivery_time = delivery_time;
        match retry_count {
            Some(r) if r >= 0 => nack.delivery_count = r as u64,
            _ if !justid => nack.delivery_count += 1,
            _ => {}
        }
        effects.push(xclaim_effect(key, group, arg, nack, last));
        propagate_last_id = false;
        dirty += 1;
        if justid {
            reply_id(out, id);
        } else {
            match s.get(id) {
                Some(e) => reply_entry(out, &e),
                None => out.null(),
            }
        }
        n += 1;
    }
    if propagate_last_id {
        if let Some(g) = s.groups.get(group) {
            effects.push(setid_effect(key, group, g.last_id, g.entries_read));
        }
        dirty += 1;
    }
    out.set_deferred(d, Aggregate::Array, n);
    db.stats.dirty += dirty;
    if created_consumer {
        db.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    journal_effects(ctx, &effects);
    Ok(())
}

/// Above this COUNT Redis's allocation of the deleted-IDs array fails on any real machine; the answer
/// is its error (the exact threshold depends on the memory Redis can reserve).
const AUTOCLAIM_ALLOC_LIMIT: i64 = 1 << 32;

/// The claiming consumer, looked up (seen now) or created on the first claim, as Redis does lazily
/// (`created` says it was, for its keyspace event).
fn claimer_name(
    g: &mut ConsumerGroup,
    claimer: &mut Option<Arc<[u8]>>,
    consumer: &[u8],
    now: i64,
    created: &mut bool,
) -> Arc<[u8]> {
    if let Some(c) = claimer {
        return c.clone();
    }
    let (c, new) = g.consumer_or_create(consumer, now);
    *created = new;
    if let Some(cs) = g.consumers.get_mut(&c) {
        cs.seen_time = now;
    }
    *claimer = Some(c.clone());
    c
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, group, consumer) = (args.get(1), args.get(2), args.get(3));
    ctx.core.journal.suppress();
    let min_idle = args
        .int(4)
        .map_err(|_| CmdError::err("Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = parse_interval(args.get(5), false)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args.is(j, "COUNT") && more > 0 {
            // LONG_MAX / max(sizeof(streamID), attempts factor 10).
            let max = i64::MAX / 16;
            count = match args.int(j + 1) {
                Ok(c) if (1..=max).contains(&c) => c,
                _ => return Err(CmdError::err("COUNT must be > 0")),
            };
            j += 1;
        } else if args.is(j, "JUSTID") {
            justid = true;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let now = ctx.now_ms();
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, key, true)?.filter(|s| s.groups.contains_key(group)) else {
        return Err(no_key_or_group(key, group));
    };
    if count > AUTOCLAIM_ALLOC_LIMIT {
        return Err(CmdError::err(
            "Insufficient memory, failed allocating transient memory, COUNT too high.",
        ));
    }
    let mut attempts = count.saturating_mul(10);
    let mut effects = vec![];
    let mut deleted: Vec<StreamId> = vec![];
    let mut claimed: Vec<StreamId> = vec![];
    let mut claimer: Option<Arc<[u8]>> = None;
    let mut created_consumer = false;
    let mut cursor = Some(start);
    // The PEL is walked from `start`; `cursor` is the next ID to look at.
    while attempts > 0 && count > 0 {
        let Some(from) = cursor else { break };
        let Some(g) = s.groups.get(group) else { break };
        let Some((&id, nack)) = g.pel.range(from..).next() else {
            cursor = None;
            break;
        };
        attempts -= 1;
        cursor = id.incr();
        let nack_time = nack.delivery_time;
        if !s.contains(id) {
            let Some(g) = s.groups.get_mut(group) else { break };
            if let Some(nack) = g.ack(id) {
                effects.push(xclaim_effect(key, group, &id.to_bytes(), &nack, g.last_id));
            }
            deleted.push(id);
            count -= 1;
            continue;
        }
        if min_idle > 0 && now - nack_time < min_idle {
            continue;
        }
        let Some(g) = s.groups.get_mut(group) else { break };
        let name = claimer_name(g, &mut claimer, consumer, now, &mut created_consumer);
        let last = g.last_id;
        let Some(nack) = g.assign(id, &name) else { continue };
        nack.delivery_time = now;
        if !justid {
            nack.delivery_count += 1;
        }
        effects.push(xclaim_effect(key, group, &id.to_bytes(), nack, last));
        claimed.push(id);
        count -= 1;
    }
    // The cursor for the next call: the next pending ID, or 0-0 when the walk reached the end.
    let next = cursor
        .and_then(|from| {
            s.groups
                .get(group)
                .and_then(|g| g.pel.range(from..).next().map(|(id, _)| *id))
        })
        .unwrap_or(StreamId::MIN);
    out.array(3);
    reply_id(out, next);
    out.array(claimed.len());
    for id in &claimed {
        if justid {
            reply_id(out, *id);
        } else if let Some(e) = s.get(*id) {
            reply_entry(out, &e);
        } else {
            out.null();
        }
    }
    out.array(deleted.len());
    for id in &deleted {
        reply_id(out, *id);
    }
    db.stats.dirty += effects.len() as u64;
    if created_consumer {
        db.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    journal_effects(ctx, &effects);
    Ok(())
}
