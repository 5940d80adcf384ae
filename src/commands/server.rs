//! Server commands: DEBUG, SHUTDOWN.

use std::time::Duration;

use resp::ReplyBuf;

use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::net::{BusyMode, ShutdownRequest};

/// DEBUG subcommand [args...]
pub fn debug(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.is(1, "sleep") && args.len() == 3 {
        let secs = args.float(2)?;
        debug_sleep(ctx, secs);
        out.ok();
        return Ok(());
    }
    if args.is(1, "set-active-expire") && args.len() == 3 {
        // Redis reads the flag with atoi: anything that does not start with a non-zero number is off.
        ctx.core.active_expire_enabled = atoi(args.get(2)) != 0;
        out.ok();
        return Ok(());
    }
    Err(CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
        String::from_utf8_lossy(args.get(1))
    )))
}

/// DEBUG SLEEP: hold the keyspace for `secs` like a long command would, while the network layer keeps
/// queueing other clients' commands (Redis is deaf meanwhile) and still honours SHUTDOWN NOSAVE.
fn debug_sleep(ctx: &mut Ctx<'_>, secs: f64) {
    let total = Duration::from_secs_f64(secs.clamp(0.0, 1e9));
    let start = std::time::Instant::now();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= total {
            break;
        }
        let left = total - elapsed;
        match ctx.net.as_deref_mut() {
            Some(net) => {
                net.serve_while_busy(BusyMode::Sleep, left.min(Duration::from_millis(100)), ctx.core.now_ms);
                if net.shutdown.is_some() {
                    break;
                }
            }
            None => std::thread::sleep(left),
        }
    }
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
pub fn shutdown(ctx: &mut Ctx<'_>, args: &Args<'_>, _out: &mut ReplyBuf) -> CmdResult {
    let mut req = ShutdownRequest {
        nosave: false,
        save: false,
        now: false,
        force: false,
        signal: None,
    };
    let mut abort = false;
    for a in args.rest(1) {
        match a.to_ascii_lowercase().as_slice() {
            b"nosave" => req.nosave = true,
            b"save" => req.save = true,
            b"now" => req.now = true,
            b"force" => req.force = true,
            b"abort" => abort = true,
            _ => return Err(CmdError::syntax()),
        }
    }
    if (req.nosave && req.save) || (abort && (req.nosave || req.save || req.now || req.force)) {
        return Err(CmdError::syntax());
    }
    if abort {
        return Err(CmdError::err("No shutdown in progress."));
    }
    if req.save {
        return Err(CmdError::err("Errors trying to SHUTDOWN. Check logs."));
    }
    if let Some(net) = ctx.net.as_deref_mut() {
        net.shutdown = Some(req);
    }
    Ok(())
}

/// C's `atoi`: optional blanks and sign, then as many digits as there are; 0 when there are none.
fn atoi(s: &[u8]) -> i64 {
    let s = match s.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) => &s[i..],
        None => return 0,
    };
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |v, &b| v.wrapping_mul(10).wrapping_add(i64::from(b - b'0')));
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}
