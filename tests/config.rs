//! CONFIG GET/SET/RESETSTAT/REWRITE/HELP against the real binary: replies compared with a real
//! `redis-server`, and the side effects of SET checked on the running server.

mod common;

use std::time::Duration;

use common::{bulk, err, free_port, redis_available, simple, Raw, Server, Value};

fn run(port: u16, script: &[&[&str]]) -> Vec<Value> {
    let mut c = Raw::connect(port);
    script.iter().map(|cmd| c.cmd(cmd)).collect()
}

/// A CONFIG GET reply as sorted pairs (Redis answers in hash order, Ferrite in table order).
fn sorted_pairs(v: &Value) -> Vec<(Value, Value)> {
    let mut pairs: Vec<(Value, Value)> = match v {
        Value::Array(items) => items.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect(),
        Value::Map(pairs) => pairs.clone(),
        other => panic!("CONFIG GET answered {other:?}"),
    };
    pairs.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
    pairs
}

const SCRIPT: &[&[&str]] = &[
    &["CONFIG"],
    &["CONFIG", "FOO"],
    &["CONFIG", "GET"],
    &["CONFIG", "SET"],
    &["CONFIG", "SET", "port"],
    &["CONFIG", "SET", "foo", "bar"],
    &["CONFIG", "SET", "hz", "20", "hz", "30"],
    &["CONFIG", "SET", "hz", "abc"],
    &["CONFIG", "SET", "hz", "10", "maxclients"],
    &["CONFIG", "SET", "port", "99999"],
    &["CONFIG", "SET", "enable-debug-command", "no"],
    &["CONFIG", "SET", "dir", "/tmp"],
    &["CONFIG", "SET", "logfile", "/tmp/x"],
    &["CONFIG", "SET", "daemonize", "yes"],
    &["CONFIG", "SET", "bind", "1.2.3.4"],
    &["CONFIG", "SET", "hz", "20", "maxmemory-samples", "7"],
    &["CONFIG", "GET", "hz"],
    &["CONFIG", "GET", "HZ"],
    &["CONFIG", "GET", "nosuch"],
    &["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 3"],
    &["CONFIG", "GET", "client-output-buffer-limit"],
    &["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"],
    &["CONFIG", "SET", "loglevel", "verbose"],
    &["CONFIG", "GET", "loglevel"],
    &["CONFIG", "RESETSTAT", "x"],
    &["CONFIG", "RESETSTAT"],
    &["CONFIG", "REWRITE"],
];

#[test]
fn config_replies_match_redis() {
    let f = Server::ferrite(&[]);
    let got = run(f.port, SCRIPT);
    assert_eq!(got[8], err("ERR syntax error"));
    assert_eq!(
        got[11],
        err("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config")
    );
    assert_eq!(got[16], Value::Array(vec![bulk("hz"), bulk("20")]));
    assert_eq!(got[17], Value::Array(vec![bulk("HZ"), bulk("20")]));
    assert_eq!(got[26], err("ERR The server is running without a config file"));
    if redis_available("config_replies_match_redis") {
        let r = Server::redis(&[]);
        let want = run(r.port, SCRIPT);
        for ((cmd, g), w) in SCRIPT.iter().zip(&got).zip(&want) {
            assert_eq!(g, w, "reply to {cmd:?} differs from redis-server");
        }
    }
}

#[test]
fn config_get_several_patterns_resp2_and_resp3() {
    let f = Server::ferrite(&[]);
    let oracle = redis_available("config_get_several_patterns").then(|| Server::redis(&[]));
    for proto in ["2", "3"] {
        let mut c = f.raw();
        c.cmd(&["HELLO", proto]);
        let got = c.cmd(&["CONFIG", "GET", "maxmemory*", "hz", "*-max-*-entries", "HZ"]);
        if proto == "3" {
            assert!(matches!(got, Value::Map(_)), "{got:?}");
        } else {
            assert!(matches!(got, Value::Array(_)), "{got:?}");
        }
        let pairs = sorted_pairs(&got);
        assert!(pairs.contains(&(bulk("hz"), bulk("10"))));
        assert!(pairs.contains(&(bulk("maxmemory-policy"), bulk("noeviction"))));
        if let Some(o) = &oracle {
            let mut rc = o.raw();
            rc.cmd(&["HELLO", proto]);
            let want = rc.cmd(&["CONFIG", "GET", "maxmemory*", "hz", "*-max-*-entries", "HZ"]);
            assert_eq!(pairs, sorted_pairs(&want));
        }
    }
}

#[test]
fn config_set_port_rebinds_and_a_failed_apply_rolls_back() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    // A port in use: the error, and nothing changed (hz neither).
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_port = busy.local_addr().expect("addr").port().to_string();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "33", "port", &busy_port]),
        err("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        Value::Array(vec![bulk("hz"), bulk("10")])
    );
    assert_eq!(
        Raw::connect(f.port).cmd(&["PING"]),
        simple("PONG"),
        "old listener still there"
    );
    // A free port: new connections go there, the old port is closed, existing ones stay.
    let new_port = free_port();
    assert_eq!(c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]), simple("OK"));
    assert_eq!(Raw::connect(new_port).cmd(&["PING"]), simple("PONG"));
    assert!(std::net::TcpStream::connect(("127.0.0.1", f.port)).is_err());
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn config_set_requirepass_applies_to_new_connections() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", "pw"]), simple("OK"));
    assert_eq!(
        c.cmd(&["PING"]),
        simple("PONG"),
        "existing connections stay authenticated"
    );
    let mut d = f.raw();
    assert_eq!(d.cmd(&["PING"]), err("NOAUTH Authentication required."));
    assert_eq!(d.cmd(&["AUTH", "pw"]), simple("OK"));
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", ""]), simple("OK"));
    assert_eq!(f.raw().cmd(&["PING"]), simple("PONG"));
}

#[test]
fn config_set_limits_take_effect() {
    let f = Server::ferrite(&["--enable-protected-configs", "yes"]);
    let mut c = f.raw();
    // proto-max-bulk-len
    assert_eq!(c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]), simple("OK"));
    let mut d = f.raw();
    d.send_raw(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n");
    assert_eq!(d.read(), err("ERR Protocol error: invalid bulk length"));
    // maxclients
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxclients", "2"]), simple("OK"));
    let mut a = f.raw();
    assert_eq!(a.cmd(&["PING"]), simple("PONG"));
    let mut b = f.raw();
    assert_eq!(b.read(), err("ERR max number of clients reached"));
    drop(a);
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxclients", "100"]), simple("OK"));
    // dir: the server moves there.
    let sub = f.dir().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", sub.to_str().expect("utf8")]),
        simple("OK")
    );
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", f.pid())).expect("cwd");
    assert_eq!(cwd, std::fs::canonicalize(&sub).expect("canonical"));
    // timeout: an idle client is closed.
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "1"]), simple("OK"));
    let mut idle = f.raw();
    assert_eq!(idle.cmd(&["PING"]), simple("PONG"));
    assert!(idle.closed_within(Duration::from_secs(10)));
}

#[test]
fn config_resetstat_zeroes_statistics() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["NOSUCH"]);
    let text = |v: Value| match v {
        Value::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    let before = text(c.cmd(&["INFO", "everything"]));
    assert!(before.contains("cmdstat_set:calls=1"), "{before}");
    assert!(before.contains("errorstat_ERR:count=1"), "{before}");
    assert!(before.contains("keyspace_hits:1"), "{before}");
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), simple("OK"));
    let after = text(c.cmd(&["INFO", "everything"]));
    assert!(!after.contains("cmdstat_set"), "{after}");
    assert!(!after.contains("errorstat_ERR"), "{after}");
    assert!(after.contains("keyspace_hits:0"), "{after}");
    assert!(after.contains("total_error_replies:0"), "{after}");
}

#[test]
fn config_rewrite_writes_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ferrite.conf");
    std::fs::write(&path, "hz 15\n").expect("write");
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ferrite-server"))
        .current_dir(dir.path())
        .args([
            path.to_str().expect("utf8"),
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    assert!(common::eventually(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd(&["CONFIG", "SET", "hz", "25"]), simple("OK"));
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), simple("OK"));
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("hz 25"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn config_help_has_redis_layout() {
    let f = Server::ferrite(&[]);
    let Value::Array(lines) = f.raw().cmd(&["CONFIG", "HELP"]) else {
        panic!("array")
    };
    assert_eq!(
        lines.first(),
        Some(&simple(
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
        ))
    );
    assert!(lines.contains(&simple("RESETSTAT")));
}
