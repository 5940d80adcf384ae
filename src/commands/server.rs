//! Server commands: DBSIZE, SHUTDOWN.

use resp::ReplyBuf;

use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::net::ShutdownRequest;

/// DBSIZE
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.db().len() as i64);
    Ok(())
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
