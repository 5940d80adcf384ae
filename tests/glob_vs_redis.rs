//! `glob_match` against Redis's own matcher: random small patterns and subjects, answered by
//! `KEYS` (case-sensitive) and `CONFIG GET` (case-insensitive) on a scratch `redis-server`.

mod common;

use common::{redis_available, Rng, Server};
use ferrite::util::glob::glob_match;
use std::collections::BTreeSet;

const SUBJECT_BYTES: &[u8] = b"abcAB-]^[\\*?\xff\x01";
const PATTERN_BYTES: &[u8] = b"abcAB-]^[\\*?*?[]\xff\x01";

fn random_bytes(rng: &mut Rng, alphabet: &[u8], min: usize, max: usize) -> Vec<u8> {
    let len = min + rng.below(max - min + 1);
    (0..len).map(|_| rng.pick(alphabet)).collect()
}

#[test]
fn keys_patterns_match_like_redis() {
    if !redis_available("keys_patterns_match_like_redis") {
        return;
    }
    let oracle = Server::redis_plain(&[]);
    let mut con = oracle.conn();
    let mut rng = Rng::new(0x5eed_1234);
    let mut keys = BTreeSet::new();
    while keys.len() < 400 {
        keys.insert(random_bytes(&mut rng, SUBJECT_BYTES, 1, 6));
    }
    let mut mset = redis::cmd("MSET");
    for k in &keys {
        mset.arg(k).arg(1);
    }
    let () = mset.query(&mut con).expect("MSET");

    let mut checked = 0;
    for _batch in 0..20 {
        let patterns: Vec<Vec<u8>> = (0..200).map(|_| random_bytes(&mut rng, PATTERN_BYTES, 0, 7)).collect();
        let mut pipe = redis::pipe();
        for p in &patterns {
            pipe.cmd("KEYS").arg(p);
        }
        let answers: Vec<Vec<Vec<u8>>> = pipe.query(&mut con).expect("KEYS");
        for (p, got) in patterns.iter().zip(answers) {
            if p.as_slice() == b"*" {
                continue; // KEYS special-cases a lone "*" (it skips matching entirely).
            }
            let want: BTreeSet<Vec<u8>> = got.into_iter().collect();
            let ours: BTreeSet<Vec<u8>> = keys.iter().filter(|k| glob_match(p, k, false)).cloned().collect();
            assert_eq!(ours, want, "pattern {:?}: ours vs redis", String::from_utf8_lossy(p));
            checked += 1;
        }
    }
    assert!(checked > 3000);
}

#[test]
fn config_get_patterns_match_like_redis_nocase() {
    if !redis_available("config_get_patterns_match_like_redis_nocase") {
        return;
    }
    let oracle = Server::redis_plain(&[]);
    let mut con = oracle.conn();
    let all: Vec<Vec<u8>> = redis::cmd("CONFIG").arg("GET").arg("*").query(&mut con).expect("GET");
    let names: BTreeSet<Vec<u8>> = all.chunks(2).map(|kv| kv[0].clone()).collect();
    let alphabet: &[u8] = b"aeiolmnprstAEPR-*?*[]^\\";
    let mut rng = Rng::new(0xfeed_beef);
    let mut checked = 0;
    while checked < 3000 {
        let mut p = random_bytes(&mut rng, alphabet, 1, 6);
        // Without a glob character CONFIG GET does an exact lookup instead of matching.
        if !p.iter().any(|b| b"[*?".contains(b)) {
            p.push(b'*');
        }
        let got: Vec<Vec<u8>> = redis::cmd("CONFIG").arg("GET").arg(&p).query(&mut con).expect("GET");
        let want: BTreeSet<Vec<u8>> = got.chunks(2).map(|kv| kv[0].clone()).collect();
        let ours: BTreeSet<Vec<u8>> = names.iter().filter(|n| glob_match(&p, n, true)).cloned().collect();
        assert_eq!(ours, want, "pattern {:?}", String::from_utf8_lossy(&p));
        checked += 1;
    }
}
