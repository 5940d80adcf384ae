//! SLOWLOG against redis-server: the same commands leave the same entries (ids, arguments with
//! Redis's truncation, client address and name), timing fields compared by shape.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{bulk, int, Raw, Server, Value};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn local_addr(r: &Raw) -> String {
    r.stream.local_addr().map(|a| a.to_string()).unwrap_or_default()
}

/// The entries of `SLOWLOG GET -1`, with timing fields checked and blanked and ids made relative to
/// the oldest, so two servers' logs can be compared.
fn entries(r: &mut Raw, since: i64) -> Vec<Value> {
    let peer = local_addr(r);
    let Value::Array(list) = r.cmd(&["SLOWLOG", "GET", "-1"]) else {
        panic!("SLOWLOG GET")
    };
    let base = list
        .iter()
        .filter_map(|e| match e {
            Value::Array(f) => match f[0] {
                Value::Int(id) => Some(id),
                _ => None,
            },
            _ => None,
        })
        .min()
        .unwrap_or(0);
    list.into_iter()
        .map(|e| {
            let Value::Array(mut f) = e else { panic!("entry {e:?}") };
            assert_eq!(f.len(), 6, "{f:?}");
            let Value::Int(id) = f[0] else { panic!("id {f:?}") };
            let Value::Int(t) = f[1] else { panic!("time {f:?}") };
            let Value::Int(d) = f[2] else { panic!("duration {f:?}") };
            assert!(t >= since - 1 && t <= unix_now() + 1, "time {t}");
            assert!(d >= 0);
            assert_eq!(f[4], bulk(&peer));
            f[0] = int(id - base);
            f[1] = int(0);
            f[2] = int(0);
            f[4] = bulk("");
            Value::Array(f)
        })
        .collect()
}

fn run_script(r: &mut Raw) {
    r.cmd(&["SLOWLOG", "RESET"]);
    r.cmd(&["SET", "k", "v"]);
    r.cmd(&["GET", "k"]);
    r.cmd(&["GET", "nosuch"]);
    let long = "x".repeat(200);
    r.cmd(&["ECHO", &long]);
    let mut many = vec!["PING".to_string()];
    many.extend((1..40).map(|i| format!("a{i}")));
    r.cmd(&many);
    r.cmd(&["PING"]);
    // Rejected before running (arity): never logged.
    r.cmd(&["GET"]);
    r.cmd(&["SLOWLOG", "LEN"]);
}

#[test]
fn entries_are_shaped_like_redis() {
    if !common::redis_available("entries_are_shaped_like_redis") {
        return;
    }
    let args = ["--slowlog-log-slower-than", "0"];
    let redis = Server::redis(&args);
    let ferrite = Server::ferrite(&args);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let t0 = unix_now();
    run_script(&mut r);
    run_script(&mut f);
    let (theirs, mine) = (entries(&mut r, t0), entries(&mut f, t0));
    assert_eq!(mine.len(), 8);
    assert_eq!(mine, theirs);
    // The 40-argument PING keeps 32 arguments, the last one counting the rest.
    let Value::Array(e) = &mine[2] else { panic!() };
    let Value::Array(a) = &e[3] else { panic!() };
    assert_eq!(a.len(), 32);
    assert_eq!(a[31], bulk("... (9 more arguments)"));
}

#[test]
fn get_len_reset_and_errors_like_redis() {
    if !common::redis_available("get_len_reset_and_errors_like_redis") {
        return;
    }
    let args = ["--slowlog-log-slower-than", "0"];
    let redis = Server::redis(&args);
    let ferrite = Server::ferrite(&args);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    let script: &[&[&str]] = &[
        &["SLOWLOG", "RESET"],
        &["SLOWLOG", "LEN"],
        &["SLOWLOG", "GET", "0"],
        &["SLOWLOG", "GET", "-2"],
        &["SLOWLOG", "GET", "x"],
        &["SLOWLOG", "GET", "1", "2"],
        &["SlowLog", "GeT", "1", "2"],
        &["SLOWLOG", "LEN", "x"],
        &["SLOWLOG", "RESET", "x"],
        &["SLOWLOG", "HELP", "x"],
        &["SLOWLOG", "foo"],
        &["SLOWLOG"],
        &["SLOWLOG", "LEN"],
        &["SLOWLOG", "RESET"],
        &["SLOWLOG", "LEN"],
    ];
    for cmd in script {
        assert_eq!(f.cmd(cmd), r.cmd(cmd), "{cmd:?}");
    }
    for n in ["1", "2", "100"] {
        let (Value::Array(a), Value::Array(b)) = (f.cmd(&["SLOWLOG", "GET", n]), r.cmd(&["SLOWLOG", "GET", n])) else {
            panic!("SLOWLOG GET {n}")
        };
        assert_eq!(a.len(), b.len(), "SLOWLOG GET {n}");
    }
    let Value::Array(help) = f.cmd(&["SLOWLOG", "HELP"]) else {
        panic!("help")
    };
    assert!(help.len() > 3 && help.iter().all(|l| matches!(l, Value::Simple(_))));
}

#[test]
fn thresholds_and_max_len() {
    if !common::redis_available("thresholds_and_max_len") {
        return;
    }
    // Negative: nothing is logged.
    for srv in [
        Server::redis(&["--slowlog-log-slower-than", "-1"]),
        Server::ferrite(&["--slowlog-log-slower-than", "-1"]),
    ] {
        let mut c = srv.raw();
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["DEBUG", "SLEEP", "0.001"]);
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), int(0));
    }
    // The default 10 ms: a 20 ms command is logged, quick ones are not.
    let mut got = vec![];
    for srv in [Server::redis(&[]), Server::ferrite(&[])] {
        let mut c = srv.raw();
        let t0 = unix_now();
        c.cmd(&["PING"]);
        c.cmd(&["DEBUG", "SLEEP", "0.02"]);
        c.cmd(&["PING"]);
        let e = entries(&mut c, t0);
        let Value::Array(raw) = c.cmd(&["SLOWLOG", "GET"]) else {
            panic!()
        };
        let Value::Array(first) = &raw[0] else { panic!() };
        let Value::Int(d) = first[2] else { panic!() };
        assert!(d >= 20_000, "duration {d}");
        got.push(e);
    }
    assert_eq!(got[0], got[1]);
    assert_eq!(got[1].len(), 1);
    // slowlog-max-len keeps the newest entries; ids keep counting.
    let args = ["--slowlog-log-slower-than", "0", "--slowlog-max-len", "3"];
    let mut got = vec![];
    for srv in [Server::redis(&args), Server::ferrite(&args)] {
        let mut c = srv.raw();
        for i in 0..10 {
            c.cmd(&["ECHO", &i.to_string()]);
        }
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), int(3));
        got.push(entries(&mut c, 0));
    }
    assert_eq!(got[0], got[1]);
}

#[test]
fn client_name_is_recorded() {
    if !common::redis_available("client_name_is_recorded") {
        return;
    }
    let args = ["--slowlog-log-slower-than", "0"];
    let ferrite = Server::ferrite(&args);
    let mut f = ferrite.raw();
    assert_eq!(f.cmd(&["CLIENT", "SETNAME", "worker"]), common::simple("OK"));
    let redis = Server::redis(&args);
    let mut r = redis.raw();
    r.cmd(&["CLIENT", "SETNAME", "worker"]);
    for c in [&mut r, &mut f] {
        c.cmd(&["SLOWLOG", "RESET"]);
        c.cmd(&["CLIENT", "SETNAME", "other"]);
        c.cmd(&["PING"]);
    }
    assert_eq!(entries(&mut f, 0), entries(&mut r, 0));
}
