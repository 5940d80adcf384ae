//! Introspection: COMMAND, SLOWLOG, LATENCY, MEMORY, and the recording that feeds them after every
//! call (`after_call`, invoked by dispatch).
//!
//! The recording is on the hot path, so it costs a few comparisons unless something must be kept:
//! the command's duration (already measured by dispatch) is compared with `slowlog-log-slower-than`
//! and `latency-monitor-threshold`, and, with `latency-tracking yes`, counted in the command's
//! histogram (an index computation and an increment).

pub mod command;
pub mod histogram;
pub mod latency;
pub mod memory;
pub mod slowlog;

use resp::ReplyBuf;

use super::spec::{flags, Command};
use super::Args;
use crate::error::CmdError;
use crate::server::client::Client;
use crate::server::core::Core;

pub use latency::info_latencystats;

/// What the introspection commands keep (the `introspection` field of `Core`).
#[derive(Default)]
pub struct State {
    pub slowlog: slowlog::SlowLog,
    pub latency: latency::Monitor,
    pub tracking: latency::Tracking,
    /// Arguments of the running command that must not be shown (slow log, later MONITOR).
    pub redacted: Redactions,
}

/// Positions of secret arguments of the running command (passwords given to `AUTH`, `HELLO ...
/// AUTH`, `CONFIG SET requirepass`, `MIGRATE ... AUTH`). A handler marks them with
/// `ctx.core.introspection.redacted.mark(i)`; they are shown as `(redacted)`, and the marks are
/// cleared once the command is recorded.
#[derive(Debug, Default, Clone)]
pub struct Redactions(Vec<usize>);

impl Redactions {
    pub fn mark(&mut self, pos: usize) {
        if !self.0.contains(&pos) {
            self.0.push(pos);
        }
    }

    pub fn contains(&self, pos: usize) -> bool {
        self.0.contains(&pos)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[inline]
    pub fn clear(&mut self) {
        if !self.0.is_empty() {
            self.0.clear();
        }
    }
}

/// Record a finished call: slow log, latency monitor events, latency histogram. `duration_us` is
/// the handler's run time, as dispatch measured it; `idx` the command's statistics index.
#[inline]
pub fn after_call(core: &mut Core, client: &Client, cmd: &Command, idx: usize, args: &Args<'_>, duration_us: u64) {
    let threshold = core.config.latency_monitor_threshold;
    if threshold > 0 && duration_us / 1000 >= threshold {
        let event = if cmd.has(flags::FAST) {
            "fast-command"
        } else {
            "command"
        };
        latency::add_sample_if_needed(core, event, duration_us / 1000);
    }
    let slower_than = core.config.slowlog_log_slower_than;
    if slower_than >= 0 && duration_us >= slower_than as u64 && !cmd.has(flags::SKIP_SLOWLOG) {
        let max_len = usize::try_from(core.config.slowlog_max_len).unwrap_or(usize::MAX);
        let st = &mut core.introspection;
        st.slowlog.push(
            args,
            &st.redacted,
            (core.now_ms / 1000, duration_us),
            (&client.addr, client.name.as_deref()),
            max_len,
        );
    }
    if core.config.latency_tracking {
        core.introspection.tracking.record(idx, duration_us);
    }
    core.introspection.redacted.clear();
}

/// A HELP reply: the usage line, `lines`, then HELP itself.
pub fn reply_help(out: &mut ReplyBuf, command: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(
        format!(
            "{} <subcommand> [<arg> ...], where <subcommand> is one of:",
            command.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    for l in lines {
        out.simple(l.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Print this list.");
}

/// Redis's error for a known subcommand given the wrong arguments (or an unknown one, for commands
/// that parse their subcommands themselves): it quotes the subcommand as typed.
pub fn subcommand_syntax_error(args: &Args<'_>) -> CmdError {
    let sub = args.get(1);
    let sub = match sub.iter().position(|&b| b == 0) {
        Some(n) => &sub[..n],
        None => sub,
    };
    let sub = &sub[..sub.len().min(128)];
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(sub),
        String::from_utf8_lossy(args.get(0)).to_ascii_uppercase()
    ))
}
