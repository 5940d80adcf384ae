//! CLIENT subcommands against the real binary, compared with a real `redis-server` where the reply
//! is deterministic and by shape where it is not (CLIENT LIST's values).

mod common;

use std::time::Duration;

use common::{bulk, err, int, redis_available, simple, Raw, Server, Value};

fn run(port: u16, script: &[&[&str]]) -> Vec<Value> {
    let mut c = Raw::connect(port);
    script.iter().map(|cmd| c.cmd(cmd)).collect()
}

fn same_as_redis(script: &[&[&str]]) -> Vec<Value> {
    let f = Server::ferrite(&[]);
    let got = run(f.port, script);
    if redis_available("client") {
        let r = Server::redis(&[]);
        let want = run(r.port, script);
        for ((cmd, g), w) in script.iter().zip(&got).zip(&want) {
            assert_eq!(g, w, "reply to {cmd:?} differs from redis-server");
        }
    }
    got
}

const ERRORS_SCRIPT: &[&[&str]] = &[
    &["CLIENT"],
    &["CLIENT", "FOO"],
    &["CLIENT", "SETNAME", "a b"],
    &["CLIENT", "SETNAME", "é"],
    &["CLIENT", "SETNAME", "a", "b"],
    &["CLIENT", "SETNAME", "ok-name"],
    &["CLIENT", "GETNAME"],
    &["CLIENT", "SETNAME", ""],
    &["CLIENT", "GETNAME"],
    &["CLIENT", "GETNAME", "x"],
    &["CLIENT", "ID", "x"],
    &["CLIENT", "REPLY", "foo"],
    &["CLIENT", "REPLY", "ON"],
    &["CLIENT", "NO-EVICT", "foo"],
    &["CLIENT", "NO-EVICT", "on"],
    &["CLIENT", "NO-EVICT", "OFF"],
    &["CLIENT", "PAUSE"],
    &["CLIENT", "PAUSE", "abc"],
    &["CLIENT", "PAUSE", "-1"],
    &["CLIENT", "PAUSE", "0", "foo"],
    &["CLIENT", "PAUSE", "abc", "foo"],
    &["CLIENT", "PAUSE", "10", "write", "x"],
    &["CLIENT", "UNPAUSE"],
    &["CLIENT", "UNPAUSE", "x"],
    &["CLIENT", "KILL"],
    &["CLIENT", "KILL", "1.2.3.4:5"],
    &["CLIENT", "KILL", "id"],
    &["CLIENT", "KILL", "id", "abc"],
    &["CLIENT", "KILL", "id", "0"],
    &["CLIENT", "KILL", "id", "999"],
    &["CLIENT", "KILL", "foo", "bar"],
    &["CLIENT", "KILL", "type", "foo"],
    &["CLIENT", "KILL", "type", "normal", "skipme", "no", "id"],
    &["CLIENT", "KILL", "skipme", "maybe"],
    &["CLIENT", "KILL", "skipme", "yes"],
    &["CLIENT", "KILL", "type", "pubsub"],
    &["CLIENT", "KILL", "type", "master"],
    &["CLIENT", "KILL", "type", "replica"],
    &["CLIENT", "KILL", "type", "slave"],
    &["CLIENT", "KILL", "addr", "1:1", "laddr", "1:2"],
    &["CLIENT", "KILL", "user", "nobody"],
    &["CLIENT", "KILL", "user", "default", "id", "999"],
    &["CLIENT", "LIST", "type", "foo"],
    &["CLIENT", "LIST", "id", "abc"],
    &["CLIENT", "LIST", "id", "1", "abc"],
    &["CLIENT", "LIST", "id", "999"],
    &["CLIENT", "LIST", "type", "slave"],
    &["CLIENT", "LIST", "type", "pubsub"],
    &["CLIENT", "LIST", "type", "normal", "x"],
    &["CLIENT", "LIST", "foo"],
    &["CLIENT", "GETREDIR"],
    &["CLIENT", "TRACKINGINFO"],
    &["CLIENT", "UNBLOCK", "abc"],
    &["CLIENT", "UNBLOCK", "1", "foo"],
    &["CLIENT", "UNBLOCK", "1"],
    &["CLIENT", "UNBLOCK", "1", "TIMEOUT"],
];

#[test]
fn client_replies_and_errors_match_redis() {
    let got = same_as_redis(ERRORS_SCRIPT);
    assert_eq!(got[1], err("ERR unknown subcommand 'FOO'. Try CLIENT HELP."));
    assert_eq!(
        got[2],
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(got[6], bulk("ok-name"));
    assert_eq!(got[8], Value::NullBulk);
    assert_eq!(
        got[21],
        err("ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")
    );
    assert_eq!(got[25], err("ERR No such client"));
    assert_eq!(got[29], int(0));
    assert_eq!(got[45], bulk(""));
}

fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn text(v: Value) -> String {
    match v {
        Value::Bulk(b) | Value::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// What a value looks like: a number, or its own text for the fields that are words.
fn shape(k: &str, v: &str) -> String {
    match k {
        "addr" | "laddr" => "ip:port".into(),
        "name" | "flags" | "events" | "cmd" | "user" => v.to_string(),
        _ if v.parse::<i64>().is_ok() => "int".into(),
        _ => v.to_string(),
    }
}

#[test]
fn client_list_and_info_have_redis_fields_in_order() {
    let f = Server::ferrite(&[]);
    let mut a = f.raw();
    let mut b = f.raw();
    b.cmd(&["CLIENT", "SETNAME", "second"]);
    let list = text(a.cmd(&["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(list.ends_with('\n'));
    let first = fields(lines[0]);
    let second = fields(lines[1]);
    assert_eq!(
        first.iter().find(|(k, _)| k == "cmd").map(|(_, v)| v.as_str()),
        Some("client|list")
    );
    assert_eq!(
        second.iter().find(|(k, _)| k == "name").map(|(_, v)| v.as_str()),
        Some("second")
    );
    assert_eq!(
        second.iter().find(|(k, _)| k == "cmd").map(|(_, v)| v.as_str()),
        Some("client|setname")
    );
    let info = text(a.cmd(&["CLIENT", "INFO"]));
    let mine = fields(info.trim_end());
    let id = match a.cmd(&["CLIENT", "ID"]) {
        Value::Int(i) => i,
        other => panic!("{other:?}"),
    };
    assert_eq!(mine[0], ("id".to_string(), id.to_string()));
    let names: Vec<&str> = mine.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem multi-mem rbs rbp obl \
         oll omem tot-mem events cmd user redir resp"
            .split(' ')
            .collect::<Vec<_>>()
    );
    // By ID, in the order given, and by TYPE.
    let by_id = text(a.cmd(&["CLIENT", "LIST", "ID", &id.to_string(), "999"]));
    assert_eq!(by_id.lines().count(), 1);
    assert_eq!(text(a.cmd(&["CLIENT", "LIST", "TYPE", "normal"])).lines().count(), 2);
    assert_eq!(text(a.cmd(&["CLIENT", "LIST", "TYPE", "replica"])), "");
    // RESP3: a verbatim string.
    a.cmd(&["HELLO", "3"]);
    assert!(matches!(a.cmd(&["CLIENT", "INFO"]), Value::Verbatim(..)));

    if redis_available("client_list_and_info_have_redis_fields_in_order") {
        let r = Server::redis(&[]);
        let mut rc = r.raw();
        let theirs = fields(text(rc.cmd(&["CLIENT", "INFO"])).trim_end());
        let mut fc = f.raw();
        let ours = fields(text(fc.cmd(&["CLIENT", "INFO"])).trim_end());
        let shapes = |v: &[(String, String)]| -> Vec<(String, String)> {
            v.iter().map(|(k, val)| (k.clone(), shape(k, val))).collect()
        };
        assert_eq!(shapes(&ours), shapes(&theirs));
    }
}

#[test]
fn client_kill_closes_the_chosen_connections() {
    let f = Server::ferrite(&[]);
    let mut admin = f.raw();
    let mut victim = f.raw();
    let vid = match victim.cmd(&["CLIENT", "ID"]) {
        Value::Int(i) => i,
        other => panic!("{other:?}"),
    };
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &vid.to_string()]), int(1));
    assert!(victim.closed_within(Duration::from_secs(5)));
    // Legacy form by address.
    let mut victim = f.raw();
    let addr = victim.stream.local_addr().expect("addr").to_string();
    assert_eq!(admin.cmd(&["CLIENT", "KILL", &addr]), simple("OK"));
    assert!(victim.closed_within(Duration::from_secs(5)));
    // SKIPME: by default the caller survives a filter that matches it.
    let mut other = f.raw();
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "TYPE", "normal"]), int(1));
    assert!(other.closed_within(Duration::from_secs(5)));
    assert_eq!(admin.cmd(&["PING"]), simple("PONG"));
    // SKIPME no: the caller gets its reply, then is closed.
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "USER", "default", "SKIPME", "no"]),
        int(1)
    );
    assert!(admin.closed_within(Duration::from_secs(5)));
}

/// CLIENT PAUSE WRITE also holds what may propagate a write (PFCOUNT, a script without declared flags,
/// a function that may write), not a script or function declared `no-writes` nor the _RO forms, as
/// redis-server 7.0 does.
#[test]
fn client_pause_write_holds_what_may_replicate() {
    let lib = "#!lua name=lib\nredis.register_function('fw', function() return 1 end)\n\
               redis.register_function{function_name='fr', callback=function() return 1 end, flags={'no-writes'}}";
    let held: &[&[&str]] = &[
        &["PFCOUNT", "h"],
        &["EVAL", "return 1", "0"],
        &["EVAL", "#!lua\nreturn 1", "0"],
        &["FCALL", "fw", "0"],
    ];
    let free: &[&[&str]] = &[
        &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
        &["EVAL_RO", "return 1", "0"],
        &["FCALL", "fr", "0"],
        &["FCALL_RO", "fr", "0"],
        &["GET", "k"],
    ];
    let f = Server::ferrite(&[]);
    let mut admin = f.raw();
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", lib]), bulk("lib"));
    for (cmds, paused) in [(held, true), (free, false)] {
        for cmd in cmds {
            let mut c = f.raw();
            assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), simple("OK"));
            c.send(cmd);
            c.stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .expect("timeout");
            let early = c.try_read();
            assert_eq!(early.is_none(), paused, "{cmd:?}: held by the pause: {paused}");
            assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), simple("OK"));
            if paused {
                c.stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .expect("timeout");
                assert!(!matches!(c.read(), Value::Error(_)), "{cmd:?} ran after the pause");
            }
        }
    }
}

#[test]
fn client_pause_holds_writes_and_unpause_releases_them_in_order() {
    let f = Server::ferrite(&[]);
    let mut admin = f.raw();
    let mut w1 = f.raw();
    let mut w2 = f.raw();
    let mut reader = f.raw();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), simple("OK"));
    w1.send(&["SET", "k", "first"]);
    std::thread::sleep(Duration::from_millis(100));
    w2.send(&["SET", "k", "second"]);
    assert_eq!(
        reader.cmd(&["GET", "k"]),
        Value::NullBulk,
        "reads go through a WRITE pause"
    );
    assert!(common::eventually(Duration::from_secs(5), || {
        let list = text(admin.cmd(&["CLIENT", "LIST"]));
        list.lines().filter(|l| l.contains(" flags=b ")).count() == 2
    }));
    // A shorter pause does not shorten the current one.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "10", "WRITE"]), simple("OK"));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(reader.cmd(&["GET", "k"]), Value::NullBulk);
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), simple("OK"));
    assert_eq!(w1.read(), simple("OK"));
    assert_eq!(w2.read(), simple("OK"));
    assert_eq!(
        reader.cmd(&["GET", "k"]),
        bulk("second"),
        "released in the order they blocked"
    );
    // ALL holds every command, CLIENT's own included, until it ends.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "700", "ALL"]), simple("OK"));
    reader.send(&["GET", "k"]);
    admin.send(&["CLIENT", "UNPAUSE"]);
    reader
        .stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    assert_eq!(reader.try_read(), None, "a read is held by an ALL pause");
    reader
        .stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    assert_eq!(reader.read(), bulk("second"));
    assert_eq!(admin.read(), simple("OK"));
}

#[test]
fn client_pause_ends_by_itself() {
    let f = Server::ferrite(&[]);
    let mut admin = f.raw();
    let mut w = f.raw();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "300"]), simple("OK"));
    let start = std::time::Instant::now();
    assert_eq!(w.cmd(&["SET", "a", "b"]), simple("OK"));
    assert!(start.elapsed() >= Duration::from_millis(150));
}

/// Send the commands, then read one reply: the replies that CLIENT REPLY suppressed never come.
fn first_reply_after(port: u16, cmds: &[&[&str]]) -> Value {
    let mut c = Raw::connect(port);
    for cmd in cmds {
        c.send(cmd);
    }
    c.read()
}

#[test]
fn client_reply_off_and_skip() {
    let skip: &[&[&str]] = &[&["CLIENT", "REPLY", "SKIP"], &["ECHO", "skipped"], &["ECHO", "shown"]];
    let off: &[&[&str]] = &[
        &["CLIENT", "REPLY", "OFF"],
        &["SET", "k", "v"],
        &["CLIENT", "REPLY", "SKIP"],
        &["ECHO", "hidden"],
        &["CLIENT", "REPLY", "ON"],
    ];
    let f = Server::ferrite(&[]);
    assert_eq!(first_reply_after(f.port, skip), bulk("shown"));
    assert_eq!(first_reply_after(f.port, off), simple("OK"));
    assert_eq!(f.raw().cmd(&["GET", "k"]), bulk("v"));
    if redis_available("client_reply_off_and_skip") {
        let r = Server::redis(&[]);
        assert_eq!(first_reply_after(r.port, skip), bulk("shown"));
        assert_eq!(first_reply_after(r.port, off), simple("OK"));
    }
}

#[test]
fn client_help_lists_subcommands() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let Value::Array(lines) = c.cmd(&["CLIENT", "HELP"]) else {
        panic!("array")
    };
    assert!(lines.iter().all(|l| matches!(l, Value::Simple(_))));
    assert!(lines.contains(&simple("HELP")));
    assert!(lines.contains(&simple("NO-EVICT (ON|OFF)")));
}
