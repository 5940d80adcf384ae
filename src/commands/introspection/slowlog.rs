//! The slow log: the last `slowlog-max-len` commands that ran for at least `slowlog-log-slower-than`
//! microseconds (0 logs every command, a negative value none), newest first.
//!
//! An entry is what Redis 7.0 keeps, shaped the same way: a never-reused id, the Unix time, the
//! duration in µs, the arguments (at most 32, the last of them then saying how many were left out;
//! each at most 128 bytes, followed by how many bytes were cut), the client's address and its name at
//! the end of the command. Commands flagged `skip_slowlog` are never logged, and arguments a handler
//! marked secret (`Redactions`) appear as `(redacted)`.
//!
//! The list is trimmed when an entry is added, so lowering `slowlog-max-len` takes effect on the
//! next slow command, as in Redis.

use std::collections::VecDeque;

use resp::ReplyBuf;

use super::{subcommand_syntax_error, Redactions};
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};

/// Most arguments kept per entry.
pub const MAX_ARGC: usize = 32;
/// Most bytes kept per argument.
pub const MAX_ARG_LEN: usize = 128;

pub struct Entry {
    pub id: u64,
    pub time: i64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    pub peer: String,
    pub name: Vec<u8>,
}

#[derive(Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl SlowLog {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// Newest first.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Record a command that ran at Unix time `time` for `duration_us`, from the client at `peer`
    /// named `name` (the caller checked the threshold).
    pub fn push(
        &mut self,
        args: &Args<'_>,
        redacted: &Redactions,
        (time, duration_us): (i64, u64),
        (peer, name): (&str, Option<&[u8]>),
        max_len: usize,
    ) {
        let argc = args.len();
        let kept = argc.min(MAX_ARGC);
        let mut out = Vec::with_capacity(kept);
        for (j, a) in args.iter().take(kept).enumerate() {
            let arg = if kept != argc && j == kept - 1 {
                format!("... ({} more arguments)", argc - kept + 1).into_bytes()
            } else if redacted.contains(j) {
                b"(redacted)".to_vec()
            } else if a.len() > MAX_ARG_LEN {
                let mut v = a[..MAX_ARG_LEN].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes());
                v
            } else {
                a.to_vec()
            };
            out.push(arg);
        }
        self.entries.push_front(Entry {
            id: self.next_id,
            time,
            duration_us,
            args: out,
            peer: peer.to_string(),
            name: name.unwrap_or_default().to_vec(),
        });
        self.next_id += 1;
        self.entries.truncate(max_len);
    }
}

/// SLOWLOG GET [count]: the newest `count` entries (10 by default, -1 for all).
pub fn get(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(subcommand_syntax_error(args));
    }
    let log = &ctx.core.introspection.slowlog;
    let count = if args.len() == 3 {
        match resp::request::parse_i64_strict(args.get(2)) {
            Some(-1) => log.len(),
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Err(CmdError::err("count should be greater than or equal to -1")),
        }
    } else {
        10
    };
    let n = count.min(log.len());
    out.array(n);
    for e in log.iter().take(n) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.duration_us as i64);
        out.array(e.args.len());
        for a in &e.args {
            out.bulk(a);
        }
        out.bulk(e.peer.as_bytes());
        out.bulk(&e.name);
    }
    Ok(())
}

/// SLOWLOG LEN
pub fn len(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.core.introspection.slowlog.len() as i64);
    Ok(())
}

/// SLOWLOG RESET (ids keep counting)
pub fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ctx.core.introspection.slowlog.reset();
    out.ok();
    Ok(())
}

/// SLOWLOG HELP
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::reply_help(
        out,
        "slowlog",
        &[
            "GET [<count>]",
            "    List the newest <count> slow commands (10 if omitted, -1 for all of them). Each entry",
            "    has: an id, the Unix time it ran, how long it took in microseconds, its arguments, the",
            "    client's address and the client's name.",
            "LEN",
            "    Count the entries held.",
            "RESET",
            "    Forget every entry (ids keep increasing).",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::OwnedArgs;

    fn push(log: &mut SlowLog, argv: &[Vec<u8>], red: &Redactions, max: usize) {
        let owned = OwnedArgs::from_slices(argv.iter().map(|a| a.as_slice()));
        log.push(&owned.view(), red, (100, 5), ("127.0.0.1:1", None), max);
    }

    #[test]
    fn truncates_like_redis() {
        let mut log = SlowLog::default();
        let mut argv: Vec<Vec<u8>> = (0..40).map(|i| format!("a{i}").into_bytes()).collect();
        argv[1] = vec![b'x'; 130];
        push(&mut log, &argv, &Redactions::default(), 10);
        let e = log.iter().next().expect("entry");
        assert_eq!(e.args.len(), 32);
        assert_eq!(e.args[31], b"... (9 more arguments)");
        assert_eq!(&e.args[1][..128], &[b'x'; 128][..]);
        assert_eq!(&e.args[1][128..], b"... (2 more bytes)");
        assert_eq!(e.args[30], b"a30");
        assert!(e.name.is_empty());
    }

    #[test]
    fn trims_to_max_len_and_keeps_counting_ids() {
        let mut log = SlowLog::default();
        let argv = vec![b"ping".to_vec()];
        let mut red = Redactions::default();
        for _ in 0..5 {
            push(&mut log, &argv, &red, 3);
        }
        assert_eq!(log.len(), 3);
        assert_eq!(log.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 3, 2]);
        push(&mut log, &argv, &red, 0);
        assert!(log.is_empty());
        red.mark(1);
        push(&mut log, &[b"auth".to_vec(), b"secret".to_vec()], &red, 3);
        let e = log.iter().next().expect("entry");
        assert_eq!(e.id, 6);
        assert_eq!(e.args[1], b"(redacted)");
    }
}
