//! Pub/Sub: subscriptions in the three namespaces, message order and formats in RESP2 and RESP3,
//! subscriber mode, introspection, clean-up of closed subscribers, and the output-buffer limit of the
//! pub/sub class. Most of it is compared step by step with a real `redis-server` (`Scenario`).

mod common;

use std::time::Duration;

use common::scenario::Scenario;
use common::{eventually, info_field, int, Server, Value};

const RESP2_BASICS: &str = r#"
A: SUBSCRIBE news sport
A: SUBSCRIBE news
B: PUBLISH news hello
B: PUBLISH sport ""
B: PUBLISH nobody x
A: GET k
A: CLIENT LIST
A: HELLO 2
A: PING
A: PING "with arg"
A: UNSUBSCRIBE news nosuch
B: PUBLISH news lost
B: PUBLISH sport kept
B: PUBSUB NUMSUB news sport nosuch
~B: PUBSUB CHANNELS
~B: PUBSUB CHANNELS sp*
B: PUBSUB CHANNELS sp* extra
A: UNSUBSCRIBE
A: UNSUBSCRIBE
A: PUNSUBSCRIBE
A: SUNSUBSCRIBE
A: GET k
A: PING
B: SUBSCRIBE
B: PUBSUB NUMPAT extra
B: PUBSUB NOSUCH
"#;

const PATTERNS: &str = r#"
A: PSUBSCRIBE n* news.?
A: SUBSCRIBE news.1
B: PSUBSCRIBE *
B: PSUBSCRIBE "[a-c]x"
~C: PUBLISH news.1 m1
~C: PUBLISH bx m2
C: PUBLISH "n\x00b" bin
C: PUBSUB NUMPAT
C: PUBSUB NUMSUB news.1 n*
~A: PUNSUBSCRIBE
A: PUNSUBSCRIBE
C: PUBSUB NUMPAT
~C: PUBLISH news.1 m3
B: PUNSUBSCRIBE nosuch *
C: PUBLISH bx m4
C: PUBSUB NUMPAT
"#;

const SHARD: &str = r#"
A: SSUBSCRIBE s1 s2
A: SUBSCRIBE s1
B: SPUBLISH s1 sharded
B: PUBLISH s1 plain
~B: PUBSUB SHARDCHANNELS
~B: PUBSUB SHARDCHANNELS s?
B: PUBSUB SHARDNUMSUB s1 s3
~B: PUBSUB CHANNELS
A: SUNSUBSCRIBE s1
A: UNSUBSCRIBE
A: GET k
A: SUNSUBSCRIBE
A: GET k
B: MULTI
B: SSUBSCRIBE x
B: EXEC
"#;

const RESP3: &str = r#"
?A: HELLO 3
A: SUBSCRIBE c
A: PSUBSCRIBE c*
A: GET k
A: PING
~A: PUBLISH c self
B: PUBLISH c other
A: SET k v
A: MULTI
A: PUBLISH c inside
A: EXEC
A: UNSUBSCRIBE c
A: PUNSUBSCRIBE
A: UNSUBSCRIBE
?B: HELLO 3
B: SSUBSCRIBE s
A: SPUBLISH s x
?B: HELLO 2
B: PING
B: RESET
B: PING
"#;

const TRANSACTIONS_AND_SCRIPTS: &str = r#"
A: MULTI
A: SUBSCRIBE t
A: PSUBSCRIBE t*
A: EXEC
B: PUBLISH t one
B: EVAL "return redis.call('publish', 't', 'from lua')" 0
B: EVAL "return redis.call('subscribe', 't')" 0
B: MULTI
B: PUBLISH t a
B: PUBLISH nobody b
B: EXEC
A: RESET
B: PUBLISH t gone
"#;

const QUIT_CLEANS_UP: &str = r#"
A: SUBSCRIBE q
A: PSUBSCRIBE q*
A: SSUBSCRIBE sq
B: PUBSUB NUMSUB q
A: QUIT
B: PUBLISH q anyone
B: SPUBLISH sq anyone
B: PUBSUB NUMSUB q
B: PUBSUB NUMPAT
B: PUBSUB SHARDNUMSUB sq
"#;

#[test]
fn pubsub_matches_redis() {
    for (name, script) in [
        ("resp2 basics", RESP2_BASICS),
        ("patterns", PATTERNS),
        ("shard channels", SHARD),
        ("resp3", RESP3),
        ("transactions and scripts", TRANSACTIONS_AND_SCRIPTS),
        ("quit cleans up", QUIT_CLEANS_UP),
    ] {
        let Some(mut s) = Scenario::for_test(&format!("pubsub_matches_redis: {name}"), &[]) else {
            return;
        };
        s.run(script);
        s.finish();
    }
}

#[test]
fn client_list_info_and_kill_see_subscribers() {
    let s = Server::ferrite(&[]);
    let mut sub = s.raw();
    sub.cmd(&["SUBSCRIBE", "a", "b"]);
    sub.send(&["PSUBSCRIBE", "p*"]);
    sub.read();
    sub.send(&["SSUBSCRIBE", "s"]);
    sub.read();
    let mut other = s.raw();
    let Value::Bulk(list) = other.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]) else {
        panic!("CLIENT LIST")
    };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains(" flags=P "), "{list}");
    assert!(list.contains(" sub=2 psub=1 ssub=1 "), "{list}");
    let Value::Bulk(mine) = other.cmd(&["CLIENT", "INFO"]) else {
        panic!("CLIENT INFO")
    };
    assert!(String::from_utf8_lossy(&mine).contains(" flags=N db=0 sub=0 psub=0 ssub=0 "));
    assert_eq!(info_field(&mut other, "stats", "pubsub_channels"), "2");
    assert_eq!(info_field(&mut other, "stats", "pubsub_patterns"), "1");
    assert_eq!(info_field(&mut other, "stats", "pubsubshard_channels"), "1");
    assert_eq!(other.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), int(1));
    assert!(sub.closed_within(Duration::from_secs(5)));
    assert!(eventually(Duration::from_secs(5), || {
        info_field(&mut other, "stats", "pubsub_channels") == "0"
    }));
    assert_eq!(info_field(&mut other, "stats", "pubsub_patterns"), "0");
    assert_eq!(other.cmd(&["PUBLISH", "a", "x"]), int(0));
}

/// A subscriber that does not read is cut off once its output passes the pub/sub class's hard limit,
/// and the memory its backlog held is given back.
#[test]
fn slow_subscriber_is_disconnected_at_its_output_limit() {
    let s = Server::ferrite(&["--client-output-buffer-limit", "pubsub 1mb 0 0"]);
    let mut sub = s.raw();
    sub.cmd(&["SUBSCRIBE", "firehose"]);
    // Keep the socket unread: the kernel buffers fill, then the server's output buffer grows.
    let mut publisher = s.raw();
    let baseline: u64 = info_field(&mut publisher, "memory", "used_memory").parse().unwrap();
    let payload = "x".repeat(16 * 1024);
    let mut disconnected = false;
    for _ in 0..2000 {
        let Value::Int(n) = publisher.cmd(&["PUBLISH", "firehose", &payload]) else {
            panic!("PUBLISH")
        };
        if n == 0 {
            disconnected = true;
            break;
        }
        let used: u64 = info_field(&mut publisher, "memory", "used_memory").parse().unwrap();
        assert!(
            used < baseline + 8 * 1024 * 1024,
            "memory grew to {used} (baseline {baseline}) while the subscriber was still connected"
        );
    }
    assert!(disconnected, "the subscriber was never disconnected");
    assert!(s
        .log()
        .contains("scheduled to be closed ASAP for overcoming of output buffer limits"));
    assert!(eventually(Duration::from_secs(5), || {
        let used: u64 = info_field(&mut publisher, "memory", "used_memory").parse().unwrap();
        used < baseline + 1024 * 1024
    }));
}

/// The `redis` crate's Pub/Sub API works against Ferrite (a real client, not raw frames).
#[test]
fn redis_crate_pubsub_round_trip() {
    let s = Server::ferrite(&[]);
    let mut sub_conn = s.conn();
    let mut pubsub = sub_conn.as_pubsub();
    pubsub.subscribe("orders").unwrap();
    pubsub.psubscribe("ord*").unwrap();
    pubsub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut publisher = s.conn();
    let n: i64 = redis::cmd("PUBLISH")
        .arg("orders")
        .arg("42")
        .query(&mut publisher)
        .unwrap();
    assert_eq!(n, 2);
    let mut got = vec![];
    for _ in 0..2 {
        let msg = pubsub.get_message().unwrap();
        let payload: String = msg.get_payload().unwrap();
        got.push((msg.get_channel_name().to_string(), msg.from_pattern(), payload));
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            ("orders".to_string(), false, "42".to_string()),
            ("orders".to_string(), true, "42".to_string())
        ]
    );
}
