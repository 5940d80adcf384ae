//! Dispatch: lookup → gates in Redis 7.0's order → handler → bookkeeping and propagation.
//!
//! The gates read command flags, never names: unknown command, arity, protected command, authentication,
//! OOM, loading, and the client pause (which suspends the client instead of answering). Later milestones
//! slot theirs in at Redis's positions (MULTI restrictions after auth, ACL, cluster redirection, MISCONF,
//! min-replicas, read-only replica, RESP2 pub/sub context, MASTERDOWN, BUSY, MULTI queuing).

use resp::ReplyBuf;

use super::spec::{flags, Command};
use super::table::{self, Lookup};
use super::{Args, Ctx};
use crate::clock::monotonic_us;
use crate::error::CmdError;
use crate::server::blocking::Waiter;
use crate::server::client::{BlockReason, Blocked, Client};
use crate::server::core::Core;
use crate::server::net::Net;

/// What happened to the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered (successfully or with an error).
    Done,
    /// The client was suspended; the command stays queued and runs again when the client is released.
    Blocked,
}

/// Redis's unknown-command error, quoting the start of the arguments.
pub fn unknown_command_error<A: AsRef<[u8]>>(args: &[A]) -> String {
    let mut tail = String::new();
    for a in args.iter().skip(1) {
        if tail.len() >= 128 {
            break;
        }
        let room = 128 - tail.len();
        let a = c_string(a.as_ref());
        let shown: String = String::from_utf8_lossy(&a[..a.len().min(room)]).into_owned();
        tail.push_str(&format!("'{shown}' "));
    }
    let name = c_string(args[0].as_ref());
    let name = String::from_utf8_lossy(&name[..name.len().min(128)]).into_owned();
    format!("ERR unknown command '{name}', with args beginning with: {tail}")
}

/// Redis formats arguments with `%s`, so a NUL byte ends them.
fn c_string(a: &[u8]) -> &[u8] {
    match a.iter().position(|&b| b == 0) {
        Some(n) => &a[..n],
        None => a,
    }
}

fn unknown_subcommand_error(container: &Command, sub: &[u8]) -> String {
    let sub = c_string(sub);
    let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
    format!(
        "ERR unknown subcommand '{sub}'. Try {} HELP.",
        container.name.to_ascii_uppercase()
    )
}

/// Reply with an error line and count it.
pub fn reply_error(core: &mut Core, out: &mut ReplyBuf, line: &str) {
    out.error(line);
    core.count_error(line);
}

/// Reject before execution (counted as a rejected call when the command is known).
fn reject(core: &mut Core, out: &mut ReplyBuf, idx: Option<usize>, line: &str) -> Outcome {
    if let Some(i) = idx {
        core.cmdstats[i].rejected_calls += 1;
    }
    reply_error(core, out, line);
    Outcome::Done
}

/// Execute one request for `client`, writing its reply into `out`.
pub fn execute(
    core: &mut Core,
    net: Option<&mut Net>,
    client: &mut Client,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> Outcome {
    let (cmd, idx) = match table::lookup_args(args) {
        Lookup::Found(cmd, idx) => (cmd, idx),
        Lookup::Unknown => {
            let argv: Vec<&[u8]> = args.iter().collect();
            return reject(core, out, None, &unknown_command_error(&argv));
        }
        Lookup::UnknownSub(container) => {
            return reject(core, out, None, &unknown_subcommand_error(container, args.get(1)));
        }
    };
    if !cmd.arity_ok(args.len()) {
        let line = format!("ERR wrong number of arguments for '{}' command", cmd.full_name);
        return reject(core, out, Some(idx), &line);
    }
    if cmd.has(flags::PROTECTED) && !protected_allowed(core, client) {
        let line = format!(
            "ERR {} command not allowed. If the enable-{}-command option is set to \"local\", you can run it \
             from a local connection, otherwise you need to set this option in the configuration file, and \
             then restart the server.",
            cmd.name.to_ascii_uppercase(),
            cmd.name
        );
        return reject(core, out, Some(idx), &line);
    }
    if !client.authenticated && !cmd.has(flags::NO_AUTH) {
        return reject(core, out, Some(idx), &CmdError::NoAuth.to_string());
    }
    if core.config.maxmemory > 0 && cmd.has(flags::DENYOOM) && crate::memory::used_memory() > core.config.maxmemory {
        return reject(core, out, Some(idx), &CmdError::Oom.to_string());
    }
    // MONITOR clients are replicas to Redis: they may not touch the keyspace, and pauses skip them.
    let monitor = client.has(crate::server::client::cflags::MONITOR);
    if monitor && cmd.has(flags::WRITE | flags::READONLY | flags::MAY_REPLICATE) {
        return reject(core, out, Some(idx), "ERR Replica can't interact with the keyspace");
    }
    if core.loading && !cmd.has(flags::LOADING) {
        return reject(core, out, Some(idx), &CmdError::Loading.to_string());
    }
    if let (Some(p), false) = (core.pause, monitor) {
        let writes = cmd.has(flags::WRITE) || cmd.has(flags::MAY_REPLICATE);
        if p.end_ms > core.now_ms && (p.all || writes) {
            // A client re-run after blocking on keys stays blocked on them; others wait for the pause.
            if client.blocked.is_none() {
                client.blocked = Some(Blocked {
                    reason: BlockReason::Pause,
                    timeout_ms: None,
                });
            }
            return Outcome::Blocked;
        }
    }
    call(core, net, client, cmd, idx, args, out)
}

/// Whether a `protected` command (DEBUG) may run for this client (`enable-debug-command`).
fn protected_allowed(core: &Core, client: &Client) -> bool {
    core.config.enable_debug_command.allows(client.is_local())
}

/// Run the handler and do the bookkeeping Redis's `call()` does.
fn call(
    core: &mut Core,
    net: Option<&mut Net>,
    client: &mut Client,
    cmd: &'static Command,
    idx: usize,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> Outcome {
    let Some(handler) = cmd.handler else {
        // Containers always have subcommands; lookup never returns one alone.
        return Outcome::Done;
    };
    let dirty_before = core.stats.dirty;
    core.journal.begin();
    if cmd.has(flags::TOUCHES_ARBITRARY_KEYS) {
        core.journal.unwrap_effects();
    }
    let start = monotonic_us();
    let mut ctx = Ctx {
        core: &mut *core,
        client: &mut *client,
        net,
        cmd,
    };
    let result = handler(&mut ctx, args, out);
    if let Some(spec) = ctx.client.block_request.take() {
        // The handler found nothing to serve and asked to wait. A first block registers the client; a
        // re-run that found nothing leaves its registration (place in line, deadline) as it was.
        if ctx.client.blocked.is_none() {
            let who = Waiter {
                id: ctx.client.id,
                slot: ctx.client.slot,
            };
            ctx.core.blocking.add(who, &spec);
            ctx.client.blocked = Some(Blocked {
                timeout_ms: spec.deadline_ms,
                reason: BlockReason::Keys { spec, cmd_idx: idx },
            });
        }
        // Statistics, the slow log and propagation wait until the command completes.
        return Outcome::Blocked;
    }
    // Redis 7.0 feeds MONITOR after execution, leaving out admin commands and rejected ones.
    if let Some(net) = ctx.net {
        if net.monitors > 0 && !cmd.has(flags::ADMIN | flags::SKIP_MONITOR) {
            super::server::feed_monitors(net, ctx.client, cmd, args, out);
        }
    }
    let duration = (monotonic_us() - start).max(0) as u64;
    let stat = &mut core.cmdstats[idx];
    stat.calls += 1;
    stat.usec += duration;
    if let Err(e) = &result {
        stat.failed_calls += 1;
        let line = e.to_string();
        reply_error(core, out, &line);
    }
    core.stats.total_commands += 1;
    client.commands += 1;
    client.last_cmd = cmd.full_name;
    super::introspection::after_call(core, client, cmd, idx, args, duration);
    let dirty = core.stats.dirty != dirty_before;
    core.journal.commit(client.db, args, dirty && cmd.has(flags::WRITE));
    Outcome::Done
}
