//! List commands: pushes and pops at both ends, ranges, indexes, searches, moves between lists, and the
//! blocking pops (`blocking.rs`).
//!
//! Every handler parses its arguments in Redis 7.0's order, which decides which error wins when several
//! apply: LRANGE, LTRIM, LREM and LPOP's count are parsed before the key is looked up, so a bad number
//! fails even on a missing key; LINDEX and LSET look the key up first (a missing key answers nil or
//! "no such key" whatever the index says).
//!
//! A list that a command empties is deleted at once: no empty list ever stays in the keyspace. A list
//! created by a push (or by LMOVE's destination) goes through [`DbView::set`], which wakes clients
//! blocked on that key; a push into a list that exists never needs to, because a client only blocks on
//! keys that hold no list.
//!
//! The dirty counter moves as in Redis (it decides what is propagated): a push by the number of
//! elements pushed, a pop by the number popped, LREM by the number removed, LTRIM by the number trimmed,
//! LSET, LINSERT and LMOVE by one; a command that changes nothing leaves it alone and propagates nothing.
//!
//! Keyspace events are Redis's: `lpush`/`rpush` for every push (LPUSHX and RPUSHX included), `lpop`/`rpop`
//! for every pop (LMPOP and the blocking pops included, also when a blocked client is served), `linsert`,
//! `lset`, `lrem` (when something was removed), `ltrim` (always, even when nothing was trimmed), and the
//! `del` of a list a command emptied, after the command's own event. A move reports the push into the
//! destination before the pop from the source, as Redis does.
//!
//! Known differences from Redis 7.0, kept on purpose: none.

mod blocking;

pub use blocking::{blmove, blmpop, blpop, brpop, brpoplpush};

use resp::ReplyBuf;

use super::args::parse_int;
use super::keyspace::{DbView, Ttl};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY};
use crate::server::notify::class;
use crate::storage::object::list::{List, Matcher, Popped};
use crate::storage::object::listpack::LpItem;
use crate::storage::{EntryMut, NewValue, Object, ValueRef};

// ---- shared helpers ----

/// The list in an entry, or WRONGTYPE.
fn list_mut<'e>(e: &'e mut EntryMut<'_>) -> Result<&'e mut List, CmdError> {
    match e.obj_mut() {
        Some(Object::List(l)) => Ok(l),
        _ => Err(CmdError::WrongType),
    }
}

/// The list in a value, or WRONGTYPE.
fn as_list(v: ValueRef<'_>) -> Result<&List, CmdError> {
    match v {
        ValueRef::Obj(Object::List(l)) => Ok(l),
        _ => Err(CmdError::WrongType),
    }
}

/// An empty list with the server's current node settings (Redis fixes them when a list is created).
fn new_list(ctx: &Ctx<'_>) -> List {
    let c = &ctx.core.config;
    List::new(
        c.list_max_listpack_size,
        c.list_compress_depth.min(i32::MAX as u32) as i32,
    )
}

/// Store a list that does not exist yet (waking clients blocked on the key).
fn store_new(db: &mut DbView<'_>, key: &[u8], l: List) {
    db.set(key, NewValue::Obj(Object::List(Box::new(l))), Ttl::Clear);
}

/// The event of a push at one end.
fn push_event(left: bool) -> &'static str {
    if left {
        "lpush"
    } else {
        "rpush"
    }
}

/// The event of a pop from one end.
fn pop_event(left: bool) -> &'static str {
    if left {
        "lpop"
    } else {
        "rpop"
    }
}

/// Report `n` elements popped from `key` (through `lookup_write`), and the deletion of the list when that
/// emptied it.
fn popped(db: &mut DbView<'_>, key: &[u8], n: u64, left: bool, emptied: bool) {
    db.changed(key, n, class::LIST, pop_event(left));
    if emptied {
        db.emptied(key);
    }
}

/// Reply with one element as a bulk string.
fn reply_item(out: &mut ReplyBuf, item: LpItem<'_>) {
    match item {
        LpItem::Str(s) => out.bulk(s),
        LpItem::Int(i) => {
            let mut b = itoa::Buffer::new();
            out.bulk(b.format(i).as_bytes());
        }
    }
}

/// `LEFT` (true) or `RIGHT` (false), else a syntax error.
fn parse_side(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

/// Redis's `getRangeLongFromObjectOrReply`: an integer within `min..=max`. With `msg`, that message
/// answers both a non-integer and a value out of range; without it, Redis's generic texts do.
fn parse_ranged(arg: &[u8], min: i64, max: i64, msg: Option<&'static str>) -> Result<i64, CmdError> {
    let v = parse_int(arg).map_err(|e| msg.map_or(e, CmdError::err))?;
    if v < min || v > max {
        return Err(match msg {
            Some(m) => CmdError::err(m),
            None => CmdError::err(format!("value is out of range, must be between {min} and {max}")),
        });
    }
    Ok(v)
}

/// Redis's `getPositiveLongFromObjectOrReply` with its default message.
fn parse_positive(arg: &[u8]) -> Result<i64, CmdError> {
    parse_ranged(arg, 0, i64::MAX, Some("value is out of range, must be positive"))
}

/// Clamp LRANGE-style bounds (negative counts from the tail) to `len`: the first position and how many
/// elements follow, or None for an empty range.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { start + len } else { start };
    let mut end = if end < 0 { end + len } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

/// Reply with `n` elements popped from one end (head first for `left`, tail first otherwise), then
/// delete them.
fn pop_range_reply(l: &mut List, left: bool, n: usize, out: &mut ReplyBuf) {
    let len = l.len();
    out.array(n);
    if left {
        for item in l.iter_from(0).take(n) {
            reply_item(out, item);
        }
        l.delete_range(0, n);
    } else {
        for item in l.iter_rev_from(len - 1).take(n) {
            reply_item(out, item);
        }
        l.delete_range(len - n, n);
    }
}

// ---- pushes ----

/// LPUSH key element [element ...]
pub fn lpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, out, true, false)
}

/// RPUSH key element [element ...]
pub fn rpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, out, false, false)
}

/// LPUSHX key element [element ...]: only into a list that exists.
pub fn lpushx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, out, true, true)
}

/// RPUSHX key element [element ...]: only into a list that exists.
pub fn rpushx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, out, false, true)
}

fn push(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, left: bool, existing_only: bool) -> CmdResult {
    let key = args.get(1);
    let pushed = args.len() - 2;
    let fresh = new_list(ctx);
    let mut db = ctx.db();
    let len = match db.lookup_write(key) {
        Some(mut e) => {
            let l = list_mut(&mut e)?;
            for v in args.rest(2) {
                l.push(v, left);
            }
            let len = l.len();
            db.changed(key, pushed as u64, class::LIST, push_event(left));
            len
        }
        None if existing_only => 0,
        None => {
            let mut l = fresh;
            for v in args.rest(2) {
                l.push(v, left);
            }
            let len = l.len();
            store_new(&mut db, key, l);
            db.stored(key, pushed as u64, class::LIST, push_event(left));
            len
        }
    };
    out.int(len as i64);
    Ok(())
}

// ---- pops ----

/// LPOP key [count]
pub fn lpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    pop(ctx, args, out, true)
}

/// RPOP key [count]
pub fn rpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    pop(ctx, args, out, false)
}

/// Without a count: one element as a bulk string (nil for a missing key). With a count: an array of up
/// to `count` elements, nil for a missing key, and an empty array for a count of 0 on a list.
fn pop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, left: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::err(format!(
            "wrong number of arguments for '{}' command",
            ctx.cmd.full_name
        )));
    }
    let count = if args.len() == 3 {
        Some(parse_positive(args.get(2))?)
    } else {
        None
    };
    let key = args.get(1);
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(key) else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    };
    let l = list_mut(&mut e)?;
    let n = match count {
        Some(0) => {
            out.array(0);
            return Ok(());
        }
        None => {
            match l.pop(left) {
                Some(v) => reply_item(out, v.item()),
                None => out.null(),
            }
            1
        }
        Some(c) => {
            let n = (c as u64).min(l.len() as u64) as usize;
            pop_range_reply(l, left, n, out);
            n
        }
    };
    let emptied = l.is_empty();
    if emptied {
        e.remove();
    }
    popped(&mut db, key, n as u64, left, emptied);
    Ok(())
}

// ---- reads ----

/// LLEN key
pub fn llen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = match db.lookup_read(args.get(1)) {
        Some(e) => as_list(e.value())?.len(),
        None => 0,
    };
    out.int(n as i64);
    Ok(())
}

/// LRANGE key start stop
pub fn lrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (start, end) = (args.int(2)?, args.int(3)?);
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        out.array(0);
        return Ok(());
    };
    let l = as_list(e.value())?;
    match clamp_range(start, end, l.len()) {
        Some((from, n)) => {
            out.array(n);
            for item in l.iter_from(from).take(n) {
                reply_item(out, item);
            }
        }
        None => out.array(0),
    }
    Ok(())
}

/// LINDEX key index
pub fn lindex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        out.null();
        return Ok(());
    };
    let l = as_list(e.value())?;
    let index = args.int(2)?;
    match l.get(index) {
        Some(item) => reply_item(out, item),
        None => out.null(),
    }
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
///
/// RANK picks the n-th match (negative: searching from the tail), COUNT how many matches to return
/// (0: all; given, the reply is an array), MAXLEN how many elements to examine (0: all). Positions are
/// always counted from the head. Redis negates a negative rank in a C `long`, so `RANK
/// -9223372036854775808` stays negative and then accepts every match: reproduced with wrapping
/// arithmetic.
pub fn lpos(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let ele = args.get(2);
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args.is(j, "rank") && more {
            rank = args.int(j + 1)?;
            if rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                     negative to start from the end of the list",
                ));
            }
        } else if args.is(j, "count") && more {
            count = parse_ranged(args.get(j + 1), 0, i64::MAX, Some("COUNT can't be negative"))?;
        } else if args.is(j, "maxlen") && more {
            maxlen = parse_ranged(args.get(j + 1), 0, i64::MAX, Some("MAXLEN can't be negative"))?;
        } else {
            return Err(CmdError::syntax());
        }
        j += 2;
    }
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        if count != -1 {
            out.array(0);
        } else {
            out.null();
        }
        return Ok(());
    };
    let l = as_list(e.value())?;
    let m = Matcher::new(ele);
    let len = l.len() as i64;
    let items: Box<dyn Iterator<Item = LpItem<'_>>> = if from_tail {
        Box::new(l.iter_rev_from(l.len().saturating_sub(1)))
    } else {
        Box::new(l.iter_from(0))
    };
    let mut found: Vec<i64> = vec![];
    let mut matches: i64 = 0;
    for (index, item) in (0i64..).zip(items) {
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if !m.matches(&item) {
            continue;
        }
        matches += 1;
        if matches >= rank {
            found.push(if from_tail { len - index - 1 } else { index });
            if count == -1 || (count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count) {
                break;
            }
        }
    }
    if count != -1 {
        out.array(found.len());
        for p in found {
            out.int(p);
        }
    } else {
        match found.first() {
            Some(&p) => out.int(p),
            None => out.null(),
        }
    }
    Ok(())
}

// ---- edits ----

/// LSET key index element
pub fn lset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(args.get(1)) else {
        return Err(CmdError::err(NO_SUCH_KEY));
    };
    let l = list_mut(&mut e)?;
    let index = args.int(2)?;
    if !l.set(index, args.get(3)) {
        return Err(CmdError::err("index out of range"));
    }
    db.changed(args.get(1), 1, class::LIST, "lset");
    out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 when the pivot is absent, 0 when the key
/// is.
pub fn linsert(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let after = if args.is(2, "after") {
        true
    } else if args.is(2, "before") {
        false
    } else {
        return Err(CmdError::syntax());
    };
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(args.get(1)) else {
        out.int(0);
        return Ok(());
    };
    let l = list_mut(&mut e)?;
    if !l.insert(args.get(3), args.get(4), after) {
        out.int(-1);
        return Ok(());
    }
    let len = l.len();
    db.changed(args.get(1), 1, class::LIST, "linsert");
    out.int(len as i64);
    Ok(())
}

/// LREM key count element: count > 0 removes from the head, < 0 from the tail, 0 removes all.
pub fn lrem(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let count = args.int(2)?;
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(args.get(1)) else {
        out.int(0);
        return Ok(());
    };
    let l = list_mut(&mut e)?;
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = l.remove(args.get(3), limit, count >= 0);
    let emptied = l.is_empty();
    if emptied {
        e.remove();
    }
    db.changed(args.get(1), removed as u64, class::LIST, "lrem");
    if emptied {
        db.emptied(args.get(1));
    }
    out.int(removed as i64);
    Ok(())
}

/// LTRIM key start stop: keep only the range (an empty range deletes the key).
pub fn ltrim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (start, end) = (args.int(2)?, args.int(3)?);
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(args.get(1)) else {
        out.ok();
        return Ok(());
    };
    let l = list_mut(&mut e)?;
    let len = l.len();
    let (ltrim, rtrim) = match clamp_range(start, end, len) {
        Some((from, n)) => (from, len - from - n),
        None => (len, 0),
    };
    l.delete_range(0, ltrim);
    l.delete_range(l.len() - rtrim, rtrim);
    let emptied = l.is_empty();
    if emptied {
        e.remove();
    }
    db.mark_dirty(args.get(1), (ltrim + rtrim) as u64);
    if ltrim + rtrim == 0 {
        // Redis signals the key even when nothing was trimmed: a WATCH on it breaks, and `ltrim` is
        // reported.
        db.touched(args.get(1));
    }
    db.notify(class::LIST, "ltrim", args.get(1));
    if emptied {
        db.emptied(args.get(1));
    }
    out.ok();
    Ok(())
}

// ---- moves ----

/// What a move propagates as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MoveEffect {
    /// The command as received (LMOVE, RPOPLPUSH).
    AsIs,
    /// `LMOVE src dst <from> <to>`, sides as given (BLMOVE served at once).
    Lmove,
    /// `RPOPLPUSH src dst` (BRPOPLPUSH served at once).
    Rpoplpush,
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub fn lmove(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let from_left = parse_side(args.get(3))?;
    let to_left = parse_side(args.get(4))?;
    let sides = (args.get(3), args.get(4));
    if !move_element(
        ctx,
        args.get(1),
        args.get(2),
        from_left,
        to_left,
        sides,
        MoveEffect::AsIs,
        out,
    )? {
        out.null();
    }
    Ok(())
}

/// RPOPLPUSH source destination
pub fn rpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sides = (&b"RIGHT"[..], &b"LEFT"[..]);
    if !move_element(ctx, args.get(1), args.get(2), false, true, sides, MoveEffect::AsIs, out)? {
        out.null();
    }
    Ok(())
}

/// Pop from `src` and push into `dst` (which may be the same list: a rotation), replying with the
/// element. The destination's type is checked before anything moves. Returns false, having written
/// nothing, when `src` is missing.
#[allow(clippy::too_many_arguments)]
fn move_element(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from_left: bool,
    to_left: bool,
    sides: (&[u8], &[u8]),
    effect: MoveEffect,
    out: &mut ReplyBuf,
) -> Result<bool, CmdError> {
    let fresh = new_list(ctx);
    let db_index = ctx.client.db;
    let mut db = ctx.db();
    match db.lookup_write(src) {
        None => return Ok(false),
        Some(mut e) => {
            list_mut(&mut e)?;
        }
    }
    if src != dst {
        if let Some(mut e) = db.lookup_write(dst) {
            list_mut(&mut e)?;
        }
    }
    let (value, emptied): (Popped, bool) = {
        let Some(mut e) = db.lookup_write(src) else {
            return Ok(false);
        };
        let l = list_mut(&mut e)?;
        let Some(v) = l.pop(from_left) else {
            return Ok(false);
        };
        let emptied = l.is_empty() && src != dst;
        if emptied {
            e.remove();
        }
        (v, emptied)
    };
    // One change in all (counted with the push), to both keys.
    db.touched(src);
    let bytes = value.to_bytes();
    match db.lookup_write(dst) {
        Some(mut e) => {
            list_mut(&mut e)?.push(bytes.as_ref(), to_left);
            db.changed(dst, 1, class::LIST, push_event(to_left));
        }
        None => {
            let mut l = fresh;
            l.push(bytes.as_ref(), to_left);
            store_new(&mut db, dst, l);
            db.notify(class::LIST, push_event(to_left), dst);
        }
    }
    // Redis reports the pop after the push, then the source's deletion.
    db.notify(class::LIST, pop_event(from_left), src);
    if emptied {
        db.emptied(src);
    }
    reply_item(out, value.item());
    match effect {
        MoveEffect::AsIs => {}
        MoveEffect::Lmove => db.journal.replace(db_index, &[b"LMOVE", src, dst, sides.0, sides.1]),
        MoveEffect::Rpoplpush => db.journal.replace(db_index, &[b"RPOPLPUSH", src, dst]),
    }
    Ok(true)
}

// ---- LMPOP ----

/// The parsed tail of LMPOP/BLMPOP: `numkeys key [key ...] LEFT|RIGHT [COUNT count]`.
struct MpopArgs {
    /// Index of the first key and the number of keys.
    first_key: usize,
    numkeys: usize,
    left: bool,
    count: i64,
}

/// Parse `numkeys key... LEFT|RIGHT [COUNT n]` with `numkeys` at argument `at`, in Redis's order.
fn parse_mpop(args: &Args<'_>, at: usize) -> Result<MpopArgs, CmdError> {
    let numkeys = parse_ranged(args.get(at), 1, i64::MAX, Some("numkeys should be greater than 0"))?;
    let side_at = match usize::try_from(numkeys).ok().and_then(|n| n.checked_add(at + 1)) {
        Some(i) if i < args.len() => i,
        _ => return Err(CmdError::syntax()),
    };
    let left = parse_side(args.get(side_at))?;
    let mut count = -1;
    let mut j = side_at + 1;
    while j < args.len() {
        if count == -1 && args.is(j, "count") && j + 1 < args.len() {
            count = parse_ranged(args.get(j + 1), 1, i64::MAX, Some("count should be greater than 0"))?;
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(MpopArgs {
        first_key: at + 1,
        numkeys: side_at - at - 1,
        left,
        count: if count == -1 { 1 } else { count },
    })
}

/// Pop up to `count` elements from the first non-empty list among `keys`, replying `[key, [elements]]`
/// and propagating `LPOP|RPOP key n`. A key of another type met before a list fails with WRONGTYPE.
/// Returns false (having written nothing) if every key is missing.
fn mpop_from<'k>(
    ctx: &mut Ctx<'_>,
    keys: impl Iterator<Item = &'k [u8]>,
    left: bool,
    count: i64,
    out: &mut ReplyBuf,
) -> Result<bool, CmdError> {
    let db_index = ctx.client.db;
    let mut db = ctx.db();
    for key in keys {
        let Some(mut e) = db.lookup_write(key) else {
            continue;
        };
        let l = list_mut(&mut e)?;
        let n = (count as u64).min(l.len() as u64) as usize;
        out.array(2);
        out.bulk(key);
        pop_range_reply(l, left, n, out);
        let emptied = l.is_empty();
        if emptied {
            e.remove();
        }
        popped(&mut db, key, n as u64, left, emptied);
        if db.journal.active() {
            let mut b = itoa::Buffer::new();
            let cmd: &[u8] = if left { b"LPOP" } else { b"RPOP" };
            db.journal.replace(db_index, &[cmd, key, b.format(n).as_bytes()]);
        }
        return Ok(true);
    }
    Ok(false)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn lmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let p = parse_mpop(args, 1)?;
    let keys = (p.first_key..p.first_key + p.numkeys).map(|i| args.get(i));
    if !mpop_from(ctx, keys, p.left, p.count, out)? {
        out.null_array();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
