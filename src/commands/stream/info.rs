//! XINFO STREAM, GROUPS, CONSUMERS, HELP, with Redis 7.0's fields.

use resp::{Aggregate, ReplyBuf};

use super::group::{no_group, subcommand_syntax};
use super::{read_stream, reply_entry, reply_id, reply_range};
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY};
use crate::storage::object::stream::{ConsumerGroup, Stream, StreamId, INVALID_ENTRIES_READ};

/// The stream at argument 2: `ERR no such key` when missing.
fn stream_arg<'v>(db: &'v mut crate::commands::DbView<'_>, args: &Args<'_>) -> Result<&'v Stream, CmdError> {
    read_stream(db, args.get(2))?.ok_or(CmdError::err(NO_SUCH_KEY))
}

/// A group's read counter and lag, null when unknown.
fn reply_counters(out: &mut ReplyBuf, s: &Stream, g: &ConsumerGroup) {
    out.bulk(b"entries-read");
    if g.entries_read != INVALID_ENTRIES_READ {
        out.int(g.entries_read);
    } else {
        out.null();
    }
    out.bulk(b"lag");
    match s.group_lag(g) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

/// XINFO STREAM key [FULL [COUNT count]]
pub fn xinfo_stream(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // The key first (Redis's XINFO looks it up before reading any option).
    let mut db = ctx.db();
    let s = stream_arg(&mut db, args)?;
    let extra = args.len() - 3;
    let (full, count) = match extra {
        0 => (false, 10),
        1 | 3 if args.is(3, "FULL") => {
            if extra == 3 && !args.is(4, "COUNT") {
                return Err(subcommand_syntax(args));
            }
            let c = if extra == 3 { args.int(5)? } else { 10 };
            (true, if c < 0 { 10 } else { c })
        }
        _ => return Err(subcommand_syntax(args)),
    };
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_nodes() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted_entry_id);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        out.bulk(b"first-entry");
        match s.iter().next() {
            Some(e) => reply_entry(out, &e),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match s.range(StreamId::MIN, StreamId::MAX, true).next() {
            Some(e) => reply_entry(out, &e),
            None => out.null(),
        }
        return Ok(());
    }
    let limit = |n: usize| count == 0 || (n as i64) < count;
    out.bulk(b"entries");
    reply_range(out, s, StreamId::MIN, StreamId::MAX, false, count.max(0) as usize);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        reply_counters(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let d = out.defer();
        let mut n = 0;
        for (id, nack) in &g.pel {
            if !limit(n) {
                break;
            }
            out.array(4);
            reply_id(out, *id);
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
            n += 1;
        }
        out.set_deferred(d, Aggregate::Array, n);
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let d = out.defer();
            let mut n = 0;
            for id in &c.pel {
                if !limit(n) {
                    break;
                }
                let Some(nack) = g.pel.get(id) else { continue };
                out.array(3);
                reply_id(out, *id);
                out.int(nack.delivery_time);
                out.int(nack.delivery_count as i64);
                n += 1;
            }
            out.set_deferred(d, Aggregate::Array, n);
        }
    }
    Ok(())
}

/// XINFO GROUPS key
pub fn xinfo_groups(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let s = stream_arg(&mut db, args)?;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        reply_counters(out, s, g);
    }
    Ok(())
}

/// XINFO CONSUMERS key group
pub fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let now = ctx.now_ms();
    let mut db = ctx.db();
    let s = stream_arg(&mut db, args)?;
    let Some(g) = s.groups.get(args.get(3)) else {
        return Err(no_group(args.get(2), args.get(3)));
    };
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(c.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now - c.seen_time).max(0));
    }
    Ok(())
}

/// XINFO HELP
pub fn xinfo_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    crate::commands::server::help_reply(
        out,
        "XINFO",
        &[
            (
                "CONSUMERS <key> <groupname>",
                "The consumers of a group, with their pending counts and idle times.",
            ),
            ("GROUPS <key>", "The consumer groups of a stream."),
            (
                "STREAM <key> [FULL [COUNT <count>]",
                "The stream's metadata, first and last entries; FULL adds entries, groups and PELs (at most \
                 <count> of each, 10 by default, 0 for all).",
            ),
        ],
    );
    Ok(())
}
