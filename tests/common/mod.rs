//! Shared helpers for black-box tests: start the real `ferrite-server` binary (or a real `redis-server`,
//! the oracle) on a free loopback port in a temporary directory, talk to it with the `redis` crate or with
//! a raw RESP connection that keeps reply types exact, and kill it on drop. Every wait has a deadline.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod cases;
pub mod dataset;
pub mod diff;
pub mod scenario;

pub use resp::Value;

/// Is `redis-server` on the PATH? When it is not, the caller skips with a message, unless
/// `FERRITE_REQUIRE_REDIS=1`, in which case the test fails.
pub fn redis_available(test: &str) -> bool {
    let ok = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("FERRITE_REQUIRE_REDIS").as_deref() == Ok("1") {
            panic!("{test}: redis-server not found and FERRITE_REQUIRE_REDIS=1");
        }
        eprintln!("{test}: skipped, redis-server not found (set FERRITE_REQUIRE_REDIS=1 to fail)");
    }
    ok
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// When a freshly started server counts as up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// It answers a PING with anything (`+PONG`, `-NOAUTH`, `-LOADING` …).
    Answers,
    /// It answers, and not `-LOADING`: the dataset is loaded (what a test of the data wants).
    Loaded,
}

/// Wait until the server is `ready`. A bare connect is not enough: the listener accepts before the
/// event loop runs, so the last start-up log lines may not be written yet.
fn wait_for_port(port: u16, child: &mut Child, what: &str, ready: Ready) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match ping_reply(port) {
            Some(line) if ready == Ready::Answers || !line.starts_with("-LOADING") => return,
            _ => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited during start-up: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not start answering on {port}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The first line of the reply to a PING (a status or an error), if one came.
fn ping_reply(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"PING\r\n").ok()?;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 256 && s.read(&mut byte).ok()? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    (line.starts_with('+') || line.starts_with('-')).then_some(line)
}

/// A server process (Ferrite or Redis) on a free loopback port, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    /// Start `ferrite-server` with test defaults (`--enable-debug-command yes`, loopback only) plus
    /// `extra` directives.
    pub fn ferrite(extra: &[&str]) -> Server {
        Self::spawn(env!("CARGO_BIN_EXE_ferrite-server"), extra, "ferrite-server")
    }

    /// Start a real `redis-server` (the oracle) with the same test defaults. Call `redis_available` first.
    pub fn redis(extra: &[&str]) -> Server {
        Self::spawn("redis-server", extra, "redis-server")
    }

    /// Start a real `redis-server` with only the port, loopback bind and `save ""` set (for comparisons of
    /// defaults).
    pub fn redis_plain(extra: &[&str]) -> Server {
        Self::spawn_with("redis-server", extra, "redis-server", false)
    }

    /// `ferrite` with these environment variables set for the server process.
    pub fn ferrite_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_ready(
            env!("CARGO_BIN_EXE_ferrite-server"),
            extra,
            "ferrite-server",
            true,
            (Ready::Loaded, env),
        )
    }

    /// Start `ferrite-server` like `ferrite`, returning as soon as it answers, `-LOADING` included
    /// (tests of what happens while the dataset loads).
    pub fn ferrite_loading(extra: &[&str]) -> Server {
        Self::spawn_ready(
            env!("CARGO_BIN_EXE_ferrite-server"),
            extra,
            "ferrite-server",
            true,
            (Ready::Answers, &[]),
        )
    }

    /// Start a real `redis-server` like `redis`, returning as soon as it answers, `-LOADING` included.
    pub fn redis_loading(extra: &[&str]) -> Server {
        Self::spawn_ready("redis-server", extra, "redis-server", true, (Ready::Answers, &[]))
    }

    fn spawn(bin: &str, extra: &[&str], what: &str) -> Server {
        Self::spawn_with(bin, extra, what, true)
    }

    fn spawn_with(bin: &str, extra: &[&str], what: &str, test_defaults: bool) -> Server {
        Self::spawn_ready(bin, extra, what, test_defaults, (Ready::Loaded, &[]))
    }

    /// Spawn and wait until `ready`, with `env` set for the server process.
    fn spawn_ready(
        bin: &str,
        extra: &[&str],
        what: &str,
        test_defaults: bool,
        (ready, env): (Ready, &[(&str, &str)]),
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new(bin)
                .current_dir(dir.path())
                .envs(env.iter().copied())
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
                .args(if test_defaults {
                    &["--enable-debug-command", "yes", "--logfile", "server.log"][..]
                } else {
                    &[][..]
                })
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
            std::thread::sleep(Duration::from_millis(5));
            if let Ok(Some(_)) = child.try_wait() {
                // Lost a race for the port, or a bad argument: retry once more, then report.
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                if !log.contains("Address already in use") {
                    panic!("{what} failed to start: {err}{log}");
                }
                continue;
            }
            wait_for_port(port, &mut child, what, ready);
            return Server { child, port, dir };
        }
        panic!("{what}: could not find a free port");
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A `redis` crate connection.
    pub fn conn(&self) -> redis::Connection {
        let c = redis::Client::open(self.url()).expect("client");
        let conn = c.get_connection_with_timeout(Duration::from_secs(10)).expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        conn
    }

    /// A raw RESP connection (exact reply types).
    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait until the server has loaded its files (it answers PING with `-LOADING` meanwhile, which
    /// start-up counts as ready). Returns the server for chaining.
    pub fn loaded(self) -> Server {
        let mut c = self.raw();
        let done = eventually(
            Duration::from_secs(60),
            || !matches!(c.cmd(&["PING"]), Value::Error(e) if e.starts_with(b"LOADING")),
        );
        assert!(done, "the server finishes loading");
        self
    }

    /// Wait for the process to exit by itself (after SHUTDOWN or a signal).
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Send a signal to the server process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the PID of a child we spawned.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw RESP connection: sends commands as multibulk (or raw bytes) and parses replies into
/// [`resp::Value`], keeping every type exact.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.stream.write_all(&Self::encode(args)).expect("write");
    }

    /// Send a command; false if the connection is gone (a server killed on purpose).
    pub fn try_send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> bool {
        self.stream.write_all(&Self::encode(args)).is_ok()
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Read one reply (waits up to the read timeout).
    pub fn read(&mut self) -> Value {
        self.try_read().expect("reply")
    }

    /// Read one reply; `None` if the connection closed or timed out first.
    pub fn try_read(&mut self) -> Option<Value> {
        loop {
            if let Ok(Some((v, n))) = resp::value::parse(&self.buf) {
                self.buf.drain(..n);
                return Some(v);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Send a command and read its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Value {
        self.send(args);
        self.read()
    }

    /// Whether the server closed the connection (reads until EOF or `within`).
    pub fn closed_within(&mut self, within: Duration) -> bool {
        self.stream.set_read_timeout(Some(within)).expect("timeout");
        let mut chunk = [0u8; 4096];
        let r = matches!(self.stream.read(&mut chunk), Ok(0));
        self.stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        r
    }
}

/// `cmd(["SET", "k", "v"])` as a vector of byte strings.
pub fn args(a: &[&str]) -> Vec<Vec<u8>> {
    a.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Shorthands for expected replies.
pub fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

/// One field of an INFO section (panics when the section lacks it).
pub fn info_field(c: &mut Raw, section: &str, field: &str) -> String {
    let Value::Bulk(text) = c.cmd(&["INFO", section]) else {
        panic!("INFO {section}")
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

pub fn simple(s: &str) -> Value {
    Value::Simple(s.as_bytes().to_vec())
}

pub fn err(s: &str) -> Value {
    Value::Error(s.as_bytes().to_vec())
}

pub fn int(i: i64) -> Value {
    Value::Int(i)
}

/// Poll `f` until it returns true or `within` passes.
pub fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Wait until the server reports `n` blocked clients (INFO clients), under a deadline.
pub fn wait_blocked(c: &mut Raw, n: usize) {
    let want = format!("blocked_clients:{n}\r");
    let ok = eventually(Duration::from_secs(10), || match c.cmd(&["INFO", "clients"]) {
        Value::Bulk(b) | Value::Verbatim(_, b) => String::from_utf8_lossy(&b).contains(&want),
        _ => false,
    });
    assert!(ok, "expected {n} blocked clients");
}

/// A small deterministic generator (xorshift), so failures reproduce from their seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
