//! MONITOR: the line format and escaping, what is left out (admin and rejected commands), redaction,
//! the monitor's own commands, and the same lines as a real `redis-server` (timestamps and ports
//! aside).

mod common;

use std::time::Duration;

use common::{redis_available, simple, Raw, Server, Value};

const SCRIPT: &[&[&str]] = &[
    &["SELECT", "5"],
    &["SET", "a b", "x\"y\\z\n\u{1}é"],
    &["AUTH", "default", "foo"],
    &["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "n"],
    &["HELLO", "2"],
    &["CONFIG", "GET", "hz"],
    &["CLIENT", "LIST"],
    &["GET"],
    &["NOSUCH"],
    &["CLIENT", "SETNAME", "x"],
    &["LASTSAVE"],
    &["PING"],
    &["ECHO", "x"],
    &["RESET"],
    &["QUIT"],
];

/// The lines a monitor sees while another client runs SCRIPT, with the timestamp and the client's
/// port replaced by placeholders.
fn monitored(port: u16) -> Vec<String> {
    let mut mon = Raw::connect(port);
    assert_eq!(mon.cmd(&["MONITOR"]), simple("OK"));
    let mut c = Raw::connect(port);
    for cmd in SCRIPT {
        c.cmd(cmd);
    }
    let mut lines = Vec::new();
    mon.stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    while let Some(Value::Simple(l)) = mon.try_read() {
        lines.push(String::from_utf8_lossy(&l).into_owned());
        if lines.last().is_some_and(|l| l.ends_with("\"QUIT\"")) {
            break;
        }
    }
    lines
        .into_iter()
        .map(|l| {
            let (ts, rest) = l.split_once(' ').expect("timestamp");
            let (sec, usec) = ts.split_once('.').expect("sec.usec");
            assert!(sec.parse::<u64>().is_ok() && usec.len() == 6, "{ts}");
            let (client, args) = rest.split_once("] ").expect("client");
            let db = client
                .trim_start_matches('[')
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_string();
            format!("[{db} CLIENT] {args}")
        })
        .collect()
}

#[test]
fn monitor_lines_match_redis() {
    let f = Server::ferrite(&[]);
    let got = monitored(f.port);
    assert_eq!(
        got,
        vec![
            r#"[5 CLIENT] "SELECT" "5""#,
            r#"[5 CLIENT] "SET" "a b" "x\"y\\z\n\x01\xc3\xa9""#,
            r#"[5 CLIENT] "AUTH" "(redacted)" "(redacted)""#,
            r#"[5 CLIENT] "HELLO" "3" "AUTH" "(redacted)" "(redacted)" "SETNAME" "n""#,
            r#"[5 CLIENT] "HELLO" "2""#,
            r#"[5 CLIENT] "CLIENT" "SETNAME" "x""#,
            r#"[5 CLIENT] "LASTSAVE""#,
            r#"[5 CLIENT] "PING""#,
            r#"[5 CLIENT] "ECHO" "x""#,
            r#"[0 CLIENT] "RESET""#,
            r#"[0 CLIENT] "QUIT""#,
        ]
    );
    if redis_available("monitor_lines_match_redis") {
        let r = Server::redis(&[]);
        assert_eq!(got, monitored(r.port));
    }
}

#[test]
fn a_monitor_sees_its_own_commands_and_cannot_touch_keys() {
    let f = Server::ferrite(&[]);
    let script: &[&[&str]] = &[&["MONITOR"], &["PING"], &["GET", "x"], &["RESET"], &["GET", "x"]];
    let run = |port: u16| -> Vec<Value> {
        let mut c = Raw::connect(port);
        let mut out = Vec::new();
        for cmd in script {
            out.push(c.cmd(cmd));
            if cmd[0] == "PING" {
                // The monitor line of its own PING follows the reply.
                let Value::Simple(l) = c.read() else {
                    panic!("monitor line")
                };
                assert!(String::from_utf8_lossy(&l).ends_with("\"PING\""));
            }
        }
        out
    };
    let got = run(f.port);
    assert_eq!(got[2], common::err("ERR Replica can't interact with the keyspace"));
    assert_eq!(got[4], Value::NullBulk, "RESET ends MONITOR");
    if redis_available("a_monitor_sees_its_own_commands") {
        let r = Server::redis(&[]);
        assert_eq!(got, run(r.port));
    }
}

#[test]
fn monitors_are_not_closed_for_idleness() {
    let f = Server::ferrite(&["--timeout", "1"]);
    let mut mon = f.raw();
    assert_eq!(mon.cmd(&["MONITOR"]), simple("OK"));
    let mut idle = f.raw();
    assert_eq!(idle.cmd(&["PING"]), simple("PONG"));
    assert!(
        idle.closed_within(Duration::from_secs(10)),
        "idle client closed after timeout"
    );
    let mut c = f.raw();
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    let Value::Simple(line) = mon.read() else {
        panic!("monitor line")
    };
    assert!(String::from_utf8_lossy(&line).ends_with("\"PING\""));
}
