//! Pops: ZPOPMIN, ZPOPMAX, ZMPOP, and the blocking BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! A blocking pop that finds every key missing asks the blocking framework to suspend the client
//! (`server::blocking`); when a key it waits on is created as a sorted set, its request runs again with
//! `ctx.serving_key()` naming that key, and Redis 7.0 pops from that key only. Where the client may not
//! block (MULTI, scripts) the answer is the timeout's: a null array.

use resp::ReplyBuf;

use super::super::keyspace::DbView;
use super::super::{Args, Ctx};
use super::{int_in_range, with_zset};
use crate::error::{CmdError, CmdResult};
use crate::server::blocking::{BlockSpec, TimeoutReply, WaitType};
use crate::util::int_text::IntText;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Min,
    Max,
}

impl End {
    fn pop_command(self) -> &'static [u8] {
        match self {
            End::Min => b"ZPOPMIN",
            End::Max => b"ZPOPMAX",
        }
    }
}

/// How the popped entries are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// ZPOPMIN/ZPOPMAX: `[m, s, m, s...]`.
    Flat,
    /// ZPOPMIN/ZPOPMAX with a count in RESP3: `[[m, s]...]`.
    Nested,
    /// BZPOPMIN/BZPOPMAX: `[key, m, s]`.
    KeyFlat,
    /// ZMPOP/BZMPOP: `[key, [[m, s]...]]`.
    KeyNested,
}

/// Pop up to `count` entries from the sorted set at `key`, replying in `shape`: `None` (and no reply)
/// when the key is missing, WRONGTYPE for another type, else how many were popped.
fn pop_from(
    db: &mut DbView<'_>,
    key: &[u8],
    end: End,
    count: usize,
    shape: Shape,
    out: &mut ReplyBuf,
) -> Result<Option<usize>, CmdError> {
    let n = with_zset(db, key, |z| {
        let len = z.len();
        let n = count.min(len);
        match shape {
            Shape::Flat => out.array(2 * n),
            Shape::Nested => out.array(n),
            Shape::KeyFlat => {
                out.array(2 * n + 1);
                out.bulk(key);
            }
            Shape::KeyNested => {
                out.array(2);
                out.bulk(key);
                out.array(n);
            }
        }
        let nested = matches!(shape, Shape::Nested | Shape::KeyNested);
        let ranks = match end {
            End::Min => 0..n,
            End::Max => len - n..len,
        };
        z.visit(ranks.clone(), end == End::Max, |m, s| {
            if nested {
                out.array(2);
            }
            out.bulk(m);
            out.double(s);
            true
        });
        z.remove_ranks(ranks);
        n
    })?;
    if let Some(n) = n {
        db.mark_dirty(key, n as u64);
    }
    Ok(n)
}

/// Pop from the first of `keys` that holds a sorted set (WRONGTYPE on a key of another type met
/// first): the key and the number popped, or `None` (no reply written) when every key is missing.
fn pop_first<'k>(
    db: &mut DbView<'_>,
    keys: &[&'k [u8]],
    end: End,
    count: usize,
    shape: Shape,
    out: &mut ReplyBuf,
) -> Result<Option<(&'k [u8], usize)>, CmdError> {
    for &k in keys {
        if let Some(n) = pop_from(db, k, end, count, shape, out)? {
            return Ok(Some((k, n)));
        }
    }
    Ok(None)
}

fn zpop(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::syntax());
    }
    let count = match args.len() {
        3 => Some(int_in_range(
            args.get(2),
            0,
            i64::MAX,
            Some("value is out of range, must be positive"),
        )?),
        _ => None,
    };
    let shape = if count.is_some() && out.is_resp3() {
        Shape::Nested
    } else {
        Shape::Flat
    };
    let mut db = ctx.db();
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    // A count of 0 still checks the key's type, and answers an empty array like a missing key.
    if count == 0 {
        with_zset(&mut db, args.get(1), |_| ())?;
        out.array(0);
    } else if pop_from(&mut db, args.get(1), end, count, shape, out)?.is_none() {
        out.array(0);
    }
    Ok(())
}

/// ZPOPMIN key [count]
pub fn zpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zpop(ctx, args, End::Min, out)
}

/// ZPOPMAX key [count]
pub fn zpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zpop(ctx, args, End::Max, out)
}

/// ZMPOP/BZMPOP's arguments from `numkeys_idx` on: `numkeys key [key ...] MIN|MAX [COUNT count]`.
fn parse_mpop<'a>(args: &Args<'a>, numkeys_idx: usize) -> Result<(Vec<&'a [u8]>, End, usize), CmdError> {
    let numkeys = int_in_range(
        args.get(numkeys_idx),
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )?;
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_idx + 1))
        .filter(|&w| w < args.len())
        .ok_or_else(CmdError::syntax)?;
    let end = if args.is(where_idx, "min") {
        End::Min
    } else if args.is(where_idx, "max") {
        End::Max
    } else {
        return Err(CmdError::syntax());
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && args.is(j, "count") && j + 1 < args.len() {
            count = Some(int_in_range(
                args.get(j + 1),
                1,
                i64::MAX,
                Some("count should be greater than 0"),
            )?);
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let keys = (numkeys_idx + 1..where_idx).map(|i| args.get(i)).collect();
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((keys, end, count))
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
///
/// Propagated as `ZPOPMIN|ZPOPMAX key n`, n being the number of members popped.
pub fn zmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 1)?;
    let mut db = ctx.db();
    let Some((key, n)) = pop_first(&mut db, &keys, end, count, Shape::KeyNested, out)? else {
        out.null_array();
        return Ok(());
    };
    db.journal
        .replace(db.index, &[end.pop_command(), key, IntText::new(n as i64).as_bytes()]);
    Ok(())
}

/// The blocking pops' common part: serve from the first key holding a sorted set (only the key that
/// became ready when this is a blocked client's re-run), else block.
fn blocking_pop(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    end: End,
    deadline: Option<i64>,
    count: Option<usize>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let serving = ctx.serving_key().map(|k| k.to_vec());
    let candidates: Vec<&[u8]> = match &serving {
        Some(k) => keys.iter().copied().filter(|x| *x == k.as_slice()).take(1).collect(),
        None => keys.to_vec(),
    };
    let mut db = ctx.db();
    let (c, shape) = match count {
        None => (1, Shape::KeyFlat),
        Some(c) => (c, Shape::KeyNested),
    };
    if let Some((key, n)) = pop_first(&mut db, &candidates, end, c, shape, out)? {
        match count {
            None => db.journal.replace(db.index, &[end.pop_command(), key]),
            Some(_) => db
                .journal
                .replace(db.index, &[end.pop_command(), key, IntText::new(n as i64).as_bytes()]),
        }
        return Ok(());
    }
    if !ctx.can_block() {
        out.null_array();
        return Ok(());
    }
    let spec = BlockSpec {
        db: ctx.client.db,
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        wait: WaitType::ZSet,
        deadline_ms: deadline,
        on_timeout: TimeoutReply::NullArray,
        resolved: vec![],
    };
    ctx.block_on_keys(spec);
    Ok(())
}

fn bzpop(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End, out: &mut ReplyBuf) -> CmdResult {
    let deadline = ctx.block_deadline(args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    blocking_pop(ctx, &keys, end, deadline, None, out)
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bzpop(ctx, args, End::Min, out)
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bzpop(ctx, args, End::Max, out)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let deadline = ctx.block_deadline(args.get(1))?;
    let (keys, end, count) = parse_mpop(args, 2)?;
    blocking_pop(ctx, &keys, end, deadline, Some(count), out)
}
