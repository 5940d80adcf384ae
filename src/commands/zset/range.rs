//! Ranges: ZRANGE and its older forms (ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
//! ZREVRANGEBYLEX), ZRANGESTORE, and ZREMRANGEBYRANK/BYSCORE/BYLEX.

use std::ops::Range;

use resp::ReplyBuf;

use super::super::{Args, Ctx};
use super::{
    entries_header, entry, limits, parse_lex_range, parse_score_range, rank_range, read_zset, remove_and_reply, store,
};
use crate::error::{CmdError, CmdResult};
use crate::storage::object::zset::{LexRange, ScoreRange, ZSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

/// The parsed interval.
enum Interval {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Which entries a range selects: ascending ranks, and whether they are emitted from the top.
fn select(z: &ZSet, interval: &Interval, rev: bool, offset: i64, limit: i64) -> Range<usize> {
    let len = z.len();
    let ranks = match interval {
        Interval::Rank(start, end) => {
            // Reverse ranks count from the top.
            let r = rank_range(*start, *end, len);
            return if rev && !r.is_empty() {
                len - r.end..len - r.start
            } else {
                r
            };
        }
        Interval::Score(r) => z.score_ranks(r),
        Interval::Lex(r) => z.lex_ranks(r),
    };
    // LIMIT: a negative offset selects nothing (Redis's skip loop runs past the end); a negative count
    // means no limit.
    if offset < 0 || offset as u64 >= ranks.len() as u64 {
        return 0..0;
    }
    let offset = offset as usize;
    let avail = ranks.len() - offset;
    let take = if limit < 0 { avail } else { avail.min(limit as usize) };
    if rev {
        ranks.end - offset - take..ranks.end - offset
    } else {
        ranks.start + offset..ranks.start + offset + take
    }
}

/// Redis's `zrangeGenericCommand`: `src` is the index of the source key (the interval follows it), `by`
/// and `dir` are fixed by the older commands and `Auto` for ZRANGE/ZRANGESTORE, `dst` is ZRANGESTORE's.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    src: usize,
    mut by: By,
    mut dir: Dir,
    dst: Option<&[u8]>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        if dst.is_none() && args.is(j, "withscores") {
            withscores = true;
        } else if args.is(j, "limit") && left >= 2 {
            offset = args.int(j + 1)?;
            limit = args.int(j + 2)?;
            j += 2;
        } else if dir == Dir::Auto && args.is(j, "rev") {
            dir = Dir::Reverse;
        } else if by == By::Auto && args.is(j, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && args.is(j, "byscore") {
            by = By::Score;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let rev = dir == Dir::Reverse;
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // By score or lex, a reverse range is given as max then min.
    let (mut lo, mut hi) = (args.get(src + 1), args.get(src + 2));
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let interval = match by {
        By::Score => Interval::Score(parse_score_range(lo, hi)?),
        By::Lex => Interval::Lex(parse_lex_range(lo, hi)?),
        _ => Interval::Rank(args.int(src + 1)?, args.int(src + 2)?),
    };
    let lim = limits(ctx);
    let mut db = ctx.db();
    let key = args.get(src);
    let Some(dst) = dst else {
        let Some(z) = read_zset(&mut db, key)? else {
            out.array(0);
            return Ok(());
        };
        let ranks = select(z, &interval, rev, offset, limit);
        entries_header(out, ranks.len(), withscores);
        z.visit(ranks, rev, |m, s| {
            entry(out, m, s, withscores);
            true
        });
        return Ok(());
    };
    // The result is built entry by entry in the order a reply would list them, in a set created for the
    // number of entries when a rank range gives it (Redis's order of construction, see `build_in_order`).
    let mut items: Vec<(Vec<u8>, f64)> = vec![];
    if let Some(z) = read_zset(&mut db, key)? {
        let ranks = select(z, &interval, rev, offset, limit);
        items.reserve(ranks.len());
        z.visit(ranks, rev, |m, s| {
            items.push((m.to_vec(), s));
            true
        });
    }
    let n = items.len();
    let hint = if matches!(interval, Interval::Rank(..)) { n } else { 0 };
    store(ctx, dst, ZSet::build_in_order(&items, hint, lim), "zrangestore");
    out.int(n as i64);
    Ok(())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, By::Auto, Dir::Auto, None, out)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub fn zrangestore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 2, By::Auto, Dir::Auto, Some(args.get(1)), out)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub fn zrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, By::Rank, Dir::Reverse, None, out)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub fn zrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, By::Score, Dir::Forward, None, out)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, By::Score, Dir::Reverse, None, out)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub fn zrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, By::Lex, Dir::Forward, None, out)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, By::Lex, Dir::Reverse, None, out)
}

/// Redis's `zremrangeGenericCommand`: parse the interval, then remove what it covers.
fn zremrange(ctx: &mut Ctx<'_>, args: &Args<'_>, by: By, out: &mut ReplyBuf) -> CmdResult {
    let (a, b) = (args.get(2), args.get(3));
    let interval = match by {
        By::Score => Interval::Score(parse_score_range(a, b)?),
        By::Lex => Interval::Lex(parse_lex_range(a, b)?),
        _ => Interval::Rank(args.int(2)?, args.int(3)?),
    };
    let event = match by {
        By::Score => "zremrangebyscore",
        By::Lex => "zremrangebylex",
        _ => "zremrangebyrank",
    };
    remove_and_reply(ctx, args.get(1), event, out, |z| {
        let ranks = select(z, &interval, false, 0, -1);
        let n = ranks.len();
        z.remove_ranks(ranks);
        n
    })
}

/// ZREMRANGEBYRANK key start stop
pub fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zremrange(ctx, args, By::Rank, out)
}

/// ZREMRANGEBYSCORE key min max
pub fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zremrange(ctx, args, By::Score, out)
}

/// ZREMRANGEBYLEX key min max
pub fn zremrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zremrange(ctx, args, By::Lex, out)
}
