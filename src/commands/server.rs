//! Server commands: DBSIZE, DEBUG, SHUTDOWN.

use std::time::Duration;

use resp::ReplyBuf;

use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::net::{BusyMode, ShutdownRequest};

/// DBSIZE
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.db().len() as i64);
    Ok(())
}

/// DEBUG subcommand [args...]
pub fn debug(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.is(1, "sleep") && args.len() == 3 {
        let secs = args.float(2)?;
        debug_sleep(ctx, secs);
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
