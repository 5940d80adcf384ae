//! Functions (FUNCTION LOAD ... FCALL), black-box and against a real `redis-server`: loading and its
//! errors, the loading and running worlds, calls and their errors, LIST/STATS/DELETE/FLUSH, DUMP and
//! RESTORE across the two servers both ways, and a runaway function (BUSY, FUNCTION STATS, FUNCTION
//! KILL).

mod common;

use std::time::{Duration, Instant};

use common::cases::{case_file, Duo};
use common::diff::show;
use common::{bulk, err, int, simple, Server, Value};

#[test]
fn functions_answer_as_redis() {
    let Some(mut d) = Duo::for_test("functions_answer_as_redis", &[]) else {
        return;
    };
    d.run_cases(&case_file(include_str!("data/functions_vs_redis.txt")));
    d.finish("functions_answer_as_redis");
}

const LIB: &str = "#!lua name=mylib\n\
    redis.register_function('add', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n\
    redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, \
    flags={'no-writes'}, description='reads a key'}";

#[test]
fn dump_and_restore_move_libraries_between_ferrite_and_redis() {
    if !common::redis_available("dump_and_restore_move_libraries_between_ferrite_and_redis") {
        return;
    }
    let (f, r) = (Server::ferrite(&[]), Server::redis(&[]));
    for (from, to) in [(&f, &r), (&r, &f)] {
        let (mut src, mut dst) = (from.raw(), to.raw());
        src.cmd(&["FUNCTION", "FLUSH"]);
        dst.cmd(&["FUNCTION", "FLUSH"]);
        assert_eq!(src.cmd(&["FUNCTION", "LOAD", LIB]), bulk("mylib"));
        let Value::Bulk(payload) = src.cmd(&["FUNCTION", "DUMP"]) else {
            panic!("FUNCTION DUMP")
        };
        let restore = |dst: &mut common::Raw, policy: &str| {
            let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &payload];
            if !policy.is_empty() {
                args.push(policy.as_bytes());
            }
            dst.cmd(&args)
        };
        assert_eq!(restore(&mut dst, ""), simple("OK"));
        assert_eq!(restore(&mut dst, "APPEND"), err("ERR Library mylib already exists"));
        assert_eq!(restore(&mut dst, "REPLACE"), simple("OK"));
        assert_eq!(restore(&mut dst, "FLUSH"), simple("OK"));
        assert_eq!(dst.cmd(&["FCALL", "add", "1", "n", "5"]), int(5));
        assert_eq!(dst.cmd(&["FCALL_RO", "PEEK", "1", "n"]), bulk("5"));
        // A corrupt payload changes nothing.
        let mut bad = payload.clone();
        bad[3] ^= 0x20;
        assert_eq!(
            dst.cmd(&[&b"FUNCTION"[..], b"RESTORE", &bad, b"FLUSH"]),
            err("ERR DUMP payload version or checksum are wrong")
        );
        assert_eq!(dst.cmd(&["FCALL", "add", "1", "n", "1"]), int(6));
    }
}

#[test]
fn a_runaway_function_is_busy_listed_and_killed() {
    let f = Server::ferrite(&["--busy-reply-threshold", "50"]);
    let mut c = f.raw();
    let lib = "#!lua name=spin\nredis.register_function('spin', function() while true do end end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), bulk("spin"));
    let mut runner = f.raw();
    runner.send(&["FCALL", "spin", "0"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.cmd(&["PING"]) {
            Value::Error(e) if e.starts_with(b"BUSY") => {
                assert_eq!(
                    e,
                    b"BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
                );
                break;
            }
            _ if Instant::now() > deadline => panic!("never busy"),
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    match c.cmd(&["FUNCTION", "STATS"]) {
        Value::Array(v) => {
            let running = show(&v[1]);
            assert!(
                running.contains("\"spin\"") && running.contains("\"FCALL\""),
                "{running}"
            );
        }
        other => panic!("FUNCTION STATS: {}", show(&other)),
    }
    assert!(matches!(c.cmd(&["SCRIPT", "KILL"]), Value::Error(e) if e.starts_with(b"BUSY")));
    assert_eq!(c.cmd(&["FUNCTION", "KILL"]), simple("OK"));
    assert!(matches!(runner.read(), Value::Error(e) if e.starts_with(b"ERR Script killed by user")));
    assert_eq!(
        c.cmd(&["FUNCTION", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn function_flush_resets_a_server_with_flushall() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.cmd(&["FUNCTION", "LOAD", LIB]);
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["FLUSHALL"]), simple("OK"));
    assert_eq!(c.cmd(&["FUNCTION", "FLUSH"]), simple("OK"));
    assert_eq!(c.cmd(&["FUNCTION", "LIST"]), Value::Array(vec![]));
    assert_eq!(c.cmd(&["FCALL", "add", "1", "k", "1"]), err("ERR Function not found"));
}
