//! Dispatch: lookup → gates in Redis 7.0's order → MULTI queuing or the call → bookkeeping → commit.
//!
//! Two entry points:
//! - [`execute`] takes a request from a connection: it looks the command up, applies the gates (one list,
//!   read from the table's flags, used alike when the server is free and when a busy script or a load
//!   lends it the network), queues it inside MULTI, or calls it.
//! - [`call`] runs a handler at any depth: for a connection, for EXEC's queued commands, for a script's
//!   `redis.call`, for AOF replay and a replica's stream (DESIGN §5, "commands run commands"). Every call
//!   is counted, timed, slow-logged and shown to MONITOR, as Redis's `call()` does at every level. The
//!   effects of all the calls under one outermost call accumulate in the journal and are committed once
//!   when the outermost call returns, wrapped in MULTI/EXEC when there are several.
//!
//! [`Execution`] records how deep the running call is and who issued it; `Ctx::can_block` and the
//! script and replay rules read it.

use resp::ReplyBuf;

use super::host::{DynHost, Request};
use super::spec::{flags, Command};
use super::table::{self, Lookup};
use super::{Args, Ctx};
use crate::clock::monotonic_us;
use crate::error::CmdError;
use crate::server::blocking::Waiter;
use crate::server::client::{cflags, BlockReason, Blocked, Client};
use crate::server::core::Core;

/// What happened to the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered (successfully or with an error), or queued inside MULTI.
    Done,
    /// The client was suspended; the command stays queued and runs again when the client is released.
    Blocked,
}

/// Who issued the command being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Caller {
    /// A connection, directly.
    #[default]
    Client,
    /// EXEC, running a transaction's queued commands.
    Exec,
    /// A script's `redis.call`/`redis.pcall`.
    Script,
    /// Replay of a journal: the AOF at start, a replica applying its master's stream.
    Replay,
}

/// The running call's depth and caller (Redis's `execution_nesting`, `in_exec`, `in_script`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Execution {
    depth: u32,
    caller: Caller,
}

impl Execution {
    /// How many calls are running, the outermost included (0 between commands).
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Who issued the innermost running call.
    pub fn caller(&self) -> Caller {
        self.caller
    }

    /// Whether the running call is inside a script (at any depth).
    pub fn in_script(&self) -> bool {
        self.caller == Caller::Script
    }

    fn enter(&mut self, caller: Caller) -> Caller {
        self.depth += 1;
        std::mem::replace(&mut self.caller, caller)
    }

    fn leave(&mut self, outer: Caller) {
        self.depth -= 1;
        self.caller = outer;
    }

    /// Set the running execution aside while the busy path serves other clients' commands, which run
    /// as outermost calls of their own; `resume` puts it back.
    pub fn suspend(&mut self) -> Execution {
        std::mem::take(self)
    }

    pub fn resume(&mut self, saved: Execution) {
        *self = saved;
    }
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

/// Redis's arity error.
pub fn arity_error(cmd: &Command) -> String {
    format!("ERR wrong number of arguments for '{}' command", cmd.full_name)
}

/// Reply with an error line and count it.
pub fn reply_error(core: &mut Core, out: &mut ReplyBuf, line: &str) {
    out.error(line);
    core.count_error(line);
}

/// What the gates decided about a request.
enum Verdict {
    Run,
    /// Refused with this error line.
    Reject(String),
    /// Held by CLIENT PAUSE until the pause ends.
    Pause,
}

/// Execute one request from `client`, writing its reply into `out`.
pub fn execute(
    core: &mut Core,
    host: Option<&mut DynHost>,
    client: &mut Client,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> Outcome {
    let (cmd, idx) = match table::lookup_args(args) {
        Lookup::Found(cmd, idx) => (cmd, idx),
        Lookup::Unknown => {
            client.last_cmd = "NULL";
            let argv: Vec<&[u8]> = args.iter().collect();
            return reject(core, host, client, None, args, out, &unknown_command_error(&argv));
        }
        Lookup::UnknownSub(container) => {
            client.last_cmd = "NULL";
            let line = unknown_subcommand_error(container, args.get(1));
            return reject(core, host, client, None, args, out, &line);
        }
    };
    // CLIENT LIST's `cmd`: the command as sent (a queued or refused one too, not those EXEC runs).
    client.last_cmd = cmd.full_name;
    match gates(core, client, cmd, args, out.is_resp3()) {
        Verdict::Run => {}
        Verdict::Reject(line) => return reject(core, host, client, Some((cmd, idx)), args, out, &line),
        Verdict::Pause => {
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
    if let Some(multi) = client.multi.as_deref_mut() {
        if !cmd.has(flags::NOT_QUEUED) {
            multi.queue(request_flags(core, cmd, args), cmd, idx, args);
            out.simple(b"QUEUED");
            return Outcome::Done;
        }
    }
    let outcome = call(core, host, client, cmd, idx, args, out, Caller::Client);
    // CLIENT CACHING applies to the next command only (the whole transaction, inside MULTI); any
    // CLIENT subcommand keeps it, as in Redis.
    if outcome == Outcome::Done && client.multi.is_none() && !cmd.full_name.starts_with("client|") {
        core.tracking.command_done(client.id);
    }
    outcome
}

/// The flags of a request: its command's; for a command that runs another one named in its
/// arguments (LOCK.FENCED), that one's too (a fenced write is a write, a fenced read is not); for a
/// script, what the script declares (`script_flags`).
pub fn request_flags(core: &Core, cmd: &Command, args: &Args<'_>) -> u64 {
    if cmd.has(flags::RUNS_SCRIPT_BODY | flags::RUNS_SCRIPT_SHA | flags::RUNS_FUNCTION) {
        return script_flags(core, cmd, args);
    }
    if !cmd.has(flags::RUNS_ARGUMENT) {
        return cmd.flags;
    }
    match super::locks::fenced_command(args) {
        Some(inner) => cmd.flags | inner.flags,
        None => cmd.flags,
    }
}

/// A script command's flags as Redis computes them (`evalGetCommandFlags`, `fcallGetCommandFlags`): a
/// script that declares its flags (a shebang, a function's registration) is judged by them instead of
/// the command's write, denyoom, stale and may-replicate flags; one that declares none, or is not
/// known yet, keeps the command's (so CLIENT PAUSE WRITE holds an EVAL without a shebang, not one
/// flagged `no-writes`).
fn script_flags(core: &Core, cmd: &Command, args: &Args<'_>) -> u64 {
    use crate::scripting::script_flags as sf;
    let target = args.get(1);
    let declared = if cmd.has(flags::RUNS_FUNCTION) {
        core.functions.get(target).map(|f| f.flags)
    } else if cmd.has(flags::RUNS_SCRIPT_SHA) {
        std::str::from_utf8(target)
            .ok()
            .filter(|sha| sha.len() == 40)
            .and_then(|sha| match sha.bytes().any(|b| b.is_ascii_uppercase()) {
                true => core.scripts.get(&sha.to_ascii_lowercase()),
                false => core.scripts.get(sha),
            })
            .map(|s| s.flags)
    } else {
        // Redis looks the body up in its cache first, but a cached script's flags are its shebang's:
        // reading the shebang gives the same answer without hashing the body on every call.
        crate::scripting::shebang_flags(target).ok()
    };
    let Some(declared) = declared.filter(|f| f & sf::EVAL_COMPAT == 0) else {
        return cmd.flags;
    };
    let mut f = cmd.flags & !(flags::STALE | flags::DENYOOM | flags::WRITE | flags::MAY_REPLICATE);
    if declared & (sf::ALLOW_OOM | sf::NO_WRITES) == 0 {
        f |= flags::DENYOOM;
    }
    if declared & sf::NO_WRITES == 0 {
        f |= flags::WRITE;
    }
    if declared & sf::ALLOW_STALE != 0 {
        f |= flags::STALE;
    }
    f
}

/// The flags the gates judge a request by: EXEC carries those of the commands it would run (so a
/// transaction of writes is refused where a write would be).
fn effective_flags(core: &Core, client: &Client, cmd: &Command, args: &Args<'_>) -> u64 {
    match client.multi.as_deref() {
        Some(m) if cmd.has(flags::RUNS_QUEUED) => cmd.flags | m.flags(),
        _ => request_flags(core, cmd, args),
    }
}

/// The gates between lookup and execution, in Redis 7.0's order (processCommand). Each reads flags
/// and state, never command names.
/// `resp3`: the protocol the client speaks (its output buffer is lent to the caller meanwhile).
/// Redis's reply to a write while the last background save failed.
const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to \
                       disk. Commands that may modify the data set are disabled, because this instance is \
                       configured to report errors during writes if RDB snapshotting fails \
                       (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the \
                       RDB error.";

fn gates(core: &Core, client: &Client, cmd: &Command, args: &Args<'_>, resp3: bool) -> Verdict {
    if !cmd.arity_ok(args.len()) {
        return Verdict::Reject(arity_error(cmd));
    }
    if cmd.has(flags::PROTECTED) && !core.config.enable_debug_command.allows(client.is_local()) {
        return Verdict::Reject(format!(
            "ERR {} command not allowed. If the enable-{}-command option is set to \"local\", you can run it \
             from a local connection, otherwise you need to set this option in the configuration file, and \
             then restart the server.",
            cmd.name.to_ascii_uppercase(),
            cmd.name
        ));
    }
    let f = effective_flags(core, client, cmd, args);
    let has = |flag: u64| f & flag != 0;
    if !client.authenticated && !cmd.has(flags::NO_AUTH) {
        return Verdict::Reject(CmdError::NoAuth.to_string());
    }
    let in_multi = client.multi.is_some();
    if in_multi && cmd.has(flags::NO_MULTI) {
        return Verdict::Reject("ERR Command not allowed inside a transaction".into());
    }
    // Inside MULTI every queued command takes memory, so all are refused over the limit, except the
    // ones that end the transaction (Redis's reject_cmd_on_oom).
    let oom_applies = has(flags::DENYOOM) || (in_multi && !cmd.has(flags::QUEUE_OOM_EXEMPT));
    if core.config.maxmemory > 0 && oom_applies && !core.busy() && crate::memory::used_memory() > core.config.maxmemory
    {
        return Verdict::Reject(CmdError::Oom.to_string());
    }
    // A failed background save stops writes while `save` points are set (stop-writes-on-bgsave-error),
    // and so does a failed AOF write or fsync until one succeeds.
    if has(flags::WRITE) || cmd.full_name == "ping" {
        if core.config.stop_writes_on_bgsave_error && !core.config.save.is_empty() && !core.persist.last_save_ok {
            return Verdict::Reject(MISCONF.into());
        }
        if let Some(reason) = core.aof.as_ref().and_then(|a| a.error()) {
            return Verdict::Reject(format!("MISCONF Errors writing to the AOF file: {reason}"));
        }
    }
    // A RESP2 subscriber's connection carries messages: only (un)subscribing, PING, QUIT and RESET.
    if client.is_subscriber() && !resp3 && !cmd.has(flags::SUBSCRIBER_OK) {
        return Verdict::Reject(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in \
             this context",
            cmd.full_name
        ));
    }
    if core.loading && !cmd.has(flags::LOADING) {
        return Verdict::Reject(CmdError::Loading.to_string());
    }
    if let Some(busy) = core.busy_error() {
        if !cmd.has(flags::ALLOW_BUSY) {
            return Verdict::Reject(busy.to_string());
        }
    }
    // MONITOR clients are replicas to Redis: they may not touch the keyspace, and pauses skip them.
    let monitor = client.has(cflags::MONITOR);
    if monitor && has(flags::WRITE | flags::READONLY | flags::MAY_REPLICATE) {
        return Verdict::Reject("ERR Replica can't interact with the keyspace".into());
    }
    if let (Some(p), false) = (core.pause, monitor) {
        if p.end_ms > core.now_ms && (p.all || has(flags::WRITE | flags::MAY_REPLICATE)) {
            return Verdict::Pause;
        }
    }
    Verdict::Run
}

/// Refuse a request before it runs: the error is counted (as a rejected call when the command is
/// known), and inside MULTI the transaction is marked to fail. A refused EXEC ends the transaction at
/// once with `EXECABORT` quoting the reason (Redis's execCommandAbort).
fn reject(
    core: &mut Core,
    host: Option<&mut DynHost>,
    client: &mut Client,
    found: Option<(&'static Command, usize)>,
    args: &Args<'_>,
    out: &mut ReplyBuf,
    line: &str,
) -> Outcome {
    if let Some((_, idx)) = found {
        core.cmdstats[idx].rejected_calls += 1;
    }
    match (found, client.multi.as_deref_mut()) {
        (Some((cmd, _)), Some(_)) if cmd.has(flags::RUNS_QUEUED) => {
            super::transactions::discard_transaction(core, client);
            // Redis quotes the reason as it formatted it: its generic errors (arity) without `ERR `,
            // the coded ones (OOM, NOAUTH, ...) with their code.
            let reason = line.strip_prefix("ERR ").unwrap_or(line);
            let line = format!("EXECABORT Transaction discarded because of: {reason}");
            reply_error(core, out, &line);
            // Redis still shows the refused EXEC to MONITOR.
            if let Some(host) = host {
                if host.has_monitors() {
                    feed_monitors(core, host, client, cmd, args, out);
                }
            }
            return Outcome::Done;
        }
        (_, Some(multi)) => multi.mark_failed(),
        _ => {}
    }
    reply_error(core, out, line);
    Outcome::Done
}

/// A replayed command that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCommand;

/// Replay one command of a journal (the AOF at start-up) for `client`, as Redis's AOF loader does:
/// no gates (the file says what happened), inside MULTI every command but those that end it is
/// queued, and the reply is whatever the handler wrote (callers discard it). `Err` for a command
/// that does not exist.
pub fn replay(core: &mut Core, client: &mut Client, args: &Args<'_>, out: &mut ReplyBuf) -> Result<(), UnknownCommand> {
    let Lookup::Found(cmd, idx) = table::lookup_args(args) else {
        return Err(UnknownCommand);
    };
    if let Some(multi) = client.multi.as_deref_mut() {
        if !cmd.has(flags::NOT_QUEUED) {
            multi.queue(request_flags(core, cmd, args), cmd, idx, args);
            return Ok(());
        }
    }
    call(core, None, client, cmd, idx, args, out, Caller::Replay);
    Ok(())
}

/// Run a handler and do the bookkeeping Redis's `call()` does, at any nesting depth.
#[allow(clippy::too_many_arguments)]
pub fn call(
    core: &mut Core,
    mut host: Option<&mut DynHost>,
    client: &mut Client,
    cmd: &'static Command,
    idx: usize,
    args: &Args<'_>,
    out: &mut ReplyBuf,
    caller: Caller,
) -> Outcome {
    let Some(handler) = cmd.handler else {
        // Containers always have subcommands; lookup never returns one alone.
        return Outcome::Done;
    };
    let outer = core.exec.enter(caller);
    let outermost = core.exec.depth() == 1;
    if outermost {
        // Errors answered outside any call (protocol errors, unknown commands) are nobody's failure.
        core.err_checkpoint = core.stats.total_error_replies;
        core.journal.begin();
        // Whose changes these are (NOLOOP), and whose reads (a script's commands read for its caller).
        core.tracking.current_client = client.id;
        // Redis commits these commands' effects (independent DELs) one by one when they run directly.
        if cmd.has(flags::TOUCHES_ARBITRARY_KEYS) {
            core.journal.unwrap_effects();
        }
    }
    let saved_effects = core.journal.enter_call();
    if cmd.has(flags::SKIP_MONITOR) {
        // The script runners are shown before the commands their script runs, as in Redis.
        if let Some(h) = host.as_deref_mut() {
            if h.has_monitors() {
                feed_monitors(core, h, client, cmd, args, out);
            }
        }
    }
    let dirty_before = core.stats.dirty;
    let out_before = out.len();
    let start = monotonic_us();
    let result = {
        let mut ctx = Ctx {
            core: &mut *core,
            client: &mut *client,
            host: host.as_deref_mut(),
            cmd,
        };
        handler(&mut ctx, args, out)
    };
    carry_out_requests(core, host.as_deref_mut());
    if caller != Caller::Script && !core.pubsub.outbox.is_empty() {
        own_pushes_before_reply(core, client.id, out, out_before);
    }
    if let Some(spec) = client.block_request.take() {
        // The handler found nothing to serve and asked to wait (only a connection's direct call can). A
        // first block registers the client; a re-run that found nothing keeps its registration (place in
        // line, deadline). Statistics, the slow log and the command's own effect wait until it completes,
        // but what it did meanwhile (deleting an expired key) is committed now.
        if client.blocked.is_none() {
            let who = Waiter {
                id: client.id,
                slot: client.slot,
            };
            core.blocking.add(who, &spec);
            client.blocked = Some(Blocked {
                timeout_ms: spec.deadline_ms,
                reason: BlockReason::Keys { spec, cmd_idx: idx },
            });
        }
        core.journal.leave_call(client.db, args, false, saved_effects);
        finish_call(core, outer);
        return Outcome::Blocked;
    }
    // Redis 7.0 feeds MONITOR after execution, leaving out admin commands and rejected ones.
    if !cmd.has(flags::ADMIN | flags::SKIP_MONITOR) {
        if let Some(h) = host {
            if h.has_monitors() {
                feed_monitors(core, h, client, cmd, args, out);
            }
        }
    }
    let duration = (monotonic_us() - start).max(0) as u64;
    match &result {
        Ok(()) => {}
        // Already counted by the command that produced it: the call fails, the error is not counted.
        Err(CmdError::Relayed(line)) => {
            out.error(line);
            core.relayed_error = true;
        }
        Err(e) => reply_error(core, out, &e.to_string()),
    }
    // As Redis's call(): the call failed if an error was counted since the last call was judged (its
    // own reply, or one written by a command it ran that did not count itself).
    let stat = &mut core.cmdstats[idx];
    stat.calls += 1;
    stat.usec += duration;
    if core.stats.total_error_replies > core.err_checkpoint || std::mem::take(&mut core.relayed_error) {
        stat.failed_calls += 1;
    }
    core.err_checkpoint = core.stats.total_error_replies;
    core.stats.total_commands += 1;
    client.commands += 1;
    super::introspection::after_call(core, client, cmd, idx, args, duration);
    if core.tracking.active()
        && cmd.has(flags::READONLY)
        && !cmd.has(flags::RUNS_SCRIPT_BODY | flags::RUNS_SCRIPT_SHA | flags::RUNS_FUNCTION)
    {
        remember_read_keys(core, cmd, args);
    }
    let dirty = core.stats.dirty != dirty_before;
    core.journal
        .leave_call(client.db, args, dirty && cmd.has(flags::WRITE), saved_effects);
    finish_call(core, outer);
    Outcome::Done
}

/// Leave a call; the outermost one commits the effects of everything that ran under it.
fn finish_call(core: &mut Core, outer: Caller) {
    core.exec.leave(outer);
    if core.exec.depth() == 0 {
        core.journal.commit();
        core.tracking.current_client = 0;
    }
}

/// A read-only command's keys may now be cached by the client it ran for (client tracking).
fn remember_read_keys(core: &mut Core, cmd: &Command, args: &Args<'_>) {
    let mut keys = Vec::new();
    super::getkeys::get_keys(cmd, args, &mut keys);
    let id = core.tracking.current_client;
    core.tracking.remember(id, keys.iter().map(|k| args.get(k.pos)));
}

/// Messages the call published to its own client (a RESP3 subscriber publishing, a keyspace event of
/// its own write) go into its output before the call's reply, where Redis writes them. Inside a
/// script the output is the script's, not the client's: they wait for the script's own call.
fn own_pushes_before_reply(core: &mut Core, id: u64, out: &mut ReplyBuf, at: usize) {
    let crate::server::pubsub::Outbox { pushes, deliveries } = &mut core.pubsub.outbox;
    if !deliveries.iter().any(|(w, _)| w.id == id) {
        return;
    }
    let mut own = ReplyBuf::new(out.proto);
    deliveries.retain(|(w, i)| {
        if w.id != id {
            return true;
        }
        pushes[*i].write_to(&mut own);
        false
    });
    if deliveries.is_empty() {
        pushes.clear();
    }
    out.buf.splice(at..at, own.buf);
}

/// Hand the handler's requests to the host (dropped without one: nothing there has a network).
fn carry_out_requests(core: &mut Core, host: Option<&mut DynHost>) {
    if core.requests.is_empty() {
        return;
    }
    let requests: Vec<Request> = std::mem::take(&mut core.requests);
    if let Some(host) = host {
        for r in requests {
            host.carry_out(core, r);
        }
    }
}

/// Show a command to the MONITOR clients (the executing one included: it sees its own commands after
/// their replies).
fn feed_monitors(core: &Core, host: &mut DynHost, client: &Client, cmd: &Command, args: &Args<'_>, out: &mut ReplyBuf) {
    let now_us = crate::clock::Clock::now_us(&crate::clock::SystemClock);
    let addr = if core.exec.in_script() {
        "lua"
    } else {
        client.addr.as_str()
    };
    let line = super::server::monitor_line(now_us, client.db, addr, cmd, args);
    host.feed_monitors(&line, client.id);
    if client.has(cflags::MONITOR) {
        out.raw(&line);
    }
}
