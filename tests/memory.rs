//! MEMORY against redis-server: argument handling and errors exactly, figures by shape (ours are our
//! own accounting, see `commands/introspection/memory.rs`).

mod common;

use common::{err, int, simple, Raw, Server, Value};

fn usage(c: &mut Raw, key: &str) -> i64 {
    match c.cmd(&["MEMORY", "USAGE", key]) {
        Value::Int(n) => n,
        other => panic!("MEMORY USAGE {key}: {other:?}"),
    }
}

#[test]
fn usage_arguments_like_redis() {
    if !common::redis_available("usage_arguments_like_redis") {
        return;
    }
    let redis = Server::redis(&[]);
    let ferrite = Server::ferrite(&[]);
    let (mut r, mut f) = (redis.raw(), ferrite.raw());
    for c in [&mut r, &mut f] {
        assert_eq!(c.cmd(&["SET", "s", "hello"]), simple("OK"));
    }
    let script: &[&[&str]] = &[
        &["MEMORY", "USAGE", "nokey"],
        &["MEMORY", "USAGE", "nokey", "SAMPLES", "5"],
        &["MEMORY", "USAGE", "s", "samples"],
        &["MEMORY", "USAGE", "s", "samples", "x"],
        &["MEMORY", "USAGE", "s", "samples", "-1"],
        &["MEMORY", "USAGE", "s", "foo", "1"],
        &["MEMORY", "USAGE", "s", "samples", "1", "samples"],
        &["MEMORY", "USAGE"],
        &["MEMORY", "HELP", "x"],
        &["MEMORY", "PURGE", "x"],
        &["MEMORY", "foo"],
        &["MEMORY"],
        &["MEMORY", "PURGE"],
    ];
    for cmd in script {
        assert_eq!(f.cmd(cmd), r.cmd(cmd), "{cmd:?}");
    }
    for c in [&mut r, &mut f] {
        for samples in ["0", "3"] {
            assert!(matches!(c.cmd(&["MEMORY", "USAGE", "s", "SAMPLES", samples]), Value::Int(n) if n > 0));
        }
    }
}

#[test]
fn usage_figures_follow_the_data() {
    let ferrite = Server::ferrite(&[]);
    let mut f = ferrite.raw();
    let long = "x".repeat(1000);
    let longer = "x".repeat(5000);
    for (k, v) in [
        ("int", "12345"),
        ("short", "hello"),
        ("long", long.as_str()),
        ("longer", longer.as_str()),
    ] {
        assert_eq!(f.cmd(&["SET", k, v]), simple("OK"));
    }
    let (int_, short, long_, longer_) = (
        usage(&mut f, "int"),
        usage(&mut f, "short"),
        usage(&mut f, "long"),
        usage(&mut f, "longer"),
    );
    assert!(int_ > 8 && short > 8, "{int_} {short}");
    assert!(long_ >= 1000 + short - 5, "{long_}");
    assert!(longer_ >= long_ + 4000, "{longer_}");
    // A longer key costs more.
    let key = "k".repeat(300);
    f.cmd(&["SET", &key, "hello"]);
    assert!(usage(&mut f, &key) > short);
}

#[test]
fn absent_subcommands_and_allocator_reports() {
    let ferrite = Server::ferrite(&[]);
    let mut f = ferrite.raw();
    // Not honest yet, so not there: Redis's unknown-subcommand error.
    assert_eq!(
        f.cmd(&["MEMORY", "STATS"]),
        err("ERR unknown subcommand 'STATS'. Try MEMORY HELP.")
    );
    assert_eq!(
        f.cmd(&["MEMORY", "doctor"]),
        err("ERR unknown subcommand 'doctor'. Try MEMORY HELP.")
    );
    let Value::Bulk(stats) = f.cmd(&["MEMORY", "MALLOC-STATS"]) else {
        panic!("MALLOC-STATS")
    };
    assert!(stats.starts_with(b"___ Begin jemalloc statistics ___"));
    assert_eq!(f.cmd(&["MEMORY", "PURGE"]), simple("OK"));
    let Value::Array(help) = f.cmd(&["MEMORY", "HELP"]) else {
        panic!("help")
    };
    assert!(help.iter().all(|l| matches!(l, Value::Simple(_))));
    assert_eq!(
        f.cmd(&["COMMAND", "GETKEYS", "MEMORY", "USAGE", "k"]),
        Value::Array(vec![common::bulk("k")])
    );
    assert_eq!(f.cmd(&["DBSIZE"]), int(0));
}
