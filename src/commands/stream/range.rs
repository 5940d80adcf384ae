//! XRANGE and XREVRANGE.

use resp::ReplyBuf;

use super::{parse_interval, read_stream, reply_range};
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};

/// XRANGE key start end [COUNT count]
pub fn xrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    range(ctx, args, out, false)
}

/// XREVRANGE key end start [COUNT count]
pub fn xrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    range(ctx, args, out, true)
}

fn range(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (3, 2) } else { (2, 3) };
    let start = parse_interval(args.get(start_arg), false)?;
    let end = parse_interval(args.get(end_arg), true)?;
    // COUNT: -1 means none; a negative count is 0; COUNT 0 answers a null array (Redis 7.0's quirk).
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if args.is(j, "COUNT") && j + 1 < args.len() {
            count = args.int(j + 1)?.max(0);
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let mut db = ctx.db();
    let Some(s) = read_stream(&mut db, args.get(1))? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
        return Ok(());
    }
    reply_range(out, s, start, end, rev, count.max(0) as usize);
    Ok(())
}
