//! Sorted sets against the real binary, and differentially against a real `redis-server` 7.0.
//!
//! Differential scripts (in `common::cases`'s format) run on both servers at once over two connections
//! each: RESP2 on database 0 and RESP3 on database 1 (a second lane of the `Duo`), so every reply is
//! compared in both protocols (scores are bulk strings in one, doubles in the other). After each case
//! the whole dataset's DEBUG DIGEST must agree, which checks every stored member and score, whatever the
//! encoding.
//!
//! The blocking pops are tested by choreographies (several clients, a fixed order of steps) whose
//! transcripts must match Redis's, plus checks on Ferrite alone that need no oracle.

mod common;

use std::time::{Duration, Instant};

use common::cases::{env_u64, Duo};
use common::diff::{show, show_args, Cmp};
use common::{bulk, int, redis_available, wait_blocked, Raw, Rng, Server, Value};

// ---- machinery ----

/// A Ferrite and a Redis started alike; RESP2 connections on database 0, RESP3 ones on database 1.
fn twin(extra: &[&str]) -> Duo {
    Duo::resp2_and_resp3(extra)
}

/// Where two datasets differ: each side's keys, and the digest of each key that is on both.
fn explain(duo: &mut Duo) -> String {
    let mut s = String::new();
    let lane = &mut duo.lanes[0];
    let dbs = [(&mut duo.ours, &mut duo.theirs), (&mut lane.ours, &mut lane.theirs)];
    for (db, (ours, theirs)) in dbs.into_iter().enumerate() {
        let (a, b) = (ours.cmd(&["KEYS", "*"]), theirs.cmd(&["KEYS", "*"]));
        s += &format!("db {db} keys: ferrite {} redis {}\n", show(&a), show(&b));
        if let Value::Array(keys) = b {
            for k in keys {
                let Value::Bulk(k) = k else { continue };
                let c = [b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec(), k.clone()];
                let (x, y) = (ours.cmd(&c), theirs.cmd(&c));
                if x != y {
                    let r = [
                        b"ZRANGE".to_vec(),
                        k.clone(),
                        b"0".to_vec(),
                        b"-1".to_vec(),
                        b"WITHSCORES".to_vec(),
                    ];
                    let (p, q) = (ours.cmd(&r), theirs.cmd(&r));
                    s += &format!(
                        "  {}: {} vs {}\n    ferrite {}\n    redis   {}\n",
                        String::from_utf8_lossy(&k),
                        show(&x),
                        show(&y),
                        show(&p),
                        show(&q)
                    );
                }
            }
        }
    }
    s
}

/// Run each case on emptied servers; after each, the whole dataset's digest must agree.
fn run_cases(duo: &mut Duo, cases: &[(&str, &str)]) {
    for case in cases {
        duo.run_cases(&[*case]);
        duo.check(
            &format!("case {}, final digest", case.0),
            &["DEBUG", "DIGEST"],
            Cmp::Exact,
        );
    }
}

// ---- hand-written differential cases ----

const ADD_CASES: &[(&str, &str)] = &[
    (
        "zadd_flags_and_errors",
        r#"
        ZADD z 1 a 2 b 3 c
        ZADD z NX 10 a 4 d
        ZADD z XX 10 a 5 e
        ZADD z XX CH 11 a 11 a
        ZADD z GT CH 5 a 20 a
        ZADD z LT CH 100 b 1 b
        ZADD z ch 1 a 1 a 3 a
        ZADD z 1 a 1 a 2 a
        ZADD z gt lt 1 a
        ZADD z nx xx 1 a
        ZADD z nx gt 1 a
        ZADD z nx lt 1 a
        ZADD z nx xx gt lt ch incr 1 a 2 b
        ZADD z incr 1 a 2 b
        ZADD z INCR 2.5 a
        ZADD z NX INCR 1 a
        ZADD z XX INCR 1 zz
        ZADD z GT INCR -1 a
        ZADD z LT INCR -1 a
        ZADD z LT INCR 0 a
        ZADD z INCR INCR 1 a
        ZADD z CH CH 1 f
        ZADD z 1
        ZADD z 1 a 2
        ZADD z ch
        ZADD z ch 1
        ZADD z x a
        ZADD z nan a
        ZADD z 1 a nx
        ZADD z 1e999 a
        ZADD z \x201 a
        ZADD z 0x10 hex
        ZADD z "" empty
        ZADD z 1 ""
        ZRANGE z 0 -1 WITHSCORES
        ZCARD z
        OBJECT ENCODING z
        ZADD nokey XX 1 a
        ZADD nokey XX INCR 1 a
        EXISTS nokey
        SET s x
        ZADD s 1 a
        ZADD s XX 1 a
        ZADD s x a
        ZINCRBY z 1 a
        ZINCRBY z x a
        ZINCRBY z nan a
        ZINCRBY new 1.5 m
        ZINCRBY z 1 a b
        ZINCRBY s 1 a
        TYPE z
        TYPE new
        "#,
    ),
    (
        "scores_inf_and_formatting",
        r#"
        ZADD z inf a -inf b +inf c -0 d 0.1 e 1.5e-7 f 1e20 g 123456789012345678 h 1e-300 i
        ZADD z 4611686018427387904 j -4611686018427387904 k 4611686018427388928 l 9007199254740993 m
        ZADD z 3.0 n -2.50 o 1e18 p 0.30000000000000004 q
        ZRANGE z 0 -1 WITHSCORES
        ZSCORE z d
        ZSCORE z a
        ZSCORE z b
        ZMSCORE z a b c d e f g h i j k l m n o p q nope
        ZSCAN z 0
        ZADD z INCR -inf a
        ZADD z INCR inf b
        ZINCRBY z -inf c
        ZINCRBY z 1 a
        ZADD z INCR 0.1 e
        ZINCRBY z 0.2 e
        ZSCORE z e
        ZADD z2 -0 a
        ZSCORE z2 a
        ZRANGEBYSCORE z -inf -inf WITHSCORES
        ZRANGEBYSCORE z +inf +inf WITHSCORES
        ZRANGEBYSCORE z (-inf (+inf WITHSCORES
        ZCOUNT z -inf +inf
        ZCOUNT z (0 (1
        ZCOUNT z -0 0
        OBJECT ENCODING z
        DEBUG DIGEST-VALUE z
        DEBUG DIGEST-VALUE z2
        "#,
    ),
    (
        "negative_zero_through_stores",
        r#"
        CONFIG SET zset-max-listpack-entries 0
        ZADD src -0 a 1 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx -0 b 2 c
        CONFIG SET zset-max-listpack-entries 128
        ZSCORE src a
        ZRANGESTORE d1 src 0 -1
        ZMSCORE d1 a b
        ZRANGESTORE d2 src 0 -1 REV
        ZMSCORE d2 a b
        ZRANGESTORE d3 src -inf +inf BYSCORE
        ZMSCORE d3 a b
        ZRANGESTORE d4 src +inf -inf BYSCORE REV
        ZMSCORE d4 a b
        ZRANGESTORE d5 src 0 1
        ZMSCORE d5 a b
        OBJECT ENCODING d5
        ZUNIONSTORE d6 1 src
        ZMSCORE d6 a b
        ZUNIONSTORE d7 1 src WEIGHTS -1
        ZMSCORE d7 a b c
        ZINTERSTORE d8 2 src src WEIGHTS 1 -1
        ZMSCORE d8 a b c
        ZADD src 0 a
        ZINCRBY src 0 b
        ZADD src INCR -0 a
        ZMSCORE src a b
        ZADD lp -0 a 1 b
        ZADD lp 1 yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy
        ZSCORE lp a
        "#,
    ),
];

const RANGE_CASES: &[(&str, &str)] = &[
    (
        "zrange_forms",
        r#"
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZRANGE z 0 -1
        ZRANGE z 0 -1 WITHSCORES
        ZRANGE z 1 3 REV WITHSCORES
        ZRANGE z -2 -1
        ZRANGE z -100 100
        ZRANGE z 5 10
        ZRANGE z 3 1
        ZRANGE z 9223372036854775807 -9223372036854775808
        ZRANGE z 0 9223372036854775808
        ZRANGE z x 3
        ZRANGE z (1 3 BYSCORE WITHSCORES
        ZRANGE z 3 (1 BYSCORE REV
        ZRANGE z 0 -1 BYSCORE
        ZRANGE z -inf +inf BYSCORE LIMIT 1 2
        ZRANGE z -inf +inf BYSCORE LIMIT 1 -1
        ZRANGE z -inf +inf BYSCORE LIMIT -1 2
        ZRANGE z -inf +inf BYSCORE LIMIT 5 1
        ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES
        ZRANGE z x 3 BYSCORE
        ZRANGE z 0 1 BYLEX
        ZRANGE z 0 -1 LIMIT 0 1
        ZRANGE z 0 -1 LIMIT 5 -1
        ZRANGE z 0 -1 BYSCORE LIMIT 0
        ZRANGE z 0 -1 BYSCORE LIMIT x 1
        ZRANGE z 0 -1 BYSCORE LIMIT 0 x
        ZRANGE z 0 -1 BYSCORE BYLEX
        ZRANGE z 0 -1 REV REV
        ZRANGE z 0 -1 WITHSCORES WITHSCORES
        ZRANGE z 0 -1 foo
        ZRANGE z 0 -1 LIMIT x y BYLEX
        ZRANGE z [a + BYLEX WITHSCORES
        ZRANGE z 1 0 BYSCORE LIMIT 0 1 REV WITHSCORES
        ZRANGE nokey 0 -1
        ZRANGE nokey 0 -1 BYSCORE WITHSCORES
        ZREVRANGE z 0 1 WITHSCORES
        ZREVRANGE z 0 1 foo
        ZREVRANGE z 0 -1 LIMIT 0 1
        ZRANGEBYSCORE z 2 4
        ZRANGEBYSCORE z (2 (4 WITHSCORES
        ZRANGEBYSCORE z 0 5 LIMIT 1 1 WITHSCORES
        ZRANGEBYSCORE z 0 5 LIMIT 0 1 LIMIT 1 1
        ZRANGEBYSCORE z 0 5 BYLEX
        ZRANGEBYSCORE z 0 5 REV
        ZRANGEBYSCORE z 0 5 WITHSCORES LIMIT
        ZRANGEBYSCORE z ( 5
        ZRANGEBYSCORE z "" 5
        ZRANGEBYSCORE z \x201 5
        ZRANGEBYSCORE z 1\x20 5
        ZRANGEBYSCORE z 1e999 inf
        ZRANGEBYSCORE z nan 5
        ZRANGEBYSCORE z 0x2 5
        ZRANGEBYSCORE z 1\x00junk 5
        ZREVRANGEBYSCORE z 5 0 LIMIT 0 2
        ZREVRANGEBYSCORE z (5 (1 WITHSCORES
        ZREVRANGEBYSCORE z 1 5
        SET s x
        ZRANGE s 0 -1
        ZRANGEBYSCORE s 0 1
        ZRANGE s x 1
        "#,
    ),
    (
        "lex_ranges",
        r#"
        ZADD z 0 a 0 b 0 c 0 d 0 e 0 ""
        ZRANGEBYLEX z - +
        ZRANGEBYLEX z [b [d
        ZRANGEBYLEX z (b (d
        ZRANGEBYLEX z [b +
        ZRANGEBYLEX z - (c
        ZRANGEBYLEX z + -
        ZRANGEBYLEX z [ (b
        ZRANGEBYLEX z [a (
        ZRANGEBYLEX z - + LIMIT 1 2
        ZRANGEBYLEX z - + LIMIT -1 2
        ZRANGEBYLEX z - + WITHSCORES
        ZRANGEBYLEX z a +
        ZRANGEBYLEX z - b
        ZRANGEBYLEX z +x +
        ZRANGEBYLEX z -\x00 +
        ZRANGEBYLEX z "" +
        ZREVRANGEBYLEX z + -
        ZREVRANGEBYLEX z (d [b
        ZREVRANGEBYLEX z [d (b LIMIT 1 5
        ZRANGE z [b [d BYLEX
        ZRANGE z [d [b BYLEX REV
        ZRANGE z (c [a BYLEX REV LIMIT 0 1
        ZRANGE z [a [c BYLEX REV
        ZLEXCOUNT z - +
        ZLEXCOUNT z [b (d
        ZLEXCOUNT z (d [b
        ZLEXCOUNT z a +
        ZLEXCOUNT nokey - +
        ZREMRANGEBYLEX z x +
        ZREMRANGEBYLEX z [b (d
        ZRANGE z 0 -1
        ZREMRANGEBYLEX z - +
        EXISTS z
        "#,
    ),
    (
        "zrangestore",
        r#"
        ZADD z 1 a 2 b 3 c 4 d
        ZRANGESTORE d z 0 1
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d z 0 -1 REV
        ZRANGESTORE d z (1 +inf BYSCORE LIMIT 1 1
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d z [b [c BYLEX
        ZRANGESTORE d z +inf -inf BYSCORE REV LIMIT 0 2
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d z 0 -1 WITHSCORES
        ZRANGESTORE d z 0 -1 WITHSCORES LIMIT x y
        ZRANGESTORE d z 0 -1 LIMIT 0 1
        ZRANGESTORE d nokey 0 -1
        EXISTS d
        ZRANGESTORE d z 0 0
        ZRANGESTORE d z 5 6
        EXISTS d
        SET s x
        ZRANGESTORE s2 s 0 -1
        ZRANGESTORE s z 0 0
        TYPE s
        OBJECT ENCODING s
        ZRANGESTORE z z 1 2
        ZRANGE z 0 -1 WITHSCORES
        "#,
    ),
    (
        "removals",
        r#"
        ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
        ZREM z a x
        ZREM z
        ZREM nokey a
        ZREMRANGEBYRANK z x 1
        ZREMRANGEBYRANK z 0 0
        ZREMRANGEBYRANK z -1 -1
        ZREMRANGEBYRANK z 5 10
        ZRANGE z 0 -1
        ZREMRANGEBYSCORE z x 1
        ZREMRANGEBYSCORE z (2 3
        ZREMRANGEBYSCORE z +inf -inf
        ZRANGE z 0 -1
        ZREMRANGEBYRANK z -100 100
        EXISTS z
        ZADD z 1 a
        ZREM z a a a
        EXISTS z
        SET s x
        ZREM s a
        ZREMRANGEBYSCORE s 0 1
        ZREMRANGEBYSCORE nokey 0 1
        "#,
    ),
    (
        "point_reads",
        r#"
        ZADD z 1 a 2 b 3 c
        ZCARD z
        ZCARD nokey
        ZSCORE z b
        ZSCORE z nope
        ZSCORE nokey a
        ZMSCORE z a nope c
        ZMSCORE nokey a b
        ZMSCORE z
        ZRANK z a
        ZRANK z c
        ZRANK z nope
        ZRANK nokey a
        ZRANK z a withscore
        ZREVRANK z a
        ZREVRANK z c
        ZCOUNT z (1 3
        ZCOUNT z x 3
        ZCOUNT nokey 0 1
        ZCOUNT z +inf -inf
        ZCOUNT z (inf inf
        SET s x
        ZCARD s
        ZSCORE s a
        ZRANK s a
        ZMSCORE s a
        ZCOUNT s 0 1
        "#,
    ),
];

const POP_CASES: &[(&str, &str)] = &[
    (
        "pops",
        r#"
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZPOPMIN z
        ZPOPMAX z
        ZPOPMIN z 2
        ZPOPMAX z 0
        ZPOPMAX z 10
        EXISTS z
        ZPOPMIN z
        ZPOPMIN z 2
        ZPOPMIN z x
        ZPOPMIN z -1
        ZPOPMIN z 1 2
        ZADD z 1 a 2 b 3 c
        ZMPOP 1 z MIN
        ZMPOP 1 z MAX COUNT 10
        ZMPOP 2 nokey z MIN
        ZADD y 1 a 2 b
        ZMPOP 3 nokey z y max COUNT 1
        ZMPOP 0 z MIN
        ZMPOP x z MIN
        ZMPOP 1 z foo
        ZMPOP 1 z MIN COUNT 0
        ZMPOP 1 z MIN COUNT -1
        ZMPOP 1 z MIN COUNT x
        ZMPOP 1 z MIN foo 1
        ZMPOP 1 z MIN COUNT 1 COUNT 2
        ZMPOP 2 z MIN
        ZMPOP 99999999999999999999 z MIN
        ZMPOP 9223372036854775807 z MIN
        BZPOPMIN y 0
        ZADD y 1 a
        BZPOPMAX nokey y 0
        ZADD y 1 a 2 b 3 c
        BZMPOP 0 2 nokey y MAX COUNT 2
        BZMPOP x 1 z MIN
        BZMPOP -1 1 z MIN
        BZMPOP 0 0 z MIN
        BZPOPMIN z x
        BZPOPMIN z -1
        BZPOPMIN nokey 0.01
        BZMPOP 0.01 1 nokey MIN
        SET s x
        ZPOPMIN s
        ZMPOP 2 nokey s MIN
        ZMPOP 2 y s MIN
        BZPOPMIN s 0
        BZPOPMIN nokey s 0.01
        "#,
    ),
    (
        "random_members",
        r#"
        ZADD z 1 a 2 b 3 c
        ? ZRANDMEMBER z
        ? ZRANDMEMBER z 2
        ? ZRANDMEMBER z 2 WITHSCORES
        ? ZRANDMEMBER z -5
        ? ZRANDMEMBER z -5 WITHSCORES
        ZRANDMEMBER z 3 WITHSCORES
        ZRANDMEMBER z 9223372036854775807
        ZRANDMEMBER z 0
        ZRANDMEMBER z 0 WITHSCORES
        ZRANDMEMBER z x
        ZRANDMEMBER z 1 foo
        ZRANDMEMBER z 1 WITHSCORES foo
        ZRANDMEMBER z -9223372036854775808
        ZRANDMEMBER z -4611686018427387904 WITHSCORES
        ZRANDMEMBER z 4611686018427387904 WITHSCORES
        ZRANDMEMBER nokey
        ZRANDMEMBER nokey 2
        ZRANDMEMBER nokey 2 WITHSCORES
        ZRANDMEMBER nokey x
        SET s x
        ZRANDMEMBER s
        ZRANDMEMBER s 1
        "#,
    ),
    (
        "zscan",
        r#"
        ZADD z 1 a 2 b 3 c 1e18 d 0.5 e -0 f inf g
        ZSCAN z 0
        ZSCAN z 0 COUNT 1
        ZSCAN z 0 MATCH a*
        ZSCAN z 0 MATCH [a-c] COUNT 100
        ZSCAN z 0 MATCH *
        ZSCAN z x
        ZSCAN z 0 COUNT 0
        ZSCAN z 0 COUNT x
        ZSCAN z 0 MATCH
        ZSCAN z 0 TYPE zset
        ZSCAN z 0 NOVALUES
        ZSCAN z -1
        ZSCAN z +1
        ZSCAN z \x201
        ZSCAN z 18446744073709551615
        ZSCAN z 18446744073709551616
        ZSCAN nokey 0
        ZSCAN nokey 0 COUNT 0
        ZSCAN nokey x
        SET s x
        ZSCAN s 0
        "#,
    ),
];

const SETOP_CASES: &[(&str, &str)] = &[
    (
        "union_inter_diff",
        r#"
        ZADD z 1 a 2 b 3 c
        ZADD y 10 b 20 c 30 d
        ZADD w 0.1 a 0.2 b 0.3 c
        ZUNION 2 z y WITHSCORES
        ZUNION 3 z y w WITHSCORES
        ZUNION 3 w y z WITHSCORES
        ZINTER 2 z y WITHSCORES
        ZINTER 3 w z y WITHSCORES
        ZDIFF 2 z y WITHSCORES
        ZDIFF 2 y z
        ZDIFF 3 z nokey w
        ZUNION 2 z y WEIGHTS 2 inf WITHSCORES
        ZUNION 2 z y WEIGHTS 1 -1 AGGREGATE MIN WITHSCORES
        ZUNION 2 z y AGGREGATE MAX WITHSCORES
        ZUNION 2 z y WEIGHTS 1 2 WEIGHTS 3 4 WITHSCORES
        ZUNION 2 z y AGGREGATE MIN AGGREGATE SUM WITHSCORES
        ZUNION 1 z WEIGHTS -inf WITHSCORES
        ZUNION 2 z z WEIGHTS inf -inf WITHSCORES
        ZADD i inf a 0 zero
        ZUNION 2 i i WEIGHTS 1 -1 WITHSCORES
        ZUNION 1 i WEIGHTS inf WITHSCORES
        ZINTER 2 i i WEIGHTS 0 inf WITHSCORES
        ZINTER 2 i i WEIGHTS 0 inf AGGREGATE MIN WITHSCORES
        ZINTER 2 i i WEIGHTS 0 inf AGGREGATE MAX WITHSCORES
        ZINTER 2 i z WITHSCORES
        ZINTER 2 z nokey
        ZUNION 0 z
        ZUNION -1 z
        ZUNION x z
        ZUNION 3 z y
        ZUNION 2 z y WEIGHTS 1
        ZUNION 2 z y WEIGHTS 1 x
        ZUNION 2 z y WEIGHTS 1 nan
        ZUNION 2 z y AGGREGATE foo
        ZUNION 2 z y AGGREGATE
        ZUNION 2 z y WITHSCORES foo
        ZDIFF 2 z y WEIGHTS 1 2
        ZDIFF 2 z y AGGREGATE MIN
        ZUNION 99999999999999999999 z
        ZINTERCARD 2 z y
        ZINTERCARD 2 z y LIMIT 1
        ZINTERCARD 2 z y LIMIT 0
        ZINTERCARD 2 z y LIMIT -1
        ZINTERCARD 2 z y LIMIT x
        ZINTERCARD 0 z
        ZINTERCARD 3 z y
        ZINTERCARD 2 z y foo
        ZINTERCARD 2 z y WITHSCORES
        ZINTERCARD 2 z nokey
        SET s x
        ZUNION 2 z s
        ZUNION 2 s z BOGUS
        ZINTERCARD 2 s z
        ZDIFF 1 s
        "#,
    ),
    (
        "stores",
        r#"
        ZADD z 1 a 2 b 3 c
        ZADD y 10 b 20 c 30 d
        ZUNIONSTORE d 2 z y
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZINTERSTORE d 2 z y WEIGHTS 2 0.5 AGGREGATE MAX
        ZRANGE d 0 -1 WITHSCORES
        ZDIFFSTORE d 2 y z
        ZRANGE d 0 -1 WITHSCORES
        ZUNIONSTORE d 2 z y WITHSCORES
        ZINTERSTORE d 0 z
        ZDIFFSTORE d 1 nokey
        EXISTS d
        ZINTERSTORE d 2 z nokey
        EXISTS d
        SET s x
        ZUNIONSTORE d 1 s
        ZUNIONSTORE s 1 z
        TYPE s
        ZUNIONSTORE z 2 z y
        ZRANGE z 0 -1 WITHSCORES
        ZINTERSTORE z 1 z WEIGHTS 0
        ZRANGE z 0 -1 WITHSCORES
        "#,
    ),
    (
        "plain_sets_as_inputs",
        r#"
        ZADD z 1 a 2 b 3 c
        SADD st a d x
        SADD ints 1 2 3
        ZADD zi 5 1 6 4
        ZUNION 2 z st WITHSCORES
        ZUNION 2 z st WEIGHTS 1 5 WITHSCORES
        ZINTER 2 z st WITHSCORES
        ZINTER 2 st z WITHSCORES
        ZDIFF 2 z st WITHSCORES
        ZDIFF 2 st z WITHSCORES
        ZINTERCARD 2 z st
        ZUNION 2 zi ints WITHSCORES
        ZINTER 2 ints zi WITHSCORES
        ZUNIONSTORE d 2 z st
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        "#,
    ),
];

const GENERIC_CASES: &[(&str, &str)] = &[(
    "generic_commands",
    r#"
    ZADD z 1 a 2 b 3 c
    TYPE z
    OBJECT ENCODING z
    SCAN 0 TYPE zset
    SCAN 0 TYPE string
    COPY z z2
    ZRANGE z2 0 -1 WITHSCORES
    DEBUG DIGEST-VALUE z
    DEBUG DIGEST-VALUE z2
    RENAME z z3
    ZRANGE z3 0 -1 WITHSCORES
    EXISTS z
    MOVE z3 7
    EXISTS z3
    ZADD z3 9 x
    MOVE z3 7
    ZADD big 0 m0 1 m1 2 m2
    EXPIRE z2 100
    DEBUG DIGEST-VALUE z2
    "#,
)];

/// Every hand-written case, against a fresh pair of servers per group.
#[test]
fn differential_hand_written_cases() {
    if !redis_available("differential_hand_written_cases") {
        return;
    }
    for cases in [ADD_CASES, RANGE_CASES, POP_CASES, SETOP_CASES, GENERIC_CASES] {
        let mut duo = twin(&[]);
        run_cases(&mut duo, cases);
        duo.finish("differential_hand_written_cases");
    }
}

// ---- encodings and promotion ----

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// `ZADD key` followed by `n` pairs produced by `f`.
fn zadd_many(key: &str, n: usize, f: impl Fn(usize) -> (String, String)) -> Vec<Vec<u8>> {
    let mut c = cmd(&["ZADD", key]);
    for i in 0..n {
        let (s, m) = f(i);
        c.push(s.into_bytes());
        c.push(m.into_bytes());
    }
    c
}

#[test]
fn differential_promotion_thresholds() {
    if !redis_available("differential_promotion_thresholds") {
        return;
    }
    let mut duo = twin(&[]);
    let enc = |k: &str| cmd(&["OBJECT", "ENCODING", k]);
    let long = |n: usize| "x".repeat(n);
    let mut steps = vec![
        // 128 members stay a listpack, the 129th converts; ZREM never converts back.
        zadd_many("a", 128, |i| (i.to_string(), format!("m{i}"))),
        enc("a"),
        cmd(&["ZADD", "a", "1000", "last"]),
        enc("a"),
        cmd(&["ZREMRANGEBYRANK", "a", "0", "100"]),
        enc("a"),
        // A duplicate-heavy ZADD is sized by the members it really adds.
        zadd_many("b", 129, |_| ("1".into(), "m".into())),
        enc("b"),
        cmd(&["ZADD", "b", "1", "x"]),
        zadd_many("b", 200, |i| ((i % 3).to_string(), "y".into())),
        enc("b"),
        // Member length: 64 bytes fit, 65 do not, whether first or later.
        cmd(&["ZADD", "c", "1", &long(64)]),
        enc("c"),
        cmd(&["ZADD", "c", "1", &long(65)]),
        enc("c"),
        cmd(&["ZADD", "d", "1", &long(65)]),
        enc("d"),
        cmd(&["ZADD", "e", "1", "a", "2", &long(65)]),
        enc("e"),
        cmd(&["ZADD", "f", "1", &long(65), "XX"]),
        cmd(&["ZINCRBY", "g", "1", &long(65)]),
        enc("g"),
        // Stored results take the encoding of their final size.
        zadd_many("s", 200, |i| (i.to_string(), format!("m{i}"))),
        cmd(&["ZRANGESTORE", "r1", "s", "0", "127"]),
        enc("r1"),
        cmd(&["ZRANGESTORE", "r2", "s", "0", "128"]),
        enc("r2"),
        cmd(&["ZRANGESTORE", "r3", "s", "0", "10", "BYSCORE"]),
        enc("r3"),
        cmd(&["ZRANGESTORE", "r4", "s", "0", "150", "BYSCORE", "LIMIT", "0", "5"]),
        enc("r4"),
        cmd(&["ZRANGESTORE", "r5", "d", "0", "0"]),
        enc("r5"),
        cmd(&["ZUNIONSTORE", "u1", "2", "r1", "r3"]),
        enc("u1"),
        cmd(&["ZUNIONSTORE", "u2", "2", "r1", "r2"]),
        enc("u2"),
        cmd(&["ZINTERSTORE", "u3", "2", "s", "r3"]),
        enc("u3"),
        cmd(&["ZDIFFSTORE", "u4", "2", "s", "r2"]),
        enc("u4"),
        cmd(&["ZUNIONSTORE", "u5", "2", "r3", "d"]),
        enc("u5"),
        cmd(&["COPY", "a", "a2"]),
        enc("a2"),
        cmd(&[
            "DEBUG",
            "DIGEST-VALUE",
            "a",
            "a2",
            "b",
            "c",
            "d",
            "e",
            "s",
            "r1",
            "r2",
            "u1",
            "u2",
        ]),
        cmd(&["ZRANGE", "s", "100", "140", "WITHSCORES"]),
        cmd(&["ZRANGE", "a", "0", "-1", "WITHSCORES"]),
        cmd(&["ZRANGEBYSCORE", "s", "(50", "60", "WITHSCORES", "LIMIT", "2", "3"]),
        cmd(&["ZREVRANGEBYSCORE", "s", "+inf", "-inf", "LIMIT", "5", "3"]),
        cmd(&["ZRANK", "s", "m150"]),
        cmd(&["ZREVRANK", "s", "m150"]),
        cmd(&["ZCOUNT", "s", "(10", "150"]),
        cmd(&["ZPOPMIN", "s", "3"]),
        cmd(&["ZPOPMAX", "s", "3"]),
        cmd(&["ZMPOP", "1", "s", "MAX", "COUNT", "2"]),
        cmd(&["ZREMRANGEBYSCORE", "s", "(20", "30"]),
        cmd(&["ZREMRANGEBYRANK", "s", "-5", "-3"]),
        cmd(&["ZCARD", "s"]),
    ];
    // The thresholds are configuration (the old ziplist names too), read at each insert.
    steps.extend([
        cmd(&["CONFIG", "SET", "zset-max-ziplist-entries", "4"]),
        cmd(&["CONFIG", "SET", "zset-max-listpack-value", "3"]),
        zadd_many("h", 4, |i| (i.to_string(), format!("m{i}"))),
        enc("h"),
        cmd(&["ZADD", "h", "9", "m9"]),
        enc("h"),
        cmd(&["ZADD", "i", "1", "abcd"]),
        enc("i"),
        cmd(&["ZRANGESTORE", "j", "s", "0", "3"]),
        enc("j"),
        cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]),
        cmd(&["ZADD", "k", "1", "a"]),
        enc("k"),
        cmd(&["ZRANGESTORE", "l", "j", "0", "0"]),
        enc("l"),
        cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]),
        cmd(&["CONFIG", "SET", "zset-max-listpack-value", "64"]),
    ]);
    for c in &steps {
        duo.check("promotion", c, Cmp::Exact);
    }
    duo.check("promotion, final digest", &["DEBUG", "DIGEST"], Cmp::Exact);
    duo.finish("differential_promotion_thresholds");
}

/// A full ZSCAN of a large sorted set returns every member with its score, once or more.
#[test]
fn zscan_of_a_large_set_returns_everything() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let add = zadd_many("z", 1000, |i| (format!("{}", i as f64 / 8.0), format!("member:{i}")));
    assert_eq!(c.cmd(&add), int(1000));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    let mut cursor = b"0".to_vec();
    let mut seen = std::collections::HashMap::new();
    let mut calls = 0;
    loop {
        let reply = c.cmd(&[
            b"ZSCAN".to_vec(),
            b"z".to_vec(),
            cursor.clone(),
            b"COUNT".to_vec(),
            b"20".to_vec(),
        ]);
        let Value::Array(parts) = reply else {
            panic!("ZSCAN reply")
        };
        let (Value::Bulk(next), Value::Array(items)) = (&parts[0], &parts[1]) else {
            panic!("ZSCAN reply shape")
        };
        for pair in items.chunks(2) {
            if let (Value::Bulk(m), Value::Bulk(s)) = (&pair[0], &pair[1]) {
                seen.insert(m.clone(), s.clone());
            }
        }
        calls += 1;
        cursor = next.clone();
        if cursor == b"0" {
            break;
        }
        // Churn between calls must not hide members present throughout.
        if calls % 5 == 0 {
            c.cmd(&add_churn(calls));
        }
    }
    for i in 0..1000 {
        let m = format!("member:{i}").into_bytes();
        let want = format!("{}", i as f64 / 8.0);
        assert_eq!(
            seen.get(&m).map(|s| String::from_utf8_lossy(s).into_owned()),
            Some(want)
        );
    }
    assert!(calls > 10, "a large set is scanned in several calls");
}

fn add_churn(round: usize) -> Vec<Vec<u8>> {
    zadd_many("z", 300, |i| ("0".into(), format!("churn:{round}:{i}")))
}

// ---- random command streams ----

const MEMBERS: usize = 160;

fn member(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => "x".repeat(60 + rng.below(10)),
        1 => (rng.below(40) as i64 - 20).to_string(),
        2 => String::new(),
        _ => format!("m{}", rng.below(MEMBERS)),
    }
}

fn score(rng: &mut Rng) -> String {
    match rng.below(24) {
        0 => "inf".into(),
        1 => "-inf".into(),
        2 => "+inf".into(),
        3 => "nan".into(),
        4 => "x".into(),
        5 => "-0".into(),
        6 => format!("{}e{}", rng.below(10), rng.below(40) as i64 - 20),
        7 => format!("0x{:x}", rng.below(300)),
        8 => format!("{}.{}", rng.below(5), rng.below(1000)),
        9 => "4611686018427387904".into(),
        10 => format!("{}", (rng.next() as i64) >> rng.below(60)),
        _ => (rng.below(60) as i64 - 30).to_string(),
    }
}

fn bound(rng: &mut Rng) -> String {
    let s = match rng.below(8) {
        0 => "-inf".into(),
        1 => "+inf".into(),
        2 => "x".into(),
        _ => (rng.below(60) as i64 - 30).to_string(),
    };
    if rng.below(3) == 0 {
        format!("({s}")
    } else {
        s
    }
}

fn lex(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => "-".into(),
        1 => "+".into(),
        2 => "m".into(),
        3 => format!("(m{}", rng.below(MEMBERS)),
        _ => format!("[m{}", rng.below(MEMBERS)),
    }
}

fn rank(rng: &mut Rng) -> String {
    (rng.below(400) as i64 - 200).to_string()
}

/// One random command over keys `a`, `b`, `c` (sorted sets of any scores), `lx` (every score 0, for lex
/// ranges) and `s` (a string), valid and invalid arguments mixed.
fn random_command(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let key = |rng: &mut Rng| ["a", "b", "c", "nokey", "s"][rng.below(5)].to_string();
    let zkey = |rng: &mut Rng| ["a", "b", "c"][rng.below(3)].to_string();
    let mut v: Vec<String> = vec![];
    let mut cmp = Cmp::Exact;
    match rng.below(40) {
        0..=7 => {
            v.push("ZADD".into());
            v.push(if rng.below(12) == 0 { key(rng) } else { zkey(rng) });
            for f in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if rng.below(8) == 0 {
                    v.push(f.into());
                }
            }
            let n = if rng.below(4) == 0 {
                1 + rng.below(60)
            } else {
                1 + rng.below(4)
            };
            for _ in 0..n {
                v.push(score(rng));
                v.push(member(rng));
            }
            if rng.below(30) == 0 {
                v.pop();
            }
        }
        8 => {
            v.extend(["ZADD".into(), "lx".into()]);
            for _ in 0..1 + rng.below(8) {
                v.push("0".into());
                v.push(format!("m{}", rng.below(MEMBERS)));
            }
        }
        9 => v.extend(["ZINCRBY".into(), zkey(rng), score(rng), member(rng)]),
        10 | 11 => {
            v.extend(["ZREM".into(), key(rng)]);
            for _ in 0..1 + rng.below(5) {
                v.push(member(rng));
            }
        }
        12 => v.extend(["ZCARD".into(), key(rng)]),
        13 => v.extend(["ZSCORE".into(), key(rng), member(rng)]),
        14 => {
            v.extend(["ZMSCORE".into(), key(rng)]);
            for _ in 0..1 + rng.below(4) {
                v.push(member(rng));
            }
        }
        15 => v.extend([["ZRANK", "ZREVRANK"][rng.below(2)].into(), key(rng), member(rng)]),
        16 => v.extend(["ZCOUNT".into(), key(rng), bound(rng), bound(rng)]),
        17 => v.extend(["ZLEXCOUNT".into(), "lx".into(), lex(rng), lex(rng)]),
        18..=21 => {
            let by = rng.below(3);
            v.extend(["ZRANGE".into(), key(rng)]);
            match by {
                0 => v.extend([rank(rng), rank(rng)]),
                1 => v.extend([bound(rng), bound(rng), "BYSCORE".into()]),
                _ => {
                    v[1] = "lx".into();
                    v.extend([lex(rng), lex(rng), "BYLEX".into()]);
                }
            }
            if rng.below(2) == 0 {
                v.push("REV".into());
            }
            if rng.below(3) == 0 {
                v.extend(["LIMIT".into(), rank(rng), rank(rng)]);
            }
            if by != 2 && rng.below(2) == 0 {
                v.push("WITHSCORES".into());
            }
        }
        22 => {
            let c = ["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"][rng.below(2)];
            v.extend([c.into(), key(rng), bound(rng), bound(rng)]);
            if rng.below(2) == 0 {
                v.push("WITHSCORES".into());
            }
            if rng.below(2) == 0 {
                v.extend(["LIMIT".into(), rank(rng), rank(rng)]);
            }
        }
        23 => {
            let c = ["ZRANGEBYLEX", "ZREVRANGEBYLEX"][rng.below(2)];
            v.extend([c.into(), "lx".into(), lex(rng), lex(rng)]);
            if rng.below(2) == 0 {
                v.extend(["LIMIT".into(), rank(rng), rank(rng)]);
            }
        }
        24 => {
            v.extend(["ZRANGESTORE".into(), zkey(rng), zkey(rng), rank(rng), rank(rng)]);
            if rng.below(2) == 0 {
                v.push("REV".into());
            }
        }
        25 => v.extend(["ZREMRANGEBYRANK".into(), key(rng), rank(rng), rank(rng)]),
        26 => v.extend(["ZREMRANGEBYSCORE".into(), key(rng), bound(rng), bound(rng)]),
        27 => v.extend(["ZREMRANGEBYLEX".into(), "lx".into(), lex(rng), lex(rng)]),
        28 | 29 => {
            v.extend([["ZPOPMIN", "ZPOPMAX"][rng.below(2)].into(), key(rng)]);
            if rng.below(2) == 0 {
                v.push((rng.below(12) as i64 - 2).to_string());
            }
        }
        30 => {
            v.extend([
                "ZMPOP".into(),
                "2".into(),
                key(rng),
                key(rng),
                ["MIN", "MAX"][rng.below(2)].into(),
            ]);
            if rng.below(2) == 0 {
                v.extend(["COUNT".into(), (rng.below(6) as i64 - 1).to_string()]);
            }
        }
        31 => {
            v.extend([
                ["BZPOPMIN", "BZPOPMAX"][rng.below(2)].into(),
                key(rng),
                key(rng),
                "0.01".into(),
            ]);
        }
        32..=35 => {
            let op = [
                "ZUNION",
                "ZINTER",
                "ZDIFF",
                "ZUNIONSTORE",
                "ZINTERSTORE",
                "ZDIFFSTORE",
                "ZINTERCARD",
            ][rng.below(7)];
            v.push(op.into());
            if op.ends_with("STORE") {
                v.push(zkey(rng));
            }
            let n = 1 + rng.below(3);
            v.push(n.to_string());
            for _ in 0..n {
                v.push(if rng.below(6) == 0 { key(rng) } else { zkey(rng) });
            }
            if !op.starts_with("ZDIFF") && op != "ZINTERCARD" {
                if rng.below(2) == 0 {
                    v.push("WEIGHTS".into());
                    for _ in 0..n {
                        v.push(["1", "2", "-1", "0.5", "0", "inf", "-inf", "x"][rng.below(8)].into());
                    }
                }
                if rng.below(2) == 0 {
                    v.extend(["AGGREGATE".into(), ["SUM", "MIN", "MAX", "FOO"][rng.below(4)].into()]);
                }
            }
            if op == "ZINTERCARD" && rng.below(2) == 0 {
                v.extend(["LIMIT".into(), (rng.below(5) as i64 - 1).to_string()]);
            }
            if !op.ends_with("STORE") && op != "ZINTERCARD" && rng.below(2) == 0 {
                v.push("WITHSCORES".into());
            }
        }
        36 => {
            v.extend(["ZRANDMEMBER".into(), key(rng)]);
            if rng.below(3) > 0 {
                v.push((rng.below(400) as i64 - 200).to_string());
                if rng.below(2) == 0 {
                    v.push("WITHSCORES".into());
                }
            }
            cmp = Cmp::Shape;
        }
        37 => v.extend(["OBJECT".into(), "ENCODING".into(), zkey(rng)]),
        38 => v.extend(["DEBUG".into(), "DIGEST-VALUE".into(), zkey(rng), "lx".into()]),
        _ => v.extend(["SET".into(), "s".into(), "x".into()]),
    }
    (v, cmp)
}

fn random_stream(seed: u64, steps: usize, extra: &[&str]) {
    let mut duo = twin(extra);
    duo.set_label(&format!("seed {seed}"));
    let mut rng = Rng::new(seed);
    let fail = |duo: &mut Duo, msg: String| -> ! {
        let why = explain(duo);
        duo.failures.clear();
        panic!("seed {seed}, {msg}\n{why}\n  recent commands:\n    {}", duo.recent(50));
    };
    for step in 0..steps {
        let (c, cmp) = random_command(&mut rng);
        let c: Vec<Vec<u8>> = c.into_iter().map(String::into_bytes).collect();
        if !duo.agrees(&format!("step {step}"), &c, cmp) {
            let msg = duo.failures.join("\n");
            fail(&mut duo, msg);
        }
        // The encodings must agree after every write.
        if step % 5 == 0 {
            for k in ["a", "b", "c", "lx"] {
                if !duo.agrees(
                    &format!("step {step} (after {})", show_args(&c)),
                    &["OBJECT", "ENCODING", k],
                    Cmp::Exact,
                ) {
                    let msg = duo.failures.join("\n");
                    fail(&mut duo, msg);
                }
            }
        }
        if step % 100 == 99 && !duo.agrees(&format!("step {step}"), &["DEBUG", "DIGEST"], Cmp::Exact) {
            let msg = duo.failures.join("\n");
            fail(&mut duo, msg);
        }
    }
    duo.check("final digest", &["DEBUG", "DIGEST"], Cmp::Exact);
    duo.finish(&format!("random stream, seed {seed}"));
}

/// `FERRITE_ZSETS_SEED` replays a failure (the panic message prints the seed); `FERRITE_ZSETS_STEPS`
/// lengthens a soak.
fn seed() -> u64 {
    env_u64("FERRITE_ZSETS_SEED", 0x5eed_2500)
}

fn steps() -> usize {
    env_u64("FERRITE_ZSETS_STEPS", 3000) as usize
}

#[test]
fn differential_random_streams_default_thresholds() {
    if !redis_available("differential_random_streams_default_thresholds") {
        return;
    }
    random_stream(seed(), steps(), &[]);
}

#[test]
fn differential_random_streams_small_thresholds() {
    if !redis_available("differential_random_streams_small_thresholds") {
        return;
    }
    random_stream(
        seed() ^ 0xabcdef,
        steps(),
        &["--zset-max-listpack-entries", "6", "--zset-max-listpack-value", "8"],
    );
}

// ---- blocking pops ----

fn client_id(c: &mut Raw) -> String {
    match c.cmd(&["CLIENT", "ID"]) {
        Value::Int(i) => i.to_string(),
        other => panic!("CLIENT ID: {other:?}"),
    }
}

/// The choreography of several clients around blocking pops; returns every reply in order, for
/// comparison with Redis's.
fn blocking_choreography(s: &Server) -> Vec<Value> {
    let mut log = vec![];
    let mut ctl = s.raw();
    let mut w: Vec<Raw> = (0..3).map(|_| s.raw()).collect();
    // FIFO: three waiters on one key, served in the order they blocked.
    for (i, c) in w.iter_mut().enumerate() {
        c.send(&["BZPOPMIN", "k", "0"]);
        wait_blocked(&mut ctl, i + 1);
    }
    log.push(ctl.cmd(&["ZADD", "k", "1", "a", "2", "b"]));
    log.push(w[0].read());
    log.push(w[1].read());
    log.push(ctl.cmd(&["ZADD", "k", "3", "c"]));
    log.push(w[2].read());
    log.push(ctl.cmd(&["EXISTS", "k"]));
    // Several keys: served from the key that was written.
    w[0].send(&["BZPOPMAX", "k1", "k2", "k3", "0"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["ZADD", "k2", "5", "x", "6", "y"]));
    log.push(w[0].read());
    // A key recreated with another type does not serve; a sorted set later does.
    w[0].send(&["BZPOPMIN", "k4", "0"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["SET", "k4", "str"]));
    log.push(ctl.cmd(&["DEL", "k4"]));
    log.push(ctl.cmd(&["ZADD", "k4", "7", "z"]));
    log.push(w[0].read());
    // BZMPOP with a count, and the RESP3 shape of a served pop.
    // (HELLO's own reply names the server, so it stays out of the transcript.)
    let _ = w[1].cmd(&["HELLO", "3"]);
    w[1].send(&["BZMPOP", "0", "2", "m1", "m2", "MAX", "COUNT", "2"]);
    w[2].send(&["BZPOPMIN", "m2", "0"]);
    wait_blocked(&mut ctl, 2);
    log.push(ctl.cmd(&["ZADD", "m2", "1", "a", "2", "b", "3", "c"]));
    log.push(w[1].read());
    log.push(w[2].read());
    // Timeouts.
    log.push(w[0].cmd(&["BZPOPMIN", "t", "0.05"]));
    log.push(w[0].cmd(&["BZMPOP", "0.05", "1", "t", "MIN"]));
    log.push(w[1].cmd(&["BZPOPMAX", "t", "0.05"]));
    // CLIENT UNBLOCK: as a timeout, then as an error.
    let id = client_id(&mut w[0]);
    w[0].send(&["BZPOPMIN", "u", "0"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["CLIENT", "UNBLOCK", &id]));
    log.push(w[0].read());
    w[0].send(&["BZMPOP", "0", "1", "u", "MIN"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]));
    log.push(w[0].read());
    log.push(ctl.cmd(&["CLIENT", "UNBLOCK", &id]));
    // Keys created by other commands wake waiters too: stores, RENAME, COPY.
    log.push(ctl.cmd(&["ZADD", "src", "1", "a", "2", "b", "3", "c"]));
    for (i, create) in [
        &["ZUNIONSTORE", "w1", "1", "src"][..],
        &["ZRANGESTORE", "w2", "src", "0", "0"],
        &["ZINTERSTORE", "w3", "2", "src", "src", "WEIGHTS", "1", "2"],
        &["COPY", "src", "w4"],
        &["RENAME", "src", "w5"],
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("w{}", i + 1);
        w[0].send(&["BZPOPMAX", &key, "0"]);
        wait_blocked(&mut ctl, 1);
        log.push(ctl.cmd(create));
        log.push(w[0].read());
    }
    // A pipeline behind a blocked pop runs once it is served.
    w[0].send_raw(&[Raw::encode(&["BZPOPMIN", "p", "0"]), Raw::encode(&["ZCARD", "p"])].concat());
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["ZADD", "p", "1", "a", "2", "b"]));
    log.push(w[0].read());
    log.push(w[0].read());
    log
}

#[test]
fn blocking_pops_match_redis() {
    let f = Server::ferrite(&[]);
    let ours = blocking_choreography(&f);
    // Facts that need no oracle.
    assert_eq!(ours[1], Value::Array(vec![bulk("k"), bulk("a"), bulk("1")]));
    assert_eq!(ours[2], Value::Array(vec![bulk("k"), bulk("b"), bulk("2")]));
    assert_eq!(ours[4], Value::Array(vec![bulk("k"), bulk("c"), bulk("3")]));
    assert_eq!(ours[7], Value::Array(vec![bulk("k2"), bulk("y"), bulk("6")]));
    if !redis_available("blocking_pops_match_redis") {
        return;
    }
    let r = Server::redis(&[]);
    let theirs = blocking_choreography(&r);
    common::diff::assert_same_transcripts(&ours, &theirs);
    assert_eq!(ours.len(), theirs.len());
}

#[test]
fn far_away_timeout_is_answered_right_after_a_write() {
    let f = Server::ferrite(&[]);
    let mut ctl = f.raw();
    let mut waiter = f.raw();
    waiter.send(&["BZPOPMIN", "far", "100000"]);
    wait_blocked(&mut ctl, 1);
    let t = Instant::now();
    assert_eq!(ctl.cmd(&["ZADD", "far", "1", "m"]), int(1));
    assert_eq!(waiter.read(), Value::Array(vec![bulk("far"), bulk("m"), bulk("1")]));
    assert!(t.elapsed() < Duration::from_secs(20));
    wait_blocked(&mut ctl, 0);
}

#[test]
fn timeouts_are_honoured() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    assert_eq!(c.cmd(&["BZPOPMIN", "none", "0.2"]), Value::NullArray);
    assert_eq!(c.cmd(&["BZMPOP", "0.1", "1", "none", "MAX"]), Value::NullArray);
    assert_eq!(c.cmd(&["PING"]), Value::Simple(b"PONG".to_vec()));
}

#[test]
fn waiters_on_a_big_key_share_it_in_order() {
    let f = Server::ferrite(&[]);
    let mut ctl = f.raw();
    let mut w: Vec<Raw> = (0..5).map(|_| f.raw()).collect();
    for (i, c) in w.iter_mut().enumerate() {
        c.send(&["BZMPOP", "0", "1", "big", "MIN", "COUNT", "100"]);
        wait_blocked(&mut ctl, i + 1);
    }
    let add = zadd_many("big", 250, |i| (i.to_string(), format!("m{i:03}")));
    assert_eq!(ctl.cmd(&add), int(250));
    let counts: Vec<usize> = w[..3]
        .iter_mut()
        .map(|c| match c.read() {
            Value::Array(parts) => match &parts[1] {
                Value::Array(items) => items.len(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(counts, vec![100, 100, 50]);
    wait_blocked(&mut ctl, 2);
    assert_eq!(ctl.cmd(&["EXISTS", "big"]), int(0));
}

/// ZRANDMEMBER on a large set: distinct members for a positive count (both of Redis's strategies),
/// any number of repeats for a negative one, scores that are the members' own.
#[test]
fn random_members_of_a_large_set() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    let add = zadd_many("z", 1000, |i| (format!("{i}.5"), format!("m{i}")));
    assert_eq!(c.cmd(&add), int(1000));
    for (count, distinct) in [
        ("10", Some(10)),
        ("500", Some(500)),
        ("999", Some(999)),
        ("-2000", None),
    ] {
        let Value::Array(items) = c.cmd(&["ZRANDMEMBER", "z", count, "WITHSCORES"]) else {
            panic!("array")
        };
        let pairs: Vec<(String, String)> = items
            .chunks(2)
            .map(|p| match (&p[0], &p[1]) {
                (Value::Bulk(m), Value::Bulk(s)) => (
                    String::from_utf8_lossy(m).into_owned(),
                    String::from_utf8_lossy(s).into_owned(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        for (m, s) in &pairs {
            assert_eq!(format!("m{}", s.trim_end_matches(".5")), *m, "score of {m}");
        }
        let set: std::collections::HashSet<&String> = pairs.iter().map(|(m, _)| m).collect();
        match distinct {
            Some(n) => assert_eq!((pairs.len(), set.len()), (n, n), "count {count}"),
            None => assert_eq!(pairs.len(), 2000),
        }
    }
}
