//! MULTI, EXEC, DISCARD, WATCH and UNWATCH, black-box and against a real `redis-server`: hand-written
//! cases for queuing, refusals and runtime errors; two-client WATCH scenarios (every change Redis counts,
//! expiry's rules included); then many clients racing to increment one counter through WATCH retries.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::cases::Duo;
use common::diff::{same, show, Cmp};
use common::{bulk, err, int, simple, Raw, Server, Value};

const CASES: &[(&str, &str)] = &[
    (
        "queuing and replies",
        r#"
        = MULTI
        = SET a 1
        = INCR a
        = LPUSH a x
        = GET a
        = EXEC
        = EXEC
        = DISCARD
        = MULTI
        = MULTI
        = PING
        = EXEC
        "#,
    ),
    (
        "a refused command aborts the transaction",
        r#"
        = MULTI
        = NOSUCH x
        = SET a 1
        = EXEC
        = EXISTS a
        = MULTI
        = SET a
        = EXEC
        = MULTI
        = SHUTDOWN
        = EXEC
        = MULTI
        = CONFIG NOSUCH
        = EXEC
        = MULTI
        = GET a
        = DISCARD
        = EXEC
        = MULTI
        = EXEC x
        = EXEC
        "#,
    ),
    (
        "commands that run at once inside MULTI",
        r#"
        = SET w 1
        = MULTI
        = WATCH w
        = UNWATCH
        = SET a 1
        = EXEC
        = MULTI
        = RESET
        = EXEC
        = GET a
        "#,
    ),
    (
        "blocking commands answer at once",
        r#"
        = MULTI
        = BLPOP nolist 0
        = BRPOP nolist 1
        = BLMOVE nolist other LEFT RIGHT 0
        = BRPOPLPUSH nolist other 0
        = BZPOPMIN nozset 0
        = BLMPOP 0 1 nolist LEFT
        = RPUSH l a
        = BLPOP l 0
        = EXEC
        "#,
    ),
    (
        "databases inside a transaction",
        r#"
        = MULTI
        = SELECT 3
        = SET k three
        = SELECT 4
        = SET k four
        = EXEC
        = GET k
        = SELECT 3
        = GET k
        = SELECT 0
        = MULTI
        = SELECT 99
        = EXEC
        "#,
    ),
    (
        "RESP3 replies",
        r#"
        ? HELLO 3
        = MULTI
        = SET a 1
        = GET nokey
        = HSET h f v
        = HGETALL h
        = ZADD z 1.5 m
        = ZSCORE z m
        = EXEC
        = WATCH a
        = SET a 2
        = MULTI
        = EXEC
        "#,
    ),
    (
        "EXEC of a failed WATCH, with nothing queued",
        r#"
        = WATCH k
        = SET k 1
        = MULTI
        = EXEC
        = MULTI
        = EXEC
        "#,
    ),
];

#[test]
fn transactions_answer_as_redis() {
    let Some(mut d) = Duo::for_test("transactions_answer_as_redis", &[]) else {
        return;
    };
    d.run_cases(CASES);
    d.finish("transactions_answer_as_redis");
}

/// A two-client scenario: `setup` and `change` run on the other connection (`b`) of each server, between
/// `a`'s WATCH k and its MULTI/PING/EXEC; EXEC's reply (null when the watch saw a change) is compared.
struct Scenario {
    name: &'static str,
    setup: &'static [&'static [&'static str]],
    /// Milliseconds to wait after the setup (for deadlines to pass).
    pause_ms: u64,
    change: &'static [&'static [&'static str]],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "another client's SET",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["SET", "k", "2"]],
    },
    Scenario {
        name: "a SET of the same value",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["SET", "k", "1"]],
    },
    Scenario {
        name: "a read",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["GET", "k"], &["EXISTS", "k"], &["TTL", "k"]],
    },
    Scenario {
        name: "a key created and deleted again",
        setup: &[],
        pause_ms: 0,
        change: &[&["SET", "k", "1"], &["DEL", "k"]],
    },
    Scenario {
        name: "EXPIRE, then PERSIST of a key without TTL",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["EXPIRE", "k", "100"]],
    },
    Scenario {
        name: "PERSIST that changes nothing",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["PERSIST", "k"]],
    },
    Scenario {
        name: "a key that expires while watched, unread",
        setup: &[&["SET", "k", "1", "PX", "30"]],
        pause_ms: 0,
        change: &[&["DEBUG", "SLEEP", "0.1"]],
    },
    Scenario {
        name: "a key that expires while watched, then read",
        setup: &[&["SET", "k", "1", "PX", "30"]],
        pause_ms: 0,
        change: &[&["DEBUG", "SLEEP", "0.1"], &["GET", "k"]],
    },
    Scenario {
        name: "a key already expired when watched, then read",
        setup: &[&["SET", "k", "1", "PX", "10"]],
        pause_ms: 60,
        change: &[&["GET", "k"]],
    },
    Scenario {
        name: "a key already expired when watched, then set",
        setup: &[&["SET", "k", "1", "PX", "10"]],
        pause_ms: 60,
        change: &[&["SET", "k", "2"]],
    },
    Scenario {
        name: "FLUSHALL of an absent key",
        setup: &[&["SET", "other", "1"]],
        pause_ms: 0,
        change: &[&["FLUSHALL"]],
    },
    Scenario {
        name: "FLUSHALL of a present key",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["FLUSHALL"]],
    },
    Scenario {
        name: "FLUSHDB of another database",
        setup: &[
            &["SELECT", "1"],
            &["SET", "k", "1"],
            &["SELECT", "0"],
            &["SET", "k", "0"],
        ],
        pause_ms: 0,
        change: &[&["SELECT", "1"], &["FLUSHDB"], &["SELECT", "0"]],
    },
    Scenario {
        name: "SWAPDB bringing the key in",
        setup: &[&["SELECT", "1"], &["SET", "k", "1"], &["SELECT", "0"]],
        pause_ms: 0,
        change: &[&["SWAPDB", "0", "1"]],
    },
    Scenario {
        name: "SWAPDB of a database with itself",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["SWAPDB", "0", "0"]],
    },
    Scenario {
        name: "LTRIM that keeps every element",
        setup: &[&["RPUSH", "k", "a", "b"]],
        pause_ms: 0,
        change: &[&["LTRIM", "k", "0", "-1"]],
    },
    Scenario {
        name: "SWAPDB of two databases without the key",
        setup: &[&["SET", "other", "1"]],
        pause_ms: 0,
        change: &[&["SWAPDB", "0", "1"]],
    },
    Scenario {
        name: "RENAME away",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["RENAME", "k", "k2"]],
    },
    Scenario {
        name: "RENAME onto",
        setup: &[&["SET", "x", "1"]],
        pause_ms: 0,
        change: &[&["RENAME", "x", "k"]],
    },
    Scenario {
        name: "MOVE",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["MOVE", "k", "1"]],
    },
    Scenario {
        name: "COPY onto",
        setup: &[&["SET", "x", "1"]],
        pause_ms: 0,
        change: &[&["COPY", "x", "k"]],
    },
    Scenario {
        name: "SADD of a member already there",
        setup: &[&["SADD", "k", "m"]],
        pause_ms: 0,
        change: &[&["SADD", "k", "m"], &["SREM", "k", "nomember"]],
    },
    Scenario {
        name: "LPOP of the last element",
        setup: &[&["RPUSH", "k", "a"]],
        pause_ms: 0,
        change: &[&["LPOP", "k"]],
    },
    Scenario {
        name: "LMOVE out of the key",
        setup: &[&["RPUSH", "k", "a", "b"]],
        pause_ms: 0,
        change: &[&["LMOVE", "k", "other", "LEFT", "RIGHT"]],
    },
    Scenario {
        name: "SMOVE into the key",
        setup: &[&["SADD", "src", "a"], &["SADD", "k", "b"]],
        pause_ms: 0,
        change: &[&["SMOVE", "src", "k", "a"]],
    },
    Scenario {
        name: "APPEND of nothing, INCRBY 0",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["APPEND", "k", ""]],
    },
    Scenario {
        name: "INCRBY 0",
        setup: &[&["SET", "k", "1"]],
        pause_ms: 0,
        change: &[&["INCRBY", "k", "0"]],
    },
    Scenario {
        name: "SETRANGE of nothing",
        setup: &[&["SET", "k", "abc"]],
        pause_ms: 0,
        change: &[&["SETRANGE", "k", "0", ""]],
    },
    Scenario {
        name: "HSET, HDEL of a missing field",
        setup: &[&["HSET", "k", "f", "v"]],
        pause_ms: 0,
        change: &[&["HDEL", "k", "nofield"]],
    },
    Scenario {
        name: "ZADD updating a score",
        setup: &[&["ZADD", "k", "1", "m"]],
        pause_ms: 0,
        change: &[&["ZADD", "k", "2", "m"]],
    },
    Scenario {
        name: "ZADD of the same score",
        setup: &[&["ZADD", "k", "1", "m"]],
        pause_ms: 0,
        change: &[&["ZADD", "k", "1", "m"]],
    },
    Scenario {
        name: "SORT ... STORE onto",
        setup: &[&["RPUSH", "src", "2", "1"]],
        pause_ms: 0,
        change: &[&["SORT", "src", "STORE", "k"]],
    },
    Scenario {
        name: "PFADD that changes nothing",
        setup: &[&["PFADD", "k", "a"]],
        pause_ms: 0,
        change: &[&["PFADD", "k", "a"]],
    },
    Scenario {
        name: "the watching client's own write",
        setup: &[],
        pause_ms: 0,
        change: &[],
    },
];

/// Run one scenario on one server; returns EXEC's reply.
fn run_scenario(a: &mut Raw, b: &mut Raw, s: &Scenario) -> Value {
    a.cmd(&["FLUSHALL"]);
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    b.cmd(&["SELECT", "0"]);
    for c in s.setup {
        b.cmd(c);
    }
    if s.pause_ms > 0 {
        std::thread::sleep(Duration::from_millis(s.pause_ms));
    }
    assert_eq!(a.cmd(&["WATCH", "k"]), simple("OK"));
    for c in s.change {
        b.cmd(c);
    }
    if s.change.is_empty() {
        a.cmd(&["SET", "k", "mine"]);
    }
    assert_eq!(a.cmd(&["MULTI"]), simple("OK"));
    assert_eq!(a.cmd(&["PING"]), simple("QUEUED"));
    let r = a.cmd(&["EXEC"]);
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    r
}

#[test]
fn watch_sees_every_change_redis_counts() {
    let Some(mut d) = Duo::for_test("watch_sees_every_change_redis_counts", &[]) else {
        return;
    };
    let (mut ours_b, mut theirs_b) = d.connect_more();
    let mut failures = vec![];
    for s in SCENARIOS {
        let ours = run_scenario(&mut d.ours, &mut ours_b, s);
        let theirs = run_scenario(&mut d.theirs, &mut theirs_b, s);
        if !same(&ours, &theirs, Cmp::Exact) {
            failures.push(format!("{}: ferrite {} redis {}", s.name, show(&ours), show(&theirs)));
        }
    }
    assert!(failures.is_empty(), "WATCH differs:\n{}", failures.join("\n"));
}

#[test]
fn client_list_shows_the_transaction() {
    let f = Server::ferrite(&[]);
    let mut a = f.raw();
    let mut b = f.raw();
    let Value::Int(id) = a.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    let line = |b: &mut Raw| match b.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]) {
        Value::Bulk(l) => String::from_utf8(l).expect("utf8"),
        other => panic!("CLIENT LIST: {}", show(&other)),
    };
    assert!(line(&mut b).contains(" flags=N "), "{}", line(&mut b));
    assert!(line(&mut b).contains(" multi=-1 "));
    a.cmd(&["WATCH", "k"]);
    b.cmd(&["SET", "k", "1"]);
    assert!(line(&mut b).contains(" flags=d "), "{}", line(&mut b));
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "x", &"y".repeat(100)]);
    a.cmd(&["SET", "x", "y"]);
    let l = line(&mut b);
    // Two queued commands: (3 + 1 + 100) + (3 + 1 + 1) argument bytes and 8 bytes per argument.
    assert!(
        l.contains(" flags=xd ") && l.contains(" multi=2 ") && l.contains(" multi-mem=157 "),
        "{l}"
    );
    assert!(l.contains(" cmd=set "), "the queued command is the last one sent: {l}");
    assert_eq!(a.cmd(&["EXEC"]), Value::NullArray);
    let l = line(&mut b);
    assert!(
        l.contains(" flags=N ") && l.contains(" multi=-1 ") && l.contains(" cmd=exec "),
        "{l}"
    );
}

#[test]
fn a_transaction_is_one_unit_for_the_other_clients() {
    let f = Server::ferrite(&[]);
    let mut a = f.raw();
    let mut b = f.raw();
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "k", "1"]);
    // Queued, not run: another client does not see it yet.
    assert_eq!(b.cmd(&["GET", "k"]), Value::NullBulk);
    a.cmd(&["INCR", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), Value::Array(vec![simple("OK"), int(2)]));
    assert_eq!(b.cmd(&["GET", "k"]), bulk("2"));
    // A disconnect forgets the transaction and the watches.
    a.cmd(&["WATCH", "w"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "lost", "1"]);
    drop(a);
    b.cmd(&["SET", "w", "1"]);
    assert_eq!(b.cmd(&["EXISTS", "lost"]), int(0));
    assert_eq!(b.cmd(&["EXEC"]), err("ERR EXEC without MULTI"));
}

/// The textbook optimistic-locking loop: WATCH, read, MULTI, write, EXEC, retry when EXEC is null.
fn increment_with_watch(port: u16, times: u64, retries: &AtomicU64) {
    let mut c = Raw::connect(port);
    for _ in 0..times {
        loop {
            c.cmd(&["WATCH", "counter"]);
            let n = match c.cmd(&["GET", "counter"]) {
                Value::Bulk(b) => String::from_utf8(b).expect("utf8").parse::<u64>().expect("number"),
                Value::NullBulk => 0,
                other => panic!("GET: {}", show(&other)),
            };
            c.cmd(&["MULTI"]);
            c.cmd(&["SET", "counter", &(n + 1).to_string()]);
            match c.cmd(&["EXEC"]) {
                Value::Array(_) => break,
                Value::NullArray => {
                    retries.fetch_add(1, Ordering::Relaxed);
                }
                other => panic!("EXEC: {}", show(&other)),
            }
        }
    }
}

#[test]
fn fifty_clients_increment_one_counter_through_watch() {
    let f = Server::ferrite(&[]);
    let retries = Arc::new(AtomicU64::new(0));
    let (clients, each) = (50, 40);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (port, retries) = (f.port, retries.clone());
            std::thread::spawn(move || increment_with_watch(port, each, &retries))
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut c = f.raw();
    assert_eq!(c.cmd(&["GET", "counter"]), bulk(&(clients * each).to_string()));
    // Not a timing claim: with 50 clients racing, some EXECs must have seen a change (else WATCH
    // would not be doing anything and the test would not show it works).
    assert!(retries.load(Ordering::Relaxed) > 0, "no transaction ever had to retry");
}
