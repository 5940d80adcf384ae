//! SORT and SORT_RO: sort a list, set or sorted set, by its elements or by values found through a
//! pattern, and return (or STORE as a list) the elements or values found through GET patterns.
//!
//! Redis 7.0's rules, kept because clients see them:
//!
//! - Options are read left to right; the last ASC/DESC, LIMIT, BY and STORE win (but a BY without
//!   `*` anywhere means "do not sort", even if a later BY has one); GETs accumulate. A
//!   bad LIMIT number is `value is not an integer or out of range`; anything unknown, or an option
//!   without its arguments, is `syntax error` (STORE too, for SORT_RO). Options are checked before
//!   the key is looked up.
//! - `BY` with a pattern that has no `*` (such as `nosort`) means "do not sort": a list or a sorted
//!   set keeps its own order (reversed by DESC, cut by LIMIT), a set keeps its iteration order, except
//!   with STORE, where a set is sorted ALPHA so that replicas store the same list.
//! - Numeric sorting reads each weight with C's `strtod` as Redis does: leading blanks, `inf`, hex,
//!   and an empty string (0) are accepted; trailing bytes, overflow and NaN are not, and any such
//!   weight fails the whole command with `One or more scores can't be converted into double`. A
//!   weight whose key is missing counts as 0. Equal weights are ordered by the elements' bytes.
//! - ALPHA compares bytes (up to a NUL byte, as C's `strcoll` stops there, except with STORE, which
//!   compares whole byte strings, as Redis does). With BY, a missing weight sorts first; equal
//!   weights keep their input order (Redis's `qsort` is glibc's stable merge sort).
//! - Patterns: `#` is the element itself; otherwise the first `*` is replaced by the element and the
//!   result read as a string key, or, with `->field` after the `*`, as a field of a hash key. A
//!   pattern without `*`, a missing key, a key of another type or a missing field gives nothing
//!   (a null in the reply, an empty string in a STORE list). Like Redis, the searches for `#`, `*` and
//!   `->` stop at a NUL byte in the pattern.
//! - A sorted set in its listpack encoding is converted to the large one (`skiplist`) first, even
//!   by SORT_RO and even when the command then fails.
//! - Pattern lookups are reads: they count keyspace hits and misses and expire keys lazily.
//! - STORE writes a list (TTL cleared), or deletes the destination when the result is empty, and
//!   answers the number of elements stored.
//!
//! Known differences kept: with BY, ALPHA and a LIMIT that does not cover everything, Redis uses its
//! own partial quicksort, whose order among equal weights is not the input order; here equal
//! weights always keep the input order. Collation is byte order (Redis's `strcoll` in the C or
//! C.UTF-8 locale, which is what Debian's redis-server runs with; another LC_COLLATE there would
//! sort ALPHA differently).

use std::cmp::Ordering;

use resp::ReplyBuf;

use super::keyspace::{DbView, Ttl};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::object::zset::{Limits as ZSetLimits, ZSet};
use crate::storage::{NewValue, Object, ValueRef};

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
pub fn sort(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    sort_generic(ctx, args, out, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
pub fn sort_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    sort_generic(ctx, args, out, true)
}

/// The options, as parsed.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

/// The bytes C string functions see: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

fn parse<'a>(args: &Args<'a>, readonly: bool) -> Result<Options<'a>, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dontsort: false,
        gets: vec![],
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        if args.is(j, "asc") {
            o.desc = false;
        } else if args.is(j, "desc") {
            o.desc = true;
        } else if args.is(j, "alpha") {
            o.alpha = true;
        } else if args.is(j, "limit") && left >= 2 {
            o.limit_start = args.int(j + 1)?;
            o.limit_count = args.int(j + 2)?;
            j += 2;
        } else if !readonly && args.is(j, "store") && left >= 1 {
            o.store = Some(args.get(j + 1));
            j += 1;
        } else if args.is(j, "by") && left >= 1 {
            let p = args.get(j + 1);
            o.by = Some(p);
            // Sticky, as in Redis: a later BY with a star does not undo an earlier `nosort`.
            if !c_str(p).contains(&b'*') {
                o.dontsort = true;
            }
            j += 1;
        } else if args.is(j, "get") && left >= 1 {
            o.gets.push(args.get(j + 1));
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok(o)
}

/// One element being sorted.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The ALPHA weight read through BY (`None`: missing).
    weight: Option<Vec<u8>>,
}

impl Item {
    fn new(elem: Vec<u8>) -> Item {
        Item {
            elem,
            score: 0.0,
            weight: None,
        }
    }
}

/// What the sorted key holds, with what the element loading needs to know.
enum Source {
    List,
    Set,
    ZSet,
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, readonly: bool) -> CmdResult {
    let mut o = parse(args, readonly)?;
    // A list created by STORE takes the node settings of the moment, as any new list does.
    let c = &ctx.core.config;
    let list_settings = (
        c.list_max_listpack_size,
        c.list_compress_depth.min(i32::MAX as u32) as i32,
    );
    let mut db = ctx.db();

    // The key: a list, set or sorted set; a missing key sorts like an empty list.
    let (kind, len) = match db.lookup_read(args.get(1)) {
        None => (Source::List, 0),
        Some(e) => match e.value() {
            ValueRef::Obj(Object::List(l)) => (Source::List, l.len()),
            ValueRef::Obj(Object::Set(s)) => (Source::Set, s.len()),
            ValueRef::Obj(Object::ZSet(z)) => (Source::ZSet, z.len()),
            _ => return Err(CmdError::WrongType),
        },
    };
    // Redis 7.0 converts a sorted set to its large encoding before sorting it (SORT_RO too, and
    // whatever happens next); OBJECT ENCODING shows it, so it is done here as well.
    if matches!(kind, Source::ZSet) {
        if let Some(mut e) = db.db.get_mut(args.get(1)) {
            if let Some(Object::ZSet(z)) = e.obj_mut() {
                if z.encoding() == "listpack" {
                    let items = z.to_vec();
                    *z = ZSet::from_sorted(&items, ZSetLimits { entries: 0, value: 0 });
                }
            }
        }
    }
    // A set has no order of its own: what replicas store must not depend on the table's.
    if o.dontsort && matches!(kind, Source::Set) && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }

    // LIMIT, clamped the way Redis does it.
    let vectorlen = len as i64;
    let mut start = o.limit_start.max(0);
    let mut end = if o.limit_count < 0 {
        vectorlen - 1
    } else {
        start.saturating_add(o.limit_count) - 1
    };
    if start >= vectorlen {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if end >= vectorlen {
        end = vectorlen - 1;
    }

    // Load the elements. Lists and sorted sets that are not sorted load only the range asked for.
    let ordered_range = o.dontsort && !matches!(kind, Source::Set);
    let mut items: Vec<Item> = if ordered_range {
        let n = if end >= start { (end - start + 1) as usize } else { 0 };
        let from = start.max(0) as usize;
        let v = source_range(&mut db, args.get(1), from, n, o.desc);
        end -= start;
        start = 0;
        v
    } else {
        source_all(&mut db, args.get(1))
    };

    if !o.dontsort {
        let mut bad_score = false;
        for it in items.iter_mut() {
            let weight = match o.by {
                Some(p) => match lookup_by_pattern(&mut db, p, &it.elem) {
                    Some(w) => w,
                    None => continue,
                },
                None => {
                    if !o.alpha {
                        match sort_score(&it.elem) {
                            Some(s) => it.score = s,
                            None => bad_score = true,
                        }
                    }
                    continue;
                }
            };
            if o.alpha {
                it.weight = Some(weight);
            } else {
                match sort_score(&weight) {
                    Some(s) => it.score = s,
                    None => bad_score = true,
                }
            }
        }
        if bad_score {
            return Err(CmdError::err("One or more scores can't be converted into double"));
        }
        let by = o.by.is_some();
        let binary = o.store.is_some();
        let desc = o.desc;
        let alpha = o.alpha;
        items.sort_by(|a, b| {
            let c = compare(a, b, alpha, by, binary);
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }

    // The selected range, as elements or GET results.
    let range = if end >= start && !items.is_empty() {
        &items[start as usize..=(end as usize).min(items.len() - 1)]
    } else {
        &items[..0]
    };
    match o.store {
        None => {
            let per = o.gets.len().max(1);
            out.array(range.len() * per);
            for it in range {
                if o.gets.is_empty() {
                    out.bulk(&it.elem);
                }
                for p in &o.gets {
                    match lookup_by_pattern(&mut db, p, &it.elem) {
                        Some(v) => out.bulk(&v),
                        None => out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut values: Vec<Vec<u8>> = Vec::with_capacity(range.len() * o.gets.len().max(1));
            for it in range {
                if o.gets.is_empty() {
                    values.push(it.elem.clone());
                }
                for p in &o.gets {
                    values.push(lookup_by_pattern(&mut db, p, &it.elem).unwrap_or_default());
                }
            }
            let n = values.len();
            if n > 0 {
                db.set(dst, NewValue::Obj(new_list(values, list_settings)), Ttl::Clear);
                db.stored(dst, n as u64, class::LIST, "sortstore");
            } else {
                db.delete(dst);
            }
            out.int(n as i64);
        }
    }
    Ok(())
}

/// Redis's `sortCompare` (before DESC reverses it).
fn compare(a: &Item, b: &Item, alpha: bool, by: bool, binary: bool) -> Ordering {
    let text = |x: &[u8], y: &[u8]| if binary { x.cmp(y) } else { c_str(x).cmp(c_str(y)) };
    if !alpha {
        match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.elem.cmp(&b.elem),
            Some(o) => o,
        }
    } else if by {
        match (&a.weight, &b.weight) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => text(x, y),
        }
    } else {
        text(&a.elem, &b.elem)
    }
}

/// A weight as Redis reads it: C's `strtod` over the bytes up to the first NUL, which must all be
/// consumed, without overflow, underflow or NaN.
fn sort_score(s: &[u8]) -> Option<f64> {
    let mut z = c_str(s).to_vec();
    z.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `z` is NUL-terminated and alive for the call; strtod reads it and points `end` into it.
    let (v, all_read, erange) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(z.as_ptr() as *const libc::c_char, &mut end);
        (v, *end == 0, *libc::__errno_location() == libc::ERANGE)
    };
    (all_read && !erange && !v.is_nan()).then_some(v)
}

/// Redis's `lookupKeyByPattern`: the value a BY or GET pattern names for `elem`, if any.
fn lookup_by_pattern(db: &mut DbView<'_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    let c = c_str(pattern);
    if c == b"#" {
        return Some(elem.to_vec());
    }
    let star = c.iter().position(|&b| b == b'*')?;
    // `->` after the star, followed by at least one byte (a NUL ends the search and the field).
    let arrow = c[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| f + 2 < c.len());
    let (postfix_end, field) = match arrow {
        Some(f) => (f, Some(&pattern[f + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..postfix_end]);
    let e = db.lookup_read(&key)?;
    match (e.value(), field) {
        (ValueRef::Obj(Object::Hash(h)), Some(f)) => hash_field(h, f),
        (_, Some(_)) => None,
        (ValueRef::Int(i), None) => Some(i.to_string().into_bytes()),
        (ValueRef::Str(s, _), None) => Some(s.to_vec()),
        (ValueRef::Obj(_), None) => None,
    }
}

// ---- what the sorted key and the patterns read: the collection types' accessors ----

/// Every element of the sorted key, in its own order (a sorted set's in any order).
fn source_all(db: &mut DbView<'_>, key: &[u8]) -> Vec<Item> {
    let Some(v) = db.peek(key) else { return vec![] };
    match v {
        ValueRef::Obj(Object::List(l)) => l.iter().map(|e| Item::new(e.as_ref().to_vec())).collect(),
        ValueRef::Obj(Object::Set(s)) => s.iter().map(|m| Item::new(m.to_vec())).collect(),
        ValueRef::Obj(Object::ZSet(z)) => z.iter().map(|(m, _)| Item::new(m.as_ref().to_vec())).collect(),
        _ => vec![],
    }
}

/// `n` elements of a list or sorted set in its order from position `from` (counted from the end
/// and walking backwards when `desc`).
fn source_range(db: &mut DbView<'_>, key: &[u8], from: usize, n: usize, desc: bool) -> Vec<Item> {
    let Some(v) = db.peek(key) else { return vec![] };
    match v {
        ValueRef::Obj(Object::List(l)) => {
            if from >= l.len() {
                vec![]
            } else if desc {
                let start = l.len() - 1 - from;
                l.iter_rev_from(start).take(n).map(|e| Item::new(e.to_vec())).collect()
            } else {
                l.iter_from(from).take(n).map(|e| Item::new(e.to_vec())).collect()
            }
        }
        ValueRef::Obj(Object::ZSet(z)) => {
            let len = z.len();
            let (ranks, rev) = if desc {
                (
                    len.saturating_sub(from.saturating_add(n))..len.saturating_sub(from),
                    true,
                )
            } else {
                (from..from.saturating_add(n).min(len), false)
            };
            let mut v = Vec::with_capacity(ranks.len());
            z.visit(ranks, rev, |m, _| {
                v.push(Item::new(m.to_vec()));
                true
            });
            v
        }
        _ => vec![],
    }
}

/// A hash field's value.
fn hash_field(h: &crate::storage::object::hash::Hash, field: &[u8]) -> Option<Vec<u8>> {
    h.get(field).map(|v| v.to_vec())
}

/// The list STORE writes, with `list-max-listpack-size` and `list-compress-depth`.
fn new_list(values: Vec<Vec<u8>>, (fill, compress): (i32, i32)) -> Object {
    let mut l = crate::storage::object::list::List::new(fill, compress);
    for v in &values {
        l.push_back(v);
    }
    Object::List(Box::new(l))
}

#[cfg(test)]
mod tests;
