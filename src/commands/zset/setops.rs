//! Set algebra over sorted sets (and plain sets, whose members count with score 1): ZUNION, ZINTER,
//! ZDIFF, their STORE forms, and ZINTERCARD.
//!
//! Redis 7.0's arithmetic is kept exactly, because floating-point sums depend on their order: inputs
//! are weighted (a NaN product, `0 * inf`, counts as 0), ZUNION and ZINTER visit the inputs from the
//! smallest to the largest (a stable sort, ties in input order), SUM turns a NaN (`inf + -inf`) into 0,
//! and MIN/MAX keep the current value when compared with a NaN. ZDIFF keeps the first input's scores,
//! unweighted.

use std::cmp::Ordering;
use std::collections::HashMap;

use resp::ReplyBuf;

use super::super::args::parse_float;
use super::super::{Args, Ctx};
use super::{entries_header, entry, int_in_range, limits, store};
use crate::error::{CmdError, CmdResult};
use crate::storage::object::set::Set;
use crate::storage::object::zset::ZSet;
use crate::storage::{Object, ValueRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`.
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

/// One input: missing, a sorted set, or a set.
enum Source<'a> {
    Missing,
    Sorted(&'a ZSet),
    Plain(&'a Set),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Sorted(z) => z.len(),
            Source::Plain(s) => s.len(),
        }
    }

    /// The member's score in this input (1 for a set member).
    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Sorted(z) => z.score(member),
            Source::Plain(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::Missing => {}
            Source::Sorted(z) => z.visit(0..z.len(), false, |m, s| {
                f(m, s);
                true
            }),
            Source::Plain(s) => {
                for m in s.iter() {
                    f(&m.bytes(), 1.0);
                }
            }
        }
    }
}

/// What the command asked for.
struct Request {
    op: Op,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// Redis's `zunionInterDiffGenericCommand`. `numkeys_idx` is where `numkeys` sits; `dst` is the STORE
/// forms' destination; `card` is ZINTERCARD.
fn generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    numkeys_idx: usize,
    dst: Option<&[u8]>,
    op: Op,
    card: bool,
    out: &mut ReplyBuf,
) -> CmdResult {
    let n = args.int(numkeys_idx)?;
    if n < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{}' command",
            ctx.cmd.full_name
        )));
    }
    if n > (args.len() - numkeys_idx - 1) as i64 {
        return Err(CmdError::syntax());
    }
    let n = n as usize;
    let keys: Vec<&[u8]> = (numkeys_idx + 1..numkeys_idx + 1 + n).map(|i| args.get(i)).collect();
    // Every input is looked up (and its type checked) before the options are read.
    let lim = limits(ctx);
    let mut db = ctx.db();
    let mut present = Vec::with_capacity(n);
    for k in &keys {
        // Read lookups for the STORE forms too (hits, misses and `keymiss` counted), as Redis 7.0 does.
        let e = db
            .lookup_read(k)
            .map(|e| matches!(e.value(), ValueRef::Obj(Object::ZSet(_) | Object::Set(_))));
        match e {
            Some(false) => return Err(CmdError::WrongType),
            Some(true) => present.push(true),
            None => present.push(false),
        }
    }
    let mut req = Request {
        op,
        weights: vec![1.0; n],
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = numkeys_idx + 1 + n;
    while j < args.len() {
        let remaining = args.len() - j;
        if op != Op::Diff && !card && remaining > n && args.is(j, "weights") {
            for (i, w) in req.weights.iter_mut().enumerate() {
                *w = parse_float(args.get(j + 1 + i)).ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != Op::Diff && !card && remaining >= 2 && args.is(j, "aggregate") {
            req.aggregate = if args.is(j + 1, "sum") {
                Aggregate::Sum
            } else if args.is(j + 1, "min") {
                Aggregate::Min
            } else if args.is(j + 1, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::syntax());
            };
            j += 2;
        } else if dst.is_none() && !card && args.is(j, "withscores") {
            req.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && args.is(j, "limit") {
            let l = int_in_range(args.get(j + 1), 0, i64::MAX, Some("LIMIT can't be negative"))?;
            req.limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let raw = &*db.db;
    let mut sources: Vec<(Source<'_>, f64)> = keys
        .iter()
        .zip(&present)
        .zip(&req.weights)
        .map(|((k, &p), &w)| {
            let src = match raw.get(k).filter(|_| p).map(|e| e.value()) {
                Some(ValueRef::Obj(Object::ZSet(z))) => Source::Sorted(z),
                Some(ValueRef::Obj(Object::Set(s))) => Source::Plain(s),
                _ => Source::Missing,
            };
            (src, w)
        })
        .collect();
    if op != Op::Diff {
        sources.sort_by_key(|(s, _)| s.len());
    }
    if card {
        out.int(intersection_card(&sources, req.limit) as i64);
        return Ok(());
    }
    let mut items = compute(&req, &sources);
    drop(sources);
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        Some(dst) => {
            let len = items.len();
            let event = match op {
                Op::Union => "zunionstore",
                Op::Inter => "zinterstore",
                Op::Diff => "zdiffstore",
            };
            store(ctx, dst, ZSet::from_sorted(&items, lim), event);
            out.int(len as i64);
        }
        None => {
            entries_header(out, items.len(), req.withscores);
            for (m, s) in &items {
                entry(out, m, *s, req.withscores);
            }
        }
    }
    Ok(())
}

/// A weighted score, NaN (`0 * inf`) counting as 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn compute(req: &Request, sources: &[(Source<'_>, f64)]) -> Vec<(Vec<u8>, f64)> {
    let mut items = vec![];
    match req.op {
        Op::Union => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for (src, w) in sources {
                src.for_each(|m, s| {
                    let v = weighted(s, *w);
                    match acc.get_mut(m) {
                        Some(t) => req.aggregate.apply(t, v),
                        None => {
                            acc.insert(m.to_vec(), v);
                        }
                    }
                });
            }
            items.extend(acc);
        }
        Op::Inter => {
            let Some(((first, w0), rest)) = sources.split_first() else {
                return items;
            };
            first.for_each(|m, s| {
                let mut score = weighted(s, *w0);
                for (src, w) in rest {
                    match src.score(m) {
                        // Only the first input's product is cleaned of NaN, as in Redis.
                        Some(v) => req.aggregate.apply(&mut score, v * w),
                        None => return,
                    }
                }
                items.push((m.to_vec(), score));
            });
        }
        Op::Diff => {
            let Some(((first, _), rest)) = sources.split_first() else {
                return items;
            };
            first.for_each(|m, s| {
                if rest.iter().all(|(src, _)| src.score(m).is_none()) {
                    items.push((m.to_vec(), s));
                }
            });
        }
    }
    items
}

/// ZINTERCARD's count: members of the smallest input found in every other, stopping at `limit` (0 for
/// no limit).
fn intersection_card(sources: &[(Source<'_>, f64)], limit: usize) -> usize {
    let Some(((first, _), rest)) = sources.split_first() else {
        return 0;
    };
    let mut n = 0;
    let mut done = false;
    first.for_each(|m, _| {
        if done {
            return;
        }
        if rest.iter().all(|(src, _)| src.score(m).is_some()) {
            n += 1;
            if limit > 0 && n >= limit {
                done = true;
            }
        }
    });
    n
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zunion(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, None, Op::Union, false, out)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zinter(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, None, Op::Inter, false, out)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub fn zdiff(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, None, Op::Diff, false, out)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
pub fn zunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 2, Some(args.get(1)), Op::Union, false, out)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
pub fn zinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 2, Some(args.get(1)), Op::Inter, false, out)
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub fn zdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 2, Some(args.get(1)), Op::Diff, false, out)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn zintercard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, None, Op::Inter, true, out)
}
