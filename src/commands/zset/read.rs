//! Point reads and counts (ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT), random members
//! (ZRANDMEMBER), ZSCAN, and ZREM.

use rand::Rng;
use resp::ReplyBuf;

use super::super::{Args, Ctx};
use super::{entries_header, entry, int_in_range, parse_lex_range, parse_score_range, read_zset, remove_and_reply};
use crate::error::{CmdError, CmdResult};
use crate::util::glob::glob_match;

/// ZCARD key
pub fn zcard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = read_zset(&mut db, args.get(1))?.map_or(0, |z| z.len());
    out.int(n as i64);
    Ok(())
}

/// ZSCORE key member
pub fn zscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    match read_zset(&mut db, args.get(1))?.and_then(|z| z.score(args.get(2))) {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
pub fn zmscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let z = read_zset(&mut db, args.get(1))?;
    out.array(args.len() - 2);
    for m in args.rest(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

fn rank_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, rev: bool, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let found = read_zset(&mut db, args.get(1))?.and_then(|z| {
        let (r, _) = z.rank(args.get(2))?;
        Some(if rev { z.len() - 1 - r } else { r })
    });
    match found {
        Some(r) => out.int(r as i64),
        None => out.null(),
    }
    Ok(())
}

/// ZRANK key member
pub fn zrank(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rank_generic(ctx, args, false, out)
}

/// ZREVRANK key member
pub fn zrevrank(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rank_generic(ctx, args, true, out)
}

/// ZCOUNT key min max
pub fn zcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let range = parse_score_range(args.get(2), args.get(3))?;
    let mut db = ctx.db();
    let n = read_zset(&mut db, args.get(1))?.map_or(0, |z| z.score_ranks(&range).len());
    out.int(n as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
pub fn zlexcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let range = parse_lex_range(args.get(2), args.get(3))?;
    let mut db = ctx.db();
    let n = read_zset(&mut db, args.get(1))?.map_or(0, |z| z.lex_ranks(&range).len());
    out.int(n as i64);
    Ok(())
}

/// ZREM key member [member ...]
pub fn zrem(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    remove_and_reply(ctx, args.get(1), "zrem", out, |z| {
        let mut n = 0;
        for m in args.rest(2) {
            if z.remove(m).is_some() {
                n += 1;
                if z.is_empty() {
                    break;
                }
            }
        }
        n
    })
}

/// ZRANDMEMBER key [count [WITHSCORES]]
///
/// A positive count gives distinct members (all of them when the count reaches the size), a negative
/// one allows repeats. Which members, and in what order, is random; the shape of the reply is Redis's.
pub fn zrandmember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() == 2 {
        let mut db = ctx.db();
        match read_zset(&mut db, args.get(1))? {
            None => out.null(),
            Some(z) => {
                let r = rand::thread_rng().gen_range(0..z.len());
                match z.get(r) {
                    Some((m, _)) => out.bulk(&m),
                    None => out.null(),
                }
            }
        }
        return Ok(());
    }
    let l = int_in_range(args.get(2), -i64::MAX, i64::MAX, None)?;
    let withscores = match args.len() {
        3 => false,
        4 if args.is(3, "withscores") => true,
        _ => return Err(CmdError::syntax()),
    };
    if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("value is out of range"));
    }
    let mut db = ctx.db();
    let Some(z) = read_zset(&mut db, args.get(1))? else {
        out.array(0);
        return Ok(());
    };
    let (count, unique) = (l.unsigned_abs(), l >= 0);
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let size = z.len();
    let mut rng = rand::thread_rng();
    if !unique {
        // Repeats allowed: independent picks. A listpack is read once rather than once per pick.
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        entries_header(out, count, withscores);
        if z.as_listpack().is_some() {
            let all = z.to_vec();
            for _ in 0..count {
                let (m, s) = &all[rng.gen_range(0..size)];
                entry(out, m, *s, withscores);
            }
        } else {
            for _ in 0..count {
                if let Some((m, s)) = z.get(rng.gen_range(0..size)) {
                    entry(out, &m, s, withscores);
                }
            }
        }
        return Ok(());
    }
    if count >= size as u64 {
        // The whole set, from the highest score down (the order Redis's iterator walks a sorted set).
        entries_header(out, size, withscores);
        z.visit(0..size, true, |m, s| {
            entry(out, m, s, withscores);
            true
        });
        return Ok(());
    }
    // Distinct members (count < size): a partial shuffle of every rank when the count is a good share
    // of the set, else random ranks until enough distinct ones (Redis's two cases, same threshold).
    let count = count as usize;
    let ranks: Vec<usize> = if count * 3 > size {
        let mut all: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = rng.gen_range(i..size);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut picked = std::collections::HashSet::with_capacity(count);
        let mut order = Vec::with_capacity(count);
        while order.len() < count {
            let r = rng.gen_range(0..size);
            if picked.insert(r) {
                order.push(r);
            }
        }
        order
    };
    entries_header(out, count, withscores);
    for &r in &ranks {
        if let Some((m, s)) = z.get(r) {
            entry(out, &m, s, withscores);
        }
    }
    Ok(())
}

/// Redis's `parseScanCursorOrReply`: C's `strtoul` in base 10 over the whole argument, no leading blank,
/// no overflow (a leading `-` wraps around, as strtoul does).
fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::err("invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
///
/// A listpack comes back whole with cursor 0 (COUNT is only a hint), scores in their stored form; the
/// large encoding is walked with the hash table's reverse-binary cursor, so a member present for the
/// whole scan is returned at least once.
pub fn zscan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let mut db = ctx.db();
    let Some(z) = read_zset(&mut db, args.get(1))? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - i - 1;
        if args.is(i, "count") && more >= 1 {
            count = args.int(i + 1)?;
            if count < 1 {
                return Err(CmdError::syntax());
            }
            i += 2;
        } else if args.is(i, "match") && more >= 1 {
            pattern = Some(args.get(i + 1));
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    // Redis skips the pattern test for `*`.
    let pattern = pattern.filter(|p| *p != b"*");
    let mut found: Vec<(Vec<u8>, Vec<u8>)> = vec![];
    let mut next = cursor;
    let mut budget = count.saturating_mul(10);
    loop {
        next = z.scan_text(next, |m, s| found.push((m.to_vec(), s.to_vec())));
        budget -= 1;
        // Redis counts list items, a member and its score being two.
        if next == 0 || budget <= 0 || 2 * found.len() as i64 >= count {
            break;
        }
    }
    if let Some(p) = pattern {
        found.retain(|(m, _)| glob_match(p, m, false));
    }
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(2 * found.len());
    for (m, s) in &found {
        out.bulk(m);
        out.bulk(s);
    }
    Ok(())
}
