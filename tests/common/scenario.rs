//! Several clients talking to a Ferrite and a Redis started alike, compared step by step: what each
//! client receives after each command (its replies and the messages pushed to it), not only the
//! acting client's reply. For Pub/Sub, keyspace notifications and client tracking.
//!
//! A script is one step a line: `NAME: command words` sends the command on connection `NAME` (opened
//! on first use, on both servers). After each step every open connection gets a barrier, a
//! `PING <token>` whose answer (`<token>` or `[pong, <token>]` in RESP2 subscriber mode) marks the end
//! of what the step made it receive; because the server serves one command at a time, every message a
//! step published is in a receiver's output before that receiver's barrier. A connection inside MULTI
//! is not sent a barrier (it would be queued): its one reply is read instead.
//!
//! Marks: a line starting with `~` compares each connection's frames as a multiset, and arrays within
//! them too (Redis leaves the order of a table's walk open: UNSUBSCRIBE without arguments, patterns
//! matching one channel, PUBSUB CHANNELS); `?` compares them by shape (`diff::Cmp::Shape`: HELLO's
//! client id); `&` sends a command that blocks (BLPOP on an empty list): its connection gets no
//! barrier until its next step, whose barrier then collects the blocked command's reply too (so
//! serving it is compared where it shows, in the events of the step that served it and in that later
//! reply).
//! `@sleep <ms>` is a directive, not a step: it waits that long (for what happens with time, such as the
//! active expiry of keys; both servers run on the wall clock) and fences nothing; the next step's
//! barriers collect what the wait produced.
//! `QUIT` closes the connection after its reply. Blank lines and `#` comments are skipped; words are
//! split as in `cases::words`, and a word `$id(NAME)` stands for connection `NAME`'s client id on each
//! server (CLIENT TRACKING ... REDIRECT).
//!
//! The acting connection's first reply frame is read before any barrier is sent, so what the server
//! sends "before sleeping" after that command (BCAST invalidations) reaches every client before its
//! barrier, on both servers alike.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::cases::words;
use super::diff::{same, show, show_args, Cmp};
use super::{redis_available, Raw, Server, Value};

pub struct Scenario {
    label: String,
    servers: (Server, Server),
    conns: BTreeMap<String, (Raw, Raw)>,
    /// Each connection's client id on each server, read when it opened.
    ids: BTreeMap<String, (Vec<u8>, Vec<u8>)>,
    in_multi: BTreeSet<String>,
    /// Connections whose last command blocked (`&`): no barrier until their next step.
    blocked: BTreeSet<String>,
    token: u64,
    pub failures: Vec<String>,
}

fn is_barrier(v: &Value, token: &[u8]) -> bool {
    match v {
        Value::Bulk(b) => b == token,
        Value::Array(items) => {
            matches!(items.as_slice(), [Value::Bulk(p), Value::Bulk(t)] if p == b"pong" && t == token)
        }
        _ => false,
    }
}

/// Frames received up to the barrier (excluded); `None` if the connection closed or went silent.
fn read_until(raw: &mut Raw, token: &[u8]) -> Result<Vec<Value>, Vec<Value>> {
    let mut got = vec![];
    loop {
        match raw.try_read() {
            Some(v) if is_barrier(&v, token) => return Ok(got),
            Some(v) => got.push(v),
            None => return Err(got),
        }
    }
}

fn render(frames: &[Value]) -> String {
    frames.iter().map(show).collect::<Vec<_>>().join(" ")
}

impl Scenario {
    /// Both servers for `test`, or `None` (the test skips) when Redis is not installed.
    pub fn for_test(test: &str, extra: &[&str]) -> Option<Scenario> {
        redis_available(test).then(|| Scenario {
            label: test.to_string(),
            servers: (Server::ferrite(extra), Server::redis(extra)),
            conns: BTreeMap::new(),
            ids: BTreeMap::new(),
            in_multi: BTreeSet::new(),
            blocked: BTreeSet::new(),
            token: 0,
            failures: vec![],
        })
    }

    /// The two servers (Ferrite, Redis).
    pub fn servers(&self) -> (&Server, &Server) {
        (&self.servers.0, &self.servers.1)
    }

    fn conn(&mut self, name: &str) -> &mut (Raw, Raw) {
        if !self.conns.contains_key(name) {
            let (mut a, mut b) = (self.servers.0.raw(), self.servers.1.raw());
            for r in [&a, &b] {
                r.stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
            }
            let id = |r: &mut Raw| match r.cmd(&["CLIENT", "ID"]) {
                Value::Int(i) => i.to_string().into_bytes(),
                other => panic!("CLIENT ID: {}", show(&other)),
            };
            self.ids.insert(name.to_string(), (id(&mut a), id(&mut b)));
            self.conns.insert(name.to_string(), (a, b));
        }
        self.conns.get_mut(name).expect("just inserted")
    }

    /// Run a script (see the module docs).
    pub fn run(&mut self, script: &str) {
        for line in script.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(ms) = line.strip_prefix("@sleep") {
                let ms: u64 = ms.trim().parse().expect("`@sleep <ms>`");
                std::thread::sleep(Duration::from_millis(ms));
                continue;
            }
            let blocks = line.starts_with('&');
            let line = if blocks { line[1..].trim_start() } else { line };
            let (cmp, line) = match line.as_bytes()[0] {
                b'~' => (Cmp::Unordered, line[1..].trim_start()),
                b'?' => (Cmp::Shape, line[1..].trim_start()),
                _ => (Cmp::Exact, line),
            };
            let (name, cmd) = line.split_once(':').expect("a step is `NAME: command`");
            let name = name.trim();
            self.blocked.remove(name);
            if blocks {
                self.blocked.insert(name.to_string());
            }
            self.step(name, &words(cmd), cmp, line);
        }
    }

    /// The client id of connection `name` on each server.
    fn ids(&mut self, name: &str) -> (Vec<u8>, Vec<u8>) {
        self.conn(name);
        self.ids[name].clone()
    }

    fn step(&mut self, name: &str, cmd: &[Vec<u8>], cmp: Cmp, line: &str) {
        let verb = String::from_utf8_lossy(&cmd[0]).to_ascii_uppercase();
        let (mut ours_cmd, mut theirs_cmd) = (cmd.to_vec(), cmd.to_vec());
        for (i, w) in cmd.iter().enumerate() {
            let w = String::from_utf8_lossy(w);
            if let Some(target) = w.strip_prefix("$id(").and_then(|r| r.strip_suffix(')')) {
                (ours_cmd[i], theirs_cmd[i]) = self.ids(target);
            }
        }
        let mut first: Option<(Option<Value>, Option<Value>)> = None;
        {
            // A blocking step has no reply to wait for; a step inside MULTI is read below.
            let in_multi = self.in_multi.contains(name) || self.blocked.contains(name);
            let (a, b) = self.conn(name);
            a.send(&ours_cmd);
            b.send(&theirs_cmd);
            if verb != "QUIT" && verb != "MULTI" && !in_multi {
                first = Some((a.try_read(), b.try_read()));
            }
        }
        let mut results: Vec<(String, Vec<Value>, Vec<Value>)> = vec![];
        let queued = self.in_multi.contains(name) && !matches!(verb.as_str(), "EXEC" | "DISCARD" | "RESET");
        match verb.as_str() {
            "MULTI" => {
                self.in_multi.insert(name.to_string());
            }
            "EXEC" | "DISCARD" | "RESET" => {
                self.in_multi.remove(name);
            }
            _ => {}
        }
        if verb == "QUIT" || verb == "MULTI" || queued {
            let (a, b) = self.conn(name);
            let (x, y) = (a.try_read(), b.try_read());
            results.push((name.to_string(), x.into_iter().collect(), y.into_iter().collect()));
            if verb == "QUIT" {
                self.conns.remove(name);
            }
        }
        // The acting connection first, then the others.
        let mut order: Vec<String> = vec![name.to_string()];
        order.extend(self.conns.keys().filter(|k| *k != name).cloned());
        for conn in order {
            if self.in_multi.contains(&conn) || self.blocked.contains(&conn) || !self.conns.contains_key(&conn) {
                continue;
            }
            self.token += 1;
            let token = format!("barrier-{}", self.token);
            let (a, b) = self.conn(&conn);
            a.send(&["PING", &token]);
            b.send(&["PING", &token]);
            let mut ours = read_until(a, token.as_bytes());
            let mut theirs = read_until(b, token.as_bytes());
            if conn == name {
                if let Some((x, y)) = first.take() {
                    for (r, f) in [(&mut ours, x), (&mut theirs, y)] {
                        if let (Ok(frames) | Err(frames), Some(f)) = (r, f) {
                            frames.insert(0, f);
                        }
                    }
                }
            }
            match (ours, theirs) {
                (Ok(x), Ok(y)) => results.push((conn, x, y)),
                (x, y) => {
                    let show_r = |r: &Result<Vec<Value>, Vec<Value>>| match r {
                        Ok(v) => render(v),
                        Err(v) => format!("{} <closed or silent>", render(v)),
                    };
                    self.failures.push(format!(
                        "{}: `{line}`: connection {conn} did not answer its barrier\n  ferrite: {}\n  redis:   {}",
                        self.label,
                        show_r(&x),
                        show_r(&y)
                    ));
                    self.conns.remove(&conn);
                }
            }
        }
        for (conn, mut ours, mut theirs) in results {
            if cmp == Cmp::Unordered {
                ours.sort_by_key(show);
                theirs.sort_by_key(show);
            }

            let agree = ours.len() == theirs.len() && ours.iter().zip(&theirs).all(|(a, b)| same(a, b, cmp));
            if !agree {
                self.failures.push(format!(
                    "{}: `{line}` ({}) as seen by {conn}:\n  ferrite: {}\n  redis:   {}",
                    self.label,
                    show_args(cmd),
                    render(&ours),
                    render(&theirs)
                ));
            }
        }
    }

    /// Panic with every difference found.
    pub fn finish(mut self) {
        let failures = std::mem::take(&mut self.failures);
        assert!(
            failures.is_empty(),
            "{} difference(s):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
