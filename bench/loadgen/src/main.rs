//! `loadgen`: redis-benchmark's load model for requests made of several commands.
//!
//! redis-benchmark sends one command per request, so it cannot measure a transaction
//! (`MULTI; SET; SET; SET; EXEC`) as one unit. This tool keeps redis-benchmark's method — `-c`
//! connections on one thread, each sending `-P` requests at once and waiting for all their replies
//! before sending the next batch, `-n` requests in all, `__rand_int__` replaced by a random
//! 12-digit number below `-r` — but a request is a script of commands separated by `;`, and it
//! counts as done when every command's reply has arrived.
//!
//!     loadgen -p 6379 -c 50 -P 16 -n 100000 -r 100000 'MULTI; SET t:__rand_int__ v; EXEC'
//!
//! It prints one tab-separated line: `rps <requests/s> p50_ms <x> p99_ms <y>` (latency of a batch,
//! from its first byte written to its last reply read). Any error reply makes it exit non-zero with
//! the error, so a benchmark never reports the speed of failing requests.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use resp::value::{parse, Value};

struct Options {
    port: u16,
    clients: usize,
    pipeline: usize,
    requests: u64,
    keyspace: u64,
    script: Vec<Vec<Vec<u8>>>,
}

const USAGE: &str =
    "usage: loadgen [-h HOST_IP] -p PORT [-c CLIENTS] [-P PIPELINE] [-n REQUESTS] [-r KEYSPACE] 'CMD ARG..; CMD ARG..'";

fn parse_options(args: &[String]) -> Result<(SocketAddr, Options), String> {
    let mut host = "127.0.0.1".to_string();
    let mut o = Options {
        port: 0,
        clients: 50,
        pipeline: 1,
        requests: 100_000,
        keyspace: 1,
        script: Vec::new(),
    };
    let mut i = 0;
    let mut script = None;
    while i < args.len() {
        let flag = args[i].as_str();
        if !flag.starts_with('-') {
            script = Some(args[i].clone());
            i += 1;
            continue;
        }
        let value = args.get(i + 1).ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag {
            "-h" => host = value.clone(),
            "-p" => o.port = u16::try_from(number()?).map_err(|_| "-p: not a port".to_string())?,
            "-c" => o.clients = number()? as usize,
            "-P" => o.pipeline = number()? as usize,
            "-n" => o.requests = number()?,
            "-r" => o.keyspace = number()?,
            _ => return Err(format!("unknown option {flag}")),
        }
        i += 2;
    }
    let script = script.ok_or("no request script given")?;
    o.script = script
        .split(';')
        .map(|cmd| {
            cmd.split_whitespace()
                .map(|w| w.as_bytes().to_vec())
                .collect::<Vec<_>>()
        })
        .filter(|cmd: &Vec<Vec<u8>>| !cmd.is_empty())
        .collect();
    if o.port == 0 || o.clients == 0 || o.pipeline == 0 || o.requests == 0 || o.keyspace == 0 || o.script.is_empty() {
        return Err("port, -c, -P, -n, -r and the script must be non-zero / non-empty".into());
    }
    let ip = host.parse().map_err(|_| format!("-h: not an IP address: {host}"))?;
    Ok((SocketAddr::new(ip, o.port), o))
}

/// xorshift64*: the keys only need to spread, not to be unpredictable.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

const PLACEHOLDER: &[u8] = b"__rand_int__";

/// Appends one request (every command of the script) in RESP, each placeholder drawn afresh.
fn encode_request(out: &mut Vec<u8>, script: &[Vec<Vec<u8>>], rng: &mut Rng, keyspace: u64) {
    for cmd in script {
        out.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
        for arg in cmd {
            let mut word = Vec::with_capacity(arg.len());
            let mut rest = arg.as_slice();
            while let Some(at) = rest.windows(PLACEHOLDER.len()).position(|w| w == PLACEHOLDER) {
                word.extend_from_slice(&rest[..at]);
                word.extend_from_slice(format!("{:012}", rng.below(keyspace)).as_bytes());
                rest = &rest[at + PLACEHOLDER.len()..];
            }
            word.extend_from_slice(rest);
            out.extend_from_slice(format!("${}\r\n", word.len()).as_bytes());
            out.extend_from_slice(&word);
            out.extend_from_slice(b"\r\n");
        }
    }
}

struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    /// Replies still owed for the batch in flight (0: idle).
    owed: usize,
    /// Requests in the batch in flight.
    batch: u64,
    sent_at: Instant,
}

enum Step {
    Finished,
    Blocked,
    NextBatch,
}

struct Run {
    opts: Options,
    rng: Rng,
    issued: u64,
    done: u64,
    latencies: Vec<Duration>,
}

impl Run {
    /// Queues the connection's next batch; false when every request has been issued.
    fn next_batch(&mut self, c: &mut Conn) -> bool {
        let batch = (self.opts.requests - self.issued).min(self.opts.pipeline as u64);
        if batch == 0 {
            return false;
        }
        self.issued += batch;
        c.out.clear();
        c.written = 0;
        for _ in 0..batch {
            encode_request(&mut c.out, &self.opts.script, &mut self.rng, self.opts.keyspace);
        }
        c.batch = batch;
        c.owed = batch as usize * self.opts.script.len();
        c.sent_at = Instant::now();
        true
    }

    /// Writes and reads until the socket would block; true once this connection is finished.
    fn pump(&mut self, c: &mut Conn) -> Result<bool, String> {
        loop {
            match self.step(c)? {
                Step::Finished => return Ok(true),
                Step::Blocked => return Ok(false),
                Step::NextBatch => {}
            }
        }
    }

    /// Writes what it can, then reads and counts replies.
    fn step(&mut self, c: &mut Conn) -> Result<Step, String> {
        while c.written < c.out.len() {
            match c.stream.write(&c.out[c.written..]) {
                Ok(0) => return Err("connection closed while writing".into()),
                Ok(n) => c.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match c.stream.read(&mut chunk) {
                Ok(0) => return Err("server closed the connection".into()),
                Ok(n) => c.input.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        let mut used = 0;
        while c.owed > 0 {
            match parse(&c.input[used..]).map_err(|e| e.to_string())? {
                None => break,
                Some((value, n)) => {
                    used += n;
                    c.owed -= 1;
                    check(&value)?;
                }
            }
        }
        c.input.drain(..used);
        if c.owed > 0 {
            return Ok(Step::Blocked);
        }
        self.latencies.push(c.sent_at.elapsed());
        self.done += c.batch;
        Ok(if self.next_batch(c) {
            Step::NextBatch
        } else {
            Step::Finished
        })
    }
}

/// An error anywhere in a reply (an EXEC's array included) fails the run.
fn check(value: &Value) -> Result<(), String> {
    match value {
        Value::Error(e) => Err(format!("error reply: {}", String::from_utf8_lossy(e))),
        Value::Array(items) => items.iter().try_for_each(check),
        Value::NullArray => Err("null array reply (an aborted transaction?)".into()),
        _ => Ok(()),
    }
}

fn run(addr: SocketAddr, opts: Options) -> Result<(f64, Duration, Duration), String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ 0x9e37_79b9_7f4a_7c15
        ^ u64::from(std::process::id());
    let clients = opts.clients;
    let mut run = Run {
        opts,
        rng: Rng(seed | 1),
        issued: 0,
        done: 0,
        latencies: Vec::new(),
    };
    let mut conns = Vec::with_capacity(clients);
    for i in 0..clients {
        let std_stream = std::net::TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        std_stream.set_nodelay(true).map_err(|e| e.to_string())?;
        std_stream.set_nonblocking(true).map_err(|e| e.to_string())?;
        let mut stream = TcpStream::from_std(std_stream);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| e.to_string())?;
        conns.push(Some(Conn {
            stream,
            out: Vec::new(),
            written: 0,
            input: Vec::new(),
            owed: 0,
            batch: 0,
            sent_at: Instant::now(),
        }));
    }
    let start = Instant::now();
    let mut live = 0;
    for slot in conns.iter_mut() {
        let Some(c) = slot else { continue };
        if run.next_batch(c) {
            live += 1;
            if run.pump(c)? {
                live -= 1;
                *slot = None;
            }
        } else {
            *slot = None;
        }
    }
    let mut events = Events::with_capacity(1024);
    while live > 0 {
        poll.poll(&mut events, Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        if events.is_empty() {
            return Err("no reply for 30 s".into());
        }
        for event in events.iter() {
            let slot = &mut conns[event.token().0];
            let Some(c) = slot else { continue };
            if run.pump(c)? {
                live -= 1;
                *slot = None;
            }
        }
    }
    let elapsed = start.elapsed();
    run.latencies.sort_unstable();
    let at = |q: f64| run.latencies[((run.latencies.len() - 1) as f64 * q) as usize];
    Ok((run.done as f64 / elapsed.as_secs_f64(), at(0.5), at(0.99)))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, opts) = match parse_options(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("loadgen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(addr, opts) {
        Ok((rps, p50, p99)) => {
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!("rps\t{rps:.0}\tp50_ms\t{:.3}\tp99_ms\t{:.3}", ms(p50), ms(p99));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
