//! Keyspace notifications, compared event by event with a real `redis-server` (`Scenario`): connection
//! `S` subscribes to every keyspace and keyevent channel, `W` runs writes (and reads, for `keymiss`);
//! after each step what `S` received (channel, payload, order) must be what Redis published. Every write
//! command of every type is covered, including the cases where Redis publishes nothing (a write that
//! changes nothing), the `del` of a collection emptied by a command, lazy and active expiry, keys in other
//! databases, MULTI/EXEC and scripts, every class letter and a RESP3 subscriber.

mod common;

use common::scenario::Scenario;
use common::{bulk, int, simple, Server, Value};

/// Subscribe `S` to every event, then enable the classes `flags` on both servers.
fn setup(flags: &str) -> String {
    format!("S: PSUBSCRIBE __key*__:*\nW: CONFIG SET notify-keyspace-events {flags}\n")
}

/// Run each `(name, flags, script)` on a fresh pair of servers.
fn run_all(test: &str, scripts: &[(&str, &str, &str)]) {
    let mut failures = vec![];
    for (name, flags, script) in scripts {
        let Some(mut s) = Scenario::for_test(&format!("{test}: {name}"), &[]) else {
            return;
        };
        s.run(&setup(flags));
        s.run(script);
        failures.append(&mut s.failures);
        s.finish();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const STRINGS: &str = r#"
W: SET s v
W: SET s v2
W: SET s v3 EX 100
W: SET s v4 KEEPTTL
W: SET s v5 PX 100000 GET
W: SET s v NX
W: SET s2 v XX
W: SET s2 v NX GET
W: SET s2 v XX GET
W: SET s3 v EXAT 1
W: SET s4 v PXAT 99999999999999
W: SETNX s v
W: SETNX s5 v
W: SETEX s6 100 v
W: SETEX s6 0 v
W: PSETEX s7 100000 v
W: GETSET s w
W: GETSET s8 w
W: GETDEL s8
W: GETDEL nosuch
W: GETEX s EX 100
W: GETEX s PERSIST
W: GETEX s PERSIST
W: GETEX s
W: GETEX s PXAT 1
W: GETEX nosuch EX 10
W: MSET a 1 b 2 a 3
W: MSETNX c 1 a 1
W: MSETNX c 1 d 2 c 3
W: APPEND a x
W: APPEND e ""
W: APPEND e y
W: SETRANGE f 0 ""
W: SETRANGE a 0 ""
W: SETRANGE a 1 zz
W: SETRANGE g 3 z
W: INCR n
W: INCRBY n 5
W: DECR n
W: DECRBY n 2
W: INCRBYFLOAT n 1.5
W: INCRBYFLOAT nf 2
W: INCR a
W: INCRBYFLOAT a 1
W: SET big 9223372036854775807
W: INCR big
W: LPUSH wrong x
W: APPEND wrong x
W: SET wrong x GET
"#;

const BITS: &str = r#"
W: SETBIT bits 7 1
W: SETBIT bits 7 1
W: SETBIT bits 7 0
W: SETBIT bits 100 0
W: SETBIT fresh 0 0
W: BITOP OR dest bits
W: BITOP NOT dest2 bits
W: BITOP AND dest nosuch
W: BITOP AND dest nosuch
W: BITOP XOR dest3 nosuch other
W: BITFIELD bf SET u8 0 255
W: BITFIELD bf GET u8 0
W: BITFIELD bf INCRBY u8 0 10
W: BITFIELD bf OVERFLOW FAIL INCRBY u8 0 255
W: BITFIELD bf2 OVERFLOW FAIL INCRBY u8 0 300
W: BITFIELD bf3 GET u8 0
W: BITFIELD bf SET u8 0 1 SET u8 8 2
W: BITFIELD bf SET u8 0 1
W: BITFIELD bf OVERFLOW FAIL INCRBY u8 0 255 SET u8 8 2
W: BITFIELD_RO bf GET u8 0
"#;

const HLL: &str = r#"
W: PFADD h a b c
W: PFADD h a
W: PFADD h2
W: PFADD h2
W: PFADD h2 x
W: PFCOUNT h
W: PFCOUNT h
W: PFCOUNT h h2
W: PFMERGE h3 h h2
W: PFMERGE h3
W: PFMERGE h4
W: PFCOUNT nosuch
"#;

const LISTS: &str = r#"
W: LPUSH l a b
W: RPUSH l c
W: LPUSHX nol a
W: RPUSHX l d
W: LPUSHX l e
W: LINSERT l BEFORE c x
W: LINSERT l AFTER nopivot x
W: LINSERT nol BEFORE a x
W: LSET l 0 y
W: LSET l 100 y
W: LREM l 0 nothing
W: LREM l 1 x
W: LTRIM l 0 -1
W: LTRIM l 1 -1
W: LTRIM nol 0 1
W: LPOP l
W: RPOP l
W: LPOP l 0
W: LPOP l 10
W: LPOP nol
W: RPUSH l1 a
W: LREM l1 0 a
W: RPUSH l1 a
W: LTRIM l1 1 0
W: RPUSH l2 a b c
W: LMPOP 2 nol l2 LEFT COUNT 2
W: LMPOP 1 l2 RIGHT
W: LMPOP 1 l2 RIGHT
W: RPUSH src a b
W: RPOPLPUSH src dst
W: LMOVE src dst LEFT RIGHT
W: RPUSH r a
W: LMOVE r r LEFT RIGHT
W: RPOPLPUSH r r
W: RPUSH r b
W: LMOVE r r RIGHT LEFT
W: LMOVE nol dst LEFT LEFT
W: SET str x
W: LMOVE dst str LEFT LEFT
W: RPUSH x 1
W: BLPOP x 0
W: RPUSH x 1 2
W: BRPOP nol x 0
W: BLMOVE x y LEFT LEFT 0
W: BRPOPLPUSH y x 0
W: RPUSH y a b
W: BLMPOP 0 1 y LEFT COUNT 5
W: BLMPOP 0 1 x RIGHT
W: MULTI
W: BLPOP nol 0
W: EXEC
"#;

const BLOCKED_LISTS: &str = r#"
&B: BLPOP bl 0
W: LPUSH bl a
B: PING
&B: BRPOP bl 0
W: RPUSH bl a b
B: PING
W: DEL bl
&B: BLMOVE bl2 bl3 RIGHT LEFT 0
W: RPUSH bl2 a
B: PING
&B: BLMOVE bl2 bl3 RIGHT LEFT 0
W: RPUSH bl2 a b
B: PING
&B: BLMPOP 0 2 bl4 bl5 RIGHT COUNT 3
W: RPUSH bl5 a
B: PING
&B: BRPOPLPUSH bl6 bl6 0
W: RPUSH bl6 a
B: PING
&B: BLPOP bl7 0
W: MULTI
W: RPUSH bl7 a
W: RPUSH bl7 b
W: EXEC
B: PING
&B: BLPOP bl8 0
W: EVAL "redis.call('rpush', KEYS[1], 'a'); redis.call('rpush', KEYS[1], 'b'); return 1" 1 bl8
B: PING
&B: BZPOPMIN bz 0
W: ZADD bz 1 a
B: PING
&B: BZPOPMAX bz 0
W: ZADD bz 1 a 2 b
B: PING
&B: BZMPOP 0 1 bz MIN COUNT 5
W: ZADD bz 1 a
B: PING
"#;

const HASHES: &str = r#"
W: HSET h f v
W: HSET h f v g w
W: HSET h f v
W: HMSET h f v
W: HSETNX h f v
W: HSETNX h n v
W: HSETNX h2 n v
W: HDEL h nosuch
W: HDEL h f g
W: HINCRBY h i 1
W: HINCRBY h2 i 1
W: HINCRBYFLOAT h fl 1.5
W: HINCRBYFLOAT h3 fl 1.5
W: HINCRBY h n 1
W: HINCRBYFLOAT h n 1
W: HDEL h n i fl
W: HDEL h nosuch
W: HDEL h2 n i
"#;

const SETS: &str = r#"
W: SADD s a b
W: SADD s a
W: SREM s nosuch
W: SREM s a
W: SREM nos a
W: SMOVE s t b
W: SMOVE nos t b
W: SADD s x
W: SADD t x
W: SMOVE s t x
W: SMOVE t t x
W: SMOVE t t nosuch
W: SMOVE t s nosuch
W: SADD p a b c d e
# Which members go is random: the replies are compared by shape, the events exactly below.
?W: SPOP p
W: SCARD p
W: SPOP p 0
?W: SPOP p 2
W: SCARD p
W: DEL p
W: SADD p a b
?W: SPOP p 10
W: SPOP p
W: SADD p a
W: SPOP p
W: SADD p a b
?W: SPOP p 2
W: EXISTS p
W: SADD p a b c
W: SREM p a b
W: SPOP p 1
W: SADD a1 a b c
W: SADD a2 b c d
W: SINTERSTORE d a1 a2
W: SUNIONSTORE d a1 a2
W: SDIFFSTORE d a1 a2
W: SINTERSTORE d a1 nosuch
W: SINTERSTORE d a1 nosuch
W: SUNIONSTORE d nosuch
W: SUNIONSTORE d a1
W: SDIFFSTORE d a1 a1
W: SDIFFSTORE d nosuch a1
W: SINTERSTORE a1 a1 a2
W: SINTERCARD 2 a1 a2
"#;

const ZSETS: &str = r#"
W: ZADD z 1 a 2 b
W: ZADD z 1 a
W: ZADD z 3 a
W: ZADD z NX 5 a
W: ZADD z XX 5 c
W: ZADD z INCR 1 a
W: ZADD z NX INCR 1 a
W: ZADD z GT 1 a
W: ZADD z CH 9 a
W: ZINCRBY z 1 a
W: ZINCRBY z 1 newm
W: ZINCRBY z2 1 newm
W: ZREM z nosuch
W: ZREM z newm
W: ZREM nosuch a
W: ZADD z 4 c 5 d 6 e 6 f 6 g
W: ZREMRANGEBYSCORE z 100 200
W: ZREMRANGEBYSCORE z 4 4
W: ZREMRANGEBYRANK z 0 0
W: ZREMRANGEBYRANK z 100 200
W: ZREMRANGEBYLEX z [e [f
W: ZREMRANGEBYLEX z [x [y
W: ZPOPMIN z
W: ZPOPMAX z 2
W: ZPOPMIN z 0
W: ZPOPMIN nosuch
W: ZMPOP 2 nosuch z MIN COUNT 10
W: ZADD z 1 a
W: ZREMRANGEBYRANK z 0 -1
W: ZADD z 1 a
W: ZREMRANGEBYSCORE z -inf +inf
W: ZADD z 1 a
W: ZREMRANGEBYLEX z - +
W: ZADD z 1 a
W: ZREM z a
W: ZADD z2 1 a
W: BZPOPMIN z2 0
W: ZADD z2 1 a 2 b
W: BZPOPMAX nosuch z2 0
W: BZMPOP 0 1 z2 MAX
W: ZADD u1 1 a 2 b
W: ZADD u2 3 b 4 c
W: ZUNIONSTORE zd 2 u1 u2
W: ZINTERSTORE zd 2 u1 u2
W: ZDIFFSTORE zd 2 u1 u2
W: ZINTERSTORE zd 2 u1 nosuch
W: ZINTERSTORE zd 2 u1 nosuch
W: ZUNIONSTORE zd 1 nosuch
W: ZDIFFSTORE zd 2 u1 u1
W: ZRANGESTORE zr u1 0 -1
W: ZRANGESTORE zr u1 5 10
W: ZRANGESTORE zr u1 5 10
W: ZRANGESTORE zr nosuch 0 -1
W: ZUNIONSTORE u1 2 u1 u2
W: ZINTERCARD 2 u1 u2
W: ZUNION 2 u1 nosuch
"#;

const STREAMS: &str = r#"
W: XADD s 1-1 f v
W: XADD s MAXLEN 1 2-1 f v
W: XADD s NOMKSTREAM 3-1 f v
W: XADD nostream NOMKSTREAM 1-1 f v
W: XADD s 1-1 f v
W: XTRIM s MAXLEN 5
W: XADD s 4-1 f v
W: XTRIM s MAXLEN 1
W: XDEL s 1-1
W: XADD s 5-1 f v
W: XDEL s 5-1 9-9
W: XSETID s 10-0
W: XGROUP CREATE s g $
W: XGROUP CREATE s g $
W: XGROUP CREATE made g 0 MKSTREAM
W: XGROUP SETID s g 0
W: XGROUP CREATECONSUMER s g alice
W: XGROUP CREATECONSUMER s g alice
W: XADD s 11-1 f v
W: XREADGROUP GROUP g bob COUNT 1 STREAMS s >
W: XREADGROUP GROUP g bob STREAMS s >
W: XREADGROUP GROUP g carol NOACK STREAMS s >
W: XCLAIM s g dave 0 4-1
W: XAUTOCLAIM s g erin 0 0
W: XACK s g 4-1 11-1
W: XGROUP DELCONSUMER s g alice
W: XGROUP DELCONSUMER s g nobody
W: XGROUP DESTROY s g
W: XGROUP DESTROY s g
W: XLEN s
W: XRANGE nostream - +
W: XREAD STREAMS nostream 0
W: XINFO STREAM s
W: DEL s made
"#;

const KEYS: &str = r#"
W: SET k v
W: DEL k nosuch
W: MSET k1 v k2 v
W: DEL k1 k1 k2
W: MSET k1 v k2 v
W: UNLINK k1 k2 k3
W: SET k v
W: EXPIRE k 100
W: EXPIRE k 100 NX
W: EXPIRE k 200 NX
W: PEXPIRE k 100000 XX
W: EXPIRE k 1 GT
W: EXPIREAT k 99999999999
W: PEXPIREAT k 99999999999999
W: PERSIST k
W: PERSIST k
W: PERSIST nosuch
W: EXPIRE nosuch 10
W: EXPIRE k 0
W: SET k v
W: PEXPIREAT k 1
W: SET k v
W: EXPIRE k -1
W: SET k v
W: PEXPIRE k 0 NX
W: RENAME k k2
W: RENAME k2 k2
W: SET k3 x
W: RENAME k2 k3
W: RENAMENX k3 k4
W: SET k5 v
W: RENAMENX k4 k5
W: RENAMENX k4 k4
W: RENAME nosuch x
W: SET mk v EX 100
W: MOVE mk 3
W: MOVE mk 3
W: MOVE nosuch 3
W: SET mk v
W: MOVE mk 3
W: SELECT 3
W: MOVE mk 0
W: SELECT 0
W: COPY k5 k7
W: COPY k5 k7
W: COPY k5 k7 REPLACE
W: COPY k5 k8 DB 4
W: COPY k5 k8 DB 4
W: COPY nosuch k9
W: COPY k5 k5
W: RPUSH sl 3 1 2
W: SORT sl STORE out
W: SORT sl STORE out
W: SORT nosuch STORE out
W: SORT nosuch STORE out
W: SORT sl LIMIT 5 1 STORE out2
W: SORT sl
W: TOUCH k5 nosuch
W: SWAPDB 0 3
W: SWAPDB 0 3
W: FLUSHDB
W: SET k v
W: FLUSHALL
W: FLUSHDB ASYNC
"#;

/// Keys past their deadline: found on access (lazy expiry; the `expired` event comes before whatever the
/// command then reports, `keymiss` or a new key) and by the active cycle.
const EXPIRY: &str = r#"
W: DEBUG SET-ACTIVE-EXPIRE 0
W: SET e v PX 1
W: HSET eh f v
W: PEXPIRE eh 1
W: SET e2 v PX 1
W: SET e3 v PX 1
W: SET e4 v PX 1
W: SET e5 v PX 1
W: SET e6 v PX 1
W: SET e7 v PX 1
W: SET e8 v PX 1
W: SET e9 v PX 1
W: SADD e10 m
W: PEXPIRE e10 1
@sleep 50
W: GET e
W: GET e
W: LPUSH eh a
W: DEL e2
W: SET e3 w
W: EXISTS e4
W: EXPIRE e5 100
W: SCAN 0 TYPE string MATCH e6
W: SCAN 0 MATCH e7
W: KEYS e8*
W: OBJECT ENCODING e9
W: SINTERSTORE dst e10
W: SET a v PX 1
W: SET b v PX 1
W: RPUSH c x
W: PEXPIRE c 1
W: SET keep v EX 1000
W: DEBUG SET-ACTIVE-EXPIRE 1
@sleep 400
~W: PING
W: DBSIZE
"#;

/// Reads report `keymiss` (class `m`) where Redis's lookup does.
const KEYMISS: &str = r#"
W: SET str v
W: RPUSH list a
W: GET nosuch
W: GET str
W: MGET str nosuch nosuch2 list
W: HGET nosuch f
W: HGETALL nosuch
W: HMGET nosuch f
W: HEXISTS nosuch f
W: HLEN nosuch
W: TYPE nosuch
W: EXISTS nosuch str nosuch2
W: TTL nosuch
W: PTTL nosuch
W: EXPIRETIME nosuch
W: OBJECT ENCODING nosuch
W: OBJECT FREQ nosuch
W: OBJECT IDLETIME nosuch
W: MEMORY USAGE nosuch
W: STRLEN nosuch
W: GETRANGE nosuch 0 1
W: GETBIT nosuch 1
W: BITCOUNT nosuch
W: BITPOS nosuch 1
W: BITFIELD_RO nosuch GET u8 0
W: LCS nosuch str
W: LLEN nosuch
W: LRANGE nosuch 0 -1
W: LINDEX nosuch 0
W: LPOS nosuch a
W: SMEMBERS nosuch
W: SCARD nosuch
W: SISMEMBER nosuch a
W: SRANDMEMBER nosuch
W: SINTER nosuch str
W: SUNION nosuch nosuch2
W: SDIFF nosuch
W: SINTERCARD 2 nosuch nosuch2
W: SINTERSTORE d nosuch
W: SUNIONSTORE d nosuch
W: ZSCORE nosuch a
W: ZRANGE nosuch 0 -1
W: ZCARD nosuch
W: ZRANK nosuch a
W: ZRANDMEMBER nosuch
W: ZUNION 2 nosuch nosuch2
W: ZUNIONSTORE d 1 nosuch
W: ZRANGESTORE d nosuch 0 -1
W: ZINTERCARD 1 nosuch
W: PFCOUNT nosuch
W: PFMERGE d2 nosuch
W: SORT nosuch
W: SORT list BY w_* GET o_*
W: SORT list BY nosort GET #
?W: RANDOMKEY
W: SCAN 0 MATCH nosuch*
W: SCAN 0 TYPE string MATCH nosuch*
W: KEYS nosuch*
W: GETDEL nosuch
W: GETEX nosuch
W: GETSET nosuch2 v
W: INCR nosuch3
W: LPOP nosuch
W: SPOP nosuch
W: ZPOPMIN nosuch
W: HINCRBY nosuch4 f 1
W: COPY nosuch x
W: RENAME nosuch x
W: MOVE nosuch 1
W: DEL nosuch
W: APPEND nosuch5 x
W: SET nosuch6 x GET
W: HRANDFIELD nosuch
W: HSTRLEN nosuch f
W: ZSCAN nosuch 0
W: SSCAN nosuch 0
W: HSCAN nosuch 0
W: TOUCH nosuch
W: PFADD nosuch7 a
W: EVAL "return redis.call('get', KEYS[1])" 1 nosuch
W: MULTI
W: GET nosuch
W: GET str
W: EXEC
"#;

/// Other databases: channels name the database of the key.
const DATABASES: &str = r#"
W: SELECT 3
W: SET k v
W: LPUSH l a
W: MOVE k 5
W: SELECT 5
W: RENAME k k2
W: COPY k2 k3 DB 0
W: SELECT 0
W: DEL k3
W: GET nosuch
"#;

/// Transactions and scripts: the events of the commands they run, in order, as they run.
const TRANSACTIONS: &str = r##"
W: MULTI
W: SET a 1
W: LPUSH l x
W: INCR a
W: DEL a
W: EXPIRE l 100
W: EXEC
W: EVAL "redis.call('set', 'a', '1'); redis.call('lpush', 'l', 'y'); redis.call('sadd', 's', 'm'); return redis.call('del', 'a')" 0
W: EVAL "redis.call('hset', 'h', 'f', 'v'); redis.call('incr', 'h'); return 1" 0
W: MULTI
W: SET a 1
W: LPUSH a x
W: INCR a
W: EXEC
W: FUNCTION LOAD "#!lua name=lib\x0aredis.register_function('f', function(keys) redis.call('set', keys[1], 'x'); return redis.call('del', keys[1]) end)"
W: FCALL f 1 fk
W: MULTI
W: EVAL "return redis.call('rpush', KEYS[1], 'z')" 1 l
W: LPOP l
W: EXEC
"##;

/// A subscriber speaking RESP3 gets the events as pushes.
const RESP3: &str = r#"
W: SET k v
W: LPUSH l a b
W: DEL k l
W: GET nosuch
"#;

#[test]
fn strings_notify_as_redis() {
    run_all(
        "strings_notify_as_redis",
        &[
            ("strings", "KEAn", STRINGS),
            ("bits", "KEAn", BITS),
            ("hyperloglog", "KEAn", HLL),
        ],
    );
}

#[test]
fn lists_notify_as_redis() {
    run_all(
        "lists_notify_as_redis",
        &[
            ("lists", "KEAn", LISTS),
            ("blocked clients served", "KEAn", BLOCKED_LISTS),
        ],
    );
}

#[test]
fn hashes_sets_and_zsets_notify_as_redis() {
    run_all(
        "hashes_sets_and_zsets_notify_as_redis",
        &[
            ("hashes", "KEAn", HASHES),
            ("sets", "KEAn", SETS),
            ("zsets", "KEAn", ZSETS),
        ],
    );
}

#[test]
fn generic_commands_notify_as_redis() {
    run_all("generic_commands_notify_as_redis", &[("keys", "KEAn", KEYS)]);
}

#[test]
fn streams_notify_as_redis() {
    run_all(
        "streams_notify_as_redis",
        &[("streams", "KEAnm", STREAMS), ("stream class only", "Kt", STREAMS)],
    );
}

#[test]
fn key_misses_notify_as_redis() {
    run_all("key_misses_notify_as_redis", &[("keymiss", "KEm", KEYMISS)]);
}

/// Lazy and active expiry. Both servers must really have expired the keys by the end (else the events
/// compared would be none on both sides).
#[test]
fn expiry_notifies_as_redis() {
    let Some(mut s) = Scenario::for_test("expiry_notifies_as_redis", &[]) else {
        return;
    };
    s.run(&setup("KEAnm"));
    s.run(EXPIRY);
    let (ferrite, redis) = s.servers();
    for server in [ferrite, redis] {
        let mut raw = server.raw();
        let mut keys = match raw.cmd(&["KEYS", "*"]) {
            Value::Array(keys) => keys,
            other => panic!("KEYS: {other:?}"),
        };
        keys.sort_by_key(|k| format!("{k:?}"));
        let mut expected = vec![bulk("e3"), bulk("eh"), bulk("keep")];
        expected.sort_by_key(|k| format!("{k:?}"));
        assert_eq!(keys, expected, "the keys left once every deadline has passed");
    }
    s.finish();
}

#[test]
fn databases_transactions_and_scripts_notify_as_redis() {
    run_all(
        "databases_transactions_and_scripts_notify_as_redis",
        &[
            ("databases", "KEAnm", DATABASES),
            ("transactions and scripts", "KEA", TRANSACTIONS),
        ],
    );
}

#[test]
fn resp3_subscriber_gets_pushes() {
    let script = format!("?S: HELLO 3\n{}{RESP3}", setup("KEAm"));
    run_all("resp3_subscriber_gets_pushes", &[("resp3", "KEAm", &script)]);
}

/// One mixed script under each class selection: every class letter alone (with K, E or both) and the
/// usual combinations. An event outside the selection must not be published, one inside it must be.
#[test]
fn class_letters_select_events_as_redis() {
    const MIXED: &str = r#"
W: SET s v
W: APPEND s x
W: LPUSH l a b
W: LPOP l
W: SADD st a
W: HSET h f v
W: ZADD z 1 a
W: EXPIRE s 100
W: RENAME s s2
W: DEL st h
W: GET nosuch
W: SET e v PX 1
@sleep 20
W: GET e
W: PFADD hll a
W: DEL s2 l z hll
"#;
    let mut scripts = vec![];
    let selections = [
        "g", "$", "l", "s", "h", "z", "x", "e", "t", "m", "n", "K", "E", "A", "Kg", "E$", "Kl", "Es", "Kh", "Ez", "Kx",
        "Ex", "Ke", "Et", "Km", "Em", "Kn", "KEn", "KA", "EA", "KEA", "KEAm", "KEAmn", "Elz", "Kgx$", "",
    ];
    let names: Vec<String> = selections.iter().map(|s| format!("flags {s:?}")).collect();
    for (name, flags) in names.iter().zip(selections) {
        scripts.push((name.as_str(), if flags.is_empty() { "\"\"" } else { flags }, MIXED));
    }
    // A fresh server pair for each selection, with active expiry off so that `e` expires on access.
    let mut failures = vec![];
    for (name, flags, script) in scripts {
        let Some(mut s) = Scenario::for_test(&format!("class_letters_select_events_as_redis: {name}"), &[]) else {
            return;
        };
        s.run("W: DEBUG SET-ACTIVE-EXPIRE 0");
        s.run(&setup(flags));
        s.run("W: CONFIG GET notify-keyspace-events");
        s.run(script);
        failures.append(&mut s.failures);
        s.finish();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The LOCK.* commands (a Ferrite extension) publish no keyspace events: a lock is not a key of any
/// database. A command run through LOCK.FENCED publishes its own events, as it would alone.
#[test]
fn locks_publish_no_keyspace_events() {
    let s = Server::ferrite(&["--notify-keyspace-events", "KEA"]);
    let mut sub = s.raw();
    sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    let mut w = s.raw();
    let Value::Array(token) = w.cmd(&["LOCK.ACQUIRE", "lk", "me", "10000"]) else {
        panic!("LOCK.ACQUIRE")
    };
    let [Value::Int(epoch), Value::Int(counter)] = token.as_slice() else {
        panic!("token {token:?}")
    };
    let (epoch, counter) = (epoch.to_string(), counter.to_string());
    assert_eq!(w.cmd(&["LOCK.RENEW", "lk", "me", "10000"]), int(1));
    assert_eq!(
        w.cmd(&["LOCK.FENCED", "lk", &epoch, &counter, "SET", "k", "v"]),
        simple("OK")
    );
    assert!(matches!(w.cmd(&["LOCK.INFO", "lk"]), Value::Array(_)));
    assert_eq!(w.cmd(&["LOCK.RELEASE", "lk", "me"]), int(1));
    assert_eq!(w.cmd(&["LOCK.SET", "lk2", "me", "1", "1", "1000"]), simple("OK"));
    assert_eq!(w.cmd(&["LOCK.DEL", "lk2"]), int(1));
    sub.send(&["PING", "end"]);
    let mut got = vec![];
    loop {
        let v = sub.read();
        if v == Value::Array(vec![bulk("pong"), bulk("end")]) {
            break;
        }
        got.push(v);
    }
    let msg = |channel: &str, payload: &str| {
        Value::Array(vec![bulk("pmessage"), bulk("__key*__:*"), bulk(channel), bulk(payload)])
    };
    assert_eq!(
        got,
        vec![msg("__keyspace@0__:k", "set"), msg("__keyevent@0__:set", "k")]
    );
}
