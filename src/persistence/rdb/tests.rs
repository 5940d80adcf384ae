use std::sync::Arc;

use super::super::payload::Reader;
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
    stream_into(bytes, usize::MAX, WINDOW, u64::MAX)
}

/// Where the tests load: a master's settings at `now_ms` 1,000,000, checksums verified.
fn test_target<'a>(dbs: &'a mut [Db], function: &'a mut dyn FnMut(&[u8]) -> Result<(), String>) -> Target<'a> {
    Target {
        dbs,
        function,
        limits: limits(),
        now_ms: 1_000_000,
        drop_expired: true,
        lru_clock: 0,
        verify_checksum: true,
        allow_duplicates: false,
        key_load_delay_us: 0,
    }
}

/// A source that hands out at most `chunk` bytes per read, as a pipe or a slow disk may.
struct Trickle<'a> {
    bytes: &'a [u8],
    chunk: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// Load through a `Loader` with a `window`-byte window, reads of at most `chunk` bytes and steps of
/// `budget` bytes.
fn stream_into(bytes: &[u8], chunk: usize, window: usize, budget: u64) -> Result<LoadedInto, LoadError> {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
    let mut libs = vec![];
    let mut on_function = |code: &[u8]| -> Result<(), String> {
        libs.push(code.to_vec());
        Ok(())
    };
    let mut target = test_target(&mut dbs, &mut on_function);
    let mut loader = Loader::with_window(Trickle { bytes, chunk }, Some(bytes.len() as u64), window);
    while loader.step(&mut target, budget)? == Step::More {}
    let (loaded, _, _) = loader.into_rest();
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

/// A function library for the sample files.
const LIB: &[u8] = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)";

/// The samples and `LIB` saved to a file.
fn samples_file(compress: bool) -> Vec<u8> {
    save(&dbs_with_samples(), &[LIB], compress)
}

#[test]
fn every_type_and_encoding_round_trips() {
    for compress in [false, true] {
        let bytes = samples_file(compress);
        assert_eq!(&bytes[..9], b"REDIS0010");
        let (back, libs, loaded) = load_into(&bytes).expect("loads");
        assert_eq!(libs, vec![LIB.to_vec()]);
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

#[test]
fn a_small_window_loads_values_larger_than_itself() {
    // The samples hold a 5000-byte string, a 2000-element list and a stream: with a 64-byte window,
    // reads of 7 bytes and steps of 100 bytes every big record grows the window and is parsed again.
    for compress in [false, true] {
        let bytes = samples_file(compress);
        let (whole, whole_libs, whole_loaded) = load_into(&bytes).expect("loads");
        for (chunk, window, budget) in [
            (7, 64, 100),
            (1, 16, 1),
            (4096, 256, u64::MAX),
            (usize::MAX, 1000, 3000),
        ] {
            let (back, libs, loaded) = stream_into(&bytes, chunk, window, budget).expect("loads");
            assert_eq!(
                dataset_digest(&back).hex(),
                dataset_digest(&whole).hex(),
                "{chunk}/{window}"
            );
            assert_eq!(libs, whole_libs);
            assert_eq!(loaded.keys, whole_loaded.keys);
            assert!(loaded.checksum_checked);
            assert_eq!(loaded.end_offset, bytes.len() as u64);
        }
    }
}

#[test]
fn bytes_after_the_rdb_are_left_for_the_caller() {
    // An RDB preamble followed by an AOF's commands: the load stops after the checksum and says where.
    let dbs = dbs_with_samples();
    let rdb = save(&dbs, &[], false);
    let tail = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n".repeat(50);
    let mut file = rdb.clone();
    file.extend_from_slice(&tail);
    let (_, _, loaded) = load_into(&file).expect("trailing bytes are not an error");
    assert_eq!(loaded.end_offset, rdb.len() as u64);
    for window in [16, 100, 4096] {
        let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
        let mut on_function = |_: &[u8]| -> Result<(), String> { Ok(()) };
        let mut target = test_target(&mut dbs, &mut on_function);
        let mut loader = Loader::with_window(&file[..], Some(file.len() as u64), window);
        while loader.step(&mut target, 10).expect("loads") == Step::More {}
        let (loaded, mut src, buffered) = loader.into_rest();
        assert_eq!(loaded.end_offset, rdb.len() as u64);
        // What the window read past the end, then the rest of the source: exactly the tail.
        let mut rest = buffered;
        std::io::Read::read_to_end(&mut src, &mut rest).expect("in memory");
        assert_eq!(rest, tail, "window {window}");
    }
}

#[test]
fn resizedb_sizes_the_table_without_trusting_a_damaged_count() {
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
    for i in 0..1000 {
        dbs[0].put(format!("k{i}").as_bytes(), NewValue::Str(b"v"), None, 0);
    }
    let bytes = save(&dbs, &[], false);
    let (back, _, _) = load_into(&bytes).expect("loads");
    // 1000 keys announced: 1024 buckets from the start, so the load never rehashed.
    assert_eq!(back[0].buckets(), (1024, 0));
    // A RESIZEDB claiming 2^40 keys in a tiny file reserves no more than the file can hold.
    let mut forged = b"REDIS0010".to_vec();
    forged.push(opcode::SELECTDB);
    forged.push(0);
    forged.push(opcode::RESIZEDB);
    super::super::payload::write_len(&mut forged, 1 << 40);
    forged.push(0);
    forged.push(opcode::EOF);
    forged.extend_from_slice(&[0; 8]);
    let (back, _, _) = load_into(&forged).expect("loads");
    assert!(back[0].buckets().0 <= 16, "{:?}", back[0].buckets());
}

/// The samples' file with bytes flipped (`(at, xor)`), then cut at `cut`.
fn damaged(cut: usize, flips: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = save(&dbs_with_samples(), &[], false);
    for &(at, x) in flips {
        let n = bytes.len();
        bytes[at % n] ^= x;
    }
    bytes.truncate(cut.min(bytes.len()));
    bytes
}

/// The outcome of a load, comparable across ways of reading the same bytes.
fn outcome(r: Result<LoadedInto, LoadError>) -> Result<(String, u64, u64), LoadError> {
    r.map(|(dbs, _, loaded)| (dataset_digest(&dbs).hex(), loaded.keys, loaded.end_offset))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Reading a damaged file through any window, in any read sizes and steps, ends exactly as
    /// reading it whole: the same dataset, or the same error at the same offset.
    #[test]
    fn streaming_matches_a_whole_read(
        cut in 0usize..4000,
        flips in prop::collection::vec((0usize..4000, any::<u8>()), 0..3),
        chunk in 1usize..300,
        window in 16usize..600,
        budget in 1u64..2000,
    ) {
        let bytes = damaged(cut, &flips);
        let whole = outcome(load_into(&bytes));
        let streamed = outcome(stream_into(&bytes, chunk, window, budget));
        prop_assert_eq!(whole, streamed);
    }

    /// Truncated or byte-flipped files never panic: they load or they are refused.
    #[test]
    fn damaged_files_never_panic(cut in 0usize..4000, flips in prop::collection::vec((0usize..4000, any::<u8>()), 0..4)) {
        let bytes = damaged(cut, &flips);
        let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
        let mut on_function = |_: &[u8]| -> Result<(), String> { Ok(()) };
        let _ = load(&bytes, &mut Target {
            now_ms: 0,
            drop_expired: false,
            verify_checksum: false,
            ..test_target(&mut dbs, &mut on_function)
        });
    }
}
