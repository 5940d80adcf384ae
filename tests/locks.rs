//! Locks with fencing tokens (the LOCK.* extension, docs/locks.md), black-box: twenty clients taking
//! turns on one lock without ever overlapping; a holder paused past its lease is refused by LOCK.FENCED,
//! while the portable `SET NX PX` pattern lets the same stale write through (on Ferrite and, when
//! installed, on a real `redis-server`: the negative control); and the commands' replies and errors.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{bulk, int, Raw, Server, Value};

/// A fencing token from LOCK.ACQUIRE's reply, or None for its null.
fn token(v: &Value) -> Option<(i64, i64)> {
    match v {
        Value::Array(x) => match x.as_slice() {
            [Value::Int(e), Value::Int(c)] => Some((*e, *c)),
            _ => panic!("not a token: {v:?}"),
        },
        Value::NullArray => None,
        other => panic!("not a token: {other:?}"),
    }
}

fn is_stale(v: &Value) -> bool {
    matches!(v, Value::Error(e) if e.starts_with(b"STALE "))
}

fn fenced(c: &mut Raw, name: &str, t: (i64, i64), cmd: &[&str]) -> Value {
    let (e, n) = (t.0.to_string(), t.1.to_string());
    let mut args = vec!["LOCK.FENCED", name, &e, &n];
    args.extend_from_slice(cmd);
    c.cmd(&args)
}

/// How a contender takes and gives back the lock.
#[derive(Clone, Copy, Debug)]
enum Pattern {
    /// LOCK.ACQUIRE / LOCK.FENCED / LOCK.RELEASE (Ferrite only).
    Fenced,
    /// `SET name token NX PX` and a compare-and-delete script: what Redis users write.
    SetNxPx,
}

const RELEASE_SCRIPT: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Twenty clients, five turns each, on one lock. Inside the lock a client logs its entry and its exit
/// (in the server, and in a counter here); turns must never overlap.
fn contend(port: u16, pattern: Pattern) {
    const CLIENTS: usize = 20;
    const TURNS: usize = 5;
    let inside = Arc::new(AtomicUsize::new(0));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(60);
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (inside, overlaps) = (inside.clone(), overlaps.clone());
            thread::spawn(move || {
                let mut c = Raw::connect(port);
                let me = format!("client-{i}");
                for turn in 0..TURNS {
                    let value = format!("{me}-{turn}");
                    // Take the lock, retrying with a little jitter while another client holds it.
                    let t = loop {
                        assert!(Instant::now() < deadline, "{me} never got the lock");
                        let got = match pattern {
                            Pattern::Fenced => token(&c.cmd(&["LOCK.ACQUIRE", "res", &me, "10000"])),
                            Pattern::SetNxPx => {
                                let r = c.cmd(&["SET", "res", &value, "NX", "PX", "10000"]);
                                (r == Value::Simple("OK".into())).then_some((0, 0))
                            }
                        };
                        if let Some(t) = got {
                            break t;
                        }
                        thread::sleep(Duration::from_micros(200 + (i as u64 * 37) % 500));
                    };
                    if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    let log = |c: &mut Raw, what: &str| {
                        let entry = format!("{what} {me} {}", t.1);
                        let r = match pattern {
                            Pattern::Fenced => fenced(c, "res", t, &["RPUSH", "log", &entry]),
                            Pattern::SetNxPx => c.cmd(&["RPUSH", "log", &entry]),
                        };
                        assert!(matches!(r, Value::Int(_)), "{me}: {r:?}");
                    };
                    log(&mut c, "enter");
                    thread::sleep(Duration::from_millis(1));
                    log(&mut c, "leave");
                    inside.fetch_sub(1, Ordering::SeqCst);
                    let released = match pattern {
                        Pattern::Fenced => c.cmd(&["LOCK.RELEASE", "res", &me]),
                        Pattern::SetNxPx => c.cmd(&["EVAL", RELEASE_SCRIPT, "1", "res", &value]),
                    };
                    assert_eq!(released, int(1), "{me} lost the lock it held");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("contender");
    }
    assert_eq!(overlaps.load(Ordering::SeqCst), 0, "{pattern:?}: two holders at once");
    // The server's log: enter/leave pairs of one client each, and under LOCK.* growing tokens.
    let mut c = Raw::connect(port);
    let Value::Array(log) = c.cmd(&["LRANGE", "log", "0", "-1"]) else {
        panic!("log")
    };
    assert_eq!(log.len(), CLIENTS * TURNS * 2);
    let entries: Vec<Vec<String>> = log
        .iter()
        .map(|v| match v {
            Value::Bulk(b) => String::from_utf8_lossy(b).split(' ').map(String::from).collect(),
            other => panic!("{other:?}"),
        })
        .collect();
    let mut last_counter = 0i64;
    for pair in entries.chunks(2) {
        assert_eq!(pair[0][0], "enter", "{pair:?}");
        assert_eq!(pair[1][0], "leave", "{pair:?}");
        assert_eq!(pair[0][1], pair[1][1], "another client wrote inside {pair:?}");
        if let Pattern::Fenced = pattern {
            let counter: i64 = pair[0][2].parse().expect("counter");
            assert!(
                counter > last_counter,
                "tokens must grow: {counter} after {last_counter}"
            );
            last_counter = counter;
        }
    }
}

#[test]
fn twenty_clients_take_turns_under_lock_acquire() {
    let server = Server::ferrite(&[]);
    contend(server.port, Pattern::Fenced);
}

#[test]
fn twenty_clients_take_turns_under_set_nx_px() {
    let server = Server::ferrite(&[]);
    contend(server.port, Pattern::SetNxPx);
    if common::redis_available("twenty_clients_take_turns_under_set_nx_px (redis-server)") {
        let redis = Server::redis(&[]);
        contend(redis.port, Pattern::SetNxPx);
    }
}

/// The holder's lease is 200 ms; it "pauses" (GC, swap, a stopped VM) for 400 ms.
const LEASE_MS: &str = "200";
const PAUSE: Duration = Duration::from_millis(400);

#[test]
fn a_paused_holder_is_refused_by_lock_fenced() {
    let server = Server::ferrite(&[]);
    let (mut a, mut b) = (server.raw(), server.raw());
    let ta = token(&a.cmd(&["LOCK.ACQUIRE", "res", "a", LEASE_MS])).expect("free");
    assert_eq!(
        fenced(&mut a, "res", ta, &["SET", "balance", "a-1"]),
        common::simple("OK")
    );
    thread::sleep(PAUSE);
    let tb = token(&b.cmd(&["LOCK.ACQUIRE", "res", "b", "10000"])).expect("a's lease is over");
    assert!(tb > ta, "{tb:?} must be larger than {ta:?}");
    assert_eq!(
        fenced(&mut b, "res", tb, &["SET", "balance", "b"]),
        common::simple("OK")
    );
    // a wakes up and carries on with its write: refused, and nothing ran.
    let r = fenced(&mut a, "res", ta, &["SET", "balance", "a-2"]);
    assert_eq!(r, common::err("STALE lock 'res' is held under another fencing token"));
    assert_eq!(a.cmd(&["GET", "balance"]), bulk("b"));
    assert_eq!(
        a.cmd(&["LOCK.RENEW", "res", "a", "10000"]),
        int(0),
        "a no longer holds it"
    );

    // Nobody took the lock after the lease ran out: still refused.
    let tc = token(&a.cmd(&["LOCK.ACQUIRE", "other", "c", LEASE_MS])).expect("free");
    thread::sleep(PAUSE);
    let r = fenced(&mut a, "other", tc, &["SET", "balance", "c"]);
    assert_eq!(r, common::err("STALE lock 'other' is not held"));
    assert!(is_stale(&r));
    assert_eq!(a.cmd(&["GET", "balance"]), bulk("b"));
}

/// The negative control: the same story with `SET NX PX`. Nothing stops the stale holder's write, on
/// Ferrite as on Redis.
#[test]
fn a_paused_holder_writes_through_set_nx_px() {
    let story = |server: &Server| {
        let (mut a, mut b) = (server.raw(), server.raw());
        assert_eq!(
            a.cmd(&["SET", "res", "token-a", "NX", "PX", LEASE_MS]),
            common::simple("OK")
        );
        assert_eq!(a.cmd(&["SET", "balance", "a-1"]), common::simple("OK"));
        thread::sleep(PAUSE);
        assert_eq!(
            b.cmd(&["SET", "res", "token-b", "NX", "PX", "10000"]),
            common::simple("OK")
        );
        assert_eq!(b.cmd(&["SET", "balance", "b"]), common::simple("OK"));
        // a wakes up: its write goes through and overwrites b's.
        assert_eq!(a.cmd(&["SET", "balance", "a-2"]), common::simple("OK"));
        assert_eq!(a.cmd(&["GET", "balance"]), bulk("a-2"), "the stale write won");
        // Only the release is protected: a's compare-and-delete does not free b's lock.
        assert_eq!(a.cmd(&["EVAL", RELEASE_SCRIPT, "1", "res", "token-a"]), int(0));
        assert_eq!(a.cmd(&["GET", "res"]), bulk("token-b"));
    };
    story(&Server::ferrite(&[]));
    if common::redis_available("a_paused_holder_writes_through_set_nx_px (redis-server)") {
        story(&Server::redis(&[]));
    }
}

#[test]
fn lock_commands_reply_and_refuse() {
    let server = Server::ferrite(&[]);
    let mut c = server.raw();
    let t = token(&c.cmd(&["LOCK.ACQUIRE", "res", "me", "5000"])).expect("free");
    assert_eq!(token(&c.cmd(&["LOCK.ACQUIRE", "res", "you", "5000"])), None);
    assert_eq!(
        token(&c.cmd(&["LOCK.ACQUIRE", "res", "me", "5000"])),
        Some(t),
        "a retry"
    );
    let Value::Array(info) = c.cmd(&["LOCK.INFO", "res"]) else {
        panic!("info")
    };
    assert_eq!(info[..3], [bulk("me"), int(t.0), int(t.1)]);
    assert!(matches!(info[3], Value::Int(ms) if ms > 4000 && ms <= 5000), "{info:?}");
    assert_eq!(c.cmd(&["LOCK.INFO", "nosuch"]), Value::NullArray);
    assert_eq!(c.cmd(&["LOCK.RENEW", "res", "you", "5000"]), int(0));
    assert_eq!(c.cmd(&["LOCK.RENEW", "res", "me", "5000"]), int(1));

    // A lock is not a key: the keyspace does not see it and FLUSHALL does not free it.
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "res"]), int(0));
    c.cmd(&["FLUSHALL"]);
    assert_eq!(c.cmd(&["LOCK.RENEW", "res", "me", "5000"]), int(1));

    // LOCK.FENCED runs any command a script may run, with its own reply and errors.
    assert_eq!(fenced(&mut c, "res", t, &["INCR", "n"]), int(1));
    assert_eq!(
        fenced(&mut c, "res", t, &["MGET", "n", "x"]),
        Value::Array(vec![bulk("1"), Value::NullBulk])
    );
    assert_eq!(
        fenced(&mut c, "res", t, &["LPUSH", "n", "x"]),
        common::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        fenced(&mut c, "res", t, &["NOSUCH", "x"]),
        common::err("ERR unknown command 'NOSUCH', with args beginning with: 'x' ")
    );
    assert_eq!(
        fenced(&mut c, "res", t, &["GET"]),
        common::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        fenced(&mut c, "res", t, &["MULTI"]),
        common::err("ERR This command is not allowed in LOCK.FENCED")
    );
    assert_eq!(
        fenced(&mut c, "res", t, &["BLPOP", "empty", "0"]),
        common::err("ERR This command is not allowed in LOCK.FENCED")
    );
    // Inside MULTI and inside a script it is one more command.
    assert_eq!(c.cmd(&["MULTI"]), common::simple("OK"));
    assert_eq!(fenced(&mut c, "res", t, &["INCR", "n"]), common::simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), Value::Array(vec![int(2)]));
    let (e, n) = (t.0.to_string(), t.1.to_string());
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return redis.call('LOCK.FENCED', KEYS[1], ARGV[1], ARGV[2], 'INCR', KEYS[2])",
            "2",
            "res",
            "n",
            &e,
            &n
        ]),
        int(3)
    );

    for (cmd, error) in [
        (
            &["LOCK.ACQUIRE", "res", "me", "0"][..],
            "ERR invalid lease time in 'lock.acquire' command",
        ),
        (
            &["LOCK.ACQUIRE", "res", "me", "x"],
            "ERR invalid lease time in 'lock.acquire' command",
        ),
        (
            &["LOCK.RENEW", "res", "me", "-5"],
            "ERR invalid lease time in 'lock.renew' command",
        ),
        (
            &["LOCK.ACQUIRE", "res", "me"],
            "ERR wrong number of arguments for 'lock.acquire' command",
        ),
        (
            &["LOCK.FENCED", "res", "x", "1", "GET", "a"],
            "ERR invalid fencing token",
        ),
        (
            &["LOCK.FENCED", "res", "-1", "1", "GET", "a"],
            "ERR invalid fencing token",
        ),
        (
            &["LOCK.FENCED", "res", "1", "1"],
            "ERR wrong number of arguments for 'lock.fenced' command",
        ),
    ] {
        assert_eq!(c.cmd(cmd), common::err(error), "{cmd:?}");
    }
    // A fenced request is judged by its command: over maxmemory a fenced write is refused (nothing
    // runs), a fenced read is not.
    c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
    assert_eq!(
        fenced(&mut c, "res", t, &["INCR", "n"]),
        common::err("OOM command not allowed when used memory > 'maxmemory'.")
    );
    assert_eq!(fenced(&mut c, "res", t, &["GET", "n"]), bulk("3"));
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    // So is one from a script: a read-only script cannot write through it.
    let (epoch, counter) = (t.0.to_string(), t.1.to_string());
    assert_eq!(
        c.cmd(&[
            "EVAL_RO",
            "return redis.call('LOCK.FENCED', KEYS[1], ARGV[1], ARGV[2], 'INCR', 'n')",
            "1",
            "res",
            &epoch,
            &counter,
        ]),
        common::err("ERR Write commands are not allowed from read-only scripts. script: ba91506746e63ca43cc8c1008dc0ace1c44c8fdb, on @user_script:1.")
    );
    // Tokens are within what a RESP integer carries.
    for bad in ["9223372036854775808", "18446744073709551615"] {
        assert_eq!(
            c.cmd(&["LOCK.SET", "other", "o", bad, "1", "1000"]),
            common::err("ERR invalid fencing token")
        );
    }
    assert_eq!(
        c.cmd(&[
            "LOCK.SET",
            "other",
            "o",
            "9223372036854775807",
            "9223372036854775807",
            "1000"
        ]),
        common::simple("OK")
    );
    assert_eq!(
        c.cmd(&["LOCK.ACQUIRE", "another", "o", "1000"]),
        common::err("ERR no fencing token is left to issue")
    );
    assert_eq!(c.cmd(&["LOCK.DEL", "other"]), int(1));
    assert_eq!(c.cmd(&["LOCK.RELEASE", "res", "you"]), int(0));
    assert_eq!(c.cmd(&["LOCK.RELEASE", "res", "me"]), int(1));
    assert!(is_stale(&fenced(&mut c, "res", t, &["INCR", "n"])));
    assert_eq!(c.cmd(&["GET", "n"]), bulk("3"));
}
