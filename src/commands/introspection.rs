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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::spec::acl;
    use crate::commands::{table, OwnedArgs};
    use crate::testing::Harness;
    use crate::{cmd, key_spec};

    static SECRET: Command = cmd!("secret", arity: -1, flags: flags::SKIP_SLOWLOG, acl: acl::SLOW,
        keys: (0, 0, 0), specs: [], handler: None, doc: ("x", "7.0.0", "server", "O(1)"));
    static FASTONE: Command = cmd!("fastone", arity: -2, flags: flags::FAST, acl: acl::FAST,
        keys: (1, 1, 1), specs: [key_spec!(crate::commands::spec::ks::RO, [index 1], [range 0 1 0])],
        handler: None, doc: ("x", "7.0.0", "server", "O(1)"));

    fn record(h: &mut Harness, cmd: &Command, idx: usize, argv: &[&str], us: u64) {
        let owned = OwnedArgs::from_slices(argv.iter().map(|s| s.as_bytes()));
        after_call(&mut h.core, &h.client, cmd, idx, &owned.view(), us);
    }

    #[test]
    fn skip_slowlog_commands_and_redacted_arguments() {
        let mut h = Harness::new();
        h.core.config.slowlog_log_slower_than = 0;
        record(&mut h, &SECRET, 0, &["secret", "pw"], 10);
        assert!(h.core.introspection.slowlog.is_empty());
        h.core.introspection.redacted.mark(2);
        record(&mut h, &FASTONE, 0, &["fastone", "k", "pw"], 10);
        let e = h.core.introspection.slowlog.iter().next().expect("entry");
        assert_eq!(e.args, [b"fastone".to_vec(), b"k".to_vec(), b"(redacted)".to_vec()]);
        // Marks last one command.
        assert!(h.core.introspection.redacted.is_empty());
        h.core.config.slowlog_log_slower_than = 100;
        record(&mut h, &FASTONE, 0, &["fastone", "k"], 99);
        assert_eq!(h.core.introspection.slowlog.len(), 1);
        record(&mut h, &FASTONE, 0, &["fastone", "k"], 100);
        assert_eq!(h.core.introspection.slowlog.len(), 2);
    }

    #[test]
    fn latency_events_follow_the_fast_flag() {
        let mut h = Harness::new();
        record(&mut h, &FASTONE, 0, &["fastone", "k"], 50_000);
        assert!(
            h.core.introspection.latency.get("fast-command").is_none(),
            "monitor off at 0"
        );
        h.core.config.latency_monitor_threshold = 5;
        record(&mut h, &FASTONE, 0, &["fastone", "k"], 4_999);
        assert!(h.core.introspection.latency.get("fast-command").is_none());
        record(&mut h, &FASTONE, 0, &["fastone", "k"], 7_000);
        record(&mut h, &SECRET, 0, &["secret"], 9_000);
        let fast = h.core.introspection.latency.get("fast-command").expect("fast-command");
        assert_eq!(fast.max, 7);
        let slow = h.core.introspection.latency.get("command").expect("command");
        assert_eq!(
            slow.last().map(|s| (s.time, s.latency)),
            Some((h.core.now_ms / 1000, 9))
        );
    }

    #[test]
    fn info_latencystats_lines() {
        let mut h = Harness::new();
        h.core.config.latency_tracking = true;
        let (_, get) = table::find(b"get").expect("get");
        let (_, slowlog_len) = table::find(b"slowlog|len").expect("slowlog|len");
        record(&mut h, &FASTONE, get, &["get", "k"], 0);
        record(&mut h, &FASTONE, get, &["get", "k"], 3);
        record(&mut h, &FASTONE, slowlog_len, &["slowlog", "len"], 8);
        // Table order.
        assert_eq!(
            info_latencystats(&h.core),
            "# Latencystats\r\n\
             latency_percentiles_usec_slowlog|len:p50=8.031,p99=8.031,p99.9=8.031\r\n\
             latency_percentiles_usec_get:p50=0.001,p99=3.007,p99.9=3.007\r\n"
        );
        h.core.config.latency_tracking_info_percentiles = vec![0.0, 25.5];
        assert!(info_latencystats(&h.core).contains("latency_percentiles_usec_get:p0=0.001,p25.5=0.001\r\n"));
        h.core.config.latency_tracking = false;
        record(&mut h, &FASTONE, get, &["get", "k"], 3);
        assert_eq!(h.core.introspection.tracking.get(get).map(|x| x.total()), Some(2));
        h.core.introspection.tracking.reset();
        assert_eq!(info_latencystats(&h.core), "# Latencystats\r\n");
    }
}
