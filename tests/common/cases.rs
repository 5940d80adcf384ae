//! The one way to compare with a real `redis-server`: a Ferrite and a Redis started alike ([`Duo`]), the
//! same commands sent to both in lock-step, replies compared by the class they belong to (`diff::Cmp`).
//!
//! **Unknown commands fail.** When Ferrite answers `ERR unknown command` or `ERR unknown subcommand` to a
//! command Redis knows, that is a failure, unless the test named the command as not built yet
//! ([`Duo::not_built_yet`]: `"GEOADD"`, or `"OBJECT FREQ"` for one subcommand); then it is noted as
//! skipped and reported by [`Duo::finish`]. Naming a command Ferrite knows is refused at once, so the
//! lists stay as short as the tests need.
//!
//! **Failures** are collected (up to 30) and reported by [`Duo::finish`], so one run shows them all;
//! [`Duo::fail_fast`] makes the first one panic at once with the recent commands (random streams, where
//! what follows a divergence is noise). A `Duo` dropped with failures it has not reported panics.
//!
//! **Scripts** ([`Duo::run_cases`], [`Duo::run_script`]) are one command a line; blank lines and lines
//! starting with `#` are skipped. A line may start with a mark saying how the replies compare:
//!
//! | mark | replies compared |
//! | --- | --- |
//! | none, or `=` | exactly, reply types included |
//! | `~` | as multisets (Redis leaves a set's or a table's order open) |
//! | `?` | by shape (random replies; errors must still match) |
//! | `±N` | integers within `N` when both are >= 0 (TTLs read at different instants) |
//! | `!` | not at all: sent to both, replies ignored |
//!
//! Words are split on blanks; `"..."` keeps blanks in a word (`""` is the empty word), `\xHH` anywhere
//! stands for that byte, and a whole word `<c*N>` for `N` copies of the byte `c`. Two directives:
//! `@scan [options]` walks a whole SCAN on each server and compares the sets of keys, `@wait <ms>` lets
//! that much time pass after the last reply (for deadlines to pass on both clocks).
//!
//! A line whose command is allowed as not built yet is skipped: a read (OBJECT, TYPE, EXISTS, SCAN,
//! LRANGE, LLEN, TTL...) lets the case go on, anything else ends it.
#![allow(dead_code)]

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use super::diff::{same, show, show_args, Cmp};
use super::{redis_available, Raw, Server, Value};

/// Whether a reply says the command (or its subcommand) does not exist.
pub fn is_unknown_command(v: &Value) -> bool {
    matches!(v, Value::Error(e) if e.starts_with(b"ERR unknown command") || e.starts_with(b"ERR unknown subcommand"))
}

/// The name a command goes by in `not_built_yet` lists: `GET`, or `OBJECT FREQ` when the reply says the
/// subcommand is unknown.
fn unknown_name<A: AsRef<[u8]>>(cmd: &[A], reply: &Value) -> String {
    let word = |i: usize| String::from_utf8_lossy(cmd.get(i).map_or(&b""[..], |w| w.as_ref())).to_uppercase();
    match reply {
        Value::Error(e) if e.starts_with(b"ERR unknown subcommand") => format!("{} {}", word(0), word(1)),
        _ => word(0),
    }
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

/// Split a script line into its words (see the module docs).
pub fn words(line: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![];
    // The word being built, and whether any of it was quoted (a quoted `<c*N>` is literal).
    let mut cur: Option<(Vec<u8>, bool)> = None;
    let mut quoted = false;
    let finish = |(w, was_quoted): (Vec<u8>, bool)| -> Vec<u8> {
        if !was_quoted && w.len() > 4 && w[0] == b'<' && w[2] == b'*' && w.last() == Some(&b'>') {
            let n: usize = std::str::from_utf8(&w[3..w.len() - 1])
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("<c*N> repeat count");
            return vec![w[1]; n];
        }
        w
    };
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' => {
                quoted = !quoted;
                cur.get_or_insert_with(|| (Vec::new(), true)).1 = true;
            }
            b' ' | b'\t' if !quoted => {
                if let Some(w) = cur.take() {
                    out.push(finish(w));
                }
            }
            b'\\' if bytes.get(i + 1) == Some(&b'x') => {
                let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).expect("two hex digits");
                cur.get_or_insert_with(|| (Vec::new(), false))
                    .0
                    .push(u8::from_str_radix(hex, 16).expect("hex byte"));
                i += 3;
            }
            _ => cur.get_or_insert_with(|| (Vec::new(), false)).0.push(c),
        }
        i += 1;
    }
    out.extend(cur.map(finish));
    out
}

/// How a script line's replies are compared: `None` sends without comparing (see the module docs).
fn mark(line: &str) -> (Option<Cmp>, &str) {
    if let Some(rest) = line.strip_prefix('=') {
        (Some(Cmp::Exact), rest)
    } else if let Some(rest) = line.strip_prefix('~') {
        (Some(Cmp::Unordered), rest)
    } else if let Some(rest) = line.strip_prefix('?') {
        (Some(Cmp::Shape), rest)
    } else if let Some(rest) = line.strip_prefix('!') {
        (None, rest)
    } else if let Some(rest) = line.strip_prefix('±') {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let tol = rest[..digits].parse().expect("±N: a tolerance");
        (Some(Cmp::Near(tol)), &rest[digits..])
    } else {
        (Some(Cmp::Exact), line)
    }
}

/// What `Duo::missing` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    Allowed,
    Failed,
}

/// Commands that change nothing: a case goes on past one Ferrite does not have yet.
const READS: &[&str] = &[
    "OBJECT", "TYPE", "EXISTS", "SCAN", "LRANGE", "LLEN", "TTL", "PTTL", "HGETALL", "ZRANGE",
];

/// Failures kept for the report (more are counted, not kept).
const MAX_FAILURES: usize = 30;
/// Commands remembered for failure messages.
const HISTORY: usize = 50;

/// Another pair of connections, one to each server, that every command is also sent on and compared
/// over (a RESP3 connection beside the RESP2 one, another database).
pub struct Lane {
    pub name: String,
    pub ours: Raw,
    pub theirs: Raw,
}

/// A Ferrite and a Redis started alike, a connection to each (more in `lanes`), and the differences
/// found so far. See the module docs.
pub struct Duo {
    pub ours: Raw,
    pub theirs: Raw,
    pub lanes: Vec<Lane>,
    pub failures: Vec<String>,
    /// Commands this test allows Ferrite not to know yet (`GEOADD`, `OBJECT FREQ`).
    allowed: BTreeSet<String>,
    /// The allowed ones met so far.
    pub skipped: BTreeSet<String>,
    /// Commands sent to both.
    pub compared: usize,
    fail_fast: bool,
    /// How many recent commands a collected failure carries (fail-fast ones carry them all).
    history_in_failures: usize,
    history: VecDeque<String>,
    label: String,
    last_reply: Instant,
    servers: (Server, Server),
}

impl Duo {
    /// Both servers for `test`, or `None` (the test skips) when Redis is not installed.
    pub fn for_test(test: &str, extra: &[&str]) -> Option<Duo> {
        redis_available(test).then(|| {
            let mut d = Duo::start(extra);
            d.label = test.to_string();
            d
        })
    }

    /// Both servers with the same extra directives (call `redis_available` first).
    pub fn start(extra: &[&str]) -> Duo {
        let (f, r) = (Server::ferrite(extra), Server::redis(extra));
        Duo {
            ours: f.raw(),
            theirs: r.raw(),
            lanes: vec![],
            failures: vec![],
            allowed: BTreeSet::new(),
            skipped: BTreeSet::new(),
            compared: 0,
            fail_fast: false,
            history_in_failures: 0,
            history: VecDeque::new(),
            label: String::new(),
            last_reply: Instant::now(),
            servers: (f, r),
        }
    }

    /// Both servers with a second lane: RESP2 connections on database 0, RESP3 ones on database 1, so
    /// every reply is compared in both protocols.
    pub fn resp2_and_resp3(extra: &[&str]) -> Duo {
        let mut duo = Duo::start(extra);
        let setup = duo.add_lane("RESP3 db 1", &[&["HELLO", "3"], &["SELECT", "1"]]);
        assert!(
            matches!(&setup[0], (Value::Map(_), Value::Map(_))),
            "HELLO 3: {setup:?}"
        );
        duo
    }

    /// Name the commands (`"GEOADD"`) or subcommands (`"OBJECT FREQ"`) this test allows Ferrite not to
    /// have yet. Panics if Ferrite has one of them (`ours_has`): the list must stay short.
    pub fn not_built_yet(&mut self, names: &[&str]) -> &mut Duo {
        for name in names {
            let name = name.to_uppercase();
            assert!(
                !self.ours_has(&name),
                "{}: {name} is built now: take it off the test's not_built_yet list",
                self.label
            );
            self.allowed.insert(name);
        }
        self
    }

    /// Whether Ferrite's `COMMAND INFO` knows a command (`"GET"`) or subcommand (`"OBJECT FREQ"`).
    pub fn ours_has(&mut self, name: &str) -> bool {
        let info = name.to_lowercase().replace(' ', "|");
        matches!(self.ours.cmd(&["COMMAND", "INFO", &info]),
            Value::Array(v) if v.first().is_some_and(|x| !matches!(x, Value::NullArray | Value::NullBulk | Value::Null)))
    }

    /// Panic at the first failure, with the recent commands, instead of collecting failures.
    pub fn fail_fast(&mut self) -> &mut Duo {
        self.fail_fast = true;
        self
    }

    /// Collected failures carry the last `n` commands sent.
    pub fn history_in_failures(&mut self, n: usize) -> &mut Duo {
        self.history_in_failures = n;
        self
    }

    /// Name what the failure messages are about (a seed, a configuration).
    pub fn set_label(&mut self, label: &str) -> &mut Duo {
        self.label = label.to_string();
        self
    }

    /// The two servers (Ferrite, Redis), for tests that need their own connections or their files.
    pub fn servers(&self) -> (&Server, &Server) {
        (&self.servers.0, &self.servers.1)
    }

    /// Another connection to each server (for tests where clients interact).
    pub fn connect_more(&self) -> (Raw, Raw) {
        (self.servers.0.raw(), self.servers.1.raw())
    }

    /// Replace the connections with fresh ones (a stream that must start from a fresh client state) and
    /// forget the commands sent so far.
    pub fn reconnect(&mut self) {
        assert!(self.lanes.is_empty(), "reconnect: lanes are not reopened");
        (self.ours, self.theirs) = self.connect_more();
        self.history.clear();
    }

    /// Add a lane named `name`: new connections to both servers, each prepared with `setup` (replies
    /// compared by shape, and returned: `HELLO 3`, `SELECT 1`). Every command sent afterwards goes on it
    /// too.
    pub fn add_lane(&mut self, name: &str, setup: &[&[&str]]) -> Vec<(Value, Value)> {
        let (ours, theirs) = self.connect_more();
        self.lanes.push(Lane {
            name: name.to_string(),
            ours,
            theirs,
        });
        let lane = self.lanes.len();
        let mut replies = vec![];
        for cmd in setup {
            let (a, b) = self.exchange(lane, cmd);
            self.compare(lane, &format!("lane {name} setup"), cmd, Cmp::Shape, &a, &b);
            replies.push((a, b));
        }
        replies
    }

    /// The connections of lane `i` (0 is `ours`/`theirs`).
    fn conns(&mut self, i: usize) -> (&mut Raw, &mut Raw) {
        match i {
            0 => (&mut self.ours, &mut self.theirs),
            _ => {
                let l = &mut self.lanes[i - 1];
                (&mut l.ours, &mut l.theirs)
            }
        }
    }

    fn lane_name(&self, i: usize) -> String {
        match i {
            0 => String::new(),
            _ => format!("[{}] ", self.lanes[i - 1].name),
        }
    }

    /// Send on one lane, recording the command.
    fn exchange<A: AsRef<[u8]>>(&mut self, lane: usize, cmd: &[A]) -> (Value, Value) {
        if lane == 0 {
            let mut shown = show_args(cmd);
            if let Some((cut, _)) = shown.char_indices().nth(300) {
                shown.truncate(cut);
                shown.push_str("...");
            }
            self.history.push_back(shown);
            if self.history.len() > HISTORY {
                self.history.pop_front();
            }
            self.compared += 1;
        }
        let (ours, theirs) = self.conns(lane);
        let replies = (ours.cmd(cmd), theirs.cmd(cmd));
        self.last_reply = Instant::now();
        replies
    }

    /// Whether Ferrite lacks a command Redis has: `Some(Missing::Allowed)` (noted as skipped) when the
    /// test allows it, `Some(Missing::Failed)` (a failure recorded) when not.
    fn missing<A: AsRef<[u8]>>(&mut self, lane: usize, cmd: &[A], ours: &Value, theirs: &Value) -> Option<Missing> {
        if !is_unknown_command(ours) || is_unknown_command(theirs) {
            return None;
        }
        let name = unknown_name(cmd, ours);
        let allowed = self.allowed.contains(&name) || self.allowed.contains(name.split(' ').next().unwrap_or(""));
        if allowed {
            self.skipped.insert(name);
            return Some(Missing::Allowed);
        }
        let lane = self.lane_name(lane);
        self.fail(format!(
            "{lane}Ferrite does not know {name}, which Redis does: {} -> {} (name it in not_built_yet if it is \
             not built yet)",
            show_args(cmd),
            show(ours)
        ));
        Some(Missing::Failed)
    }

    /// Compare one lane's replies; a difference is recorded with `context`.
    fn compare<A: AsRef<[u8]>>(
        &mut self,
        lane: usize,
        context: &str,
        cmd: &[A],
        cmp: Cmp,
        a: &Value,
        b: &Value,
    ) -> bool {
        if same(a, b, cmp) {
            return true;
        }
        let lane = self.lane_name(lane);
        self.fail(format!(
            "{context}: {lane}{} ({cmp:?})\n  ferrite: {}\n  redis:   {}",
            show_args(cmd),
            show(a),
            show(b)
        ));
        false
    }

    /// Send to both (on every lane) without comparing; `None` when Ferrite does not know the command
    /// (allowed: skipped; else a failure). Returns the first lane's replies.
    pub fn both<A: AsRef<[u8]>>(&mut self, cmd: &[A]) -> Option<(Value, Value)> {
        let mut first = None;
        let mut missing = false;
        for lane in 0..=self.lanes.len() {
            let (a, b) = self.exchange(lane, cmd);
            missing |= self.missing(lane, cmd, &a, &b).is_some();
            if lane == 0 {
                first = Some((a, b));
            }
        }
        if missing {
            None
        } else {
            first
        }
    }

    /// Send to both and compare (on every lane); a difference is recorded with `context`. Returns the
    /// first lane's replies (`None` as for `both`).
    pub fn check<A: AsRef<[u8]>>(&mut self, context: &str, cmd: &[A], cmp: Cmp) -> Option<(Value, Value)> {
        self.checked(context, cmd, cmp).1
    }

    /// `check`, saying whether the replies agreed (a command allowed as not built yet agrees).
    pub fn agrees<A: AsRef<[u8]>>(&mut self, context: &str, cmd: &[A], cmp: Cmp) -> bool {
        self.checked(context, cmd, cmp).0
    }

    fn checked<A: AsRef<[u8]>>(&mut self, context: &str, cmd: &[A], cmp: Cmp) -> (bool, Option<(Value, Value)>) {
        let (mut ok, mut first, mut missing) = (true, None, false);
        for lane in 0..=self.lanes.len() {
            let (a, b) = self.exchange(lane, cmd);
            if let Some(m) = self.missing(lane, cmd, &a, &b) {
                missing = true;
                ok &= m == Missing::Allowed;
                continue;
            }
            ok &= self.compare(lane, context, cmd, cmp, &a, &b);
            if lane == 0 {
                first = Some((a, b));
            }
        }
        (ok, if missing { None } else { first })
    }

    /// Send to both and require exactly the same reply; returns Redis's.
    pub fn exact(&mut self, cmd: &[&str]) -> Option<Value> {
        self.check("", cmd, Cmp::Exact).map(|(_, b)| b)
    }

    /// Record a difference (or panic with the recent commands, under `fail_fast`).
    pub fn fail(&mut self, msg: String) {
        if self.fail_fast {
            panic!(
                "{}: {msg}\n  recent commands:\n    {}",
                self.label,
                self.recent(HISTORY)
            );
        }
        let msg = match self.history_in_failures {
            0 => msg,
            n => format!("{msg}\n  last commands:\n    {}", self.recent(n)),
        };
        if self.failures.len() < MAX_FAILURES {
            self.failures.push(msg);
        }
    }

    /// The last `n` commands sent, one a line.
    pub fn recent(&self, n: usize) -> String {
        let skip = self.history.len().saturating_sub(n);
        self.history
            .iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n    ")
    }

    /// Empty both servers' keyspaces.
    pub fn clear(&mut self) {
        let (a, b) = self.exchange(0, &["FLUSHALL"]);
        self.compare(0, "FLUSHALL between cases", &["FLUSHALL"], Cmp::Exact, &a, &b);
    }

    /// Walk a whole SCAN (with `options`) on each server and compare the sets of keys it returned (or
    /// the errors). Returns Redis's set.
    pub fn check_full_scan<A: AsRef<[u8]>>(&mut self, context: &str, options: &[A]) -> BTreeSet<Vec<u8>> {
        let options: Vec<Vec<u8>> = options.iter().map(|o| o.as_ref().to_vec()).collect();
        let mut shown = vec![b"SCAN".to_vec(), b"0".to_vec()];
        shown.extend(options.iter().cloned());
        self.history.push_back(format!("{} (whole walk)", show_args(&shown)));
        let ours = full_scan(&mut self.ours, &options);
        let theirs = full_scan(&mut self.theirs, &options);
        self.last_reply = Instant::now();
        let render = |r: &Result<BTreeSet<Vec<u8>>, String>| match r {
            Ok(keys) => show_args(&keys.iter().collect::<Vec<_>>()),
            Err(e) => e.clone(),
        };
        if ours != theirs {
            self.fail(format!(
                "{context}: whole {}\n  ferrite: {}\n  redis:   {}",
                show_args(&shown),
                render(&ours),
                render(&theirs)
            ));
        }
        theirs.unwrap_or_default()
    }

    /// Run scripted cases, each on emptied servers.
    pub fn run_cases(&mut self, cases: &[(&str, &str)]) {
        for (name, script) in cases {
            self.clear();
            self.run_script(name, script);
        }
    }

    /// Run one script on the servers as they are.
    pub fn run_script(&mut self, name: &str, script: &str) {
        let context = format!("case {name}");
        for line in script
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (cmp, rest) = mark(line);
            let cmd = words(rest);
            assert!(!cmd.is_empty(), "{context}: a line without a command: {line}");
            let sent = match (cmd[0].as_slice(), cmp) {
                (b"@scan", _) => {
                    self.check_full_scan(&context, &cmd[1..]);
                    true
                }
                (b"@wait", _) => {
                    let ms: u64 = String::from_utf8_lossy(&cmd[1]).parse().expect("@wait <ms>");
                    let until = self.last_reply + Duration::from_millis(ms);
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                    true
                }
                (_, None) => self.both(&cmd).is_some(),
                (_, Some(cmp)) => self.check(&context, &cmd, cmp).is_some(),
            };
            if !sent {
                // A read Ferrite lacks changes nothing: go on. Anything else ends the case.
                let verb = String::from_utf8_lossy(&cmd[0]).to_uppercase();
                if !READS.contains(&verb.as_str()) {
                    break;
                }
            }
        }
    }

    /// Report: the failures (the test fails if there is any) and the commands skipped as not built yet.
    pub fn finish(mut self, test: &str) {
        eprintln!("{test}: {} commands sent to both servers", self.compared);
        if !self.skipped.is_empty() {
            eprintln!("{test}: skipped, not built yet: {:?}", self.skipped);
        }
        let failures = std::mem::take(&mut self.failures);
        assert!(
            failures.is_empty(),
            "{test}: {} difference(s):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

impl Drop for Duo {
    fn drop(&mut self) {
        if !self.failures.is_empty() && !std::thread::panicking() {
            panic!(
                "{}: dropped with {} unreported difference(s) (call finish):\n{}",
                self.label,
                self.failures.len(),
                self.failures.join("\n")
            );
        }
    }
}

/// A whole SCAN walk on one server: the set of keys, or the error reply (shown). Every reply must be a
/// decimal cursor and an array of bulk keys.
pub fn full_scan(c: &mut Raw, options: &[Vec<u8>]) -> Result<BTreeSet<Vec<u8>>, String> {
    let mut cursor = b"0".to_vec();
    let mut keys = BTreeSet::new();
    for _ in 0..100_000 {
        let mut cmd = vec![b"SCAN".to_vec(), cursor.clone()];
        cmd.extend_from_slice(options);
        let reply = c.cmd(&cmd);
        let Value::Array(parts) = &reply else {
            return Err(show(&reply));
        };
        let [Value::Bulk(next), Value::Array(items)] = &parts[..] else {
            return Err(format!("not a SCAN reply: {}", show(&reply)));
        };
        if next.is_empty() || !next.iter().all(u8::is_ascii_digit) {
            return Err(format!("cursor not decimal: {}", show(&reply)));
        }
        for item in items {
            match item {
                Value::Bulk(k) => {
                    keys.insert(k.clone());
                }
                other => return Err(format!("a key that is not a bulk string: {}", show(other))),
            }
        }
        if next.as_slice() == b"0" {
            return Ok(keys);
        }
        cursor = next.clone();
    }
    Err("SCAN did not finish".into())
}

/// A number from the environment variable `name` (decimal, or hexadecimal after `0x`), else `default`:
/// how a failure's seed is replayed or a stream lengthened.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        })
        .unwrap_or(default)
}

/// The cases of a case file (`tests/data/*_vs_redis.txt`): its text split at its `## name` lines into
/// (name, script) pairs for `Duo::run_cases`; the lines before the first name are the file's header.
pub fn case_file(text: &str) -> Vec<(&str, &str)> {
    let mut out = vec![];
    let mut open: Option<(&str, usize)> = None; // the case being read: its name, where its script starts
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("## ") {
            if let Some((name, start)) = open {
                out.push((name, &text[start..offset]));
            }
            open = Some((name.trim_end(), offset + line.len()));
        }
        offset += line.len();
    }
    if let Some((name, start)) = open {
        out.push((name, &text[start..]));
    }
    out
}
