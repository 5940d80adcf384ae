//! HSCAN key cursor [MATCH pattern] [COUNT count]
//!
//! Redis 7.0's order of checks: the cursor first (`invalid cursor`), then the key (a missing key answers
//! an empty page with cursor 0 whatever the options say), then its type, then the options (COUNT must be
//! a positive integer, anything else is a syntax error).
//!
//! A listpack hash is returned whole in one page with cursor 0, as Redis does. A table is walked from the
//! cursor bucket by bucket (`FieldTable::scan`, Redis's reverse-binary cursor, so every field present
//! for the whole scan is returned at least once) until the page holds COUNT elements — fields and
//! values both count, as in Redis — or ten times COUNT buckets were visited. MATCH filters the page
//! afterwards, on fields; the pattern `*` alone matches every field, the empty one included.

use resp::ReplyBuf;

use super::{bulk_item, read_hash};
use crate::commands::keys::{parse_cursor, parse_scan_options, ScanOptions};
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::storage::object::listpack::LpItem;
use crate::util::glob::glob_match;

pub fn hscan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let cursor = parse_cursor(args.get(2)).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let mut db = ctx.db();
    let Some(h) = read_hash(&mut db, args.get(1))? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let ScanOptions { count, pattern, .. } = parse_scan_options(args, 3, false)?;

    let mut page: Vec<(LpItem<'_>, LpItem<'_>)> = Vec::new();
    let next = match h.as_table() {
        None => {
            page.extend(h.iter());
            0
        }
        Some(t) => {
            // Redis's `while (cursor && maxiterations-- && len < count)`: at most 10 × COUNT + 1 steps.
            let mut cursor = cursor;
            let mut steps_left = count.saturating_mul(10);
            loop {
                cursor = t.scan(cursor, |f, v| page.push((LpItem::Str(f), LpItem::Str(v))));
                if cursor == 0 || steps_left == 0 || (page.len() as i64).saturating_mul(2) >= count {
                    break cursor;
                }
                steps_left -= 1;
            }
        }
    };
    let mut digits = itoa::Buffer::new();
    if let Some(p) = pattern {
        page.retain(|(f, _)| glob_match(p, f.as_bytes(&mut digits), false));
    }
    out.array(2);
    out.bulk(digits.format(next).as_bytes());
    out.array(page.len() * 2);
    for (f, v) in page {
        bulk_item(out, f);
        bulk_item(out, v);
    }
    Ok(())
}
