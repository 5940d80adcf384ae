//! CONFIG GET, SET, RESETSTAT, REWRITE, HELP.
//!
//! The registry (`crate::config`) validates and stores; this module applies what a change means to
//! the running server (docs/config.md, "How the server applies a change"): listeners for `port` and
//! `bind`, the working directory for `dir`, the open-files limit for `maxclients`, the network
//! layer's copy of its settings, the log. If applying fails, the whole CONFIG SET is rolled back,
//! the already applied side effects included, and the error names the directive.

use resp::ReplyBuf;

use super::host::Request;
use super::{Args, Ctx};
use crate::config::{Config, SetContext};
use crate::error::{CmdError, CmdResult};

/// CONFIG GET parameter [parameter ...]
pub fn get(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let patterns: Vec<&[u8]> = args.rest(2).collect();
    let pairs = ctx.core.config.get(&patterns);
    out.map(pairs.len());
    for (name, value) in &pairs {
        out.bulk(name.as_bytes());
        out.bulk(value.as_bytes());
    }
    Ok(())
}

/// CONFIG SET parameter value [parameter value ...]
pub fn set(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)))
        .collect();
    let before = ctx.core.config.clone();
    let set_ctx = SetContext {
        local_client: ctx.client.is_local(),
    };
    let changed = ctx
        .core
        .config
        .set_with(&pairs, set_ctx)
        .map_err(|line| CmdError::Coded(line.into()))?;
    // New listeners are opened here, so a failure is this command's error, and installed by the
    // server once the handler returns (until then the old ones keep serving).
    let mut listeners = None;
    let mut applied: Vec<&'static str> = Vec::new();
    for name in &changed {
        let result = match *name {
            "port" | "bind" if ctx.host.is_some() => match listeners {
                Some(_) => Ok(()),
                None => open_listeners(&ctx.core.config, name).map(|l| listeners = Some(l)),
            },
            // Turning the AOF on starts its first rewrite; off closes it (`server::aof`).
            "appendonly" => crate::server::aof::set_enabled(ctx.core, ctx.core.config.appendonly),
            _ => apply(&ctx.core.config, name),
        };
        if let Err(why) = result {
            // Roll back: the old values, and their side effects for what was already applied.
            ctx.core.config = before;
            for done in &applied {
                let _ = match *done {
                    "appendonly" => crate::server::aof::set_enabled(ctx.core, ctx.core.config.appendonly),
                    _ => apply(&ctx.core.config, done),
                };
            }
            return Err(CmdError::err(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - {why}"
            )));
        }
        applied.push(name);
    }
    if let Some(l) = listeners {
        ctx.request(Request::Listen(l));
    }
    ctx.request(Request::Reconfigure);
    crate::server::log::configure_level(crate::server::log::Level::from_config(ctx.core.config.loglevel));
    if changed.contains(&"maxmemory") {
        let used = crate::memory::used_memory();
        let max = ctx.core.config.maxmemory;
        if max > 0 && used > max {
            crate::log_warning!(
                "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory \
                 usage ({used}). This will result in key eviction and/or the inability to accept new write \
                 commands depending on the maxmemory-policy."
            );
        }
    }
    out.ok();
    Ok(())
}

/// Open the listeners the new `bind` and `port` ask for, with Redis's errors.
fn open_listeners(cfg: &Config, name: &str) -> Result<Vec<mio::net::TcpListener>, String> {
    crate::server::listen::open_listeners(&cfg.bind, cfg.port).map_err(|e| {
        crate::log_warning!("{e}");
        if name == "port" {
            return "Unable to listen on this port. Check server logs.".to_string();
        }
        crate::log_warning!("Failed to bind");
        crate::log_warning!(
            "Failed applying new configuration. Possibly related to new bind setting. Restoring previous settings."
        );
        "Failed to bind to specified addresses.".to_string()
    })
}

/// Apply one changed directive's side effect on the process (`cfg` is the configuration to bring it to).
fn apply(cfg: &Config, name: &str) -> Result<(), String> {
    match name {
        "dir" => std::env::set_current_dir(&cfg.dir).map_err(|e| crate::config::io_strerror(&e)),
        "maxclients" => {
            let effective = crate::server::adjust_open_files_limit(cfg.maxclients);
            if effective != cfg.maxclients {
                return Err(format!(
                    "The operating system is not able to handle the specified number of clients, try with {effective}"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// CONFIG RESETSTAT: the statistics INFO reports, per-command and per-error counters included.
pub fn resetstat(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ctx.core.reset_stats();
    ctx.request(Request::ResetStats);
    out.ok();
    Ok(())
}

/// CONFIG REWRITE
pub fn rewrite(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match ctx.core.config.rewrite() {
        Ok(()) => {
            crate::log_notice!("CONFIG REWRITE executed with success.");
            out.ok();
            Ok(())
        }
        Err(line) => {
            if let Some(reason) = line.strip_prefix("ERR Rewriting config file: ") {
                crate::log_warning!("CONFIG REWRITE failed: {reason}");
            }
            Err(CmdError::Coded(line.into()))
        }
    }
}

/// CONFIG HELP (our own wording, Redis's layout).
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::server::help_reply(
        out,
        "CONFIG",
        &[
            (
                "GET <pattern>",
                "The directives whose names match the glob <pattern>, with their values.",
            ),
            (
                "SET <directive> <value>",
                "Change <directive> to <value> (several pairs change together or not at all).",
            ),
            ("RESETSTAT", "Zero the statistics INFO reports."),
            ("REWRITE", "Write the running configuration back to the config file."),
        ],
    );
    Ok(())
}
