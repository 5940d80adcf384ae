//! Whole databases: DBSIZE, SWAPDB, FLUSHDB, FLUSHALL.

use resp::ReplyBuf;

use super::super::{Args, Ctx};
use crate::error::{CmdError, CmdResult, DB_INDEX};
use crate::server::core::Core;

/// DBSIZE
///
/// Keys past their deadline that nobody has deleted yet still count, as in Redis.
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.db().len() as i64);
    Ok(())
}

/// SWAPDB index1 index2
///
/// Clients keep their database number, so each sees the other database's keys from now on.
pub fn swapdb(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let a = args.int32(1).map_err(|_| CmdError::err("invalid first DB index"))?;
    let b = args.int32(2).map_err(|_| CmdError::err("invalid second DB index"))?;
    let n = ctx.core.dbs.len();
    let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
        return Err(CmdError::err(DB_INDEX));
    };
    if a >= n || b >= n {
        return Err(CmdError::err(DB_INDEX));
    }
    let now = ctx.core.now_ms;
    let core = &mut *ctx.core;
    // Swapping a database with itself changes nothing, and breaks no WATCH (it still counts).
    if a != b {
        core.watches.touch_db(a, &core.dbs[a], Some(&core.dbs[b]), now);
        core.watches.touch_db(b, &core.dbs[b], Some(&core.dbs[a]), now);
        core.dbs.swap(a, b);
    }
    core.stats.dirty += 1;
    out.ok();
    Ok(())
}

/// Whether a flush frees in the background: `[ASYNC|SYNC]`, by default `lazyfree-lazy-user-flush`.
fn flush_is_async(ctx: &Ctx<'_>, args: &Args<'_>) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.core.config.lazyfree_lazy_user_flush),
        2 if args.is(1, "sync") => Ok(false),
        2 if args.is(1, "async") => Ok(true),
        _ => Err(CmdError::syntax()),
    }
}

/// Empty database `index`; returns how many keys it held. An asynchronous flush hands the whole
/// database to the lazy-free thread (whatever its size, as Redis does).
pub(crate) fn empty_db(core: &mut Core, index: usize, lazy: bool) -> u64 {
    core.watches.touch_db(index, &core.dbs[index], None, core.now_ms);
    let db = &mut core.dbs[index];
    let n = db.len() as u64;
    if n == 0 {
        return 0;
    }
    let contents = db.clear();
    if lazy {
        core.lazyfree.free_db(contents, n);
    }
    n
}

/// A flush is journaled even when it removed nothing, so replicas and the AOF converge on empty.
fn journal_as_received(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if ctx.core.journal.active() {
        let argv: Vec<&[u8]> = args.iter().collect();
        ctx.core.journal.replace(ctx.client.db, &argv);
    }
}

/// FLUSHDB [ASYNC|SYNC]
pub fn flushdb(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    let removed = empty_db(ctx.core, ctx.client.db, lazy);
    ctx.core.tracking.flush();
    ctx.core.stats.dirty += removed;
    journal_as_received(ctx, args);
    out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]
pub fn flushall(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    // As Redis kills its saving child: an image of what is being flushed is of no use. An AOF
    // rewrite goes on (its new incr file holds this FLUSHALL after the old dataset).
    if ctx.core.bgsave.as_ref().is_some_and(|b| b.is_rdb()) {
        crate::server::persist::abort_bgsave(ctx.core);
    }
    let mut removed = 0;
    for index in 0..ctx.core.dbs.len() {
        removed += empty_db(ctx.core, index, lazy);
    }
    ctx.core.tracking.flush();
    // Redis counts the flush itself as one more change.
    ctx.core.stats.dirty += removed + 1;
    journal_as_received(ctx, args);
    out.ok();
    Ok(())
}
