//! The command table: one row per command and subcommand (see `spec.rs` for what a row says).
//!
//! Rows were derived from what a real `redis-server` 7.0 answers to `COMMAND INFO` (`tools/command-row.py`
//! prints a skeleton) and `tests/command_info.rs` checks them against a live server; summaries are ours.
//! Everything else reads this table: dispatch, `COMMAND`, and later ACL, cluster and propagation.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::spec::{acl as a, flags as f, ks, Command};
use super::{connection, keys, server, string};
use crate::{cmd, key_spec};

pub static COMMANDS: &[Command] = &[
    // ---- connection ----
    cmd!("ping", arity: -1, flags: f::FAST, acl: a::FAST | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
        handler: Some(connection::ping),
        doc: ("Returns PONG, or the given message, to check that the server answers.", "1.0.0", "connection", "O(1)")),
    cmd!("echo", arity: 2, flags: f::LOADING | f::STALE | f::FAST, acl: a::FAST | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(connection::echo),
        doc: ("Returns its argument unchanged.", "1.0.0", "connection", "O(1)")),
    cmd!("quit", arity: -1, flags: f::ALLOW_BUSY | f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH,
        acl: a::FAST | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(connection::quit),
        doc: ("Closes the connection once the reply is written.", "1.0.0", "connection", "O(1)")),
    cmd!("select", arity: 2, flags: f::LOADING | f::STALE | f::FAST, acl: a::FAST | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(connection::select),
        doc: ("Switches the connection to another numbered database.", "1.0.0", "connection", "O(1)")),
    // ---- client ----
    // ---- config ----
    // ---- info ----
    // ---- introspection: command, slowlog, latency, memory ----
    // ---- keys and databases ----
    cmd!("del", arity: -2, flags: f::WRITE, acl: a::KEYSPACE | a::WRITE | a::SLOW,
        keys: (1, -1, 1), specs: [key_spec!(ks::RM | ks::DELETE, [index 1], [range -1 1 0])],
        tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
        handler: Some(keys::del),
        doc: ("Removes keys and answers how many existed.", "1.0.0", "generic",
            "O(N) in the number of keys, plus the size of each collection removed")),
    cmd!("unlink", arity: -2, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, -1, 1), specs: [key_spec!(ks::RM | ks::DELETE, [index 1], [range -1 1 0])],
        tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
        handler: Some(keys::unlink),
        doc: ("Removes keys at once and releases big values' memory in the background.", "4.0.0", "generic",
            "O(1) per key; freeing a big value happens off the command path")),
    cmd!("exists", arity: -2, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (1, -1, 1), specs: [key_spec!(ks::RO, [index 1], [range -1 1 0])],
        tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
        handler: Some(keys::exists),
        doc: ("Counts how many of the named keys exist, repeats included.", "1.0.0", "generic",
            "O(N) in the number of keys")),
    cmd!("touch", arity: -2, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (1, -1, 1), specs: [key_spec!(ks::RO, [index 1], [range -1 1 0])],
        tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
        handler: Some(keys::touch),
        doc: ("Marks keys as just used and counts those that exist.", "3.2.1", "generic",
            "O(N) in the number of keys")),
    cmd!("type", arity: 2, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO, [index 1], [range 0 1 0])],
        handler: Some(keys::type_),
        doc: ("Names the data type of a key's value, or none.", "1.0.0", "generic", "O(1)")),
    cmd!("rename", arity: 3, flags: f::WRITE, acl: a::KEYSPACE | a::WRITE | a::SLOW,
        keys: (1, 2, 1),
        specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [range 0 1 0]),
            key_spec!(ks::OW | ks::UPDATE, [index 2], [range 0 1 0])],
        handler: Some(keys::rename),
        doc: ("Gives a key a new name, replacing any key already called so.", "1.0.0", "generic", "O(1)")),
    cmd!("renamenx", arity: 3, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, 2, 1),
        specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [range 0 1 0]),
            key_spec!(ks::OW | ks::INSERT, [index 2], [range 0 1 0])],
        handler: Some(keys::renamenx),
        doc: ("Gives a key a new name unless that name is taken.", "1.0.0", "generic", "O(1)")),
    cmd!("copy", arity: -3, flags: f::WRITE | f::DENYOOM, acl: a::KEYSPACE | a::WRITE | a::SLOW,
        keys: (1, 2, 1),
        specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0]),
            key_spec!(ks::OW | ks::UPDATE, [index 2], [range 0 1 0])],
        handler: Some(keys::copy),
        doc: ("Duplicates a key's value and TTL under another name, possibly in another database.", "6.2.0",
            "generic", "O(N) in the size of the value")),
    cmd!("move", arity: 3, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(keys::move_),
        doc: ("Moves a key to another database unless the name is taken there.", "1.0.0", "generic", "O(1)")),
    cmd!("keys", arity: 2, flags: f::READONLY, acl: a::KEYSPACE | a::READ | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "nondeterministic_output_order"],
        handler: Some(keys::keys),
        doc: ("Lists every key matching a glob pattern, in one blocking pass.", "1.0.0", "generic",
            "O(N) in the number of keys in the database")),
    cmd!("scan", arity: -2, flags: f::READONLY | f::TOUCHES_ARBITRARY_KEYS, acl: a::KEYSPACE | a::READ | a::SLOW,
        keys: (0, 0, 0), specs: [],
        tips: ["nondeterministic_output", "request_policy:special"],
        handler: Some(keys::scan),
        doc: ("Walks the keys a few at a time with a cursor, optionally filtered by pattern and type.", "2.8.0",
            "generic", "O(1) per call; O(N) for a whole walk")),
    cmd!("randomkey", arity: 1, flags: f::READONLY | f::TOUCHES_ARBITRARY_KEYS,
        acl: a::KEYSPACE | a::READ | a::SLOW,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "nondeterministic_output"],
        handler: Some(keys::randomkey),
        doc: ("Picks a key at random.", "1.0.0", "generic", "O(1)")),
    cmd!("expire", arity: -3, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(keys::expire),
        doc: ("Sets a key to disappear after a number of seconds.", "1.0.0", "generic", "O(1)")),
    cmd!("pexpire", arity: -3, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(keys::pexpire),
        doc: ("Sets a key to disappear after a number of milliseconds.", "2.6.0", "generic", "O(1)")),
    cmd!("expireat", arity: -3, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(keys::expireat),
        doc: ("Sets a key to disappear at a Unix time in seconds.", "1.2.0", "generic", "O(1)")),
    cmd!("pexpireat", arity: -3, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(keys::pexpireat),
        doc: ("Sets a key to disappear at a Unix time in milliseconds.", "2.6.0", "generic", "O(1)")),
    cmd!("ttl", arity: 2, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        tips: ["nondeterministic_output"],
        handler: Some(keys::ttl),
        doc: ("Answers the seconds a key has left to live (-1 without TTL, -2 if missing).", "1.0.0", "generic",
            "O(1)")),
    cmd!("pttl", arity: 2, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        tips: ["nondeterministic_output"],
        handler: Some(keys::pttl),
        doc: ("Answers the milliseconds a key has left to live (-1 without TTL, -2 if missing).", "2.6.0",
            "generic", "O(1)")),
    cmd!("expiretime", arity: 2, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(keys::expiretime),
        doc: ("Answers the Unix time in seconds at which a key will disappear.", "7.0.0", "generic", "O(1)")),
    cmd!("pexpiretime", arity: 2, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(keys::pexpiretime),
        doc: ("Answers the Unix time in milliseconds at which a key will disappear.", "7.0.0", "generic",
            "O(1)")),
    cmd!("persist", arity: 2, flags: f::WRITE | f::FAST, acl: a::KEYSPACE | a::WRITE | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(keys::persist),
        doc: ("Removes a key's TTL so it lives until deleted.", "2.2.0", "generic", "O(1)")),
    cmd!("object", arity: -2, flags: 0, acl: a::SLOW,
        keys: (0, 0, 0), specs: [],
        handler: None,
        sub: &[
            cmd!("help" in "object", arity: 2, flags: f::LOADING | f::STALE, acl: a::KEYSPACE | a::SLOW,
                keys: (0, 0, 0), specs: [],
                handler: Some(keys::object_help),
                doc: ("Lists the OBJECT subcommands.", "6.2.0", "generic", "O(1)")),
            cmd!("idletime" in "object", arity: 3, flags: f::READONLY, acl: a::KEYSPACE | a::READ | a::SLOW,
                keys: (2, 2, 1), specs: [key_spec!(ks::RO, [index 2], [range 0 1 0])],
                tips: ["nondeterministic_output"],
                handler: Some(keys::object_idletime),
                doc: ("Answers the seconds since a key was last used.", "2.2.3", "generic", "O(1)")),
            cmd!("encoding" in "object", arity: 3, flags: f::READONLY, acl: a::KEYSPACE | a::READ | a::SLOW,
                keys: (2, 2, 1), specs: [key_spec!(ks::RO, [index 2], [range 0 1 0])],
                tips: ["nondeterministic_output"],
                handler: Some(keys::object_encoding),
                doc: ("Names the internal representation of a key's value.", "2.2.3", "generic", "O(1)")),
            cmd!("freq" in "object", arity: 3, flags: f::READONLY, acl: a::KEYSPACE | a::READ | a::SLOW,
                keys: (2, 2, 1), specs: [key_spec!(ks::RO, [index 2], [range 0 1 0])],
                tips: ["nondeterministic_output"],
                handler: Some(keys::object_freq),
                doc: ("Answers a key's logarithmic access counter under an LFU policy.", "4.0.0", "generic",
                    "O(1)")),
            cmd!("refcount" in "object", arity: 3, flags: f::READONLY, acl: a::KEYSPACE | a::READ | a::SLOW,
                keys: (2, 2, 1), specs: [key_spec!(ks::RO, [index 2], [range 0 1 0])],
                tips: ["nondeterministic_output"],
                handler: Some(keys::object_refcount),
                doc: ("Answers how many references a key's value has.", "2.2.3", "generic", "O(1)")),
        ],
        doc: ("Inspects how a key's value is stored.", "2.2.3", "generic", "Depends on the subcommand.")),
    cmd!("swapdb", arity: 3, flags: f::WRITE | f::FAST,
        acl: a::KEYSPACE | a::WRITE | a::FAST | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(keys::swapdb),
        doc: ("Exchanges the contents of two databases.", "4.0.0", "server", "O(1)")),
    cmd!("flushdb", arity: -1, flags: f::WRITE, acl: a::KEYSPACE | a::WRITE | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
        handler: Some(keys::flushdb),
        doc: ("Deletes every key of the selected database, optionally freeing memory in the background.",
            "1.0.0", "server", "O(N) in the number of keys; O(1) with ASYNC")),
    cmd!("flushall", arity: -1, flags: f::WRITE, acl: a::KEYSPACE | a::WRITE | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
        handler: Some(keys::flushall),
        doc: ("Deletes every key of every database, optionally freeing memory in the background.", "1.0.0",
            "server", "O(N) in the number of keys; O(1) with ASYNC")),
    cmd!("dbsize", arity: 1, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "response_policy:agg_sum"],
        handler: Some(keys::dbsize),
        doc: ("Returns how many keys the selected database holds.", "1.0.0", "server", "O(1)")),
    // ---- strings ----
    cmd!("get", arity: 2, flags: f::READONLY | f::FAST, acl: a::READ | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::get),
        doc: ("Returns the string stored at a key.", "1.0.0", "string", "O(1)")),
    cmd!("set", arity: -3, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::STRING | a::SLOW,
        keys: (1, 1, 1),
        specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS, [index 1], [range 0 1 0],
            notes "RW and ACCESS due to the optional `GET` argument")],
        handler: Some(string::set),
        doc: ("Stores a string at a key, with optional expiry and existence conditions.", "1.0.0", "string", "O(1)")),
    // ---- server ----
    cmd!("debug", arity: -2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::PROTECTED,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(server::debug),
        doc: ("Debugging and testing helpers (SLEEP, OBJECT, DIGEST, ...).", "1.0.0", "server", "Depends on the subcommand.")),
    cmd!("shutdown", arity: -1,
        flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::NO_MULTI | f::ALLOW_BUSY,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(server::shutdown),
        doc: ("Stops the server, optionally saving first.", "1.0.0", "server", "O(N) when saving, with N the number of keys")),
];

/// The result of looking a command up.
pub enum Lookup {
    /// The command (or subcommand) and its index for statistics.
    Found(&'static Command, usize),
    Unknown,
    /// A container command with a subcommand it does not have.
    UnknownSub(&'static Command),
}

struct Index {
    /// Lowercase name (`get`, `config|get`) → position in `all`.
    by_name: HashMap<Vec<u8>, usize>,
    all: Vec<&'static Command>,
}

static INDEX: OnceLock<Index> = OnceLock::new();

fn index() -> &'static Index {
    INDEX.get_or_init(|| {
        let mut all = vec![];
        let mut by_name = HashMap::new();
        for c in COMMANDS {
            by_name.insert(c.name.as_bytes().to_vec(), all.len());
            all.push(c);
            for s in c.subcommands {
                by_name.insert(s.full_name.as_bytes().to_vec(), all.len());
                all.push(s);
            }
        }
        Index { by_name, all }
    })
}

/// Number of rows, subcommands included (sizes the statistics table).
pub fn count_all() -> usize {
    index().all.len()
}

/// Every row, subcommands included, in table order, with its statistics index.
pub fn all() -> impl Iterator<Item = (usize, &'static Command)> {
    index().all.iter().copied().enumerate()
}

/// Top-level commands only.
pub fn top_level() -> impl Iterator<Item = &'static Command> {
    COMMANDS.iter()
}

/// Find a command by name, case-insensitively (`config|get` finds a subcommand).
pub fn find(name: &[u8]) -> Option<(&'static Command, usize)> {
    let idx = index();
    let mut buf = [0u8; 64];
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    idx.by_name.get(&buf[..name.len()]).map(|&i| (idx.all[i], i))
}

/// Look up the command a request names.
pub fn lookup_args(args: &super::Args<'_>) -> Lookup {
    let first = args.get(0);
    let Some((cmd, i)) = find(first) else {
        return Lookup::Unknown;
    };
    if cmd.subcommands.is_empty() {
        return Lookup::Found(cmd, i);
    }
    if args.len() < 2 {
        // Arity of the container reports the error.
        return Lookup::Found(cmd, i);
    }
    let sub = args.get(1);
    for (si, s) in cmd.subcommands.iter().enumerate() {
        if s.name.as_bytes().eq_ignore_ascii_case(sub) {
            return Lookup::Found(s, i + 1 + si);
        }
    }
    Lookup::UnknownSub(cmd)
}

/// The same lookup over plain slices (the busy hook has no `Args`).
pub fn lookup(args: &[&[u8]]) -> Lookup {
    let mut owned = super::OwnedArgs::default();
    for a in args.iter().take(2) {
        owned.push(a);
    }
    lookup_args(&owned.view())
}
