//! Set commands: SADD, SREM, SISMEMBER, SMISMEMBER, SCARD, SMEMBERS, SRANDMEMBER, SPOP, SMOVE, the
//! intersection, union and difference families, and SSCAN.
//!
//! What Redis 7.0 does and this module keeps, because clients or `OBJECT ENCODING` can see it:
//!
//! - Encodings (see `storage::object::set`): a set created by SADD or SMOVE takes its encoding from
//!   its first member; result sets (the STORE variants, SPOP's rebuilt remainder) start as an empty
//!   intset and grow by adding members in Redis's order, so they get the same encoding Redis gives
//!   them. SDIFF chooses between Redis's two algorithms by the same cost estimate, because the
//!   second one (copy the first set, then remove) can leave a hash table holding few integers.
//! - Replies: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count are RESP3 sets; SRANDMEMBER with a
//!   count is an array (it may repeat members). A missing key is an empty set (or an empty array,
//!   a null, or 0, by command).
//! - Effects in the journal: SPOP becomes `SREM key member` for each member it took (several wrapped
//!   in MULTI/EXEC), or `DEL key` when a count took the whole set; everything else is propagated as
//!   received (the STORE variants included).
//! - The dirty counter moves by what Redis counts (SADD by members added, SPOP with a count by the
//!   count asked for).
//! - A key that would be left empty is deleted.
//!
//! Known differences kept on purpose: members of a result are returned in this table's order, not
//! Redis's (the order is unspecified for sets); SSCAN cursors are this table's (they keep Redis's
//! guarantee, not its values).

use std::collections::HashSet;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use resp::ReplyBuf;

use super::keys::{parse_cursor, parse_scan_options, ScanOptions};
use super::keyspace::{DbView, Ttl};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::object::set::{Member, Set};
use crate::storage::{EntryMut, NewValue, Object, ValueRef};
use crate::util::glob::glob_match;

/// `set-max-intset-entries`.
fn max_intset(ctx: &Ctx<'_>) -> usize {
    usize::try_from(ctx.core.config.set_max_intset_entries).unwrap_or(usize::MAX)
}

/// A generator seeded from the server's: handlers hold the keyspace borrowed while they draw.
fn rng(ctx: &mut Ctx<'_>) -> SmallRng {
    SmallRng::seed_from_u64(ctx.core.rng.gen())
}

/// The set a value holds, or WRONGTYPE.
pub fn as_set(v: ValueRef<'_>) -> Result<&Set, CmdError> {
    match v {
        ValueRef::Obj(Object::Set(s)) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

/// The set an entry holds, for changing it, or WRONGTYPE.
fn set_mut<'e>(e: &'e mut EntryMut<'_>) -> Result<&'e mut Set, CmdError> {
    match e.obj_mut() {
        Some(Object::Set(s)) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

fn new_value(s: Set) -> NewValue<'static> {
    NewValue::Obj(Object::Set(s))
}

#[inline]
fn reply_member(out: &mut ReplyBuf, m: Member<'_>) {
    match m {
        Member::Int(v) => out.bulk_i64(v),
        Member::Str(s) => out.bulk(s),
    }
}

/// Reply with every member of `s`, as a RESP3 set.
fn reply_set(out: &mut ReplyBuf, s: &Set) {
    out.set(s.len());
    for m in s.iter() {
        reply_member(out, m);
    }
}

/// Store a new set under `key` (overwriting, TTL cleared), count `dirty` changes in all and report
/// `event`.
fn store(db: &mut DbView<'_>, key: &[u8], s: Set, dirty: u64, event: &str) {
    db.set(key, new_value(s), Ttl::Clear);
    db.stored(key, dirty, class::SET, event);
}

/// Delete `key` (which holds an emptied set) and count `dirty` changes in all: `event`, then `del`, are
/// reported.
fn delete_emptied(db: &mut DbView<'_>, key: &[u8], dirty: u64, event: &str) {
    db.notify(class::SET, event, key);
    db.delete(key);
    db.mark_dirty(key, dirty.saturating_sub(1));
}

// ---- single-key commands ----

/// SADD key member [member ...]
pub fn sadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let max = max_intset(ctx);
    let key = args.get(1);
    let mut db = ctx.db();
    let added = match db.lookup_write(key) {
        Some(mut e) => {
            let s = set_mut(&mut e)?;
            let n = args.rest(2).filter(|m| s.add(m, max)).count();
            db.changed(key, n as u64, class::SET, "sadd");
            n
        }
        None => {
            let mut s = Set::for_first(args.get(2));
            let n = args.rest(2).filter(|m| s.add(m, max)).count();
            store(&mut db, key, s, n as u64, "sadd");
            n
        }
    };
    out.int(added as i64);
    Ok(())
}

/// SREM key member [member ...]
///
/// Stops at the member that empties the set (Redis deletes the key there; later members cannot be
/// in it anyway).
pub fn srem(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(key) else {
        out.int(0);
        return Ok(());
    };
    let s = set_mut(&mut e)?;
    let mut removed = 0u64;
    for m in args.rest(2) {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let emptied = s.is_empty();
    if emptied {
        delete_emptied(&mut db, key, removed, "srem");
    } else {
        db.changed(key, removed, class::SET, "srem");
    }
    out.int(removed as i64);
    Ok(())
}

/// SISMEMBER key member
pub fn sismember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let found = match db.lookup_read(args.get(1)) {
        Some(e) => as_set(e.value())?.contains(args.get(2)),
        None => false,
    };
    out.int(found as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]
pub fn smismember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let e = db.lookup_read(args.get(1));
    let s = match &e {
        Some(e) => Some(as_set(e.value())?),
        None => None,
    };
    out.array(args.len() - 2);
    for m in args.rest(2) {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// SCARD key
pub fn scard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = match db.lookup_read(args.get(1)) {
        Some(e) => as_set(e.value())?.len(),
        None => 0,
    };
    out.int(n as i64);
    Ok(())
}

/// SMEMBERS key (Redis runs it as a one-key SINTER).
pub fn smembers(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    match db.lookup_read(args.get(1)) {
        Some(e) => reply_set(out, as_set(e.value())?),
        None => out.set(0),
    }
    Ok(())
}

/// SRANDMEMBER key [count]
///
/// Without a count: one member, or a null. With a count `n`, an array: `n >= 0` asks for distinct
/// members (all of them when `n` reaches the size), `n < 0` for `|n|` independent draws.
pub fn srandmember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::syntax());
    }
    let count = if args.len() == 3 {
        let n = args.int(2)?;
        if n == i64::MIN {
            return Err(CmdError::err(
                "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ));
        }
        Some(n)
    } else {
        None
    };
    let mut rng = rng(ctx);
    let mut db = ctx.db();
    let e = db.lookup_read(args.get(1));
    let Some(count) = count else {
        match e {
            None => out.null(),
            Some(e) => match as_set(e.value())?.random(&mut rng) {
                Some(m) => reply_member(out, m),
                None => out.null(),
            },
        }
        return Ok(());
    };
    let Some(e) = e else {
        out.array(0);
        return Ok(());
    };
    let s = as_set(e.value())?;
    random_members(out, s, count, &mut rng);
    Ok(())
}

/// SRANDMEMBER's count rules (a non-empty set).
fn random_members(out: &mut ReplyBuf, s: &Set, count: i64, rng: &mut SmallRng) {
    let size = s.len();
    let n = count.unsigned_abs();
    if n == 0 {
        out.array(0);
        return;
    }
    // Repeats allowed (or a single pick): independent draws.
    if count < 0 || n == 1 {
        out.array(n as usize);
        for _ in 0..n {
            if let Some(m) = s.random(rng) {
                reply_member(out, m);
            }
        }
        return;
    }
    let n = n as usize;
    // As many as there are, or more: the whole set.
    if n >= size {
        out.array(size);
        s.iter().for_each(|m| reply_member(out, m));
        return;
    }
    if n * 3 > size {
        // Most of the set: shuffle the first n of all members into place.
        let mut all: Vec<Member<'_>> = s.iter().collect();
        for i in 0..n {
            let j = rng.gen_range(i..all.len());
            all.swap(i, j);
        }
        out.array(n);
        all[..n].iter().for_each(|&m| reply_member(out, m));
    } else {
        // A small part: draw until n distinct members are picked.
        let mut picked: HashSet<Member<'_>> = HashSet::with_capacity(n);
        while picked.len() < n {
            if let Some(m) = s.random(rng) {
                picked.insert(m);
            }
        }
        out.array(n);
        picked.into_iter().for_each(|m| reply_member(out, m));
    }
}

/// SPOP key [count]
///
/// Without a count: one random member (or a null), journaled as `SREM key member`. With a count, a
/// RESP3 set of distinct members: taking the whole set deletes the key and is journaled as `DEL`;
/// otherwise each member taken is journaled as its own SREM. When most of the set is taken (at
/// least five times what remains), Redis builds the remainder as a new set instead, which can turn
/// a hash table back into an intset: kept, since `OBJECT ENCODING` shows it.
pub fn spop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::syntax());
    }
    if args.len() == 3 {
        return spop_count(ctx, args, out);
    }
    let key = args.get(1);
    let mut rng = rng(ctx);
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(key) else {
        out.null();
        return Ok(());
    };
    let s = set_mut(&mut e)?;
    let Some(m) = s.pop_random(&mut rng) else {
        out.null();
        return Ok(());
    };
    let emptied = s.is_empty();
    if emptied {
        delete_emptied(&mut db, key, 1, "spop");
    } else {
        db.changed(key, 1, class::SET, "spop");
    }
    db.journal.replace(db.index, &[b"SREM", key, &m]);
    out.bulk(&m);
    Ok(())
}

/// Redis's "move strategy" factor: build the remainder anew when `remaining * 5 <= count`.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

fn spop_count(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // Redis gives the range's words for a non-integer too.
    let count = match args.int(2) {
        Ok(n) if n >= 0 => n as u64,
        _ => return Err(CmdError::err("value is out of range, must be positive")),
    };
    let key = args.get(1);
    let max = max_intset(ctx);
    let mut rng = rng(ctx);
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(key) else {
        out.set(0);
        return Ok(());
    };
    let s = set_mut(&mut e)?;
    if count == 0 {
        out.set(0);
        return Ok(());
    }
    let size = s.len() as u64;
    if count >= size {
        reply_set(out, s);
        // Redis answers this case through SUNION of the key, whose read lookup counts a hit.
        db.stats.keyspace_hits += 1;
        delete_emptied(&mut db, key, count, "spop");
        db.journal.replace(db.index, &[b"DEL", key]);
        return Ok(());
    }
    let remaining = size - count;
    let mut taken: Vec<Vec<u8>> = Vec::with_capacity(count as usize);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            if let Some(m) = s.pop_random(&mut rng) {
                taken.push(m);
            }
        }
    } else {
        // Move the few that stay into a new set; what is left of the old one is the reply.
        let mut kept = Set::new();
        for _ in 0..remaining {
            if let Some(m) = s.pop_random(&mut rng) {
                kept.add(&m, max);
            }
        }
        let old = std::mem::replace(s, kept);
        taken.extend(old.iter().map(|m| m.to_vec()));
    }
    db.changed(key, count, class::SET, "spop");
    out.set(taken.len());
    for m in &taken {
        out.bulk(m);
        db.journal.replace(db.index, &[b"SREM", key, m]);
    }
    Ok(())
}

/// SMOVE source destination member
pub fn smove(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (src, dst, member) = (args.get(1), args.get(2), Member::of(args.get(3)));
    let max = max_intset(ctx);
    let mut db = ctx.db();
    let src_is_set = db.lookup_write(src).map(|e| as_set(e.value()).is_ok());
    let dst_is_set = db.lookup_write(dst).map(|e| as_set(e.value()).is_ok());
    let Some(src_is_set) = src_is_set else {
        out.int(0);
        return Ok(());
    };
    if !src_is_set || dst_is_set == Some(false) {
        return Err(CmdError::WrongType);
    }
    if src == dst {
        let found = db
            .peek(src)
            .and_then(|v| as_set(v).ok())
            .is_some_and(|s| s.contains_member(member));
        out.int(found as i64);
        return Ok(());
    }
    let Some(mut e) = db.lookup_write(src) else {
        out.int(0);
        return Ok(());
    };
    let s = set_mut(&mut e)?;
    if !s.remove_member(member) {
        out.int(0);
        return Ok(());
    }
    if s.is_empty() {
        delete_emptied(&mut db, src, 1, "srem");
    } else {
        db.changed(src, 1, class::SET, "srem");
    }
    match db.lookup_write(dst) {
        Some(mut e) => {
            let added = set_mut(&mut e)?.add_member(member, max);
            db.changed(dst, u64::from(added), class::SET, "sadd");
        }
        None => {
            let mut s = Set::for_first(args.get(3));
            s.add_member(member, max);
            store(&mut db, dst, s, 1, "sadd");
        }
    }
    out.int(1);
    Ok(())
}

// ---- several keys: intersection, union, difference ----

/// Look every key up for reading (expiry, hit and miss counts), in order, failing with WRONGTYPE at
/// the first key that holds something else; then the sets, `None` for a missing key.
fn load_sets<'d>(db: &'d mut DbView<'_>, keys: &[&[u8]]) -> Result<Vec<Option<&'d Set>>, CmdError> {
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        present.push(match db.lookup_read(k) {
            Some(e) => {
                as_set(e.value())?;
                true
            }
            None => false,
        });
    }
    let all = &*db.db;
    Ok(keys
        .iter()
        .zip(present)
        .map(|(k, p)| {
            if !p {
                return None;
            }
            all.get(k).and_then(|e| match e.value() {
                ValueRef::Obj(Object::Set(s)) => Some(s),
                _ => None,
            })
        })
        .collect())
}

/// What an intersection produces.
enum InterOut<'o> {
    Reply(&'o mut ReplyBuf),
    Card { limit: usize },
    Store,
}

/// Redis's intersection: walk the smallest set and keep the members every other set holds. Returns
/// the cardinality and, for `Store`, the result set.
fn intersect(sets: &mut [&Set], mode: InterOut<'_>, max: usize) -> (usize, Option<Set>) {
    sets.sort_by_key(|s| s.len());
    let (first, rest) = sets.split_first().expect("at least one key");
    let common = first
        .iter()
        .filter(|&m| rest.iter().all(|s| std::ptr::eq(*s, *first) || s.contains_member(m)));
    match mode {
        InterOut::Reply(out) => {
            let found: Vec<Member<'_>> = common.collect();
            out.set(found.len());
            found.iter().for_each(|&m| reply_member(out, m));
            (found.len(), None)
        }
        InterOut::Card { limit } => {
            let n = if limit == 0 {
                common.count()
            } else {
                common.take(limit).count()
            };
            (n, None)
        }
        InterOut::Store => {
            let s = Set::from_members(common, max);
            (s.len(), Some(s))
        }
    }
}

fn keys_of<'a>(args: &Args<'a>, from: usize, to: usize) -> Vec<&'a [u8]> {
    (from..to).map(|i| args.get(i)).collect()
}

/// SINTER key [key ...]
pub fn sinter(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let keys = keys_of(args, 1, args.len());
    let mut db = ctx.db();
    let sets = load_sets(&mut db, &keys)?;
    match sets.into_iter().collect::<Option<Vec<&Set>>>() {
        Some(mut sets) => {
            intersect(&mut sets, InterOut::Reply(out), 0);
        }
        None => out.set(0),
    }
    Ok(())
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let numkeys = match args.int(1) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if numkeys > (args.len() - 2) as u64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    let first_opt = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = first_opt;
    while i < args.len() {
        if args.is(i, "limit") && i + 1 < args.len() {
            limit = match args.int(i + 1) {
                Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            };
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let keys = keys_of(args, 2, first_opt);
    let mut db = ctx.db();
    let sets = load_sets(&mut db, &keys)?;
    let n = match sets.into_iter().collect::<Option<Vec<&Set>>>() {
        Some(mut sets) => intersect(&mut sets, InterOut::Card { limit }, 0).0,
        None => 0,
    };
    out.int(n as i64);
    Ok(())
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let max = max_intset(ctx);
    let keys = keys_of(args, 2, args.len());
    let mut db = ctx.db();
    let sets = load_sets(&mut db, &keys)?;
    let result = match sets.into_iter().collect::<Option<Vec<&Set>>>() {
        Some(mut sets) => intersect(&mut sets, InterOut::Store, max).1,
        None => None,
    };
    store_result(&mut db, args.get(1), result, "sinterstore", out);
    Ok(())
}

/// The end of every STORE variant: a non-empty result replaces the destination (TTL cleared), an
/// empty one deletes it (reported as `del`). The reply is the result's size.
fn store_result(db: &mut DbView<'_>, dst: &[u8], result: Option<Set>, event: &str, out: &mut ReplyBuf) {
    match result {
        Some(s) if !s.is_empty() => {
            out.int(s.len() as i64);
            store(db, dst, s, 1, event);
        }
        _ => {
            out.int(0);
            db.delete(dst);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// Redis's union and difference. The difference picks one of two algorithms by estimated work:
/// (1) keep each member of the first set that no other set holds, checking the others largest
/// first; (2) copy the first set, then remove every member of the others.
fn union_or_diff(sets: &[Option<&Set>], op: SetOp, max: usize) -> Set {
    let mut dst = Set::new();
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    dst.add_member(m, max);
                }
            }
        }
        SetOp::Diff => {
            let Some(Some(first)) = sets.first() else {
                return dst;
            };
            let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
            if others.iter().any(|s| std::ptr::eq(*s, *first)) {
                // The first key is repeated: nothing survives.
                return dst;
            }
            let algo_one = (first.len() * (others.len() + 1)) / 2;
            let algo_two = first.len() + others.iter().map(|s| s.len()).sum::<usize>();
            if algo_one <= algo_two {
                let mut others = others;
                others.sort_by_key(|s| std::cmp::Reverse(s.len()));
                for m in first.iter() {
                    if !others.iter().any(|s| s.contains_member(m)) {
                        dst.add_member(m, max);
                    }
                }
            } else {
                for m in first.iter() {
                    dst.add_member(m, max);
                }
                for s in &others {
                    if dst.is_empty() {
                        break;
                    }
                    for m in s.iter() {
                        dst.remove_member(m);
                    }
                }
            }
        }
    }
    dst
}

fn union_diff_command(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, op: SetOp, store_to: bool) -> CmdResult {
    let max = max_intset(ctx);
    let first_key = if store_to { 2 } else { 1 };
    let keys = keys_of(args, first_key, args.len());
    let mut db = ctx.db();
    let sets = load_sets(&mut db, &keys)?;
    let result = union_or_diff(&sets, op, max);
    if store_to {
        let event = match op {
            SetOp::Union => "sunionstore",
            SetOp::Diff => "sdiffstore",
        };
        store_result(&mut db, args.get(1), Some(result), event, out);
    } else {
        reply_set(out, &result);
    }
    Ok(())
}

/// SUNION key [key ...]
pub fn sunion(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff_command(ctx, args, out, SetOp::Union, false)
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff_command(ctx, args, out, SetOp::Union, true)
}

/// SDIFF key [key ...]
pub fn sdiff(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff_command(ctx, args, out, SetOp::Diff, false)
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff_command(ctx, args, out, SetOp::Diff, true)
}

// ---- SSCAN ----

/// SSCAN key cursor [MATCH pattern] [COUNT count]
///
/// Redis's order of checks: the cursor, then the key (a missing key answers an empty scan whatever
/// the options say), then the options. An intset is returned whole with cursor 0; a table is walked
/// bucket by bucket until COUNT members are gathered or ten times COUNT buckets were visited.
pub fn sscan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut cursor = parse_cursor(args.get(2)).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let s = as_set(e.value())?;
    let ScanOptions { count, pattern, .. } = parse_scan_options(args, 3, false)?;
    let mut found: Vec<Member<'_>> = Vec::new();
    if s.scans_by_bucket() {
        let mut steps_left = count.saturating_mul(10);
        loop {
            cursor = s.scan(cursor, |m| found.push(m));
            if cursor == 0 || steps_left == 0 || found.len() as i64 >= count {
                break;
            }
            steps_left -= 1;
        }
    } else {
        cursor = s.scan(cursor, |m| found.push(m));
    }
    if let Some(p) = pattern {
        found.retain(|m| glob_match(p, &m.bytes(), false));
    }
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(found.len());
    found.iter().for_each(|&m| reply_member(out, m));
    Ok(())
}

#[cfg(test)]
mod tests;
