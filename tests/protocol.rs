//! The wire protocol: framing, inline commands, limits and protocol errors, compared with a real
//! `redis-server` where one is installed, and with the known texts always.

mod common;

use std::time::Duration;

use common::{err, redis_available, simple, Raw, Server, Value};

/// Raw inputs and what Redis 7.0 answers (the trailing `true` means the connection is then closed).
const CASES: &[(&[u8], &[&str], bool)] = &[
    (
        b"*3000000000\r\n",
        &["-ERR Protocol error: invalid multibulk length"],
        true,
    ),
    (b"*1\r\n$-1\r\n", &["-ERR Protocol error: invalid bulk length"], true),
    (b"*1\r\n:5\r\n", &["-ERR Protocol error: expected '$', got ':'"], true),
    (b"*0\r\nPING\r\n", &["+PONG"], false),
    (b"*-5\r\nPING\r\n", &["+PONG"], false),
    (
        b"PING \"a\r\n",
        &["-ERR Protocol error: unbalanced quotes in request"],
        true,
    ),
    (b"\r\n\r\nPING\r\n", &["+PONG"], false),
    (b"*1x\r\n", &["-ERR Protocol error: invalid multibulk length"], true),
    (
        b"*1\r\n$4x\r\nPING\r\n",
        &["-ERR Protocol error: invalid bulk length"],
        true,
    ),
    (
        b"*1\r\n$600000000\r\n",
        &["-ERR Protocol error: invalid bulk length"],
        true,
    ),
    (b"*1\r\n$4\r\nPINGxxPING\r\n", &["+PONG", "+PONG"], false),
    (b"PING\nPING\n", &["+PONG", "+PONG"], false),
    (
        b"echo \"a\"b\r\n",
        &["-ERR Protocol error: unbalanced quotes in request"],
        true,
    ),
    (b"*2\r\n$4\r\necho\r\n$0\r\n\r\n", &["$"], false),
    (
        b"$3\r\n",
        &["-ERR unknown command '$3', with args beginning with: "],
        false,
    ),
    (
        b"echo 'it\\'s' \"\\x41\\tb\"\r\n",
        &["-ERR wrong number of arguments for 'echo' command"],
        false,
    ),
];

fn to_line(v: &Value) -> String {
    match v {
        Value::Simple(s) => format!("+{}", String::from_utf8_lossy(s)),
        Value::Error(s) => format!("-{}", String::from_utf8_lossy(s)),
        Value::Bulk(s) => format!("${}", String::from_utf8_lossy(s)),
        other => format!("{other:?}"),
    }
}

fn run_case(port: u16, input: &[u8], n: usize) -> (Vec<String>, bool) {
    let mut c = Raw::connect(port);
    c.send_raw(input);
    let replies: Vec<String> = (0..n).map(|_| to_line(&c.read())).collect();
    let closed = c.closed_within(Duration::from_millis(300));
    (replies, closed)
}

#[test]
fn protocol_edge_cases_match_redis() {
    let f = Server::ferrite(&[]);
    let oracle = redis_available("protocol_edge_cases_match_redis").then(|| Server::redis(&[]));
    for (input, want, closes) in CASES {
        let (got, closed) = run_case(f.port, input, want.len());
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "input {:?}", String::from_utf8_lossy(input));
        assert_eq!(closed, *closes, "close after {:?}", String::from_utf8_lossy(input));
        if let Some(o) = &oracle {
            assert_eq!(
                run_case(o.port, input, want.len()),
                (got, closed),
                "redis differs on {input:?}"
            );
        }
    }
}

#[test]
fn inline_commands_and_pipelining() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.send_raw(b"SET k \"a b\"\r\nGET k\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO 'x y'\n");
    assert_eq!(c.read(), simple("OK"));
    assert_eq!(c.read(), common::bulk("a b"));
    assert_eq!(c.read(), common::bulk("a b"));
    assert_eq!(c.read(), common::bulk("x y"));
}

#[test]
fn requests_split_at_every_byte_are_reassembled() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let req = Raw::encode(&["SET", "split", "value-with-some-length"]);
    for b in &req {
        c.send_raw(std::slice::from_ref(b));
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(c.read(), simple("OK"));
    assert_eq!(c.cmd(&["GET", "split"]), common::bulk("value-with-some-length"));
}

#[test]
fn large_values_round_trip() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(c.cmd(&[&b"SET"[..], b"big", &big]), simple("OK"));
    assert_eq!(c.cmd(&["GET", "big"]), Value::Bulk(big));
}

#[test]
fn unauthenticated_clients_get_tight_limits() {
    let f = Server::ferrite(&["--requirepass", "secret"]);
    let mut c = f.raw();
    c.send_raw(b"*11\r\n");
    assert_eq!(c.read(), err("ERR Protocol error: unauthenticated multibulk length"));
    assert!(c.closed_within(Duration::from_secs(2)));
    let mut c = f.raw();
    c.send_raw(b"*1\r\n$16385\r\n");
    assert_eq!(c.read(), err("ERR Protocol error: unauthenticated bulk length"));
    let mut c = f.raw();
    assert_eq!(c.cmd(&["GET", "x"]), err("NOAUTH Authentication required."));
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let f = Server::ferrite(&["--client-query-buffer-limit", "1mb"]);
    let mut c = f.raw();
    // A bulk announced at 2 MB that never completes: the server must close once 1 MB is buffered.
    c.send_raw(b"*2\r\n$3\r\nGET\r\n$2000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..24 {
        if c.stream.set_write_timeout(Some(Duration::from_secs(2))).is_err() {
            break;
        }
        use std::io::Write;
        if c.stream.write_all(&chunk).is_err() {
            break;
        }
    }
    assert!(c.closed_within(Duration::from_secs(5)));
    let mut other = f.raw();
    assert_eq!(other.cmd(&["PING"]), simple("PONG"));
}
