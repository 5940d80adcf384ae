//! HRANDFIELD key [count [WITHVALUES]]
//!
//! Redis 7.0's cases, which decide what a client can rely on:
//! - no count: one random field, or null for a missing key;
//! - count 0: an empty array;
//! - a negative count `-n`: `n` fields drawn independently (repeats possible), in draw order;
//! - a count at least the hash's size: the whole hash, in its own order;
//! - a smaller positive count: that many distinct fields, uniformly chosen (in listpack order for a
//!   listpack, an unspecified order for a table).
//!
//! WITHVALUES adds each field's value: a flat array in RESP2, an array of `[field, value]` pairs in
//! RESP3. The count is parsed (`-LONG_MAX..=LONG_MAX`) before the syntax is checked, and a negative
//! count with values must not reach `-LONG_MAX/2` (its reply length would overflow), all before the key
//! is looked up.
//!
//! Difference kept on purpose: a negative count beyond [`MAX_DRAWS`] draws is refused with `value is
//! out of range`. Redis starts building such a reply (billions of elements) and runs out of memory.

use std::collections::HashSet;

use rand::rngs::SmallRng;
use rand::seq::index;
use rand::{Rng, SeedableRng};
use resp::ReplyBuf;

use super::{bulk_item, read_hash};
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::storage::object::hash::Hash;
use crate::storage::object::listpack::LpItem;

/// The most draws a negative count may ask for (see the module docs): about a gigabyte of reply.
pub const MAX_DRAWS: u64 = 1 << 27;

const RANGE_ERROR: &str = "value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// How each chosen pair is written.
#[derive(Clone, Copy)]
struct Shape {
    values: bool,
    resp3: bool,
}

impl Shape {
    /// The array header for `n` pairs.
    fn header(self, out: &mut ReplyBuf, n: usize) {
        out.array(if self.values && !self.resp3 { n * 2 } else { n });
    }

    fn pair(self, out: &mut ReplyBuf, f: LpItem<'_>, v: LpItem<'_>) {
        if self.values && self.resp3 {
            out.array(2);
        }
        bulk_item(out, f);
        if self.values {
            bulk_item(out, v);
        }
    }
}

pub fn hrandfield(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut rng = SmallRng::from_rng(&mut ctx.core.rng).expect("SmallRng seeds from any generator");
    if args.len() == 2 {
        let mut db = ctx.db();
        match read_hash(&mut db, args.get(1))?.and_then(|h| h.random(&mut rng)) {
            Some((f, _)) => bulk_item(out, f),
            None => out.null(),
        }
        return Ok(());
    }
    let l = args.int(2)?;
    if l == i64::MIN {
        return Err(CmdError::err(RANGE_ERROR));
    }
    let values = match args.len() {
        3 => false,
        4 if args.is(3, "withvalues") => true,
        _ => return Err(CmdError::syntax()),
    };
    if (values && l < -(i64::MAX / 2)) || (l < 0 && l.unsigned_abs() > MAX_DRAWS) {
        return Err(CmdError::err("value is out of range"));
    }
    let shape = Shape {
        values,
        resp3: out.is_resp3(),
    };
    let mut db = ctx.db();
    let Some(h) = read_hash(&mut db, args.get(1))? else {
        out.array(0);
        return Ok(());
    };
    let size = h.len();
    if l < 0 {
        draw_with_repeats(h, l.unsigned_abs() as usize, shape, &mut rng, out);
    } else if l as u64 >= size as u64 {
        shape.header(out, size);
        for (f, v) in h.iter() {
            shape.pair(out, f, v);
        }
    } else {
        draw_distinct(h, l as usize, shape, &mut rng, out);
    }
    Ok(())
}

/// `n` independent draws.
fn draw_with_repeats(h: &Hash, n: usize, shape: Shape, rng: &mut SmallRng, out: &mut ReplyBuf) {
    shape.header(out, n);
    match h.as_table() {
        Some(t) => {
            for _ in 0..n {
                if let Some((f, v)) = t.random(rng) {
                    shape.pair(out, LpItem::Str(f), LpItem::Str(v));
                }
            }
        }
        None => {
            // A listpack is walked once; the draws then index the pairs directly.
            let pairs: Vec<(LpItem<'_>, LpItem<'_>)> = h.iter().collect();
            for _ in 0..n {
                let (f, v) = pairs[rng.gen_range(0..pairs.len())];
                shape.pair(out, f, v);
            }
        }
    }
}

/// `n` distinct fields, `n` smaller than the hash.
fn draw_distinct(h: &Hash, n: usize, shape: Shape, rng: &mut SmallRng, out: &mut ReplyBuf) {
    let size = h.len();
    shape.header(out, n);
    match h.as_table() {
        Some(t) if n * 3 <= size => {
            // Few of many: draw until `n` distinct records came up (a record is known by its address).
            let mut seen = HashSet::with_capacity(n);
            while seen.len() < n {
                if let Some((f, v)) = t.random(rng) {
                    if seen.insert(f.as_ptr() as usize) {
                        shape.pair(out, LpItem::Str(f), LpItem::Str(v));
                    }
                }
            }
        }
        _ => {
            // Many of the hash (or a listpack): choose `n` positions, reply in the hash's order.
            let pairs: Vec<(LpItem<'_>, LpItem<'_>)> = h.iter().collect();
            let mut chosen = index::sample(rng, size, n).into_vec();
            chosen.sort_unstable();
            for i in chosen {
                let (f, v) = pairs[i];
                shape.pair(out, f, v);
            }
        }
    }
}
