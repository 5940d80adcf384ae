//! Differential testing of the keyspace commands: the same commands go to a Ferrite and a real
//! `redis-server`, one at a time and in lock-step, and the replies are compared exactly (reply types
//! included), as sets where Redis leaves the order open, by shape where the value is random, or within a
//! tolerance where it depends on the clock. Shared by `tests/keys.rs` and `tests/expire.rs`.
#![allow(dead_code)]

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use crate::common::{Raw, Server, Value};

pub use crate::common::diff::Cmp;
use crate::common::diff::{same, show as pretty, show_args as show};

/// A Ferrite and a Redis side by side, with a connection to each.
pub struct Pair {
    pub ferrite: Server,
    pub redis: Server,
    pub f: Raw,
    pub r: Raw,
    /// The last commands sent, for failure messages.
    history: VecDeque<String>,
    /// Context printed with a failure (the seed of a random run).
    pub label: String,
    /// When the last reply arrived (for `WAIT` in scripts).
    last_reply: Instant,
}

pub fn argv(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// Whether a reply is an error (any code).
pub fn is_error(v: &Value) -> bool {
    matches!(v, Value::Error(_))
}

/// The elements of an array reply as byte strings (bulk elements only).
pub fn bulks(v: &Value) -> Option<Vec<Vec<u8>>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Bulk(b) => Some(b.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// A pair for `test`, or `None` (with a message) when `redis-server` is absent.
pub fn pair(test: &str, extra: &[&str]) -> Option<Pair> {
    if !crate::common::redis_available(test) {
        return None;
    }
    let mut p = Pair::start(extra);
    p.label = test.to_string();
    Some(p)
}

impl Pair {
    /// Start both servers with the same extra directives.
    pub fn start(extra: &[&str]) -> Pair {
        let ferrite = Server::ferrite(extra);
        let redis = Server::redis(extra);
        let f = ferrite.raw();
        let r = redis.raw();
        Pair {
            ferrite,
            redis,
            f,
            r,
            history: VecDeque::new(),
            label: String::new(),
            last_reply: Instant::now(),
        }
    }

    /// Send one command to both; returns (ferrite, redis).
    pub fn send(&mut self, args: &[Vec<u8>]) -> (Value, Value) {
        self.history.push_back(show(args));
        if self.history.len() > 40 {
            self.history.pop_front();
        }
        let replies = (self.f.cmd(args), self.r.cmd(args));
        self.last_reply = Instant::now();
        replies
    }

    /// Send and compare; panics with the recent history on disagreement. Returns Redis's reply.
    pub fn check_bytes(&mut self, args: &[Vec<u8>], how: Cmp) -> Value {
        let (f, r) = self.send(args);
        if !same(&f, &r, how) {
            let history: Vec<&String> = self.history.iter().collect();
            panic!(
                "{}: `{}` ({how:?}):\n  ferrite: {}\n  redis:   {}\nrecent commands:\n  {}",
                self.label,
                show(args),
                pretty(&f),
                pretty(&r),
                history.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
            );
        }
        r
    }

    pub fn check(&mut self, args: &[&str], how: Cmp) -> Value {
        self.check_bytes(&argv(args), how)
    }

    pub fn exact(&mut self, args: &[&str]) -> Value {
        self.check(args, Cmp::Exact)
    }

    /// Store `value` at `key` with a TTL of `ms` on both (PSETEX).
    pub fn psetex(&mut self, key: &[u8], ms: i64, value: &[u8]) {
        let ms = ms.to_string().into_bytes();
        self.check_bytes(&[b"PSETEX".to_vec(), key.to_vec(), ms, value.to_vec()], Cmp::Exact);
    }

    /// Walk a whole SCAN with `options` on each server and compare the sets of keys returned. Each
    /// reply must be a two-element array of a decimal cursor and bulk keys.
    pub fn check_full_scan(&mut self, options: &[Vec<u8>]) -> BTreeSet<Vec<u8>> {
        let mut cmd = vec![b"SCAN".to_vec(), b"0".to_vec()];
        cmd.extend_from_slice(options);
        self.history.push_back(format!("{} (full walk)", show(&cmd)));
        let label = self.label.clone();
        let f = full_scan(&mut self.f, options, &label);
        let r = full_scan(&mut self.r, options, &label);
        match (f, r) {
            (Ok(f), Ok(r)) => {
                assert_eq!(f, r, "{label}: full `{}`: ferrite vs redis", show(&cmd));
                r
            }
            (Err(f), Err(r)) => {
                assert_eq!(f, r, "{label}: `{}` errors differ", show(&cmd));
                BTreeSet::new()
            }
            (f, r) => panic!("{label}: `{}`:\n  ferrite: {f:?}\n  redis:   {r:?}", show(&cmd)),
        }
    }

    /// Both databases' keys (KEYS *) as sets, compared.
    pub fn check_same_keys(&mut self) {
        self.check(&["KEYS", "*"], Cmp::Unordered);
    }
}

/// A whole SCAN walk on one server: the set of keys, or the error reply.
pub fn full_scan(c: &mut Raw, options: &[Vec<u8>], label: &str) -> Result<BTreeSet<Vec<u8>>, Value> {
    let mut cursor = b"0".to_vec();
    let mut keys = BTreeSet::new();
    for _ in 0..100_000 {
        let mut cmd = vec![b"SCAN".to_vec(), cursor.clone()];
        cmd.extend_from_slice(options);
        let reply = c.cmd(&cmd);
        let Value::Array(parts) = &reply else {
            if is_error(&reply) {
                return Err(reply);
            }
            panic!("{label}: SCAN reply {reply:?}");
        };
        assert_eq!(parts.len(), 2, "{label}: SCAN reply {reply:?}");
        let Value::Bulk(next) = &parts[0] else {
            panic!("{label}: SCAN cursor {reply:?}")
        };
        assert!(
            !next.is_empty() && next.iter().all(u8::is_ascii_digit),
            "{label}: cursor not decimal: {reply:?}"
        );
        let Some(items) = bulks(&parts[1]) else {
            panic!("{label}: SCAN keys {reply:?}")
        };
        keys.extend(items);
        if next.as_slice() == b"0" {
            return Ok(keys);
        }
        cursor = next.clone();
    }
    panic!("{label}: SCAN did not finish");
}

/// Run a script on both servers. One command a line, words split on blanks (`''` is the empty string);
/// a leading `U` compares as an unordered array, `S` by shape, `N<tol>` integers within `tol`;
/// `SCAN* <options>` walks a whole SCAN on each server and compares the sets of keys; `WAIT <ms>` lets
/// that much time pass after the last reply (so TTLs set before it, no longer than that, have passed on
/// both servers' clocks).
pub fn run_script(p: &mut Pair, script: &str) {
    for line in script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        let how = match words[0] {
            "U" => Some(Cmp::Unordered),
            "S" => Some(Cmp::Shape),
            w if w.starts_with('N') && w.len() > 1 && w[1..].bytes().all(|b| b.is_ascii_digit()) => {
                Some(Cmp::Near(w[1..].parse().expect("tolerance")))
            }
            _ => None,
        };
        if how.is_some() {
            words.remove(0);
        }
        let args: Vec<Vec<u8>> = words
            .iter()
            .map(|w| if *w == "''" { Vec::new() } else { w.as_bytes().to_vec() })
            .collect();
        match words[0] {
            "SCAN*" => {
                p.check_full_scan(&args[1..]);
            }
            "WAIT" => {
                let ms: u64 = words[1].parse().expect("WAIT ms");
                let until = p.last_reply + Duration::from_millis(ms);
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
            }
            _ => {
                p.check_bytes(&args, how.unwrap_or(Cmp::Exact));
            }
        }
    }
}
