//! Streams against the real binary, and differentially against a real `redis-server` 7.0.
//!
//! - `tests/data/streams_vs_redis.txt`: hand-written cases for every command and option, errors,
//!   missing keys and wrong types, run on both servers over RESP2 (database 0) and RESP3 (database 1);
//!   after each case the datasets' DEBUG DIGEST must agree (every entry, field and value).
//! - Server-made IDs (`*`) differ between servers by their clock: those transcripts are compared with
//!   every ID replaced by its rank among the IDs the transcript shows.
//! - Blocking reads are choreographies of several clients whose transcripts must match Redis's.
//! - Consumer groups under several consumers, one leaving with pending entries and XAUTOCLAIM
//!   recovering them: no entry lost, none delivered twice outside the claim rules.

mod common;

use common::scenario::Scenario;

use std::collections::{BTreeMap, BTreeSet};

use common::cases::{case_file, Duo};
use common::diff::{same, show, Cmp};
use common::{bulk, int, redis_available, wait_blocked, Raw, Server, Value};

// ---- differential cases ----

/// A Ferrite and a Redis started alike; RESP2 connections on database 0, RESP3 ones on database 1.
fn twin(extra: &[&str]) -> Duo {
    Duo::resp2_and_resp3(extra)
}

#[test]
fn differential_cases() {
    if !redis_available("differential_cases") {
        return;
    }
    let text = include_str!("data/streams_vs_redis.txt");
    let mut duo = twin(&[]);
    for case in case_file(text) {
        duo.run_cases(&[case]);
        duo.check(
            &format!("case {}, final digest", case.0),
            &["DEBUG", "DIGEST"],
            Cmp::Exact,
        );
    }
    duo.finish("differential_cases");
}

// ---- server-made IDs, compared by rank ----

fn is_id(b: &[u8]) -> bool {
    let s = String::from_utf8_lossy(b);
    let mut parts = s.splitn(2, '-');
    let ok = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    ok(parts.next()) && ok(parts.next())
}

fn id_key(b: &[u8]) -> (u64, u64) {
    let s = String::from_utf8_lossy(b);
    let (ms, seq) = s.split_once('-').unwrap_or(("0", "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

fn collect_ids(v: &Value, ids: &mut BTreeSet<(u64, u64)>) {
    match v {
        Value::Bulk(b) if is_id(b) => {
            ids.insert(id_key(b));
        }
        Value::Array(xs) | Value::Set(xs) | Value::Push(xs) => xs.iter().for_each(|x| collect_ids(x, ids)),
        Value::Map(kv) => kv.iter().for_each(|(k, x)| {
            collect_ids(k, ids);
            collect_ids(x, ids);
        }),
        _ => {}
    }
}

/// Every ID replaced by `#rank` among `ranks`; `0-0` (a cursor's end, an empty group) stays.
fn by_rank(v: &Value, ranks: &BTreeMap<(u64, u64), usize>) -> Value {
    match v {
        Value::Bulk(b) if is_id(b) && id_key(b) != (0, 0) => {
            Value::Bulk(format!("#{}", ranks[&id_key(b)]).into_bytes())
        }
        Value::Array(xs) => Value::Array(xs.iter().map(|x| by_rank(x, ranks)).collect()),
        Value::Map(kv) => Value::Map(kv.iter().map(|(k, x)| (by_rank(k, ranks), by_rank(x, ranks))).collect()),
        other => other.clone(),
    }
}

/// Replies to `script` with IDs made comparable; times (`idle`, `seen-time`) must not be in it.
fn ranked_transcript(s: &Server, script: &[Vec<&str>]) -> Vec<Value> {
    let mut c = s.raw();
    let replies: Vec<Value> = script.iter().map(|cmd| c.cmd(cmd)).collect();
    let mut ids = BTreeSet::new();
    replies.iter().for_each(|r| collect_ids(r, &mut ids));
    let ranks: BTreeMap<(u64, u64), usize> = ids.into_iter().filter(|i| *i != (0, 0)).zip(0..).collect();
    replies.iter().map(|r| by_rank(r, &ranks)).collect()
}

#[test]
fn server_made_ids_match_redis_by_rank() {
    let mut script: Vec<Vec<&str>> = vec![];
    for _ in 0..250 {
        script.push(vec!["XADD", "s", "*", "f", "v"]);
    }
    script.extend([
        vec!["XADD", "s", "MAXLEN", "~", "120", "*", "f", "v"],
        vec!["XLEN", "s"],
        vec!["XADD", "s", "MAXLEN", "~", "120", "LIMIT", "50", "*", "f", "v"],
        vec!["XTRIM", "s", "MAXLEN", "10"],
        vec!["XRANGE", "s", "-", "+"],
        vec!["XREVRANGE", "s", "+", "-", "COUNT", "3"],
        vec!["XADD", "s", "NOMKSTREAM", "*", "a", "1", "b", "2"],
        vec!["XADD", "nokey", "NOMKSTREAM", "*", "a", "1"],
        vec!["XGROUP", "CREATE", "s", "g", "0"],
        vec!["XREADGROUP", "GROUP", "g", "c", "COUNT", "4", "STREAMS", "s", ">"],
        vec!["XINFO", "GROUPS", "s"],
        vec!["XPENDING", "s", "g"],
        vec!["XAUTOCLAIM", "s", "g", "d", "0", "0", "COUNT", "2", "JUSTID"],
        vec!["XREAD", "COUNT", "2", "STREAMS", "s", "0"],
        vec!["XINFO", "STREAM", "s"],
        vec!["DEBUG", "DIGEST-VALUE", "s"],
    ]);
    let f = Server::ferrite(&[]);
    let ours = ranked_transcript(&f, &script);
    assert_eq!(ours[250], Value::Bulk(b"#250".to_vec()));
    if !redis_available("server_made_ids_match_redis_by_rank") {
        return;
    }
    let r = Server::redis(&[]);
    let theirs = ranked_transcript(&r, &script);
    // The digest hashes the IDs themselves: only its shape can agree.
    let last = script.len() - 1;
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let cmp = if i == last { Cmp::Shape } else { Cmp::Exact };
        assert!(
            same(a, b, cmp),
            "{:?}\n  ferrite: {}\n  redis:   {}",
            script[i],
            show(a),
            show(b)
        );
    }
}

// ---- blocking reads ----

/// Several clients around XREAD/XREADGROUP BLOCK; every reply in order.
fn blocking_choreography(s: &Server) -> Vec<Value> {
    let mut log = vec![];
    let mut ctl = s.raw();
    let mut w: Vec<Raw> = (0..3).map(|_| s.raw()).collect();
    log.push(ctl.cmd(&["XADD", "s", "1-0", "f", "v"]));
    // `$` is the last ID when the client blocked: an entry added later is served, even though the
    // stream's last ID has moved by then.
    w[0].send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    w[1].send(&["XREAD", "BLOCK", "0", "STREAMS", "nokey", "s", "$", "$"]);
    wait_blocked(&mut ctl, 2);
    log.push(ctl.cmd(&["XADD", "s", "2-0", "a", "1"]));
    log.push(w[0].read());
    log.push(w[1].read());
    // Served from the key that was written, among several.
    w[0].send(&["XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "k1", "k2", "0", "0"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["XADD", "k2", "7-7", "x", "y"]));
    log.push(w[0].read());
    // A key recreated with another type does not serve; a stream later does.
    w[0].send(&["XREAD", "BLOCK", "0", "STREAMS", "k3", "$"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["LPUSH", "k3", "x"]));
    log.push(ctl.cmd(&["DEL", "k3"]));
    log.push(ctl.cmd(&["XADD", "k3", "3-3", "f", "v"]));
    log.push(w[0].read());
    // Timeouts answer the null array; BLOCK in MULTI answers at once.
    log.push(w[0].cmd(&["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]));
    log.push(w[0].cmd(&["MULTI"]));
    log.push(w[0].cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]));
    log.push(w[0].cmd(&["EXEC"]));
    // Consumer groups: the first waiter gets the new entry, the second keeps waiting for the next.
    log.push(ctl.cmd(&["XGROUP", "CREATE", "s", "g", "$"]));
    w[0].send(&["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">"]);
    w[1].send(&["XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">"]);
    wait_blocked(&mut ctl, 2);
    log.push(ctl.cmd(&["XADD", "s", "3-0", "b", "2"]));
    log.push(w[0].read());
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["XADD", "s", "4-0", "c", "3"]));
    log.push(w[1].read());
    log.push(without_times(ctl.cmd(&["XPENDING", "s", "g", "-", "+", "10"])));
    // A group destroyed under a waiter: NOGROUP, as Redis 7.0 tells it.
    w[2].send(&["XREADGROUP", "GROUP", "g", "c3", "BLOCK", "0", "STREAMS", "s", ">"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["XGROUP", "DESTROY", "s", "g"]));
    log.push(w[2].read());
    // RESP3: the served read is a map.
    let _ = w[2].cmd(&["HELLO", "3"]);
    w[2].send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["XADD", "s", "5-0", "d", "4"]));
    log.push(w[2].read());
    // Served after blocking without COUNT: at most 1000 entries (XREAD and XREADGROUP alike).
    log.push(ctl.cmd(&["XGROUP", "CREATE", "many", "g", "$", "MKSTREAM"]));
    w[0].send(&["XREAD", "BLOCK", "0", "STREAMS", "many", "$"]);
    w[1].send(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "many", ">"]);
    wait_blocked(&mut ctl, 2);
    let mut batch = Raw::encode(&["MULTI"]);
    for i in 1..=1001 {
        batch.extend(Raw::encode(&["XADD", "many", &format!("{i}-0"), "f", "v"]));
    }
    batch.extend(Raw::encode(&["EXEC"]));
    ctl.send_raw(&batch);
    for _ in 0..1003 {
        ctl.read();
    }
    for c in w.iter_mut().take(2) {
        log.push(match c.read() {
            Value::Array(s) => match &s[0] {
                Value::Array(kv) => match &kv[1] {
                    Value::Array(entries) => int(entries.len() as i64),
                    other => other.clone(),
                },
                other => other.clone(),
            },
            other => other,
        });
    }
    // A pipeline behind a blocked read runs once it is served.
    w[0].send_raw(
        &[
            Raw::encode(&["XREAD", "BLOCK", "0", "STREAMS", "p", "$"]),
            Raw::encode(&["XLEN", "p"]),
        ]
        .concat(),
    );
    wait_blocked(&mut ctl, 1);
    log.push(ctl.cmd(&["XADD", "p", "1-1", "f", "v"]));
    log.push(w[0].read());
    log.push(w[0].read());
    log
}

/// An extended XPENDING reply with its idle times zeroed (they depend on the moment it is read).
fn without_times(v: Value) -> Value {
    match v {
        Value::Array(rows) => Value::Array(
            rows.into_iter()
                .map(|r| match r {
                    Value::Array(mut f) if f.len() == 4 => {
                        f[2] = int(0);
                        Value::Array(f)
                    }
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn blocking_reads_match_redis() {
    let f = Server::ferrite(&[]);
    let ours = blocking_choreography(&f);
    // Facts that need no oracle: both `$` waiters got the entry added after they blocked.
    let served = Value::Array(vec![Value::Array(vec![
        bulk("s"),
        Value::Array(vec![Value::Array(vec![
            bulk("2-0"),
            Value::Array(vec![bulk("a"), bulk("1")]),
        ])]),
    ])]);
    assert_eq!(ours[2], served);
    assert_eq!(ours[3], served);
    if !redis_available("blocking_reads_match_redis") {
        return;
    }
    let r = Server::redis(&[]);
    let theirs = blocking_choreography(&r);
    assert_eq!(ours.len(), theirs.len());
    common::diff::assert_same_transcripts(&ours, &theirs);
}

// ---- consumer groups: several consumers, one leaving, recovery ----

/// The IDs of an XREADGROUP/XAUTOCLAIM entry list.
fn entry_ids(v: &Value) -> Vec<String> {
    match v {
        Value::Array(entries) => entries
            .iter()
            .filter_map(|e| match e {
                Value::Array(p) => match p.first() {
                    Some(Value::Bulk(id)) => Some(String::from_utf8_lossy(id).into_owned()),
                    _ => None,
                },
                Value::Bulk(id) => Some(String::from_utf8_lossy(id).into_owned()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

/// The entries of a one-stream XREADGROUP reply (RESP2), or none for the null array.
fn read_ids(v: &Value) -> Vec<String> {
    match v {
        Value::Array(streams) => match streams.first() {
            Some(Value::Array(kv)) if kv.len() == 2 => entry_ids(&kv[1]),
            _ => vec![],
        },
        _ => vec![],
    }
}

/// Runs the scenario on `s` and checks its invariants; returns a transcript of what each consumer got.
fn group_scenario(s: &Server) -> Vec<String> {
    let mut ctl = s.raw();
    let total = 60;
    for i in 1..=total {
        ctl.cmd(&["XADD", "jobs", &format!("{i}-0"), "n", &i.to_string()]);
    }
    assert_eq!(
        ctl.cmd(&["XGROUP", "CREATE", "jobs", "workers", "0"]),
        common::simple("OK")
    );
    let mut consumers: Vec<Raw> = (0..3).map(|_| s.raw()).collect();
    let names = ["alice", "bob", "carol"];
    let mut delivered: BTreeMap<String, String> = BTreeMap::new();
    let mut transcript = vec![];
    let mut acked: BTreeSet<String> = BTreeSet::new();
    // Round robin: each reads 4 new entries; alice and bob acknowledge, carol does not (and leaves).
    for round in 0..4 {
        for (i, c) in consumers.iter_mut().enumerate() {
            let r = c.cmd(&[
                "XREADGROUP",
                "GROUP",
                "workers",
                names[i],
                "COUNT",
                "4",
                "STREAMS",
                "jobs",
                ">",
            ]);
            let ids = read_ids(&r);
            assert_eq!(ids.len(), 4, "round {round} {}: {}", names[i], show(&r));
            for id in &ids {
                // Never delivered twice as new.
                assert!(
                    delivered.insert(id.clone(), names[i].to_string()).is_none(),
                    "{id} delivered twice"
                );
            }
            transcript.push(format!("{} read {}", names[i], ids.join(",")));
            if i < 2 {
                let mut ack = vec!["XACK", "jobs", "workers"];
                ack.extend(ids.iter().map(|s| s.as_str()));
                assert_eq!(c.cmd(&ack), int(ids.len() as i64));
                acked.extend(ids);
            }
        }
    }
    // carol disconnects holding 16 pending entries.
    drop(consumers.pop());
    let summary = ctl.cmd(&["XPENDING", "jobs", "workers"]);
    transcript.push(format!("pending {}", show(&summary)));
    match &summary {
        Value::Array(v) => assert_eq!(v[0], int(16)),
        other => panic!("XPENDING: {}", show(other)),
    }
    // Entries idle for less than the threshold are not claimable yet.
    let early = ctl.cmd(&["XAUTOCLAIM", "jobs", "workers", "bob", "3600000", "0"]);
    assert_eq!(
        entry_ids(match &early {
            Value::Array(v) => &v[1],
            _ => panic!("XAUTOCLAIM: {}", show(&early)),
        }),
        Vec::<String>::new()
    );
    // One of carol's entries is deleted meanwhile: XAUTOCLAIM reports it as deleted, not claimed.
    let gone = delivered
        .iter()
        .find(|(_, who)| *who == "carol")
        .map(|(id, _)| id.clone())
        .expect("carol had entries");
    assert_eq!(ctl.cmd(&["XDEL", "jobs", &gone]), int(1));
    // bob recovers everything idle for >= 0 ms, five at a time, following the cursor.
    let mut cursor = "0-0".to_string();
    let mut recovered: Vec<String> = vec![];
    let mut deleted: Vec<String> = vec![];
    for _ in 0..10 {
        let r = consumers[1].cmd(&["XAUTOCLAIM", "jobs", "workers", "bob", "0", &cursor, "COUNT", "5"]);
        let Value::Array(parts) = &r else {
            panic!("XAUTOCLAIM: {}", show(&r))
        };
        let ids = entry_ids(&parts[1]);
        deleted.extend(entry_ids(&parts[2]));
        transcript.push(format!("bob claimed {}", ids.join(",")));
        let mut ack = vec!["XACK", "jobs", "workers"];
        ack.extend(ids.iter().map(|s| s.as_str()));
        if !ids.is_empty() {
            assert_eq!(consumers[1].cmd(&ack), int(ids.len() as i64));
        }
        recovered.extend(ids);
        cursor = match &parts[0] {
            Value::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("cursor {}", show(other)),
        };
        if cursor == "0-0" {
            break;
        }
    }
    assert_eq!(cursor, "0-0");
    assert_eq!(deleted, vec![gone.clone()]);
    // Exactly carol's entries were recovered, each once, the deleted one excepted.
    let carols: BTreeSet<String> = delivered
        .iter()
        .filter(|(id, who)| *who == "carol" && **id != gone)
        .map(|(id, _)| id.clone())
        .collect();
    let got: BTreeSet<String> = recovered.iter().cloned().collect();
    assert_eq!(got.len(), recovered.len(), "an entry was claimed twice");
    assert_eq!(got, carols);
    acked.extend(recovered);
    // The rest of the stream is read by the remaining consumers; nothing is lost.
    loop {
        let r = consumers[0].cmd(&[
            "XREADGROUP",
            "GROUP",
            "workers",
            "alice",
            "COUNT",
            "7",
            "STREAMS",
            "jobs",
            ">",
        ]);
        let ids = read_ids(&r);
        if ids.is_empty() {
            assert_eq!(r, Value::NullArray);
            break;
        }
        for id in &ids {
            assert!(
                delivered.insert(id.clone(), "alice".into()).is_none(),
                "{id} delivered twice"
            );
        }
        let mut ack = vec!["XACK", "jobs", "workers"];
        ack.extend(ids.iter().map(|s| s.as_str()));
        consumers[0].cmd(&ack);
        transcript.push(format!("alice read {}", ids.join(",")));
        acked.extend(ids);
    }
    assert_eq!(delivered.len(), total);
    assert_eq!(acked.len(), total - 1);
    assert_eq!(
        ctl.cmd(&["XPENDING", "jobs", "workers"]),
        Value::Array(vec![int(0), Value::NullBulk, Value::NullBulk, Value::NullArray])
    );
    // History: alice has nothing pending; carol's consumer is still known, with nothing left.
    assert_eq!(
        consumers[0].cmd(&["XREADGROUP", "GROUP", "workers", "alice", "STREAMS", "jobs", "0"]),
        Value::Array(vec![Value::Array(vec![bulk("jobs"), Value::Array(vec![])])])
    );
    let info = ctl.cmd(&["XINFO", "GROUPS", "jobs"]);
    transcript.push(format!("groups {}", show(&info)));
    transcript
}

#[test]
fn consumer_groups_lose_nothing_and_deliver_once() {
    let f = Server::ferrite(&[]);
    let ours = group_scenario(&f);
    if !redis_available("consumer_groups_lose_nothing_and_deliver_once") {
        return;
    }
    let r = Server::redis(&[]);
    let theirs = group_scenario(&r);
    assert_eq!(ours, theirs);
}

// ---- Ferrite alone ----

#[test]
fn config_node_limits_are_live() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "stream-node-max-entries", "2"]),
        common::simple("OK")
    );
    for i in 1..=5 {
        c.cmd(&["XADD", "s", &format!("{i}-0"), "f", "v"]);
    }
    let Value::Array(info) = c.cmd(&["XINFO", "STREAM", "s"]) else {
        panic!("XINFO")
    };
    assert_eq!(info[2], bulk("radix-tree-keys"));
    assert_eq!(info[3], int(3));
    assert!(matches!(c.cmd(&["MEMORY", "USAGE", "s"]), Value::Int(n) if n > 0));
}

// ---- WATCH ----

/// Whether `cmd`, run by another client, makes a transaction watching the stream fail.
fn touches_watched(s: &Server, cmd: &[&str]) -> Value {
    let mut c = s.raw();
    for setup in [
        &["FLUSHALL"][..],
        &["XADD", "s", "1", "f", "v"],
        &["XADD", "s", "2", "f", "v"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"],
    ] {
        c.cmd(setup);
    }
    let mut w = s.raw();
    w.cmd(&["WATCH", "s"]);
    let reply = c.cmd(cmd);
    w.cmd(&["MULTI"]);
    w.cmd(&["PING"]);
    Value::Array(vec![reply, w.cmd(&["EXEC"])])
}

#[test]
fn watched_streams_are_touched_as_in_redis() {
    let cmds: &[&[&str]] = &[
        &["XADD", "s", "3", "f", "v"],
        &["XDEL", "s", "1"],
        &["XDEL", "s", "9"],
        &["XTRIM", "s", "MAXLEN", "1"],
        &["XTRIM", "s", "MAXLEN", "5"],
        &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"],
        &["XACK", "s", "g", "1"],
        &["XGROUP", "SETID", "s", "g", "0"],
        &["XSETID", "s", "5"],
        &["XCLAIM", "s", "g", "c3", "0", "1", "JUSTID"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "c9"],
        &["XGROUP", "DELCONSUMER", "s", "g", "c"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["XGROUP", "CREATE", "s", "g2", "0"],
        &["XAUTOCLAIM", "s", "g", "c4", "0", "0", "JUSTID"],
    ];
    let f = Server::ferrite(&[]);
    let ours: Vec<Value> = cmds.iter().map(|c| touches_watched(&f, c)).collect();
    // Facts that need no oracle: an XADD touches, an XACK does not.
    assert!(matches!(&ours[0], Value::Array(v) if v[1] == Value::NullArray));
    assert!(matches!(&ours[6], Value::Array(v) if v[1] != Value::NullArray));
    if !redis_available("watched_streams_are_touched_as_in_redis") {
        return;
    }
    let r = Server::redis(&[]);
    let theirs: Vec<Value> = cmds.iter().map(|c| touches_watched(&r, c)).collect();
    common::diff::assert_same_transcripts(&ours, &theirs);
}

/// Readers blocked on a stream that goes away (deleted, replaced by another type): XREADGROUP answers
/// Redis's UNBLOCKED error, XREAD waits on and is served from the ID `$` meant when it blocked once a
/// stream is back; a destroyed group answers NOGROUP. Compared step by step with redis-server.
#[test]
fn blocked_readers_of_a_stream_that_goes_away_match_redis() {
    let Some(mut s) = Scenario::for_test("blocked_readers_of_a_stream_that_goes_away_match_redis", &[]) else {
        return;
    };
    s.run(
        r#"
W: XGROUP CREATE s g $ MKSTREAM
W: XADD s2 1-1 f v
&A: XREADGROUP GROUP g c BLOCK 0 STREAMS s >
&X: XREAD BLOCK 0 STREAMS s2 $
W: DEL s
A: PING
W: SET s2 str
W: DEL s2
W: XADD s2 2-1 f v
X: PING
W: XGROUP CREATE s g $ MKSTREAM
&A: XREADGROUP GROUP g c BLOCK 0 STREAMS s >
W: XGROUP DESTROY s g
A: PING
"#,
    );
    s.finish();
}
