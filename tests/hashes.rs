//! Hash commands, black-box: the binary alone, then differential runs against a real `redis-server`
//! (the oracle) through `common::cases::Duo`.
//!
//! Scripts are in `common::cases`'s format: `<c*N>` stands for the byte `c` repeated `N` times (values
//! past the listpack thresholds), `~` compares as multisets (a table's order is its own), `?` by shape
//! (random replies).
//!
//! Whole contents are compared with `DEBUG DIGEST-VALUE`, Redis's own digest of a value, which does not
//! depend on the order fields are stored in: equal digests mean equal hashes.

mod common;

use std::collections::{HashMap, HashSet};

use common::cases::{env_u64, Duo};
use common::diff::{show, Cmp};
use common::{bulk, int, simple, Rng, Server, Value};

// ---- the binary alone ----

#[test]
fn basic_round_trip() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(c.cmd(&["HSET", "h", "a", "3"]), int(0));
    assert_eq!(c.cmd(&["HGET", "h", "a"]), bulk("3"));
    assert_eq!(c.cmd(&["HLEN", "h"]), int(2));
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        Value::Array(vec![bulk("a"), bulk("3"), bulk("b"), bulk("2")])
    );
    assert_eq!(c.cmd(&["HINCRBY", "h", "a", "-4"]), int(-1));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "a", "1.5"]), bulk("0.5"));
    assert_eq!(c.cmd(&["HDEL", "h", "a", "b", "c"]), int(2));
    assert_eq!(c.cmd(&["HLEN", "h"]), int(0));
    assert_eq!(c.cmd(&["HMSET", "h", "x", "y"]), simple("OK"));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "x"]), int(1));
}

/// A table-encoded hash: everything written is read back, HSCAN visits every field, and HRANDFIELD
/// draws from the hash.
#[test]
fn large_hash_round_trip() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    for i in 0..2000 {
        let (k, v) = (format!("field:{i}"), format!("value:{i}"));
        assert_eq!(c.cmd(&["HSET", "big", &k, &v]), int(1));
    }
    assert_eq!(c.cmd(&["HLEN", "big"]), int(2000));
    let all = scan_all(&mut c, "big", &[]);
    assert_eq!(all.len(), 2000);
    for i in 0..2000 {
        assert_eq!(
            all.get(format!("field:{i}").as_bytes()),
            Some(&format!("value:{i}").into_bytes())
        );
    }
    for i in (0..2000).step_by(2) {
        assert_eq!(c.cmd(&["HDEL", "big", &format!("field:{i}")]), int(1));
    }
    assert_eq!(scan_all(&mut c, "big", &["COUNT", "7"]).len(), 1000);
    let Value::Array(picked) = c.cmd(&["HRANDFIELD", "big", "10"]) else {
        panic!("array")
    };
    let distinct: HashSet<_> = picked.iter().map(show).collect();
    assert_eq!(distinct.len(), 10);
}

/// A whole HSCAN walk (`key [options]`): the pairs returned, or the first error.
fn scan_walk(c: &mut common::Raw, key_and_opts: &[Vec<u8>]) -> Result<HashMap<Vec<u8>, Vec<u8>>, Value> {
    let mut out = HashMap::new();
    let mut cursor = b"0".to_vec();
    loop {
        let mut cmd: Vec<Vec<u8>> = vec![b"HSCAN".to_vec(), key_and_opts[0].clone(), cursor.clone()];
        cmd.extend(key_and_opts[1..].iter().cloned());
        let reply = c.cmd(&cmd);
        let Value::Array(reply) = reply else {
            return Err(reply);
        };
        let (Value::Bulk(next), Value::Array(items)) = (&reply[0], &reply[1]) else {
            panic!("HSCAN shape")
        };
        for pair in items.chunks(2) {
            if let (Value::Bulk(f), Value::Bulk(v)) = (&pair[0], &pair[1]) {
                out.insert(f.clone(), v.clone());
            }
        }
        if next == b"0" {
            return Ok(out);
        }
        cursor = next.clone();
    }
}

/// Every field and value, by walking HSCAN to cursor 0.
fn scan_all(c: &mut common::Raw, key: &str, opts: &[&str]) -> HashMap<Vec<u8>, Vec<u8>> {
    let mut args = vec![key.as_bytes().to_vec()];
    args.extend(opts.iter().map(|o| o.as_bytes().to_vec()));
    scan_walk(c, &args).unwrap_or_else(|e| panic!("HSCAN failed: {}", show(&e)))
}

// ---- hand-written cases ----

const BASICS: &str = r#"
    HSET h a 1 b 2 c 3
    HSET h a 10 d 4
    HSET h a
    HSET h a 1 b
    HSET h
    HGET h a
    HGET h nofield
    HGET nokey a
    HMGET h a nofield b
    HMGET nokey a b
    HMSET h e 5 f 6
    HMSET h e
    HSETNX h a 99
    HSETNX h z 26
    HSETNX newkey f v
    HGETALL h
    HKEYS h
    HVALS h
    HLEN h
    HLEN nokey
    HEXISTS h a
    HEXISTS h nofield
    HEXISTS nokey a
    HSTRLEN h a
    HSTRLEN h nofield
    HSTRLEN nokey a
    HDEL h a nofield b
    HDEL h
    HDEL nokey a
    HGETALL h
    HDEL h c d e f z
    HLEN h
    HGETALL h
    HGETALL nokey
    HKEYS nokey
    HVALS nokey
    DEBUG DIGEST-VALUE newkey
    DEBUG DIGEST
"#;

const INTEGERS_AND_ORDER: &str = r#"
    # Listpack keeps canonical integers as integers and insertion order: both show in replies.
    HSET h 1 one 007 two -5 three 9223372036854775807 max -9223372036854775808 min +1 plus
    HSET h 10 0 11 -0 12 00 13 1.5 14 " "
    HGETALL h
    HGET h 1
    HGET h 01
    HGET h 007
    HSTRLEN h 9223372036854775807
    HSTRLEN h 10
    HSTRLEN h 11
    HEXISTS h -5
    HDEL h 1 -5
    HGETALL h
    DEBUG DIGEST-VALUE h
    OBJECT ENCODING h
"#;

const COUNTERS: &str = r#"
    HINCRBY h n 5
    HINCRBY h n -10
    HINCRBY h n abc
    HINCRBY h n 1.5
    HINCRBY h n ""
    HINCRBY h n 9223372036854775808
    HSET h max 9223372036854775807 min -9223372036854775808 s abc f 1.5 sp " 1" plus +1 z 00
    HINCRBY h max 1
    HINCRBY h max 0
    HINCRBY h min -1
    HINCRBY h s 1
    HINCRBY h f 1
    HINCRBY h sp 1
    HINCRBY h plus 1
    HINCRBY h z 1
    HINCRBY newkey f 3
    HINCRBYFLOAT h fl 10.5
    HINCRBYFLOAT h fl 0.1
    HINCRBYFLOAT h fl 5e3
    HINCRBYFLOAT h fl -5010.6
    HINCRBYFLOAT h fl 1e-400
    HINCRBYFLOAT h fl inf
    HINCRBYFLOAT h fl -inf
    HINCRBYFLOAT h fl nan
    HINCRBYFLOAT h fl abc
    HINCRBYFLOAT h fl " 1"
    HINCRBYFLOAT h fl 0x10
    HINCRBYFLOAT h s 1
    HINCRBYFLOAT h sp 1
    HINCRBYFLOAT h max 1
    HINCRBYFLOAT h f 1e308
    HSET h big 1.18e4932
    HINCRBYFLOAT h big 1.18e4932
    HINCRBYFLOAT h big -1
    HSET h hex 0x10
    HINCRBYFLOAT h hex 1
    HINCRBYFLOAT h n 1
    HINCRBYFLOAT newfloat f 2.5
    ~ HGETALL h
    HGETALL newfloat
    DEBUG DIGEST-VALUE h
"#;

const WRONG_TYPES: &str = r#"
    SET s x
    HSET s a 1
    HSETNX s a 1
    HMSET s a 1
    HGET s a
    HMGET s a
    HDEL s a
    HLEN s
    HSTRLEN s a
    HEXISTS s a
    HKEYS s
    HVALS s
    HGETALL s
    HINCRBY s a 1
    HINCRBY s a x
    HINCRBYFLOAT s a 1
    HINCRBYFLOAT s a x
    HINCRBYFLOAT s a inf
    HRANDFIELD s
    HRANDFIELD s 1
    HRANDFIELD s x
    HRANDFIELD s 1 withvalues
    HSCAN s 0
    HSCAN s x
    HSCAN s 0 COUNT 0
    HSET h f v
    GET h
    INCR h
    APPEND h x
"#;

const RANDFIELD: &str = r#"
    HRANDFIELD nokey
    HRANDFIELD nokey 5
    HRANDFIELD nokey -5 WITHVALUES
    HRANDFIELD nokey 1 WITHVALUES x
    HRANDFIELD nokey abc
    HSET h a 1 b 2 c 3
    HRANDFIELD h 0
    HRANDFIELD h 0 WITHVALUES
    HRANDFIELD h 0 foo
    HRANDFIELD h abc WITHVALUE
    HRANDFIELD h 1 WITHVALUE
    HRANDFIELD h 1 WITHVALUES x
    HRANDFIELD h -9223372036854775808
    HRANDFIELD h -9223372036854775808 WITHVALUES
    HRANDFIELD h -9223372036854775807 WITHVALUES
    HRANDFIELD h -4611686018427387904 WITHVALUES
    HRANDFIELD h -4611686018427387904 withvaluex
    HRANDFIELD h 9223372036854775807
    HRANDFIELD h 3
    HRANDFIELD h 3 WITHVALUES
    HRANDFIELD h 100 WITHVALUES
    ? HRANDFIELD h -5
    ? HRANDFIELD h -5 WITHVALUES
    ? HRANDFIELD h 2
    ? HRANDFIELD h 2 WITHVALUES
    ? HRANDFIELD h
    HSET one f v
    HRANDFIELD one
    HRANDFIELD one -3
    HRANDFIELD one -3 WITHVALUES
"#;

const SCAN: &str = r#"
    HSCAN nokey 0
    HSCAN nokey 0 COUNT 0
    HSCAN nokey 0 BAD option
    HSCAN nokey x
    HSET h a 1 b 2 ab 3 "" 4 10 5
    HSCAN h 0
    HSCAN h 5
    HSCAN h ""
    HSCAN h -1
    HSCAN h +0
    HSCAN h " 0"
    HSCAN h "0 "
    HSCAN h 0x0
    HSCAN h 18446744073709551616
    HSCAN h 0 MATCH a*
    HSCAN h 0 MATCH *
    HSCAN h 0 match 1?
    HSCAN h 0 MATCH [ab]
    HSCAN h 0 COUNT 1
    HSCAN h 0 COUNT 0
    HSCAN h 0 COUNT -1
    HSCAN h 0 COUNT x
    HSCAN h 0 COUNT
    HSCAN h 0 MATCH
    HSCAN h 0 TYPE hash
    HSCAN h 0 COUNT 1 MATCH a* COUNT 2
    HSCAN h 0 NOVALUES
"#;

const PROMOTION: &str = r#"
    # The defaults: 512 entries, 64 bytes.
    HSET h f <v*64>
    OBJECT ENCODING h
    HSET h f <v*65>
    OBJECT ENCODING h
    HSET k <f*64> v
    OBJECT ENCODING k
    HSET k <f*65> v
    OBJECT ENCODING k
    HSETNX n a 1
    HSETNX n a <v*65>
    OBJECT ENCODING n
    HSETNX n <f*65> 1
    OBJECT ENCODING n
    HINCRBY i <f*65> 1
    OBJECT ENCODING i
    HSET j a 1
    HINCRBYFLOAT j a 1e70
    OBJECT ENCODING j
    HSET m a 1 b <x*70>
    OBJECT ENCODING m
    HDEL m b
    OBJECT ENCODING m
    CONFIG SET hash-max-listpack-entries 3
    HSET c a 1 b 2 c 3
    OBJECT ENCODING c
    HSET c a 2
    OBJECT ENCODING c
    HSET c d 4
    OBJECT ENCODING c
    CONFIG SET hash-max-ziplist-entries 0
    HSET z a 1
    OBJECT ENCODING z
    CONFIG SET hash-max-listpack-entries 512
    CONFIG SET hash-max-listpack-value 0
    HSET v a ""
    OBJECT ENCODING v
    HSET w a b
    OBJECT ENCODING w
    CONFIG SET hash-max-ziplist-value 64
    DEBUG DIGEST
"#;

const GENERIC: &str = r#"
    HSET h a 1 b 2
    HSET big <x*600> 1
    TYPE h
    TYPE big
    OBJECT ENCODING h
    OBJECT ENCODING big
    ~ SCAN 0 TYPE hash
    ~ SCAN 0 TYPE hash COUNT 100
    SCAN 0 TYPE string
    COPY h h2
    OBJECT ENCODING h2
    HGETALL h2
    COPY big big2
    OBJECT ENCODING big2
    DEBUG DIGEST-VALUE big2
    RENAME h h3
    HGETALL h3
    HGETALL h
    EXPIRE h3 100
    DEBUG DIGEST-VALUE h3
    MOVE h3 1
    SELECT 1
    HGETALL h3
    OBJECT ENCODING h3
    SELECT 0
    DEBUG DIGEST
    HSET h2 c 3
    DEBUG DIGEST-VALUE h2 big big2
    DEL h2 big
    DEBUG DIGEST
    EXISTS h2 big big2
"#;

const CASES: &[(&str, &str)] = &[
    ("generic", GENERIC),
    ("basics", BASICS),
    ("integers and order", INTEGERS_AND_ORDER),
    ("counters", COUNTERS),
    ("wrong types", WRONG_TYPES),
    ("hrandfield", RANDFIELD),
    ("hscan", SCAN),
    ("promotion", PROMOTION),
];

/// Each case on a fresh Ferrite and Redis (the cases change the configuration).
#[test]
fn differential_cases() {
    for (name, script) in CASES {
        let Some(mut duo) = Duo::for_test("differential_cases", &[]) else {
            return;
        };
        duo.run_script(name, script);
        duo.finish(&format!("differential_cases: {name}"));
    }
}

#[test]
fn differential_resp3() {
    let Some(mut duo) = Duo::for_test("differential_resp3", &[]) else {
        return;
    };
    duo.check("resp3", &["HELLO", "3"], Cmp::Shape);
    duo.run_script(
        "resp3",
        r#"
        HGETALL nokey
        HKEYS nokey
        HRANDFIELD nokey 3 WITHVALUES
        HRANDFIELD nokey
        HGET nokey f
        HSET h a 1 b 2 c 3
        HGETALL h
        HRANDFIELD h 3 WITHVALUES
        HRANDFIELD h 5 WITHVALUES
        ? HRANDFIELD h -5 WITHVALUES
        ? HRANDFIELD h 2 WITHVALUES
        HRANDFIELD h 0 WITHVALUES
        HMGET h a x
        HSCAN h 0
        HINCRBYFLOAT h a 1.5
        "#,
    );
    // A table-encoded hash: the same pairs, in its own order.
    for i in 0..600 {
        duo.both(&["HSET", "big", &format!("f{i}"), &format!("v{i}")]);
    }
    duo.check("HGETALL big", &["HGETALL", "big"], Cmp::Unordered);
    duo.check(
        "HRANDFIELD shape",
        &["HRANDFIELD", "big", "-3", "WITHVALUES"],
        Cmp::Shape,
    );
    duo.check(
        "HRANDFIELD all",
        &["HRANDFIELD", "big", "700", "WITHVALUES"],
        Cmp::Unordered,
    );
    duo.finish("differential_resp3");
}

// ---- HRANDFIELD's rules, checked on both servers ----

/// The fields (and values) of one HRANDFIELD reply, flattened (RESP2).
fn drawn(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Bulk(b) => b.clone(),
                other => panic!("element {}", show(other)),
            })
            .collect(),
        other => panic!("reply {}", show(other)),
    }
}

/// Redis's rules hold on both sides for listpack and table hashes: counts, distinctness, membership,
/// values that go with their fields.
#[test]
fn differential_hrandfield_rules() {
    let Some(mut duo) = Duo::for_test("differential_hrandfield_rules", &[]) else {
        return;
    };
    duo.fail_fast();
    for (key, n) in [("small", 20usize), ("big", 1000)] {
        let mut model = HashMap::new();
        for i in 0..n {
            let (k, v) = (format!("f{i}"), format!("v{i}"));
            duo.both(&["HSET", key, &k, &v]);
            model.insert(k.into_bytes(), v.into_bytes());
        }
        for count in [
            1i64,
            2,
            5,
            n as i64 / 3,
            n as i64 / 3 + 1,
            n as i64 - 1,
            n as i64,
            -1,
            -7,
            -(n as i64) * 2,
        ] {
            for withvalues in [false, true] {
                let mut cmd = vec!["HRANDFIELD".to_string(), key.to_string(), count.to_string()];
                if withvalues {
                    cmd.push("WITHVALUES".into());
                }
                let (a, b) = duo.both(&cmd).expect("HRANDFIELD");
                for (side, reply) in [("ferrite", &a), ("redis", &b)] {
                    let items = drawn(reply);
                    let step = if withvalues { 2 } else { 1 };
                    let expect = if count < 0 {
                        count.unsigned_abs() as usize
                    } else {
                        (count as usize).min(n)
                    };
                    assert_eq!(items.len(), expect * step, "{side} {cmd:?}");
                    let fields: Vec<&Vec<u8>> = items.iter().step_by(step).collect();
                    for (i, field) in fields.iter().enumerate() {
                        let value = model
                            .get(*field)
                            .unwrap_or_else(|| panic!("{side} {cmd:?}: unknown field"));
                        if withvalues {
                            assert_eq!(&items[i * 2 + 1], value, "{side} {cmd:?}");
                        }
                    }
                    if count > 0 {
                        let distinct: HashSet<_> = fields.iter().collect();
                        assert_eq!(distinct.len(), fields.len(), "{side} {cmd:?}: repeats");
                    }
                }
            }
        }
    }
    duo.finish("differential_hrandfield_rules");
}

// ---- random differential runs ----

/// `FERRITE_HASHES_SEED` replays a failure (the message prints the seed); `FERRITE_HASHES_STEPS`
/// lengthens a soak.
fn seed_from_env(default: u64) -> u64 {
    env_u64("FERRITE_HASHES_SEED", default)
}

const KEYS: &[&str] = &["h1", "h2", "h3", "str"];

fn random_field(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0 => rng.below(200).to_string().into_bytes(),
        1 => format!("-{}", rng.below(50)).into_bytes(),
        2 => vec![b'F'; 60 + rng.below(10)],
        3 => Vec::new(),
        4 => (0..rng.below(4)).map(|_| rng.next() as u8).collect(),
        _ => format!("f{}", rng.below(120)).into_bytes(),
    }
}

fn random_value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(12) {
        0 => vec![b'v'; 60 + rng.below(10)],
        1 => vec![b'w'; 200 + rng.below(300)],
        2 => format!("{}", (rng.next() as i64) >> rng.below(64)).into_bytes(),
        3 => format!("{}.{}", rng.below(1000), rng.below(100)).into_bytes(),
        4 => Vec::new(),
        5 => b"abc".to_vec(),
        6 => (0..rng.below(8)).map(|_| rng.next() as u8).collect(),
        _ => rng.below(1000).to_string().into_bytes(),
    }
}

fn random_number(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0 => b"abc".to_vec(),
        1 => b"9223372036854775807".to_vec(),
        2 => b"-9223372036854775808".to_vec(),
        3 => b"1.5".to_vec(),
        4 => b"inf".to_vec(),
        5 => b"1e400".to_vec(),
        _ => format!("{}", rng.below(200) as i64 - 100).into_bytes(),
    }
}

/// One random command and how its replies compare.
fn random_command(rng: &mut Rng) -> (Vec<Vec<u8>>, Cmp) {
    let key = rng.pick(KEYS).as_bytes().to_vec();
    let c = |name: &str| vec![name.as_bytes().to_vec(), key.clone()];
    match rng.below(24) {
        0..=5 => {
            let mut cmd = c(if rng.below(4) == 0 { "HMSET" } else { "HSET" });
            let most = if rng.below(8) == 0 { 40 } else { 3 };
            let pairs = 1 + rng.below(most);
            for _ in 0..pairs {
                cmd.push(random_field(rng));
                cmd.push(random_value(rng));
            }
            if rng.below(30) == 0 {
                cmd.pop();
            }
            (cmd, Cmp::Exact)
        }
        6 => {
            let mut cmd = c("HSETNX");
            cmd.push(random_field(rng));
            cmd.push(random_value(rng));
            (cmd, Cmp::Exact)
        }
        7 | 8 => {
            let mut cmd = c("HDEL");
            for _ in 0..1 + rng.below(4) {
                cmd.push(random_field(rng));
            }
            (cmd, Cmp::Exact)
        }
        9 => {
            let mut cmd = c(rng.pick(&["HGET", "HEXISTS", "HSTRLEN"]));
            cmd.push(random_field(rng));
            (cmd, Cmp::Exact)
        }
        10 => {
            let mut cmd = c("HMGET");
            for _ in 0..1 + rng.below(5) {
                cmd.push(random_field(rng));
            }
            (cmd, Cmp::Exact)
        }
        11 => (c("HLEN"), Cmp::Exact),
        12 => (c(rng.pick(&["HGETALL", "HKEYS", "HVALS"])), Cmp::Unordered),
        13 | 14 => {
            let mut cmd = c("HINCRBY");
            cmd.push(random_field(rng));
            cmd.push(random_number(rng));
            (cmd, Cmp::Exact)
        }
        15 | 16 => {
            let mut cmd = c("HINCRBYFLOAT");
            cmd.push(random_field(rng));
            cmd.push(random_number(rng));
            (cmd, Cmp::Exact)
        }
        17 => {
            let mut cmd = c("HRANDFIELD");
            let count = rng.below(7) as i64 - 3;
            if rng.below(5) > 0 {
                cmd.push(count.to_string().into_bytes());
                if rng.below(2) == 0 {
                    cmd.push(b"WITHVALUES".to_vec());
                }
            }
            // Only errors and emptiness are deterministic; the draws are checked by shape.
            (cmd, Cmp::Shape)
        }
        18 => {
            // A whole walk, compared as the set of pairs it returned (see `scan_walk`).
            let mut cmd = vec![b"HSCANALL".to_vec(), key.clone()];
            if rng.below(2) == 0 {
                cmd.push(b"MATCH".to_vec());
                cmd.push(rng.pick(&["f1*", "*", "?", "[0-9]*", "-*"]).as_bytes().to_vec());
            }
            if rng.below(2) == 0 {
                cmd.push(b"COUNT".to_vec());
                cmd.push(rng.pick(&["1", "3", "50"]).as_bytes().to_vec());
            }
            (cmd, Cmp::Exact)
        }
        19 => (vec![b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec(), key], Cmp::Exact),
        20 => {
            let v = random_value(rng);
            (vec![b"SET".to_vec(), b"str".to_vec(), v], Cmp::Exact)
        }
        21 => (vec![b"DEL".to_vec(), key], Cmp::Exact),
        _ => {
            let mut cmd = c("HGET");
            cmd.push(random_field(rng));
            (cmd, Cmp::Exact)
        }
    }
}

#[test]
fn differential_random_commands() {
    let Some(mut duo) = Duo::for_test("differential_random_commands", &[]) else {
        return;
    };
    let seed = seed_from_env(0x4a54_11e5);
    let steps = env_u64("FERRITE_HASHES_STEPS", 8000);
    duo.fail_fast().set_label(&format!("seed {seed:#x}"));
    let mut rng = Rng::new(seed);
    for step in 0..steps {
        if step % 2000 == 1000 {
            // Move the thresholds now and then, as CONFIG SET does on a live server.
            let entries = rng.pick(&["0", "3", "16", "128", "512"]);
            duo.both(&["CONFIG", "SET", "hash-max-listpack-entries", entries]);
        }
        let (cmd, cmp) = random_command(&mut rng);
        let context = format!("step {step}");
        if cmd[0] == b"HSCANALL" {
            let (a, b) = (
                scan_walk(&mut duo.ours, &cmd[1..]),
                scan_walk(&mut duo.theirs, &cmd[1..]),
            );
            if a != b {
                duo.fail(format!("{context}: whole HSCAN {:?}: {a:?} vs {b:?}", &cmd[1..]));
            }
            continue;
        }
        duo.check(&context, &cmd, cmp);
        if step % 100 == 99 {
            for key in KEYS {
                duo.check(
                    &format!("{context}: contents differ"),
                    &["DEBUG", "DIGEST-VALUE", key],
                    Cmp::Exact,
                );
                duo.check(
                    &format!("{context}: encodings differ"),
                    &["OBJECT", "ENCODING", key],
                    Cmp::Exact,
                );
            }
        }
    }
    duo.finish("differential_random_commands");
}
