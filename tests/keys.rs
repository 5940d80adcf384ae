//! Keys and databases against the real binary: a few direct checks, then differential tests that send
//! the same commands to Ferrite and to a real `redis-server` and compare the replies (hand-written cases
//! for every command, option and error, and seeded random streams).

mod common;

use std::collections::BTreeSet;

use common::cases::{items, Duo};
use common::diff::Cmp;
use common::{err, int, simple, Rng, Server, Value};

/// Both servers for `test`, stopping at the first difference with the commands that led to it.
fn duo(test: &str, extra: &[&str]) -> Option<Duo> {
    let mut d = Duo::for_test(test, extra)?;
    d.fail_fast();
    Some(d)
}

// ---------------------------------------------------------------------------------------------------
// Direct checks (no oracle needed).

#[test]
fn keyspace_commands_answer_over_the_wire() {
    let s = Server::ferrite(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["SET", "a", "1"]), simple("OK"));
    assert_eq!(c.cmd(&["SET", "b", "2"]), simple("OK"));
    assert_eq!(c.cmd(&["EXISTS", "a", "b", "a", "z"]), int(3));
    assert_eq!(c.cmd(&["TYPE", "a"]), simple("string"));
    assert_eq!(c.cmd(&["RENAME", "a", "c"]), simple("OK"));
    assert_eq!(c.cmd(&["COPY", "c", "d", "DB", "1"]), int(1));
    assert_eq!(c.cmd(&["MOVE", "b", "1"]), int(1));
    assert_eq!(c.cmd(&["DBSIZE"]), int(1));
    assert_eq!(c.cmd(&["SELECT", "1"]), simple("OK"));
    let keys: BTreeSet<Vec<u8>> = items(&c.cmd(&["KEYS", "*"])).into_iter().collect();
    assert_eq!(keys, [b"b".to_vec(), b"d".to_vec()].into_iter().collect());
    assert_eq!(c.cmd(&["DEL", "b", "d", "b"]), int(2));
    assert_eq!(c.cmd(&["RANDOMKEY"]), Value::NullBulk);
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), simple("OK"));
    assert_eq!(c.cmd(&["SELECT", "0"]), simple("OK"));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["RENAME", "a", "b"]), err("ERR no such key"));
}

#[test]
fn swapdb_is_seen_by_other_connections() {
    let s = Server::ferrite(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    assert_eq!(a.cmd(&["SET", "in0", "v"]), simple("OK"));
    assert_eq!(b.cmd(&["SELECT", "1"]), simple("OK"));
    assert_eq!(b.cmd(&["EXISTS", "in0"]), int(0));
    assert_eq!(a.cmd(&["SWAPDB", "0", "1"]), simple("OK"));
    assert_eq!(
        b.cmd(&["EXISTS", "in0"]),
        int(1),
        "the other client now sees db 0's keys"
    );
    assert_eq!(a.cmd(&["DBSIZE"]), int(0));
}

#[test]
fn a_big_flush_async_leaves_the_server_answering() {
    let s = Server::ferrite(&[]);
    let mut c = s.raw();
    let mut batch = Vec::new();
    for i in 0..50_000 {
        batch.extend_from_slice(&common::Raw::encode(&["SET", &format!("key:{i}"), "value"]));
    }
    c.send_raw(&batch);
    for _ in 0..50_000 {
        assert_eq!(c.read(), simple("OK"));
    }
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), simple("OK"));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

// ---------------------------------------------------------------------------------------------------
// Hand-written differential cases.

#[test]
fn delete_and_inspect_match_redis() {
    let Some(mut duo) = duo("delete_and_inspect_match_redis", &[]) else {
        return;
    };
    duo.run_script(
        "script",
        r#"
        SET a 1
        SET b hello
        SET "" empty
        SET big xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
        EXISTS a a b nokey ""
        EXISTS nokey
        TOUCH a "" "" nokey
        TYPE a
        TYPE ""
        TYPE nokey
        DEL a a nokey
        DEL nokey
        UNLINK b big b
        UNLINK nokey
        EXISTS a b big
        DBSIZE
        DEL ""
        DBSIZE
        "#,
    );
}

#[test]
fn rename_copy_move_match_redis() {
    let Some(mut duo) = duo("rename_copy_move_match_redis", &[]) else {
        return;
    };
    duo.run_script(
        "script",
        r#"
        SET a 1
        SET b two
        PEXPIREAT b 99999999999999
        RENAME nokey x
        RENAME nokey nokey
        RENAMENX nokey x
        RENAME a a
        RENAMENX a a
        RENAMENX a b
        RENAMENX a c
        GET c
        RENAME c b
        GET b
        PTTL b
        RENAME b ""
        GET ""
        RENAME "" b
        SET n 5
        PEXPIREAT n 99999999999999
        RENAME n m
        PEXPIRETIME m
        OBJECT ENCODING m
        OBJECT REFCOUNT m
        COPY m m
        COPY m m DB 0
        COPY m m2 DB 16
        COPY m m2 DB -1
        COPY m m2 DB 4294967296
        COPY m m2 DB x
        COPY m m2 DB
        COPY m m2 foo
        COPY m m2 REPLACE REPLACE x
        COPY nokey m2
        COPY m m2
        COPY m m2
        PEXPIRETIME m2
        SET m 6
        COPY m m2 replace
        GET m2
        PTTL m2
        OBJECT REFCOUNT m
        OBJECT REFCOUNT m2
        RENAME m2 m3
        OBJECT REFCOUNT m3
        MOVE m3 3
        SELECT 3
        OBJECT REFCOUNT m3
        RENAME m3 m2
        COPY m2 m3
        OBJECT REFCOUNT m3
        SELECT 0
        COPY m m2 db 1 replace
        COPY m m2 DB 1
        COPY b b DB 2
        SELECT 2
        GET b
        PEXPIRETIME b
        OBJECT ENCODING b
        SELECT 0
        MOVE m 0
        MOVE m 16
        MOVE m -1
        MOVE m x
        MOVE m 99999999999
        MOVE nokey 1
        MOVE m 1
        MOVE m 1
        SET m again
        MOVE m 1
        GET m
        SELECT 1
        GET m
        ~ KEYS *
        SELECT 0
        ~ KEYS *
        "#,
    );
}

#[test]
fn databases_match_redis() {
    let Some(mut duo) = duo("databases_match_redis", &[]) else {
        return;
    };
    duo.run_script(
        "script",
        r#"
        SET a 1
        SELECT 3
        SET b 2
        SET c 3
        DBSIZE
        SWAPDB 0 3
        DBSIZE
        ~ KEYS *
        SWAPDB 0 0
        SWAPDB 0 x
        SWAPDB x 0
        SWAPDB 0 16
        SWAPDB -1 0
        SWAPDB 0 99999999999
        SWAPDB 0 3
        SELECT 0
        ~ KEYS *
        SELECT 16
        SELECT -1
        SELECT 4294967296
        SELECT x
        SELECT ""
        FLUSHDB foo
        FLUSHDB async sync
        FLUSHALL x
        FLUSHDB
        DBSIZE
        SELECT 3
        DBSIZE
        FLUSHDB ASYNC
        DBSIZE
        SET x 1
        SELECT 5
        SET y 1
        FLUSHALL sync
        DBSIZE
        SELECT 3
        DBSIZE
        SET x 1
        flushall async
        DBSIZE
        FLUSHALL
        FLUSHDB SYNC
        "#,
    );
}

#[test]
fn keys_scan_randomkey_match_redis() {
    let Some(mut duo) = duo("keys_scan_randomkey_match_redis", &[]) else {
        return;
    };
    duo.run_script("empty", "? RANDOMKEY\n~ KEYS *\n@scan\nSCAN 0\nSCAN 0 TYPE string");
    for i in 0..60 {
        duo.exact(&["SET", &format!("key:{i}"), "v"]);
    }
    for k in ["", "other", "a?b", "a*b", "[x]", "\\"] {
        duo.exact(&["SET", k, "v"]);
    }
    duo.run_script(
        "script",
        r#"
        ? RANDOMKEY
        ~ KEYS *
        ~ KEYS **
        ~ KEYS ?
        ~ KEYS key:1*
        ~ KEYS key:[1-3]
        ~ KEYS key:[^1-3]?
        ~ KEYS *[?]*
        ~ KEYS a\*b
        ~ KEYS \[x]
        ~ KEYS \\
        ~ KEYS ""
        ~ KEYS nomatch
        @scan
        @scan MATCH *
        @scan MATCH **
        @scan MATCH key:1*
        @scan MATCH key:1* COUNT 1
        @scan COUNT 1000
        @scan COUNT 3 MATCH *o*
        @scan TYPE string
        @scan TYPE STRING MATCH key:2?
        @scan TYPE hash
        @scan TYPE none
        @scan TYPE nosuchtype
        @scan MATCH key:1* MATCH key:2*
        SCAN x
        SCAN 1x
        SCAN +
        SCAN 18446744073709551616
        SCAN 0 COUNT 0
        SCAN 0 COUNT -1
        SCAN 0 COUNT x
        SCAN 0 COUNT
        SCAN 0 MATCH
        SCAN 0 TYPE
        SCAN 0 foo bar
        SCAN 0 MATCH * COUNT
        "#,
    );
    // Cursors past the end and oddly written ones: Redis answers some cursor and keys; compare shapes.
    for cursor in ["-1", "", "+0", "99999", "18446744073709551615"] {
        let (f, r) = duo.both(&["SCAN", cursor]).expect("SCAN");
        for v in [&f, &r] {
            let Value::Array(parts) = v else {
                panic!("SCAN {cursor:?}: {v:?}")
            };
            assert_eq!(parts.len(), 2, "SCAN {cursor:?}: {v:?}");
            assert!(matches!(parts[0], Value::Bulk(_)) && matches!(parts[1], Value::Array(_)));
        }
    }
    // RANDOMKEY returns a key that exists.
    for _ in 0..20 {
        let (f, _) = duo.both(&["RANDOMKEY"]).expect("RANDOMKEY");
        let Value::Bulk(k) = f else { panic!("RANDOMKEY {f:?}") };
        assert_eq!(duo.ours.cmd(&[b"EXISTS".to_vec(), k]), int(1));
    }
}

#[test]
fn object_matches_redis() {
    let Some(mut duo) = duo("object_matches_redis", &[]) else {
        return;
    };
    duo.run_script(
        "script",
        r#"
        SET int 12
        SET zero 0
        SET top 9999
        SET big 10000
        SET neg -1
        SET long 12345678901234567890
        SET toolong 123456789012345678901
        SET emb hello
        SET edge 12345678901234567890123456789012345678901234
        SET raw 123456789012345678901234567890123456789012345
        OBJECT ENCODING int
        OBJECT ENCODING zero
        OBJECT ENCODING long
        OBJECT ENCODING toolong
        OBJECT ENCODING emb
        OBJECT ENCODING edge
        OBJECT ENCODING raw
        OBJECT ENCODING nokey
        OBJECT REFCOUNT int
        OBJECT REFCOUNT zero
        OBJECT REFCOUNT top
        OBJECT REFCOUNT big
        OBJECT REFCOUNT neg
        OBJECT REFCOUNT emb
        OBJECT REFCOUNT raw
        OBJECT REFCOUNT nokey
        ±2 OBJECT IDLETIME emb
        OBJECT IDLETIME nokey
        OBJECT FREQ emb
        OBJECT FREQ nokey
        OBJECT
        OBJECT ENCODING
        OBJECT ENCODING a b
        OBJECT HELP x
        OBJECT nope
        OBJECT nope k
        object encoding emb
        "#,
    );
    // HELP: our explanations are our own words; the header and the subcommand lines are Redis's.
    let (f, r) = duo.both(&["OBJECT", "HELP"]).expect("OBJECT HELP");
    let syntax_lines = |v: &Value| -> Vec<Value> {
        let Value::Array(lines) = v else { panic!("HELP {v:?}") };
        assert!(lines.iter().all(|l| matches!(l, Value::Simple(_))), "{v:?}");
        lines
            .iter()
            .filter(|l| !matches!(l, Value::Simple(s) if s.starts_with(b" ")))
            .cloned()
            .collect()
    };
    assert_eq!(syntax_lines(&f), syntax_lines(&r));
}

#[test]
fn object_freq_under_lfu_matches_redis() {
    let extra = ["--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0"];
    let Some(mut duo) = duo("object_freq_under_lfu_matches_redis", &extra) else {
        return;
    };
    duo.run_script(
        "script",
        r#"
        SET f hello
        OBJECT FREQ f
        GET f
        GET f
        OBJECT FREQ f
        TYPE f
        EXISTS f
        TTL f
        OBJECT ENCODING f
        OBJECT FREQ f
        TOUCH f
        OBJECT FREQ f
        RENAME f g
        OBJECT FREQ g
        COPY g c
        OBJECT FREQ c
        OBJECT FREQ g
        MOVE g 1
        SELECT 1
        OBJECT FREQ g
        OBJECT IDLETIME g
        OBJECT IDLETIME nokey
        OBJECT FREQ nokey
        "#,
    );
}

#[test]
fn arity_errors_match_redis() {
    let Some(mut duo) = duo("arity_errors_match_redis", &[]) else {
        return;
    };
    duo.run_script(
        "script",
        r#"
        DEL
        UNLINK
        EXISTS
        TOUCH
        TYPE
        TYPE a b
        RENAME a
        RENAME a b c
        RENAMENX a
        COPY a
        MOVE a
        MOVE a 1 2
        KEYS
        KEYS a b
        SCAN
        RANDOMKEY x
        EXPIRE a
        PEXPIRE a
        EXPIREAT a
        PEXPIREAT a
        TTL
        PTTL a b
        EXPIRETIME
        PEXPIRETIME a b
        PERSIST
        SWAPDB 0
        DBSIZE x
        SELECT
        "#,
    );
}

// ---------------------------------------------------------------------------------------------------
// Random streams.

/// Time arguments are chosen so that no comparison between two deadlines can go either way on two
/// servers that run the same command a few milliseconds apart: relative milliseconds grow by 7.9 s per
/// step, relative seconds start above all of those, absolute deadlines lie beyond both, and a deadline in
/// the past is far in the past.
struct Times {
    step: i64,
    base_ms: i64,
}

impl Times {
    fn rel_ms(&self) -> i64 {
        1_000_000 + 7919 * self.step
    }
    fn rel_s(&self) -> i64 {
        100_000 + 13 * self.step
    }
    fn abs_ms(&self) -> i64 {
        self.base_ms + 1_000_000_000 + 1009 * self.step
    }
}

const KEYS: &[&str] = &["k0", "k1", "k2", "k3", "k4", "k5", "k6", ""];
const VALUES: &[&str] = &[
    "0",
    "1",
    "42",
    "9999",
    "10000",
    "-3",
    "hello",
    "12345678901234567890123",
    "a value that is longer than forty-four bytes, so raw",
];
const PATTERNS: &[&str] = &["*", "k*", "k[0-3]", "?", "*1*", "", "[^k]*", "**", "k\\*"];

fn random_command(rng: &mut Rng, t: &Times) -> (Vec<String>, Cmp) {
    let key = |rng: &mut Rng| rng.pick(KEYS).to_string();
    let keys = |rng: &mut Rng| -> Vec<String> { (0..1 + rng.below(3)).map(|_| rng.pick(KEYS).to_string()).collect() };
    let flag = |rng: &mut Rng| -> Vec<String> {
        match rng.below(8) {
            0 => vec!["NX".into()],
            1 => vec!["XX".into()],
            2 => vec!["GT".into()],
            3 => vec!["lt".into()],
            4 => vec!["XX".into(), "GT".into()],
            5 => vec![["NX", "GT"][rng.below(2)].into(), "LT".into()],
            _ => vec![],
        }
    };
    let db = |rng: &mut Rng| -> String {
        if rng.below(20) == 0 {
            ["16", "-1", "x"][rng.below(3)].into()
        } else {
            rng.below(3).to_string()
        }
    };
    let s = |v: &[&str]| -> Vec<String> { v.iter().map(|x| x.to_string()).collect() };
    let cmd: Vec<String>;
    let mut how = Cmp::Exact;
    match rng.below(40) {
        0..=5 => cmd = vec!["SET".into(), key(rng), rng.pick(VALUES).into()],
        6..=7 => cmd = vec!["GET".into(), key(rng)],
        8..=9 => {
            let mut c = vec!["DEL".into()];
            c.extend(keys(rng));
            cmd = c;
        }
        10 => {
            let mut c = vec!["UNLINK".into()];
            c.extend(keys(rng));
            cmd = c;
        }
        11 => {
            let mut c = vec![["EXISTS", "TOUCH"][rng.below(2)].into()];
            c.extend(keys(rng));
            cmd = c;
        }
        12 => cmd = vec!["TYPE".into(), key(rng)],
        13 => cmd = vec![["RENAME", "RENAMENX"][rng.below(2)].into(), key(rng), key(rng)],
        14 => {
            let mut c = vec!["COPY".into(), key(rng), key(rng)];
            if rng.below(2) == 0 {
                c.extend(["DB".into(), db(rng)]);
            }
            if rng.below(2) == 0 {
                c.push("REPLACE".into());
            }
            cmd = c;
        }
        15 => cmd = vec!["MOVE".into(), key(rng), db(rng)],
        16 => {
            cmd = vec!["KEYS".into(), rng.pick(PATTERNS).into()];
            how = Cmp::Unordered;
        }
        17 => {
            cmd = s(&["RANDOMKEY"]);
            how = Cmp::Shape;
        }
        18..=20 => {
            let (name, time) = match rng.below(5) {
                0 => ("EXPIRE", t.rel_s()),
                1 => ("PEXPIRE", t.rel_ms()),
                2 => ("EXPIREAT", t.abs_ms() / 1000),
                3 => ("PEXPIREAT", t.abs_ms()),
                // In the past: deletes the key.
                _ => (
                    ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"][rng.below(4)],
                    -(rng.below(3) as i64),
                ),
            };
            let mut c = vec![name.into(), key(rng), time.to_string()];
            c.extend(flag(rng));
            cmd = c;
        }
        21..=22 => {
            cmd = vec![
                ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"][rng.below(4)].into(),
                key(rng),
            ];
            how = Cmp::Near(if cmd[0].starts_with('P') { 5000 } else { 5 });
        }
        23 => cmd = vec!["PERSIST".into(), key(rng)],
        24 => cmd = vec!["OBJECT".into(), "ENCODING".into(), key(rng)],
        25 => {
            cmd = vec!["OBJECT".into(), "IDLETIME".into(), key(rng)];
            how = Cmp::Near(3);
        }
        26 => cmd = vec!["SELECT".into(), rng.below(3).to_string()],
        27 => cmd = vec!["SWAPDB".into(), rng.below(3).to_string(), db(rng)],
        28 => cmd = s(&["DBSIZE"]),
        // Flushes are rare: they would keep the keyspace too empty to be interesting.
        29 => {
            cmd = match rng.below(8) {
                0 => vec!["FLUSHALL".into(), ["ASYNC", "SYNC"][rng.below(2)].into()],
                1 => s(&["FLUSHDB"]),
                _ => s(&["DBSIZE"]),
            }
        }
        30 => {
            // Malformed arguments.
            cmd = match rng.below(6) {
                0 => vec!["EXPIRE".into(), key(rng), "abc".into()],
                1 => vec!["PEXPIRE".into(), key(rng), "10".into(), "FOO".into()],
                2 => vec!["EXPIRE".into(), key(rng), "9223372036854775807".into()],
                3 => vec!["SCAN".into(), "nope".into()],
                4 => vec!["COPY".into(), key(rng), key(rng), "DB".into()],
                _ => vec!["OBJECT".into(), "FREQ".into(), key(rng)],
            }
        }
        // The remaining weight goes to the TTL'd write and to SCAN, which the caller handles.
        31..=34 => cmd = s(&["PSETEX"]),
        _ => cmd = s(&["SCAN*"]),
    }
    (cmd, how)
}

fn random_stream(seed: u64, steps: usize) {
    let label = format!("random_streams_match_redis seed {seed:#x}");
    let Some(mut duo) = duo(&label, &[]) else { return };
    let mut rng = Rng::new(seed);
    let base_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    for step in 0..steps {
        let t = Times {
            step: step as i64,
            base_ms,
        };
        let (cmd, how) = random_command(&mut rng, &t);
        match cmd[0].as_str() {
            "PSETEX" => {
                let (k, v) = (rng.pick(KEYS), rng.pick(VALUES));
                duo.check("", &["PSETEX", k, &t.rel_ms().to_string(), v], Cmp::Exact);
            }
            "SCAN*" => {
                let mut opts: Vec<String> = vec![];
                if rng.below(2) == 0 {
                    opts.extend(["MATCH".into(), rng.pick(PATTERNS).into()]);
                }
                if rng.below(3) == 0 {
                    opts.extend(["COUNT".into(), (1 + rng.below(20)).to_string()]);
                }
                if rng.below(4) == 0 {
                    opts.extend(["TYPE".into(), ["string", "none", "hash"][rng.below(3)].into()]);
                }
                duo.check_full_scan("", &opts);
            }
            _ => {
                let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let r = duo.check("", &args, how);
                assert!(
                    !(matches!(r, Some((_, Value::Error(_)))) && args[0] == "SET"),
                    "{label}: setup command failed: {args:?} {r:?}"
                );
            }
        }
    }
    // The end state agrees in every database used.
    for db in 0..3 {
        duo.exact(&["SELECT", &db.to_string()]);
        duo.exact(&["DBSIZE"]);
        duo.check("the end state", &["KEYS", "*"], Cmp::Unordered);
    }
}

#[test]
fn random_streams_match_redis() {
    for seed in [0x6b65_7973, 0x1, 0xdead_beef, 0x2024_0607] {
        random_stream(seed, 1500);
    }
    // A longer soak on demand: FERRITE_KEYS_SOAK=<n> runs n more seeds of 5000 steps.
    let extra: u64 = std::env::var("FERRITE_KEYS_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for seed in 100..100 + extra {
        random_stream(seed, 5000);
    }
}
