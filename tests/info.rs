//! INFO: Redis 7.0's sections and field names (compared with a live `redis-server`), values by
//! shape, section selection, and the RESP3 verbatim form.

mod common;

use std::collections::BTreeMap;

use common::{redis_available, Raw, Server, Value};

fn text(v: Value) -> String {
    match v {
        Value::Bulk(b) | Value::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Section name → fields (name, value) in order.
fn parse(info: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut section = String::new();
    for line in info.split("\r\n") {
        if let Some(name) = line.strip_prefix("# ") {
            section = name.to_string();
            out.entry(section.clone()).or_default();
        } else if let Some((k, v)) = line.split_once(':') {
            out.entry(section.clone())
                .or_default()
                .push((k.to_string(), v.to_string()));
        }
    }
    out
}

/// What a value looks like.
fn shape(v: &str) -> &'static str {
    if v.parse::<i64>().is_ok() {
        "int"
    } else if v.parse::<f64>().is_ok() {
        "float"
    } else if v.ends_with('%') && v[..v.len() - 1].parse::<f64>().is_ok() {
        "percent"
    } else if v.len() > 1 && v[..v.len() - 1].parse::<f64>().is_ok() && "BKMGTP".contains(&v[v.len() - 1..]) {
        "human"
    } else {
        "text"
    }
}

/// Sections whose fields depend on what ran (command names, error codes, databases).
const DYNAMIC: &[&str] = &["Commandstats", "Errorstats", "Latencystats", "Keyspace"];

/// Fields whose value is text of a different kind here, or a number only by coincidence.
const SHAPE_EXEMPT: &[&str] = &[
    "redis_build_id",
    "os",
    "gcc_version",
    "executable",
    "config_file",
    "run_id",
    "master_replid",
    "master_replid2",
    // Redis prints small memory sizes without a unit ("200B"), as we do for zero ("0B").
    "used_memory_scripts_human",
    "used_memory_lua_human",
    "used_memory_vm_total_human",
];

#[test]
fn info_fields_match_redis() {
    if !redis_available("info_fields_match_redis") {
        return;
    }
    let f = Server::ferrite(&[]);
    let r = Server::redis(&[]);
    let ours = parse(&text(f.raw().cmd(&["INFO", "everything"])));
    let theirs = parse(&text(r.raw().cmd(&["INFO", "everything"])));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "sections"
    );
    for (section, fields) in &theirs {
        if DYNAMIC.contains(&section.as_str()) {
            continue;
        }
        let mine: Vec<&(String, String)> = ours[section].iter().filter(|(k, _)| k != "ferrite_version").collect();
        let names = |v: &[&(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        let theirs_ref: Vec<&(String, String)> = fields.iter().collect();
        assert_eq!(names(&mine), names(&theirs_ref), "field names of section {section}");
        for ((k, a), (_, b)) in mine
            .iter()
            .map(|p| (&p.0, &p.1))
            .zip(fields.iter().map(|p| (&p.0, &p.1)))
        {
            if !SHAPE_EXEMPT.contains(&k.as_str()) {
                assert_eq!(shape(a), shape(b), "{section}.{k}: ours {a:?}, redis {b:?}");
            }
        }
    }
    assert!(ours["Server"].iter().any(|(k, _)| k == "ferrite_version"));
    assert_eq!(ours["Server"][0], ("redis_version".to_string(), "7.0.15".to_string()));
}

#[test]
fn info_sections_select_like_redis() {
    let f = Server::ferrite(&[]);
    let oracle = redis_available("info_sections_select_like_redis").then(|| Server::redis(&[]));
    let cases: &[&[&str]] = &[
        &["INFO"],
        &["INFO", "default"],
        &["INFO", "all"],
        &["INFO", "everything"],
        &["INFO", "default", "commandstats"],
        &["INFO", "cluster", "clients", "CLUSTER"],
        &["INFO", "foo"],
        &["INFO", "foo", "cluster"],
        &["INFO", "modules"],
    ];
    for case in cases {
        let sections = |port: u16| -> Vec<String> {
            let t = text(Raw::connect(port).cmd(case));
            t.split("\r\n")
                .filter_map(|l| l.strip_prefix("# ").map(String::from))
                .collect()
        };
        let ours = sections(f.port);
        if let Some(o) = &oracle {
            assert_eq!(ours, sections(o.port), "{case:?}");
        }
    }
    // Exact framing: sections separated by an empty line, no trailing one.
    let mut c = f.raw();
    assert_eq!(text(c.cmd(&["INFO", "cluster"])), "# Cluster\r\ncluster_enabled:0\r\n");
    assert_eq!(text(c.cmd(&["INFO", "modules"])), "# Modules\r\n");
    assert_eq!(text(c.cmd(&["INFO", "foo"])), "");
    let two = text(c.cmd(&["INFO", "modules", "cluster"]));
    assert_eq!(two, "# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n");
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["INFO", "cluster"]),
        Value::Verbatim(b"txt".to_vec(), b"# Cluster\r\ncluster_enabled:0\r\n".to_vec())
    );
}

#[test]
fn info_values_follow_the_server() {
    let f = Server::ferrite(&[]);
    let mut c = f.raw();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["GET", "zz"]);
    c.cmd(&["CLIENT", "LIST"]);
    c.cmd(&["SELECT", "x"]);
    let info = parse(&text(c.cmd(&["INFO", "everything"])));
    let get = |s: &str, k: &str| -> String {
        info[s]
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{s}.{k}"))
    };
    let keyspace = get("Keyspace", "db0");
    assert_eq!(keyspace, "keys=2,expires=0,avg_ttl=0");
    assert_eq!(get("Stats", "keyspace_hits"), "1");
    assert_eq!(get("Stats", "keyspace_misses"), "1");
    assert_eq!(get("Clients", "connected_clients"), "1");
    assert_eq!(get("Server", "tcp_port"), f.port.to_string());
    assert_eq!(get("Server", "process_id"), f.pid().to_string());
    assert_eq!(get("Replication", "role"), "master");
    assert_eq!(get("Persistence", "rdb_changes_since_last_save"), "2");
    let used: u64 = get("Memory", "used_memory").parse().expect("used_memory");
    assert!(used > 0, "used_memory is the allocator's running count");
    let set = get("Commandstats", "cmdstat_set");
    assert!(
        set.starts_with("calls=2,usec=")
            && set.contains(",usec_per_call=")
            && set.ends_with(",rejected_calls=0,failed_calls=0"),
        "{set}"
    );
    assert!(get("Commandstats", "cmdstat_client|list").starts_with("calls=1,"));
    assert_eq!(get("Commandstats", "cmdstat_select"), {
        let s = get("Commandstats", "cmdstat_select");
        assert!(s.ends_with("rejected_calls=0,failed_calls=1"), "{s}");
        s
    });
    assert_eq!(get("Errorstats", "errorstat_ERR"), "count=1");
    // Rejected calls (arity) are counted as such.
    c.cmd(&["GET"]);
    let info = parse(&text(c.cmd(&["INFO", "commandstats"])));
    let get_stat = info["Commandstats"]
        .iter()
        .find(|(k, _)| k == "cmdstat_get")
        .map(|(_, v)| v.clone());
    assert!(get_stat
        .expect("cmdstat_get")
        .ends_with("rejected_calls=1,failed_calls=0"));
}
