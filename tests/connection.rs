//! HELLO, AUTH, RESET, PING, ECHO, SELECT, QUIT: exact replies compared with a real `redis-server`
//! where one is installed, and checked against the known texts always.

mod common;

use common::{bulk, err, int, redis_available, simple, Raw, Server, Value};

/// Replace what legitimately differs between two servers (HELLO's connection id) by a placeholder.
fn normalize(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(normalize_pairs(items)),
        Value::Map(pairs) => Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let v = if k == bulk("id") { int(0) } else { v };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

fn normalize_pairs(mut items: Vec<Value>) -> Vec<Value> {
    for i in 1..items.len() {
        if items[i - 1] == bulk("id") && matches!(items[i], Value::Int(_)) {
            items[i] = int(0);
        }
    }
    items
}

/// Run `script` on one connection, returning the normalized replies.
fn run(port: u16, script: &[&[&str]]) -> Vec<Value> {
    let mut c = Raw::connect(port);
    script.iter().map(|cmd| normalize(c.cmd(cmd))).collect()
}

/// Run `script` on Ferrite (and on Redis when available) with the same extra directives; return
/// Ferrite's replies after checking they equal Redis's.
fn same_as_redis(extra: &[&str], script: &[&[&str]]) -> Vec<Value> {
    let f = Server::ferrite(extra);
    let got = run(f.port, script);
    if redis_available("connection") {
        let r = Server::redis(extra);
        let want = run(r.port, script);
        for ((cmd, g), w) in script.iter().zip(&got).zip(&want) {
            assert_eq!(g, w, "reply to {cmd:?} differs from redis-server");
        }
    }
    got
}

const HELLO_SCRIPT: &[&[&str]] = &[
    &["HELLO"],
    &["HELLO", "4"],
    &["HELLO", "1", "foo"],
    &["HELLO", "abc"],
    &["HELLO", "99999999999999999999"],
    &["HELLO", "3", "foo"],
    &["HELLO", "3", "AUTH", "default"],
    &["HELLO", "3", "SETNAME"],
    &["HELLO", "3", "SETNAME", "a b"],
    &["HELLO", "3", "AUTH", "nobody", "x"],
    &["HELLO", "2", "SETNAME", "first"],
    &["CLIENT", "GETNAME"],
    &["HELLO", "3", "AUTH", "default", "anything", "SETNAME", "second"],
    &["CLIENT", "GETNAME"],
    &["PING"],
    &["PING", "x"],
    &["PING", "a", "b"],
    &["ECHO", "hi"],
    &["HELLO", "2", "SETNAME", ""],
    &["CLIENT", "GETNAME"],
    &["HELLO", "3"],
    &["CLIENT", "GETNAME"],
    &["SELECT", "3"],
    &["SELECT", "16"],
    &["SELECT", "x"],
    &["RESET"],
    &["CLIENT", "GETNAME"],
];

#[test]
fn hello_and_friends_match_redis() {
    let got = same_as_redis(&[], HELLO_SCRIPT);
    assert_eq!(got[1], err("NOPROTO unsupported protocol version"));
    assert_eq!(got[5], err("ERR Syntax error in HELLO option 'foo'"));
    assert!(matches!(got[12], Value::Map(_)), "HELLO 3 answers a map: {:?}", got[12]);
    assert_eq!(got[13], bulk("second"));
    assert_eq!(got[25], simple("RESET"));
    assert_eq!(got[26], Value::NullBulk);
}

const AUTH_NOPASS_SCRIPT: &[&[&str]] = &[
    &["AUTH", "x"],
    &["AUTH", "default", "x"],
    &["AUTH", "foo", "x"],
    &["AUTH", "a", "b", "c"],
];

#[test]
fn auth_without_a_password_matches_redis() {
    let got = same_as_redis(&[], AUTH_NOPASS_SCRIPT);
    assert_eq!(
        got[0],
        err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
    );
    assert_eq!(got[1], simple("OK"));
    assert_eq!(
        got[2],
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
}

const AUTH_REQUIREPASS_SCRIPT: &[&[&str]] = &[
    &["PING"],
    &["HELLO", "3"],
    &["HELLO", "3", "SETNAME", "a", "SETNAME", "b"],
    &["AUTH", "wrong"],
    &["AUTH", "default", "wrong"],
    &["GET", "x"],
    &["AUTH", "sec"],
    &["GET", "x"],
    &["AUTH", "wrong"],
    &["GET", "x"],
    &["CLIENT", "GETNAME"],
    &["RESET"],
    &["GET", "x"],
    &["HELLO", "2", "AUTH", "default", "sec", "AUTH", "default", "wrong"],
    &["GET", "x"],
    &["RESET"],
    &["HELLO", "3", "AUTH", "default", "sec", "SETNAME", "x y"],
    &["GET", "x"],
    &["HELLO", "3", "AUTH", "default", "sec"],
    &["PING"],
];

#[test]
fn auth_with_requirepass_matches_redis() {
    let got = same_as_redis(&["--requirepass", "sec"], AUTH_REQUIREPASS_SCRIPT);
    assert_eq!(got[0], err("NOAUTH Authentication required."));
    assert_eq!(got[6], simple("OK"));
    assert_eq!(
        got[9],
        Value::NullBulk,
        "a failed AUTH keeps the connection authenticated"
    );
    assert_eq!(
        got[10],
        bulk("b"),
        "HELLO's SETNAME applies before its authentication check"
    );
    assert_eq!(
        got[12],
        err("NOAUTH Authentication required."),
        "RESET drops authentication"
    );
    assert_eq!(got[14], Value::NullBulk, "HELLO's first AUTH stays in effect");
    assert_eq!(got[17], Value::NullBulk, "authenticated even though SETNAME failed");
}

#[test]
fn reset_restores_a_fresh_connection() {
    let got = same_as_redis(
        &[],
        &[
            &["CLIENT", "NO-EVICT", "ON"],
            &["SELECT", "5"],
            &["SET", "k", "v"],
            &["CLIENT", "SETNAME", "n"],
            &["HELLO", "3"],
            &["RESET"],
            &["GET", "k"],
            &["CLIENT", "GETNAME"],
            &["SELECT", "5"],
            &["GET", "k"],
        ],
    );
    assert_eq!(got[5], simple("RESET"));
    assert_eq!(got[6], Value::NullBulk, "RESP2 and database 0 again");
    assert_eq!(got[9], bulk("v"));
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.cmd(&["CLIENT", "NO-EVICT", "ON"]);
    c.cmd(&["RESET"]);
    let Value::Bulk(info) = c.cmd(&["CLIENT", "INFO"]) else {
        panic!("CLIENT INFO")
    };
    assert!(
        String::from_utf8_lossy(&info).contains(" flags=e "),
        "RESET keeps no-evict, as Redis 7.0"
    );
}

#[test]
fn quit_replies_then_closes() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    assert_eq!(c.cmd(&["QUIT"]), simple("OK"));
    assert!(c.closed_within(std::time::Duration::from_secs(5)));
}
