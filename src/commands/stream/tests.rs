//! In-process tests: journal effects (what a socket cannot show), compared with what a real Redis 7.0.15
//! replica received for the same commands.

use resp::Value;

use crate::testing::{bulk, err, ok, Harness};

fn int(i: i64) -> Value {
    Value::Int(i)
}

const NOW: i64 = 1_767_225_600_000;

#[test]
fn xadd_journals_the_id_it_made_and_the_effective_trim() {
    let mut h = Harness::new();
    h.tap_journal();
    assert_eq!(h.run(&["XADD", "s", "1-1", "f", "v"]), bulk("1-1"));
    assert_eq!(h.run(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{NOW}-0")));
    assert_eq!(h.run(&["XADD", "s", "*", "f", "v"]), bulk(&format!("{NOW}-1")));
    assert_eq!(
        h.run(&["XADD", "s", &format!("{NOW}-*"), "f", "v"]),
        bulk(&format!("{NOW}-2"))
    );
    assert_eq!(
        h.run(&["XADD", "s", "1-1", "f", "v"]),
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
    for _ in 0..200 {
        h.run(&["XADD", "s", "*", "f", "v"]);
    }
    h.effects();
    // 205 entries in nodes of 100: `~ 10` removes whole nodes only and says how many stayed.
    h.run(&["XADD", "s", "MAXLEN", "~", "10", "*", "f", "v"]);
    h.run(&["XTRIM", "s", "MINID", "~", "0"]);
    h.run(&["XTRIM", "s", "MAXLEN", "=", "3"]);
    h.run(&["XADD", "s", "MINID", "~", &format!("{NOW}-203"), "*", "f", "v"]);
    let fx = h.effects();
    assert_eq!(
        fx,
        vec![
            format!("XADD s MAXLEN = 105 {NOW}-203 f v"),
            "XTRIM s MAXLEN = 3".to_string(),
            // The first entry of the first node, deleted or not, as Redis writes it.
            format!("XADD s MINID = {NOW}-199 {NOW}-204 f v"),
        ]
    );
    assert_eq!(h.run(&["XLEN", "s"]), int(4));
}

#[test]
fn xreadgroup_journals_claims_and_noack_moves() {
    let mut h = Harness::new();
    for i in 1..=4 {
        h.run(&["XADD", "q", &i.to_string(), "a", &i.to_string()]);
    }
    h.run(&["XGROUP", "CREATE", "q", "g", "0"]);
    h.tap_journal();
    h.run(&["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "q", ">"]);
    h.run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c2",
        "NOACK",
        "COUNT",
        "1",
        "STREAMS",
        "q",
        ">",
    ]);
    // History reads and reads that find nothing change no replica.
    h.run(&["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "q", "0"]);
    h.run(&["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "q", "0"]);
    assert_eq!(
        h.effects(),
        vec![
            "SELECT 0".to_string(),
            "MULTI".to_string(),
            format!("XCLAIM q g c1 0 1-0 TIME {NOW} RETRYCOUNT 1 FORCE JUSTID LASTID 1-0"),
            format!("XCLAIM q g c1 0 2-0 TIME {NOW} RETRYCOUNT 1 FORCE JUSTID LASTID 2-0"),
            "EXEC".to_string(),
            "MULTI".to_string(),
            "XGROUP CREATECONSUMER q g c2".to_string(),
            "XGROUP SETID q g 3-0 ENTRIESREAD 3".to_string(),
            "EXEC".to_string(),
        ]
    );
}

#[test]
fn xclaim_and_xautoclaim_journal_as_redis() {
    let mut h = Harness::new();
    for i in 1..=4 {
        h.run(&["XADD", "q", &i.to_string(), "a", &i.to_string()]);
    }
    h.run(&["XGROUP", "CREATE", "q", "g", "0"]);
    h.run(&["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "q", ">"]);
    let t0 = NOW;
    h.advance_ms(30);
    let t1 = NOW + 30;
    h.run(&["XDEL", "q", "2"]);
    h.tap_journal();
    // The deleted entry leaves the PEL (journaled with its old owner); the others move to c2.
    let r = h.run(&["XCLAIM", "q", "g", "c2", "0", "1", "2", "3", "JUSTID"]);
    assert_eq!(r, Value::Array(vec![bulk("1-0"), bulk("3-0")]));
    h.run(&[
        "XCLAIM",
        "q",
        "g",
        "c2",
        "0",
        "4",
        "IDLE",
        "5000",
        "RETRYCOUNT",
        "7",
        "LASTID",
        "9",
    ]);
    h.run(&["XCLAIM", "q", "g", "c2", "0", "99", "LASTID", "10"]);
    assert_eq!(
        h.effects(),
        vec![
            "SELECT 0".to_string(),
            "MULTI".to_string(),
            format!("XCLAIM q g c2 0 1 TIME {t1} RETRYCOUNT 1 FORCE JUSTID LASTID 4-0"),
            format!("XCLAIM q g c1 0 2 TIME {t0} RETRYCOUNT 1 FORCE JUSTID LASTID 4-0"),
            format!("XCLAIM q g c2 0 3 TIME {t1} RETRYCOUNT 1 FORCE JUSTID LASTID 4-0"),
            "EXEC".to_string(),
            format!(
                "XCLAIM q g c2 0 4 TIME {} RETRYCOUNT 7 FORCE JUSTID LASTID 9-0",
                t1 - 5000
            ),
            "XGROUP SETID q g 10-0 ENTRIESREAD 4".to_string(),
        ]
    );
    h.run(&["XDEL", "q", "3"]);
    h.effects();
    let r = h.run(&["XAUTOCLAIM", "q", "g", "c3", "0", "0", "JUSTID"]);
    assert_eq!(
        r,
        Value::Array(vec![
            bulk("0-0"),
            Value::Array(vec![bulk("1-0"), bulk("4-0")]),
            Value::Array(vec![bulk("3-0")]),
        ])
    );
    assert_eq!(
        h.effects(),
        vec![
            "MULTI".to_string(),
            format!("XCLAIM q g c3 0 1-0 TIME {t1} RETRYCOUNT 1 FORCE JUSTID LASTID 10-0"),
            format!("XCLAIM q g c2 0 3-0 TIME {t1} RETRYCOUNT 1 FORCE JUSTID LASTID 10-0"),
            format!("XCLAIM q g c3 0 4-0 TIME {t1} RETRYCOUNT 7 FORCE JUSTID LASTID 10-0"),
            "EXEC".to_string(),
        ]
    );
    // Group and consumer commands journal as received.
    assert_eq!(h.run(&["XACK", "q", "g", "4", "1"]), int(2));
    assert_eq!(h.run(&["XACK", "q", "g", "4"]), int(0));
    assert_eq!(h.run(&["XGROUP", "CREATECONSUMER", "q", "g", "c5"]), int(1));
    assert_eq!(h.run(&["XGROUP", "DESTROY", "q", "g"]), int(1));
    assert_eq!(h.run(&["XGROUP", "DESTROY", "q", "g"]), int(0));
    assert_eq!(
        h.effects(),
        vec!["XACK q g 4 1", "XGROUP CREATECONSUMER q g c5", "XGROUP DESTROY q g"]
    );
}

#[test]
fn blocking_reads_answer_at_once_inside_multi() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["MULTI"]), ok());
    h.run(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(h.run(&["EXEC"]), Value::Array(vec![Value::NullArray]));
}
