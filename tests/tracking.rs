//! Client-side caching (CLIENT TRACKING): invalidations in the default, OPTIN/OPTOUT, NOLOOP and
//! BCAST modes, RESP3 pushes and RESP2 redirection to a `__redis__:invalidate` subscriber, broken
//! redirections, flushes, transactions and scripts, the option errors, and the table limit. Compared
//! step by step with a real `redis-server` (`Scenario`) except where timing decides (the table
//! limit).

mod common;

use std::time::Duration;

use common::scenario::Scenario;
use common::{eventually, Raw, Server, Value};

const DEFAULT_MODE: &str = r#"
?A: HELLO 3
A: CLIENT TRACKING on
A: CLIENT TRACKINGINFO
A: CLIENT GETREDIR
A: GET k
A: MGET j k l
B: SET k 1
B: SET k 2
A: GET k
A: SET k mine
A: GET k
A: MULTI
A: SET k in-multi
A: GET k
A: EXEC
A: EVAL "redis.call('set', KEYS[1], 'lua') return redis.call('get', KEYS[1])" 1 k
B: DEL k
A: HGET h f
A: EXISTS e
B: HSET h f v
B: SET e 1
A: SMEMBERS s
A: STRLEN k
B: SADD s m
B: FLUSHDB
A: GET k
B: SELECT 1
B: SET k other-db
A: GET k
B: FLUSHALL
B: SET k after-flush
A: CLIENT TRACKING off
A: CLIENT TRACKINGINFO
A: CLIENT GETREDIR
"#;

const OPTIN_OPTOUT_NOLOOP: &str = r#"
?A: HELLO 3
A: CLIENT TRACKING on optin
A: GET a
A: CLIENT CACHING yes
A: GET b
A: CLIENT TRACKINGINFO
A: GET c
B: MSET a 1 b 1 c 1
A: CLIENT CACHING yes
A: MULTI
A: GET a
A: GET c
A: EXEC
B: MSET a 2 b 2 c 2
A: CLIENT CACHING no
A: CLIENT TRACKING on optout
A: CLIENT TRACKING off
A: CLIENT TRACKING on optout noloop
A: CLIENT CACHING no
A: GET a
A: GET b
A: CLIENT TRACKINGINFO
A: SET b mine
B: MSET a 3 b 3
A: RESET
A: CLIENT TRACKINGINFO
"#;

const BCAST: &str = r#"
?A: HELLO 3
A: CLIENT TRACKING on bcast prefix user: prefix cart:
A: CLIENT TRACKINGINFO
B: SET user:1 x
B: MSET user:3 x cart:9 y other z user:2 w
B: MULTI
B: SET user:1 y
B: DEL user:1
B: EXEC
A: SET cart:1 mine
A: CLIENT TRACKING on bcast prefix cart:x
A: CLIENT TRACKING on bcast prefix session:
A: CLIENT TRACKINGINFO
B: SET session:1 s
?C: HELLO 3
C: CLIENT TRACKING on bcast noloop
C: SET k1 c
B: SET k2 b
B: FLUSHALL
A: CLIENT TRACKING on
A: CLIENT TRACKING on prefix x
A: CLIENT TRACKING on bcast optin
A: CLIENT TRACKING off
A: CLIENT TRACKING on prefix x
"#;

const RESP2_REDIRECT: &str = r#"
R: SUBSCRIBE __redis__:invalidate
A: CLIENT TRACKING on redirect $id(R)
?A: CLIENT GETREDIR
A: GET k
B: SET k 1
A: GET k
A: GET j
B: MSET k 2 j 2
A: GET k
B: FLUSHALL
?P: CLIENT ID
A: CLIENT TRACKING on redirect $id(P) bcast
A: CLIENT TRACKING off
A: CLIENT TRACKING on redirect $id(P) bcast
B: SET k 3
A: CLIENT TRACKING on redirect $id(P) redirect $id(R)
R: UNSUBSCRIBE
"#;

const BROKEN_REDIRECT: &str = r#"
?A: HELLO 3
?T: CLIENT ID
A: CLIENT TRACKING on redirect $id(T)
A: GET k
A: GET j
T: QUIT
?B: SET k 1
?B: SET j 1
?A: CLIENT TRACKINGINFO
A: GET k
?B: SET k 2
"#;

const ERRORS: &str = r#"
A: CLIENT TRACKING on prefix a
A: CLIENT TRACKING on bcast prefix a prefix ab
A: CLIENT TRACKING on bcast prefix a optin
A: CLIENT TRACKING on optin optout
A: CLIENT TRACKING on redirect 999999
A: CLIENT TRACKING on redirect notanumber
A: CLIENT TRACKING maybe
A: CLIENT TRACKING on bogus
A: CLIENT TRACKING on redirect
A: CLIENT TRACKING
A: CLIENT CACHING yes
A: CLIENT TRACKING on bcast prefix a
A: CLIENT TRACKING on bcast prefix ab
A: CLIENT TRACKING on bcast prefix b prefix bc
A: CLIENT TRACKING on
A: CLIENT TRACKING off
A: CLIENT TRACKING on optin
A: CLIENT CACHING no
A: CLIENT CACHING maybe
A: CLIENT TRACKING on optout
A: CLIENT CACHING
"#;

#[test]
fn tracking_matches_redis() {
    for (name, script) in [
        ("default mode", DEFAULT_MODE),
        ("optin, optout, noloop", OPTIN_OPTOUT_NOLOOP),
        ("bcast", BCAST),
        ("resp2 redirect", RESP2_REDIRECT),
        ("broken redirect", BROKEN_REDIRECT),
        ("errors", ERRORS),
    ] {
        let Some(mut s) = Scenario::for_test(&format!("tracking_matches_redis: {name}"), &[]) else {
            return;
        };
        s.run(script);
        s.finish();
    }
}

fn info_int(raw: &mut Raw, section: &str, field: &str) -> i64 {
    common::info_field(raw, section, field)
        .trim()
        .parse()
        .expect("an integer field")
}

/// Past `tracking-table-max-keys`, keys are invalidated early (the clients holding them are told) until
/// the table fits; INFO and CLIENT LIST show the tracking state.
#[test]
fn the_invalidation_table_stays_within_its_limit() {
    let s = Server::ferrite(&["--tracking-table-max-keys", "5"]);
    let mut a = s.raw();
    a.cmd(&["HELLO", "3"]);
    assert_eq!(a.cmd(&["CLIENT", "TRACKING", "on"]), Value::Simple(b"OK".to_vec()));
    for i in 0..20 {
        a.cmd(&["GET", &format!("k{i}")]);
    }
    let mut b = s.raw();
    assert_eq!(info_int(&mut b, "clients", "tracking_clients"), 1);
    assert!(eventually(Duration::from_secs(5), || {
        info_int(&mut b, "stats", "tracking_total_keys") <= 5
    }));
    assert_eq!(info_int(&mut b, "stats", "tracking_total_items"), 5);
    // Every key dropped from the table was invalidated: 15 pushes, each naming one key.
    let mut invalidated = 0;
    a.stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    while invalidated < 15 {
        match a.try_read() {
            Some(Value::Push(items)) if items.first() == Some(&Value::Bulk(b"invalidate".to_vec())) => invalidated += 1,
            other => panic!("expected an invalidation, got {other:?}"),
        }
    }
    let Value::Bulk(list) = b.cmd(&["CLIENT", "LIST"]) else {
        panic!()
    };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert!(
        list.lines().any(|l| l.contains(" flags=t ") && l.contains(" redir=0 ")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains(" flags=N ") && l.contains(" redir=-1 ")),
        "{list}"
    );
    a.cmd(&["CLIENT", "TRACKING", "off"]);
    assert_eq!(info_int(&mut b, "clients", "tracking_clients"), 0);
}
