//! The blocking pops: BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH.
//!
//! Each first behaves like its non-blocking twin when a list is there. When none is, the handler asks
//! `server::blocking` to suspend the client on its keys and writes nothing; the request then runs
//! again when a key becomes a list, with `ctx.serving_key()` naming that key, and is served from it
//! alone (as Redis 7.0 serves a woken client from the key that woke it, not from the first of its keys
//! that happens to hold a list). Where blocking is not allowed (inside MULTI, scripts), the reply is the
//! timeout's at once.
//!
//! Effects, as Redis 7.0 propagates them, whether served at once or after waiting: BLPOP/BRPOP become
//! `LPOP|RPOP key`, BLMPOP becomes `LPOP|RPOP key n` (n = what was popped), BLMOVE becomes `LMOVE src
//! dst <from> <to>` and BRPOPLPUSH `RPOPLPUSH src dst`. A wait that times out propagates nothing.
//!
//! Replies on timeout (and CLIENT UNBLOCK ... TIMEOUT) are the null array for all five, BLMOVE and
//! BRPOPLPUSH included (`*-1` in RESP2, as Redis 7.0 answers); when blocking is refused, BLMOVE and
//! BRPOPLPUSH answer the null bulk string like LMOVE.

use resp::ReplyBuf;

use super::{list_mut, move_element, mpop_from, parse_mpop, parse_side, reply_item, MoveEffect};
use crate::commands::{Args, Ctx};
use crate::error::CmdResult;
use crate::server::blocking::{BlockSpec, TimeoutReply, WaitType};

/// The keys to try: the one that woke us during a re-run, else all of them in order.
fn candidates<'k>(ctx: &Ctx<'_>, keys: &[&'k [u8]]) -> Vec<&'k [u8]> {
    match ctx.serving_key() {
        Some(k) => keys.iter().copied().filter(|c| *c == k).take(1).collect(),
        None => keys.to_vec(),
    }
}

/// Suspend the client on `keys` (the dispatcher keeps an already blocked client's place and deadline),
/// or, where blocking is not allowed, answer at once with `give_up`.
fn block_or(ctx: &mut Ctx<'_>, keys: &[&[u8]], deadline_ms: Option<i64>, give_up: impl FnOnce()) {
    if !ctx.can_block() {
        give_up();
        return;
    }
    let spec = BlockSpec {
        db: ctx.client.db,
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        wait: WaitType::List,
        deadline_ms,
        on_timeout: TimeoutReply::NullArray,
        resolved: vec![],
    };
    ctx.block_on_keys(spec);
}

/// BLPOP key [key ...] timeout
pub fn blpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bpop(ctx, args, out, true)
}

/// BRPOP key [key ...] timeout
pub fn brpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bpop(ctx, args, out, false)
}

fn bpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, left: bool) -> CmdResult {
    let deadline = ctx.block_deadline(args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    let db_index = ctx.client.db;
    for key in candidates(ctx, &keys) {
        let mut db = ctx.db();
        let Some(mut e) = db.lookup_write(key) else {
            continue;
        };
        let l = list_mut(&mut e)?;
        let Some(v) = l.pop(left) else {
            continue;
        };
        if l.is_empty() {
            e.remove();
        }
        db.mark_dirty(key, 1);
        out.array(2);
        out.bulk(key);
        reply_item(out, v.item());
        let cmd: &[u8] = if left { b"LPOP" } else { b"RPOP" };
        db.journal.replace(db_index, &[cmd, key]);
        return Ok(());
    }
    block_or(ctx, &keys, deadline, || out.null_array());
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let p = parse_mpop(args, 2)?;
    let deadline = ctx.block_deadline(args.get(1))?;
    let keys: Vec<&[u8]> = (p.first_key..p.first_key + p.numkeys).map(|i| args.get(i)).collect();
    let tried = candidates(ctx, &keys);
    if mpop_from(ctx, tried.into_iter(), p.left, p.count, out)? {
        return Ok(());
    }
    block_or(ctx, &keys, deadline, || out.null_array());
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub fn blmove(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let from_left = parse_side(args.get(3))?;
    let to_left = parse_side(args.get(4))?;
    let sides = (args.get(3), args.get(4));
    bmove(ctx, args, out, from_left, to_left, sides, 5, MoveEffect::Lmove)
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sides = (&b"RIGHT"[..], &b"LEFT"[..]);
    bmove(ctx, args, out, false, true, sides, 3, MoveEffect::Rpoplpush)
}

#[allow(clippy::too_many_arguments)]
fn bmove(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    out: &mut ReplyBuf,
    from_left: bool,
    to_left: bool,
    sides: (&[u8], &[u8]),
    timeout_at: usize,
    effect: MoveEffect,
) -> CmdResult {
    let deadline = ctx.block_deadline(args.get(timeout_at))?;
    let (src, dst) = (args.get(1), args.get(2));
    if move_element(ctx, src, dst, from_left, to_left, sides, effect, out)? {
        return Ok(());
    }
    block_or(ctx, &[src], deadline, || out.null());
    Ok(())
}
