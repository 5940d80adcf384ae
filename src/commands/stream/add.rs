//! XADD, XTRIM, XDEL, XLEN, XSETID.

use resp::ReplyBuf;

use super::{node_limits, parse_add_id, parse_strict_id, read_stream, reply_id, write_stream, INVALID_ID};
use crate::commands::dispatch::Caller;
use crate::commands::keyspace::Ttl;
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::object::stream::{Stream, StreamId, Trim, TrimBy};
use crate::storage::{NewValue, Object};

const ID_TOO_SMALL: &str = "The ID specified in XADD is equal or smaller than the target stream top item";
const ID_ZERO: &str = "The ID specified in XADD must be greater than 0-0";
const EXHAUSTED: &str = "The stream has exhausted the last possible ID, unable to add more items";
const TOO_LARGE: &str = "Elements are too large to be stored";
const BOTH_STRATEGIES: &str = "syntax error, MAXLEN and MINID options at the same time are not compatible";

/// The options XADD and XTRIM share (Redis's `streamAddTrimArgs`).
#[derive(Debug, Default)]
struct AddTrimArgs {
    trim: Option<TrimBy>,
    approx: bool,
    limit: u64,
    /// Position of the threshold argument (the `~`/`=` is just before it when given).
    trim_arg: usize,
    /// Whether `~` or `=` was written.
    has_operator: bool,
    no_mkstream: bool,
    /// XADD: the ID given (`None`: `*`), and whether its sequence was.
    id: Option<(StreamId, bool)>,
}

/// Parse XADD's or XTRIM's options from argument 2 on, as `streamParseAddOrTrimArgsOrReply`. Returns
/// the arguments and, for XADD, the position of the ID.
fn parse_add_trim(ctx: &Ctx<'_>, args: &Args<'_>, xadd: bool) -> Result<(AddTrimArgs, usize), CmdError> {
    let mut a = AddTrimArgs::default();
    let mut limit: Option<i64> = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid")) && more > 0 {
            if a.trim.is_some() {
                return Err(CmdError::err(BOTH_STRATEGIES));
            }
            let maxlen = opt.eq_ignore_ascii_case(b"maxlen");
            a.approx = false;
            a.has_operator = false;
            let next = args.get(i + 1);
            if more >= 2 && (next == b"~" || next == b"=") {
                a.approx = next == b"~";
                a.has_operator = true;
                i += 1;
            }
            let arg = args.get(i + 1);
            a.trim = Some(if maxlen {
                let n = args.int(i + 1)?;
                if n < 0 {
                    return Err(CmdError::err("The MAXLEN argument must be >= 0."));
                }
                TrimBy::MaxLen(n as u64)
            } else {
                TrimBy::MinId(parse_strict_id(arg)?)
            });
            i += 1;
            a.trim_arg = i;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            let n = args.int(i + 1)?;
            if n < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            limit = Some(n);
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            let p = parse_add_id(opt)?;
            a.id = Some((p.id, p.seq_given));
            break;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if limit.is_some_and(|l| l != 0) && a.trim.is_none() {
        return Err(CmdError::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.trim.is_none() {
        return Err(CmdError::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if ctx.core.exec.caller() == Caller::Replay {
        // A replayed command carries the effective threshold (the `~` was rewritten): no limit.
        a.limit = 0;
    } else if let Some(l) = limit {
        if !a.approx {
            return Err(CmdError::err(
                "syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        a.limit = l as u64;
    } else if a.approx {
        let per_node = ctx.core.config.stream_node_max_entries.saturating_mul(100);
        a.limit = if per_node == 0 || per_node > 10000 {
            10000
        } else {
            per_node
        };
    }
    Ok((a, i))
}

/// The effect of an approximate trim: `~` becomes `=` and the threshold the effective one.
fn rewrite_trim(effect: &mut [Vec<u8>], a: &AddTrimArgs, s: &Stream) {
    if a.has_operator {
        effect[a.trim_arg - 1] = b"=".to_vec();
    }
    effect[a.trim_arg] = match a.trim {
        Some(TrimBy::MaxLen(_)) => s.len().to_string().into_bytes(),
        _ => s.first_raw_id().to_bytes(),
    };
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
pub fn xadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (a, idpos) = parse_add_trim(ctx, args, true)?;
    let field_pos = idpos + 1;
    let nfields = args.len().saturating_sub(field_pos);
    if nfields < 2 || nfields % 2 == 1 {
        return Err(CmdError::err("wrong number of arguments for 'xadd' command"));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(CmdError::err(ID_ZERO));
        }
    }
    let fields: Vec<&[u8]> = (field_pos..args.len()).map(|i| args.get(i)).collect();
    if fields.iter().map(|f| f.len() as u64).sum::<u64>() > crate::storage::object::stream::NODE_MAX_SIZE {
        return Err(CmdError::err(TOO_LARGE));
    }
    let key = args.get(1);
    let now = ctx.now_ms();
    let limits = node_limits(ctx);
    let journaling = ctx.core.journal.active();
    let db_index = ctx.client.db;
    let mut db = ctx.db();
    let exists = match write_stream(&mut db, key, false)? {
        Some(s) => {
            if s.last_id == StreamId::MAX {
                return Err(CmdError::err(EXHAUSTED));
            }
            true
        }
        None if a.no_mkstream => {
            out.null();
            return Ok(());
        }
        None => false,
    };
    if !exists {
        // Redis creates the stream before appending; no ID can fail on an empty stream except 0-0,
        // refused above, so creating it here is the same.
        db.set(key, NewValue::Obj(Object::Stream(Box::default())), Ttl::Clear);
    }
    let Some(s) = write_stream(&mut db, key, false)? else {
        return Ok(());
    };
    let id = next_id(s, a.id, now)?;
    s.append(id, &fields, limits);
    reply_id(out, id);
    let trimmed = match a.trim {
        Some(by) => s.trim(Trim {
            by,
            approx: a.approx,
            limit: a.limit,
        }),
        None => 0,
    };
    let rewrite_id = !matches!(a.id, Some((_, true)));
    if journaling && (rewrite_id || a.approx) {
        let mut effect = args.to_vec();
        if a.trim.is_some() && a.approx {
            rewrite_trim(&mut effect, &a, s);
        }
        if rewrite_id {
            effect[idpos] = id.to_bytes();
        }
        let refs: Vec<&[u8]> = effect.iter().map(|e| &e[..]).collect();
        db.journal.replace(db_index, &refs);
    }
    if exists {
        db.mark_dirty(key, 1);
    }
    db.notify(class::STREAM, "xadd", key);
    if trimmed > 0 {
        db.notify(class::STREAM, "xtrim", key);
    }
    db.signal_ready(key);
    Ok(())
}

/// The ID for a new entry: the next after the top for `*` (now, or the top's sequence plus one),
/// `<ms>-*` with the next sequence when `ms` is the top's, or the ID given; it must be above the top.
fn next_id(s: &Stream, given: Option<(StreamId, bool)>, now_ms: i64) -> Result<StreamId, CmdError> {
    let last = s.last_id;
    let too_small = || CmdError::err(ID_TOO_SMALL);
    let id = match given {
        None => {
            let now = now_ms.max(0) as u64;
            if now > last.ms {
                StreamId::new(now, 0)
            } else {
                last.incr().ok_or_else(too_small)?
            }
        }
        Some((id, true)) => id,
        Some((id, false)) if id.ms == last.ms => {
            if last.seq == u64::MAX {
                // Redis 7.0 fails here without saying why, and XADD then reports the other failure.
                return Err(CmdError::err(TOO_LARGE));
            }
            StreamId::new(last.ms, last.seq + 1)
        }
        Some((id, false)) => id,
    };
    if id <= last {
        return Err(too_small());
    }
    Ok(id)
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub fn xtrim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (a, _) = parse_add_trim(ctx, args, false)?;
    let key = args.get(1);
    let journaling = ctx.core.journal.active();
    let db_index = ctx.client.db;
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, key, false)? else {
        out.int(0);
        return Ok(());
    };
    let Some(by) = a.trim else {
        return Err(CmdError::syntax());
    };
    let deleted = s.trim(Trim {
        by,
        approx: a.approx,
        limit: a.limit,
    });
    if deleted > 0 && a.approx && journaling {
        let mut effect = args.to_vec();
        rewrite_trim(&mut effect, &a, s);
        let refs: Vec<&[u8]> = effect.iter().map(|e| &e[..]).collect();
        db.journal.replace(db_index, &refs);
    }
    db.changed(key, deleted, class::STREAM, "xtrim");
    out.int(deleted as i64);
    Ok(())
}

/// XDEL key id [id ...]
pub fn xdel(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let mut db = ctx.db();
    // The key first: a missing key answers 0 whatever the IDs, as in Redis.
    let Some(s) = write_stream(&mut db, key, false)? else {
        out.int(0);
        return Ok(());
    };
    let ids = (2..args.len())
        .map(|i| parse_strict_id(args.get(i)))
        .collect::<Result<Vec<StreamId>, CmdError>>()?;
    let deleted = s.delete_ids(&ids);
    db.changed(key, deleted, class::STREAM, "xdel");
    out.int(deleted as i64);
    Ok(())
}

/// XLEN key
pub fn xlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = read_stream(&mut db, args.get(1))?.map_or(0, |s| s.len());
    out.int(n as i64);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub fn xsetid(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let id = parse_strict_id(args.get(2))?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"ENTRIESADDED") && more > 0 {
            let n = args.int(i + 1)?;
            if n < 0 {
                return Err(CmdError::err("entries_added must be positive"));
            }
            entries_added = Some(n as u64);
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"MAXDELETEDID") && more > 0 {
            max_deleted = StreamId::parse(args.get(i + 1), super::STRICT)
                .ok_or(CmdError::err(INVALID_ID))?
                .id;
            if id < max_deleted {
                return Err(CmdError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let key = args.get(1);
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, key, false)? else {
        return Err(CmdError::err(crate::error::NO_SUCH_KEY));
    };
    if !s.is_empty() {
        let top = s.last_live_id().unwrap_or(StreamId::MIN);
        if id < top {
            return Err(CmdError::err(
                "The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added.is_some_and(|n| s.len() > n) {
            return Err(CmdError::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if !max_deleted.is_zero() {
        s.max_deleted_entry_id = max_deleted;
    }
    db.stats.dirty += 1;
    db.notify(class::STREAM, "xsetid", key);
    out.ok();
    Ok(())
}
