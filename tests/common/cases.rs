//! Scripted differential cases: a Ferrite and a Redis started alike, commands sent to both, replies
//! compared by the class they belong to (`diff::Cmp`), differences collected rather than fatal so one
//! run reports them all.
//!
//! Cases are scripts, one command a line, each line starting with how its replies are compared:
//! `=` exactly (types included), `~` as multisets (Redis leaves a set's order open), `?` by shape
//! (random replies; errors must still match). Tokens are split on blanks; `"..."` keeps blanks in a
//! token, and `\xHH` anywhere stands for that byte. A line whose command Ferrite does not know yet
//! (from an area still being built) is noted as skipped: a read (OBJECT, TYPE, EXISTS, SCAN, LRANGE,
//! LLEN, TTL...) lets the case go on, anything else ends it.
#![allow(dead_code)]

use std::collections::BTreeSet;

use super::diff::{same, show, show_args, Cmp};
use super::{redis_available, Raw, Server, Value};

pub fn is_unknown_command(v: &Value) -> bool {
    matches!(v, Value::Error(e) if e.starts_with(b"ERR unknown command"))
}

/// The members of an array or set reply, as byte strings.
pub fn items(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::Array(xs) | Value::Set(xs) => xs
            .iter()
            .map(|x| match x {
                Value::Bulk(b) => b.clone(),
                other => panic!("member is not a bulk string: {}", show(other)),
            })
            .collect(),
        other => panic!("not an array or set: {}", show(other)),
    }
}

/// Split a case line into its words (see the module docs).
pub fn words(line: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![];
    let mut cur: Option<Vec<u8>> = None;
    let mut quoted = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' => {
                quoted = !quoted;
                cur.get_or_insert_with(Vec::new);
            }
            b' ' if !quoted => {
                if let Some(w) = cur.take() {
                    out.push(w);
                }
            }
            b'\\' if bytes.get(i + 1) == Some(&b'x') => {
                let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).expect("two hex digits");
                cur.get_or_insert_with(Vec::new)
                    .push(u8::from_str_radix(hex, 16).expect("hex byte"));
                i += 3;
            }
            _ => cur.get_or_insert_with(Vec::new).push(c),
        }
        i += 1;
    }
    out.extend(cur);
    out
}

/// A Ferrite and a Redis started alike, a connection to each, and the differences found so far.
pub struct Duo {
    pub ours: Raw,
    pub theirs: Raw,
    pub failures: Vec<String>,
    pub skipped: BTreeSet<String>,
    /// Every argument sent since the last `clear`: the keys to delete when FLUSHALL is missing.
    pub sent: BTreeSet<Vec<u8>>,
    /// Commands sent to both.
    pub compared: usize,
    _servers: (Server, Server),
}

/// Commands that change nothing: a case goes on past one Ferrite does not know yet.
const READS: &[&str] = &[
    "OBJECT", "TYPE", "EXISTS", "SCAN", "LRANGE", "LLEN", "TTL", "PTTL", "HGETALL", "ZRANGE",
];

impl Duo {
    /// Both servers for `test`, or `None` (the test skips) when Redis is not installed.
    pub fn for_test(test: &str, extra: &[&str]) -> Option<Duo> {
        redis_available(test).then(|| Duo::start(extra))
    }

    pub fn start(extra: &[&str]) -> Duo {
        let (f, r) = (Server::ferrite(extra), Server::redis(extra));
        Duo {
            ours: f.raw(),
            theirs: r.raw(),
            failures: vec![],
            skipped: BTreeSet::new(),
            sent: BTreeSet::new(),
            compared: 0,
            _servers: (f, r),
        }
    }

    /// Another connection to each server (for tests where clients interact).
    pub fn connect_more(&self) -> (Raw, Raw) {
        (self._servers.0.raw(), self._servers.1.raw())
    }

    /// Whether Ferrite has the command yet (COMMAND INFO answers a null for an unknown one).
    pub fn ours_knows(&mut self, name: &str) -> bool {
        matches!(self.ours.cmd(&["COMMAND", "INFO", name]), Value::Array(v) if v.first().is_some_and(|x| !matches!(x, Value::NullArray | Value::NullBulk | Value::Null)))
    }

    /// Send to both; `None` when Ferrite does not know the command yet (noted as skipped).
    pub fn both<A: AsRef<[u8]>>(&mut self, cmd: &[A]) -> Option<(Value, Value)> {
        self.sent.extend(cmd.iter().skip(1).map(|w| w.as_ref().to_vec()));
        self.compared += 1;
        let (a, b) = (self.ours.cmd(cmd), self.theirs.cmd(cmd));
        if is_unknown_command(&a) && !is_unknown_command(&b) {
            self.skipped
                .insert(String::from_utf8_lossy(cmd[0].as_ref()).to_uppercase());
            return None;
        }
        Some((a, b))
    }

    /// Send to both and compare; a difference is recorded with `context`. Returns the replies.
    pub fn check<A: AsRef<[u8]>>(&mut self, context: &str, cmd: &[A], cmp: Cmp) -> Option<(Value, Value)> {
        let (a, b) = self.both(cmd)?;
        if !same(&a, &b, cmp) {
            self.fail(format!(
                "{context}: {} ({cmp:?})\n  ferrite: {}\n  redis:   {}",
                show_args(cmd),
                show(&a),
                show(&b)
            ));
        }
        Some((a, b))
    }

    pub fn fail(&mut self, msg: String) {
        if self.failures.len() < 30 {
            self.failures.push(msg);
        }
    }

    /// Empty both servers' keyspaces (Ferrite may not have FLUSHALL yet: then delete every word
    /// sent as a key, by popping every member or GETDEL).
    pub fn clear(&mut self) {
        self.theirs.cmd(&["FLUSHALL"]);
        let sent = std::mem::take(&mut self.sent);
        if is_unknown_command(&self.ours.cmd(&["FLUSHALL"])) {
            for k in &sent {
                if is_unknown_command(&self.ours.cmd(&[&b"DEL"[..], k])) {
                    self.ours.cmd(&[&b"SPOP"[..], k, b"1000000000"]);
                    self.ours.cmd(&[&b"GETDEL"[..], k]);
                }
            }
        }
    }

    /// Run scripted cases.
    pub fn run_cases(&mut self, cases: &[(&str, &str)]) {
        for (name, script) in cases {
            let lines: Vec<&str> = script
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            self.clear();
            for line in &lines {
                let cmp = match line.as_bytes()[0] {
                    b'=' => Cmp::Exact,
                    b'~' => Cmp::Unordered,
                    b'?' => Cmp::Shape,
                    _ => panic!("case {name}: line without a comparison mark: {line}"),
                };
                let cmd = words(&line[1..]);
                if self.check(&format!("case {name}"), &cmd, cmp).is_none() {
                    // A read Ferrite lacks changes nothing: go on. Anything else ends the case.
                    let verb = String::from_utf8_lossy(&cmd[0]).to_uppercase();
                    if !READS.contains(&verb.as_str()) {
                        break;
                    }
                }
            }
        }
    }

    pub fn finish(self, test: &str) {
        eprintln!("{test}: {} commands sent to both servers", self.compared);
        if !self.skipped.is_empty() {
            eprintln!("{test}: lines skipped, Ferrite does not know yet: {:?}", self.skipped);
        }
        assert!(
            self.failures.is_empty(),
            "{test}: {} difference(s):\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The seed of a random stream: `FERRITE_SEED` when set (to replay a failure), else `default`.
pub fn seed_from_env(default: u64) -> u64 {
    std::env::var("FERRITE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
