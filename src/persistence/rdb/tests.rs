use std::sync::Arc;

use super::value::{read_value, types, write_value, LoadLimits, ValueError};
use super::*;
use crate::commands::debug::digest::dataset_digest;
use crate::config::Config;
use crate::storage::object::hash::Hash;
use crate::storage::object::list::List;
use crate::storage::object::set::{Member, Set};
use crate::storage::object::stream::{ConsumerGroup, NodeLimits, Stream, StreamId};
use crate::storage::object::zset::ZSet;
use crate::storage::{NewValue, Object, ValueRef};
use proptest::prelude::*;

fn limits() -> LoadLimits {
    LoadLimits::from_config(&Config::default())
}

fn stream_with_groups() -> Stream {
    let mut s = Stream::new();
    let small = NodeLimits {
        max_bytes: 4096,
        max_entries: 3,
    };
    for i in 1..=10u64 {
        let v = i.to_string();
        if i % 4 == 0 {
            s.append(StreamId::new(1000 + i, 0), &[b"other", v.as_bytes(), b"x", b"y"], small);
        } else {
            s.append(StreamId::new(1000 + i, i), &[b"f", v.as_bytes()], small);
        }
    }
    s.delete_ids(&[StreamId::new(1002, 2), StreamId::new(1005, 5)]);
    let mut g = ConsumerGroup::new(StreamId::new(1003, 3), 3);
    let (alice, _) = g.consumer_or_create(b"alice", 1_700_000_000_000);
    let (bob, _) = g.consumer_or_create(b"bob", 1_700_000_000_500);
    g.deliver(StreamId::new(1001, 1), &alice, 1_700_000_001_000);
    g.deliver(StreamId::new(1003, 3), &bob, 1_700_000_002_000);
    g.consumer_or_create(b"idle", 1_700_000_003_000);
    s.groups.insert(b"workers".to_vec(), g);
    s.groups
        .insert(b"empty".to_vec(), ConsumerGroup::new(StreamId::MIN, -1));
    s
}

/// One value of every type in every encoding Redis 7.0 writes, with what OBJECT ENCODING says.
fn samples() -> Vec<(&'static str, NewValue<'static>, &'static str)> {
    let lim = limits();
    let mut big_list = List::new(-2, 0);
    for i in 0..2000 {
        big_list.push_back(format!("element-{i}").as_bytes());
    }
    let mut small_list = List::new(-2, 0);
    for v in ["a", "12", "-7", "x".repeat(100).as_str()] {
        small_list.push_back(v.as_bytes());
    }
    let ints: Vec<Vec<u8>> = (0..10).map(|i| (i * 1000).to_string().into_bytes()).collect();
    let words: Vec<Vec<u8>> = (0..600).map(|i| format!("m{i}").into_bytes()).collect();
    let mut small_hash = Hash::new();
    small_hash.set(b"f", b"v", lim.hash);
    small_hash.set(b"n", b"42", lim.hash);
    let mut big_hash = Hash::new();
    for i in 0..600 {
        big_hash.set(format!("field{i}").as_bytes(), format!("{i}").as_bytes(), lim.hash);
    }
    let small_z: Vec<(Vec<u8>, f64)> = vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), 2.0), (b"7".to_vec(), -3.25)];
    let mut small_z_sorted = small_z.clone();
    small_z_sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
    let big_z: Vec<(Vec<u8>, f64)> = (0..300)
        .map(|i| (format!("m{i}").into_bytes(), f64::from(i) / 3.0))
        .collect();
    vec![
        ("int", NewValue::Int(-123456789012), "int"),
        ("small-int", NewValue::Int(7), "int"),
        ("embstr", NewValue::Str(b"hello"), "embstr"),
        ("raw", NewValue::StrOwned(vec![b'z'; 5000]), "raw"),
        ("binary", NewValue::StrOwned((0..=255u8).collect()), "raw"),
        (
            "list-small",
            NewValue::Obj(Object::List(Box::new(small_list))),
            "quicklist",
        ),
        ("list-big", NewValue::Obj(Object::List(Box::new(big_list))), "quicklist"),
        (
            "set-ints",
            NewValue::Obj(Object::Set(Set::from_members(ints.iter().map(|m| Member::of(m)), 512))),
            "intset",
        ),
        (
            "set-words",
            NewValue::Obj(Object::Set(Set::from_members(words.iter().map(|m| Member::of(m)), 512))),
            "hashtable",
        ),
        ("hash-small", NewValue::Obj(Object::Hash(small_hash)), "listpack"),
        ("hash-big", NewValue::Obj(Object::Hash(big_hash)), "hashtable"),
        (
            "zset-small",
            NewValue::Obj(Object::ZSet(ZSet::from_sorted(&small_z_sorted, lim.zset))),
            "listpack",
        ),
        (
            "zset-big",
            NewValue::Obj(Object::ZSet(ZSet::from_sorted(&big_z, lim.zset))),
            "skiplist",
        ),
        (
            "stream",
            NewValue::Obj(Object::Stream(Box::new(stream_with_groups()))),
            "stream",
        ),
    ]
}

fn dbs_with_samples() -> Vec<Db> {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
    for (i, (key, value, _)) in samples().into_iter().enumerate() {
        let db = if i % 3 == 0 { 0 } else { 5 };
        let ttl = (i % 4 == 1).then_some(4_000_000_000_000i64);
        dbs[db].put(key.as_bytes(), value, ttl, 0);
    }
    // Expired at save time: not written.
    dbs[0].put(b"gone", NewValue::Str(b"x"), Some(1), 0);
    dbs
}

fn save(dbs: &[Db], libs: &[&[u8]], compress: bool) -> Vec<u8> {
    let aux = Aux {
        ctime_s: 1_700_000_000,
        used_mem: 1234,
        aof_base: false,
    };
    let mut w = Writer::new(Vec::new(), &aux, compress, true);
    for l in libs {
        w.function(l).expect("in memory");
    }
    for (i, db) in dbs.iter().enumerate() {
        w.database(i, db, 1_000_000).expect("in memory");
    }
    w.finish().expect("in memory").0
}

/// The databases, the function libraries and the report of a load.
type LoadedInto = (Vec<Db>, Vec<Vec<u8>>, Loaded);

fn load_into(bytes: &[u8]) -> Result<LoadedInto, LoadError> {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
    let mut libs = vec![];
    let mut on_function = |code: &[u8]| -> Result<(), String> {
        libs.push(code.to_vec());
        Ok(())
    };
    let loaded = load(
        bytes,
        &mut Target {
            dbs: &mut dbs,
            function: &mut on_function,
            limits: limits(),
            now_ms: 1_000_000,
            drop_expired: true,
            lru_clock: 0,
            verify_checksum: true,
            allow_duplicates: false,
        },
    )?;
    Ok((dbs, libs, loaded))
}

fn encoding_of(dbs: &[Db], key: &str) -> Option<&'static str> {
    dbs.iter().find_map(|db| {
        db.get(key.as_bytes()).map(|e| match e.value() {
            ValueRef::Int(_) => "int",
            ValueRef::Str(_, enc) => enc.name(),
            ValueRef::Obj(o) => o.encoding(),
        })
    })
}

#[test]
fn every_type_and_encoding_round_trips() {
    let dbs = dbs_with_samples();
    let lib = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)";
    for compress in [false, true] {
        let bytes = save(&dbs, &[lib], compress);
        assert_eq!(&bytes[..9], b"REDIS0010");
        let (back, libs, loaded) = load_into(&bytes).expect("loads");
        assert_eq!(libs, vec![lib.to_vec()]);
        assert_eq!(loaded.version, 10);
        assert!(loaded.checksum_checked);
        assert_eq!(loaded.keys, samples().len() as u64);
        assert!(back[0].get(b"gone").is_none(), "expired keys are not saved");
        // Same content (DEBUG DIGEST), same encodings, same TTLs.
        let mut want_dbs = dbs_with_samples();
        want_dbs[0].remove(b"gone");
        assert_eq!(dataset_digest(&back).hex(), dataset_digest(&want_dbs).hex());
        for (key, _, enc) in samples() {
            assert_eq!(encoding_of(&back, key), Some(enc), "{key}");
        }
        for (a, b) in want_dbs.iter().zip(&back) {
            for e in a.iter() {
                assert_eq!(b.get(e.key()).and_then(|x| x.expire_at()), e.expire_at());
            }
        }
        // Streams keep their metadata, groups, PELs and consumers.
        let s = match back.iter().find_map(|db| db.get(b"stream")).map(|e| e.value()) {
            Some(ValueRef::Obj(Object::Stream(s))) => s.clone(),
            other => panic!("stream missing: {other:?}"),
        };
        let want = stream_with_groups();
        assert_eq!(s.groups, want.groups);
        assert_eq!(
            (s.len(), s.last_id, s.first_id, s.max_deleted_entry_id, s.entries_added),
            (
                want.len(),
                want.last_id,
                want.first_id,
                want.max_deleted_entry_id,
                want.entries_added
            )
        );
        assert_eq!(s.node_count(), want.node_count());
    }
}

#[test]
fn list_node_boundaries_survive() {
    let dbs = dbs_with_samples();
    let (back, _, _) = load_into(&save(&dbs, &[], true)).expect("loads");
    let lens = |dbs: &[Db]| match dbs[5]
        .get(b"list-big")
        .or_else(|| dbs[0].get(b"list-big"))
        .map(|e| e.value())
    {
        Some(ValueRef::Obj(Object::List(l))) => l.node_lens(),
        _ => panic!("list"),
    };
    assert_eq!(lens(&back), lens(&dbs));
}

#[test]
fn loading_converts_at_the_configured_thresholds() {
    // A 600-field hash written in a listpack (as a server with a higher threshold would) becomes a
    // table here; an intset longer than set-max-intset-entries becomes a table.
    let mut lp = crate::storage::object::listpack::Listpack::new();
    for i in 0..600 {
        lp.push_back(crate::storage::object::listpack::LpItem::Str(
            format!("f{i}").as_bytes(),
        ));
        lp.push_back(crate::storage::object::listpack::LpItem::Int(i));
    }
    let mut body = vec![];
    payload::write_string(&mut body, lp.as_bytes(), false);
    let v = read_value(&mut Reader::new(&body), types::HASH_LISTPACK, &limits()).expect("reads");
    match v {
        NewValue::Obj(Object::Hash(h)) => assert_eq!(h.encoding(), "hashtable"),
        other => panic!("{other:?}"),
    }
    let mut lim = limits();
    lim.set_max_intset = 4;
    let ints: Vec<Vec<u8>> = (0..10).map(|i| i.to_string().into_bytes()).collect();
    let set = Set::from_members(ints.iter().map(|m| Member::of(m)), 512);
    let mut body = vec![];
    let t = write_value(&mut body, ValueRef::Obj(&Object::Set(set)), false);
    assert_eq!(t, types::SET_INTSET);
    match read_value(&mut Reader::new(&body), t, &lim).expect("reads") {
        NewValue::Obj(Object::Set(s)) => assert_eq!((s.encoding(), s.len()), ("hashtable", 10)),
        other => panic!("{other:?}"),
    }
}

use super::super::payload;

#[test]
fn duplicates_and_bad_values_are_refused() {
    // A set with a member twice.
    let mut body = vec![];
    payload::write_len(&mut body, 2);
    payload::write_string(&mut body, b"a", false);
    payload::write_string(&mut body, b"a", false);
    assert!(matches!(
        read_value(&mut Reader::new(&body), types::SET, &limits()),
        Err(ValueError::Corrupt(_))
    ));
    // A count far beyond the data.
    let mut body = vec![];
    payload::write_len(&mut body, u64::from(u32::MAX));
    assert!(read_value(&mut Reader::new(&body), types::LIST, &limits()).is_err());
    // Module values and unknown types.
    assert_eq!(
        read_value(&mut Reader::new(b""), types::MODULE_2, &limits()).err(),
        Some(ValueError::Module)
    );
    assert!(matches!(
        read_value(&mut Reader::new(b""), 8, &limits()),
        Err(ValueError::UnknownType(8))
    ));
    // An empty set is skipped, not loaded.
    let mut body = vec![];
    payload::write_len(&mut body, 0);
    assert_eq!(
        read_value(&mut Reader::new(&body), types::SET, &limits()).err(),
        Some(ValueError::Empty)
    );
}

#[test]
fn file_errors_name_the_problem() {
    let dbs = dbs_with_samples();
    let good = save(&dbs, &[], false);
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 0xFF;
    let e = load_into(&bad_crc).err().expect("refused");
    assert!(e.reason.starts_with("Wrong RDB checksum"), "{e}");
    assert!(load_into(b"REDIS0011\xff")
        .err()
        .expect("refused")
        .reason
        .contains("version 11"));
    assert!(load_into(b"RDB").is_err());
    // A checksum of zero means "not computed".
    let mut no_crc = good.clone();
    no_crc[n - 8..].fill(0);
    let (_, _, loaded) = load_into(&no_crc).expect("loads");
    assert!(!loaded.checksum_checked);
    // Too many databases.
    let mut many: Vec<Db> = (0..17).map(|_| Db::new()).collect();
    many[16].put(b"k", NewValue::Str(b"v"), None, 0);
    assert!(load_into(&save(&many, &[], false))
        .err()
        .expect("refused")
        .reason
        .contains("more than 16 databases"));
}

#[test]
fn a_stream_consumer_pel_must_match_its_group() {
    let mut s = stream_with_groups();
    // An entry pending in a consumer but missing from the group PEL.
    if let Some(g) = s.groups.get_mut(&b"workers"[..]) {
        g.pel.remove(&StreamId::new(1001, 1));
    }
    let mut body = vec![];
    let t = write_value(&mut body, ValueRef::Obj(&Object::Stream(Box::new(s))), false);
    assert!(matches!(
        read_value(&mut Reader::new(&body), t, &limits()),
        Err(ValueError::Corrupt(_))
    ));
    let _ = Arc::<[u8]>::from(&b""[..]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Truncated or byte-flipped files never panic: they load or they are refused.
    #[test]
    fn damaged_files_never_panic(cut in 0usize..4000, flips in prop::collection::vec((0usize..4000, any::<u8>()), 0..4)) {
        let dbs = dbs_with_samples();
        let mut bytes = save(&dbs, &[], false);
        for (at, x) in flips {
            let n = bytes.len();
            bytes[at % n] ^= x;
        }
        bytes.truncate(cut.min(bytes.len()));
        let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
        let mut on_function = |_: &[u8]| -> Result<(), String> { Ok(()) };
        let _ = load(&bytes, &mut Target {
            dbs: &mut dbs,
            function: &mut on_function,
            limits: limits(),
            now_ms: 0,
            drop_expired: false,
            lru_clock: 0,
            verify_checksum: false,
            allow_duplicates: false,
        });
    }
}
