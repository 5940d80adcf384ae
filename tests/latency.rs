//! LATENCY against redis-server: the monitor's events and replies, and per-command histograms,
//! compared exactly where they are deterministic and by shape where they hold durations.

mod common;

use common::{bulk, err, int, Raw, Server, Value};
use ferrite::commands::introspection::histogram::highest_equivalent;
use ferrite::testing::Harness;
use resp::Protocol;

/// Replies whose content does not depend on timing.
fn same(f: &mut Raw, r: &mut Raw, cmd: &[&str]) -> Value {
    let (a, b) = (f.cmd(cmd), r.cmd(cmd));
    assert_eq!(a, b, "{cmd:?}");
    a
}

/// LATENCY LATEST as (event, latest ms, max ms), times checked.
fn latest(c: &mut Raw) -> Vec<(Vec<u8>, i64, i64)> {
    let Value::Array(events) = c.cmd(&["LATENCY", "LATEST"]) else {
        panic!("LATEST")
    };
    events
        .into_iter()
        .map(|e| match e {
            Value::Array(f) => match (&f[0], &f[1], &f[2], &f[3]) {
                (Value::Bulk(n), Value::Int(t), Value::Int(l), Value::Int(m)) => {
                    assert!(*t > 1_600_000_000);
                    (n.clone(), *l, *m)
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn monitor_like_redis() {
    if !common::redis_available("monitor_like_redis") {
        return;
    }
    let args = ["--latency-monitor-threshold", "5"];
    let redis = Server::redis(&args);
    let ferrite = Server::ferrite(&args);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    for cmd in [
        &["LATENCY", "LATEST"][..],
        &["LATENCY", "HISTORY", "command"],
        &["LATENCY", "RESET"],
        &["LATENCY", "GRAPH", "command"],
        &["LATENCY", "HISTORY"],
        &["LATENCY", "GRAPH"],
        &["LATENCY", "LATEST", "x"],
        &["LATENCY", "HELP", "x"],
        &["LATENCY", "foo"],
        &["LATENCY"],
        &["DEBUG", "SLEEP", "0"],
        &["LATENCY", "LATEST"],
    ] {
        same(&mut f, &mut r, cmd);
    }
    for c in [&mut r, &mut f] {
        c.cmd(&["DEBUG", "SLEEP", "0.012"]);
        let l = latest(c);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].0, b"command");
        assert!(l[0].1 >= 12 && l[0].2 >= l[0].1, "{l:?}");
        let Value::Array(h) = c.cmd(&["LATENCY", "HISTORY", "command"]) else {
            panic!()
        };
        assert_eq!(h.len(), 1);
        let Value::Array(s) = &h[0] else { panic!() };
        assert!(matches!(s[..], [Value::Int(_), Value::Int(ms)] if ms >= 12));
        let Value::Bulk(g) = c.cmd(&["LATENCY", "GRAPH", "command"]) else {
            panic!("GRAPH")
        };
        assert!(g.starts_with(b"command - high "), "{}", String::from_utf8_lossy(&g));
        let Value::Bulk(d) = c.cmd(&["LATENCY", "DOCTOR"]) else {
            panic!("DOCTOR")
        };
        assert!(!d.is_empty());
    }
    for cmd in [
        &["LATENCY", "HISTORY", "Command"][..],
        &["LATENCY", "HISTORY", "fast-command"],
        &["LATENCY", "RESET", "nosuch", "command", "command"],
        &["LATENCY", "LATEST"],
        &["LATENCY", "RESET"],
    ] {
        same(&mut f, &mut r, cmd);
    }
}

#[test]
fn the_monitor_is_off_by_default() {
    let ferrite = Server::ferrite(&[]);
    let mut f = ferrite.raw();
    f.cmd(&["DEBUG", "SLEEP", "0.01"]);
    assert_eq!(f.cmd(&["LATENCY", "LATEST"]), Value::Array(vec![]));
    let Value::Bulk(d) = f.cmd(&["LATENCY", "DOCTOR"]) else {
        panic!("DOCTOR")
    };
    assert!(String::from_utf8_lossy(&d).contains("latency-monitor-threshold"));
}

/// The bounds LATENCY HISTOGRAM may print (µs).
fn bounds() -> Vec<i64> {
    let mut b: Vec<i64> = (0..20)
        .map(|k| (highest_equivalent(1024u64 << k) / 1000) as i64)
        .collect();
    b.push(1_073_741);
    b
}

/// LATENCY HISTOGRAM checked for shape, as (name, calls).
fn histogram(c: &mut Raw, args: &[&str]) -> Vec<(Vec<u8>, i64)> {
    let mut q = vec!["LATENCY", "HISTOGRAM"];
    q.extend_from_slice(args);
    let Value::Array(flat) = c.cmd(&q) else {
        panic!("HISTOGRAM")
    };
    let allowed = bounds();
    flat.chunks(2)
        .map(|p| {
            let Value::Bulk(name) = &p[0] else { panic!("{p:?}") };
            let Value::Array(f) = &p[1] else { panic!("{p:?}") };
            assert_eq!(f[0], bulk("calls"));
            assert_eq!(f[2], bulk("histogram_usec"));
            let Value::Int(calls) = f[1] else { panic!() };
            let Value::Array(cdf) = &f[3] else { panic!() };
            let mut prev = (0, 0);
            for b in cdf.chunks(2) {
                let (Value::Int(bound), Value::Int(n)) = (&b[0], &b[1]) else {
                    panic!("{b:?}")
                };
                assert!(allowed.contains(bound), "bound {bound}");
                assert!(*bound > prev.0 && *n > prev.1);
                prev = (*bound, *n);
            }
            assert_eq!(prev.1, calls);
            (name.clone(), calls)
        })
        .collect()
}

#[test]
fn histograms_like_redis() {
    if !common::redis_available("histograms_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let mut got = vec![];
    for srv in [&redis, &ferrite] {
        let mut c = srv.raw();
        c.cmd(&["SET", "k", "v"]);
        for _ in 0..3 {
            c.cmd(&["GET", "k"]);
        }
        c.cmd(&["COMMAND", "COUNT"]);
        c.cmd(&["DEBUG", "SLEEP", "0.003"]);
        let named = histogram(&mut c, &["get", "SET", "nosuch", "command", "debug"]);
        let mut all = histogram(&mut c, &[]);
        all.sort();
        got.push((named, all));
    }
    assert_eq!(got[0], got[1]);
    assert_eq!(
        got[1].0,
        [
            (b"get".to_vec(), 3),
            (b"set".to_vec(), 1),
            (b"command|count".to_vec(), 1),
            (b"debug".to_vec(), 1)
        ]
    );
    // Tracking off: nothing is counted.
    for srv in [
        Server::redis(&["--latency-tracking", "no"]),
        Server::ferrite(&["--latency-tracking", "no"]),
    ] {
        let mut c = srv.raw();
        c.cmd(&["GET", "k"]);
        assert_eq!(c.cmd(&["LATENCY", "HISTOGRAM"]), Value::Array(vec![]));
    }
}

#[test]
fn histogram_in_resp3_is_maps() {
    let mut h = Harness::new();
    h.set_protocol(Protocol::Resp3);
    h.run(&["GET", "k"]);
    h.run(&["GET", "k"]);
    let Value::Map(top) = h.run(&["LATENCY", "HISTOGRAM", "get"]) else {
        panic!("map")
    };
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].0, bulk("get"));
    let Value::Map(f) = &top[0].1 else { panic!("map") };
    assert_eq!(f[0], (bulk("calls"), int(2)));
    assert!(matches!(f[1], (ref k, Value::Map(_)) if *k == bulk("histogram_usec")));
    assert_eq!(
        h.run(&["LATENCY", "GRAPH", "x"]),
        err("ERR No samples available for event 'x'")
    );
}
