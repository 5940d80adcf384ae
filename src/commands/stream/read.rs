//! XREAD and XREADGROUP, BLOCK included.
//!
//! Three stages, kept apart so that a suspended read can resume from the middle:
//! 1. [`parse`]: the options (COUNT, BLOCK, GROUP, NOACK, STREAMS) and their errors;
//! 2. [`resolve`]: each stream's type and group checked, and each ID argument made a [`From`] — `$`
//!    becomes the stream's last ID *now*, `>` stays "new entries for the group";
//! 3. [`serve`]: given resolved start points, what to answer (and, for a group, the PEL changes and
//!    their effects). It answers nothing when no stream has anything, and the caller blocks or answers
//!    the null array.
//!
//! Blocking: the handler runs again when a key is ready, with `ctx.serving_key()` naming it. The wait
//! carries the request as resolved when the client blocked (`BlockSpec::resume`: each ID argument
//! replaced by its start point), so on the re-run `$` means the last ID when the client blocked, not
//! the one at the re-run. Served after blocking, XREAD without COUNT gets at most 1000 entries per
//! stream, as Redis's `XREAD_BLOCKED_DEFAULT_COUNT` (XREADGROUP too).

use resp::{Aggregate, ReplyBuf};

use super::{
    journal_effects, parse_strict_id, read_stream, reply_entry, reply_id, setid_effect, write_stream, xclaim_effect,
};
use crate::commands::{Args, Ctx, OwnedArgs};
use crate::error::{CmdError, CmdResult};
use crate::server::blocking::{BlockSpec, TimeoutReply, WaitType};
use crate::server::notify::class;
use crate::storage::object::stream::{Stream, StreamId};

/// Served after blocking without COUNT, a read gets at most this many entries per stream.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The parsed options of a read.
#[derive(Debug, Clone)]
pub struct ReadArgs<'a> {
    /// 0: no limit.
    pub count: usize,
    /// `Some` when BLOCK was given: the deadline (`None`: forever).
    pub block: Option<Option<i64>>,
    /// XREADGROUP: group and consumer.
    pub group: Option<(&'a [u8], &'a [u8])>,
    pub noack: bool,
    pub keys: Vec<&'a [u8]>,
    pub id_args: Vec<&'a [u8]>,
}

/// Where a read starts on one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// Entries after this ID (XREAD, and XREADGROUP's history when in a group).
    After(StreamId),
    /// `>`: entries never delivered to the group.
    NewForGroup,
}

/// A read ready to serve: the parsed options and one start point per key.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    pub args: ReadArgs<'a>,
    pub from: Vec<From>,
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
pub fn xread(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    read(ctx, args, out, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id
/// [id ...]
pub fn xreadgroup(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    read(ctx, args, out, true)
}

fn read(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, xreadgroup: bool) -> CmdResult {
    let parsed = parse(ctx, args, xreadgroup)?;
    // Redis stops any propagation of the command itself: XREADGROUP's effects are its own.
    if xreadgroup {
        ctx.core.journal.suppress();
    }
    let rerun = ctx.serving_key().map(|k| k.to_vec());
    let resolved = resolve(ctx, parsed, rerun.as_deref())?;
    if serve(ctx, &resolved, rerun.as_deref(), out)? {
        return Ok(());
    }
    match resolved.args.block {
        Some(deadline) if ctx.can_block() => {
            let spec = BlockSpec {
                db: ctx.client.db,
                keys: resolved.args.keys.iter().map(|k| k.to_vec()).collect(),
                wait: WaitType::Stream,
                deadline_ms: deadline,
                on_timeout: TimeoutReply::NullArray,
                resume: Some(resolved_request(args, &resolved.from)),
            };
            ctx.block_on_keys(spec);
        }
        // No BLOCK, or not allowed to block (MULTI): as if the wait had timed out.
        _ => out.null_array(),
    }
    Ok(())
}

fn encode_from(f: From) -> Vec<u8> {
    match f {
        From::After(id) => id.to_bytes(),
        From::NewForGroup => b">".to_vec(),
    }
}

/// The request with its ID arguments (the last ones, one per key) replaced by the start points they
/// resolved to.
fn resolved_request(args: &Args<'_>, from: &[From]) -> OwnedArgs {
    let kept = args.len() - from.len();
    let mut req = OwnedArgs::from_slices(args.iter().take(kept));
    for f in from {
        req.push(&encode_from(*f));
    }
    req
}

/// Parse the options, as Redis's `xreadCommand` does before it looks at any key.
pub fn parse<'a>(ctx: &Ctx<'_>, args: &Args<'a>, xreadgroup: bool) -> Result<ReadArgs<'a>, CmdError> {
    let mut r = ReadArgs {
        count: 0,
        block: None,
        group: None,
        noack: false,
        keys: vec![],
        id_args: vec![],
    };
    let mut streams_at = None;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let o = args.get(i);
        if o.eq_ignore_ascii_case(b"BLOCK") && more > 0 {
            if ctx.core.exec.in_script() {
                return Err(CmdError::err(format!(
                    "{} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(args.get(0))
                )));
            }
            i += 1;
            let ms = args
                .int(i)
                .map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(CmdError::err("timeout is negative"));
            }
            r.block = Some((ms > 0).then(|| (ctx.core.clock_now_us() / 1000).saturating_add(ms)));
        } else if o.eq_ignore_ascii_case(b"COUNT") && more > 0 {
            i += 1;
            r.count = args.int(i)?.max(0) as usize;
        } else if o.eq_ignore_ascii_case(b"STREAMS") && more > 0 {
            let n = args.len() - (i + 1);
            if !n.is_multiple_of(2) {
                return Err(CmdError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams_at = Some(i + 1);
            break;
        } else if o.eq_ignore_ascii_case(b"GROUP") && more >= 2 {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if o.eq_ignore_ascii_case(b"NOACK") {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let Some(at) = streams_at else {
        return Err(CmdError::syntax());
    };
    if xreadgroup && r.group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    let n = (args.len() - at) / 2;
    r.keys = (at..at + n).map(|j| args.get(j)).collect();
    r.id_args = (at + n..args.len()).map(|j| args.get(j)).collect();
    Ok(r)
}

/// Check every stream (type, group) and resolve every ID argument. On a re-run after blocking
/// (`rerun`: the key that woke the client) only that key is looked at, as Redis serves a woken reader,
/// and a missing group is reported as Redis reports it to a waiter.
pub fn resolve<'a>(ctx: &mut Ctx<'_>, args: ReadArgs<'a>, rerun: Option<&[u8]>) -> Result<Resolved<'a>, CmdError> {
    let mut from = Vec::with_capacity(args.keys.len());
    let mut db = ctx.db();
    for (key, id_arg) in args.keys.iter().zip(&args.id_args) {
        if rerun.is_some_and(|k| k != *key) {
            from.push(From::After(StreamId::MAX));
            continue;
        }
        let s = match read_stream(&mut db, key) {
            // Woken because the stream it waited on went away (deleted, or replaced by another type).
            Ok(None) | Err(CmdError::WrongType) if rerun.is_some() => {
                if args.group.is_some() {
                    return Err(CmdError::Coded("UNBLOCKED the stream key no longer exists".into()));
                }
                // XREAD waits on: nothing to serve from this key now.
                from.push(From::After(StreamId::MAX));
                continue;
            }
            found => found?,
        };
        if let Some((group, _)) = args.group {
            if !s.is_some_and(|s| s.groups.contains_key(group)) {
                if rerun.is_some() {
                    return Err(CmdError::Coded(
                        "NOGROUP the consumer group this client was blocked on no longer exists".into(),
                    ));
                }
                return Err(CmdError::Coded(
                    format!(
                        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        String::from_utf8_lossy(key),
                        String::from_utf8_lossy(group)
                    )
                    .into(),
                ));
            }
        }
        let f = if *id_arg == b"$" {
            if args.group.is_some() {
                return Err(CmdError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of \
                     this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID \
                     would just return an empty result set.",
                ));
            }
            From::After(s.map_or(StreamId::MIN, |s| s.last_id))
        } else if *id_arg == b">" {
            if args.group.is_none() {
                return Err(CmdError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> \
                     option.",
                ));
            }
            From::NewForGroup
        } else {
            match parse_strict_id(id_arg)? {
                // Redis marks `>` with the largest ID, so that ID given by hand means `>` too.
                StreamId::MAX if args.group.is_some() => From::NewForGroup,
                id => From::After(id),
            }
        };
        from.push(f);
    }
    Ok(Resolved { args, from })
}

/// Serve a resolved read: for each stream (only `only_key` when given: the key that woke a blocked
/// client), what it has after its start point. Writes the reply and returns true when at least one
/// stream had something (a group's history always counts); writes nothing and returns false otherwise.
pub fn serve(
    ctx: &mut Ctx<'_>,
    r: &Resolved<'_>,
    only_key: Option<&[u8]>,
    out: &mut ReplyBuf,
) -> Result<bool, CmdError> {
    let count = match (r.args.count, only_key) {
        (0, Some(_)) => BLOCKED_DEFAULT_COUNT,
        (c, _) => c,
    };
    let now = ctx.now_ms();
    let mut served = 0;
    let mut header = None;
    let mut effects: Vec<Vec<Vec<u8>>> = vec![];
    for (i, key) in r.args.keys.iter().enumerate() {
        if only_key.is_some_and(|k| k != *key) {
            continue;
        }
        if r.args.group.is_none() && r.from[i] == From::After(StreamId::MAX) {
            // Nothing can come after the largest ID (a stream that went away while XREAD waited).
            continue;
        }
        let mut db = ctx.db();
        let Some(s) = write_stream(&mut db, key, true)? else {
            continue;
        };
        let start = match (r.from[i], r.args.group) {
            (From::After(id), Some(_)) => Start::History(id),
            (From::NewForGroup, Some((group, _))) => {
                let Some(g) = s.groups.get(group) else { continue };
                match s.last_live_id() {
                    Some(top) if top > g.last_id => Start::New(g.last_id),
                    _ => continue,
                }
            }
            (From::After(gt), None) => match s.last_live_id() {
                Some(top) if top > gt => Start::New(gt),
                _ => continue,
            },
            (From::NewForGroup, None) => continue,
        };
        if header.is_none() {
            header = Some(out.defer());
        }
        served += 1;
        if !out.is_resp3() {
            out.array(2);
        }
        out.bulk(key);
        match r.args.group {
            None => {
                let Start::New(gt) = start else { continue };
                let from = gt.incr().unwrap_or(StreamId::MAX);
                super::reply_range(out, s, from, StreamId::MAX, false, count);
            }
            Some((group, consumer)) => {
                let created = serve_group(
                    s,
                    key,
                    group,
                    consumer,
                    start,
                    count,
                    r.args.noack,
                    now,
                    out,
                    &mut effects,
                );
                db.stats.dirty += 1;
                if created {
                    db.notify(class::STREAM, "xgroup-createconsumer", key);
                }
            }
        }
    }
    let Some(h) = header else {
        return Ok(false);
    };
    let kind = if out.is_resp3() {
        Aggregate::Map
    } else {
        Aggregate::Array
    };
    out.set_deferred(h, kind, served);
    if !effects.is_empty() {
        journal_effects(ctx, &effects);
    }
    Ok(true)
}

#[derive(Debug, Clone, Copy)]
enum Start {
    /// The consumer's pending entries after this ID (XREADGROUP with an ID).
    History(StreamId),
    /// Entries after this ID.
    New(StreamId),
}

/// One stream of an XREADGROUP: the entries, the PEL changes and their effects. True if it created
/// the consumer (for its keyspace event).
#[allow(clippy::too_many_arguments)]
fn serve_group(
    s: &mut Stream,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    start: Start,
    count: usize,
    noack: bool,
    now: i64,
    out: &mut ReplyBuf,
    effects: &mut Vec<Vec<Vec<u8>>>,
) -> bool {
    let Some(g) = s.groups.get_mut(group) else {
        out.array(0);
        return false;
    };
    let (name, created) = g.consumer_or_create(consumer, now);
    if let Some(c) = g.consumers.get_mut(&name) {
        c.seen_time = now;
    }
    if created && noack {
        effects.push(vec![
            b"XGROUP".to_vec(),
            b"CREATECONSUMER".to_vec(),
            key.to_vec(),
            group.to_vec(),
            consumer.to_vec(),
        ]);
    }
    match start {
        Start::History(after) => {
            let Some(from) = after.incr() else {
                out.array(0);
                return created;
            };
            let ids: Vec<StreamId> = g
                .consumers
                .get(&name)
                .map(|c| {
                    let it = c.pel.range(from..).copied();
                    if count > 0 {
                        it.take(count).collect()
                    } else {
                        it.collect()
                    }
                })
                .unwrap_or_default();
            out.array(ids.len());
            for id in &ids {
                match s.get(*id) {
                    Some(e) => {
                        reply_entry(out, &e);
                        if let Some(n) = s.groups.get_mut(group).and_then(|g| g.pel.get_mut(id)) {
                            n.delivery_time = now;
                            n.delivery_count += 1;
                        }
                    }
                    None => {
                        // Pending but deleted from the stream: the ID with a null for its fields.
                        out.array(2);
                        reply_id(out, *id);
                        out.null_array();
                    }
                }
            }
        }
        Start::New(after) => {
            let from = after.incr().unwrap_or(StreamId::MAX);
            let d = out.defer();
            let mut ids = vec![];
            for e in s.range(from, StreamId::MAX, false) {
                reply_entry(out, &e);
                ids.push(e.id);
                if count > 0 && ids.len() == count {
                    break;
                }
            }
            out.set_deferred(d, Aggregate::Array, ids.len());
            let mut moved = false;
            for id in ids {
                let before = s.groups.get(group).map(|g| g.last_id);
                s.advance_group(group, id);
                moved |= before.is_some_and(|b| b < id);
                if noack {
                    continue;
                }
                let Some(g) = s.groups.get_mut(group) else { continue };
                let last = g.last_id;
                let nack = g.deliver(id, &name, now);
                effects.push(xclaim_effect(key, group, &id.to_bytes(), nack, last));
            }
            if noack && moved {
                if let Some(g) = s.groups.get(group) {
                    effects.push(setid_effect(key, group, g.last_id, g.entries_read));
                }
            }
        }
    }
    created
}
