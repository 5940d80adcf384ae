//! The command table: one row per command and subcommand (see `spec.rs` for what a row says).
//!
//! Rows were derived from what a real `redis-server` 7.0 answers to `COMMAND INFO` (`tools/command-row.py`
//! prints a skeleton) and `tests/command_info.rs` checks them against a live server; summaries are ours.
//! Everything else reads this table: dispatch, `COMMAND`, and later ACL, cluster and propagation.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::spec::{acl as a, flags as f, ks, Command};
use super::{connection, server, string};
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
    // ---- strings ----
    cmd!("get", arity: 2, flags: f::READONLY | f::FAST, acl: a::READ | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::get),
        doc: ("Returns the string stored at a key.", "1.0.0", "string", "O(1)")),
    cmd!("set", arity: -3, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::STRING | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS, [index 1], [range 0 1 0], notes "RW and ACCESS due to the optional `GET` argument")],
        handler: Some(string::set),
        doc: ("Stores a string at a key, with optional expiry and existence conditions.", "1.0.0", "string", "O(1)")),
    cmd!("setnx", arity: 3, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::OW | ks::INSERT, [index 1], [range 0 1 0])],
        handler: Some(string::setnx),
        doc: ("Stores a string only if the key does not exist yet.", "1.0.0", "string", "O(1)")),
    cmd!("setex", arity: 4, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::STRING | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::setex),
        doc: ("Stores a string that expires after a number of seconds.", "2.0.0", "string", "O(1)")),
    cmd!("psetex", arity: 4, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::STRING | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::psetex),
        doc: ("Stores a string that expires after a number of milliseconds.", "2.6.0", "string", "O(1)")),
    cmd!("getex", arity: -2, flags: f::WRITE | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0], notes "RW and UPDATE because it changes the TTL")],
        handler: Some(string::getex),
        doc: ("Returns a string and changes or removes its expiry.", "6.2.0", "string", "O(1)")),
    cmd!("getdel", arity: 2, flags: f::WRITE | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [range 0 1 0])],
        handler: Some(string::getdel),
        doc: ("Returns a string and deletes its key.", "6.2.0", "string", "O(1)")),
    cmd!("getset", arity: 3, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::getset),
        doc: ("Stores a string and returns the value it replaced.", "1.0.0", "string", "O(1)", replaced_by: "`SET` with the `!GET` argument" "6.2.0")),
    cmd!("mget", arity: -2, flags: f::READONLY | f::FAST, acl: a::READ | a::STRING | a::FAST,
        keys: (1, -1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range -1 1 0])],
        tips: ["request_policy:multi_shard"],
        handler: Some(string::mget),
        doc: ("Returns the strings stored at several keys.", "1.0.0", "string", "O(N) for N keys")),
    cmd!("mset", arity: -3, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::STRING | a::SLOW,
        keys: (1, -1, 2), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range -1 2 0])],
        tips: ["request_policy:multi_shard", "response_policy:all_succeeded"],
        handler: Some(string::mset),
        doc: ("Stores several strings at once.", "1.0.1", "string", "O(N) for N keys")),
    cmd!("msetnx", arity: -3, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::STRING | a::SLOW,
        keys: (1, -1, 2), specs: [key_spec!(ks::OW | ks::INSERT, [index 1], [range -1 2 0])],
        tips: ["request_policy:multi_shard", "response_policy:agg_min"],
        handler: Some(string::msetnx),
        doc: ("Stores several strings only if none of the keys exists.", "1.0.1", "string", "O(N) for N keys")),
    cmd!("append", arity: 3, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::INSERT, [index 1], [range 0 1 0])],
        handler: Some(string::append),
        doc: ("Appends bytes to a string, creating it when missing.", "2.0.0", "string", "O(1) amortized, plus a copy when the value is converted")),
    cmd!("strlen", arity: 2, flags: f::READONLY | f::FAST, acl: a::READ | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO, [index 1], [range 0 1 0])],
        handler: Some(string::strlen),
        doc: ("Returns the length in bytes of a string.", "2.2.0", "string", "O(1)")),
    cmd!("incr", arity: 2, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::incr),
        doc: ("Adds one to the integer stored at a key.", "1.0.0", "string", "O(1)")),
    cmd!("decr", arity: 2, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::decr),
        doc: ("Subtracts one from the integer stored at a key.", "1.0.0", "string", "O(1)")),
    cmd!("incrby", arity: 3, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::incrby),
        doc: ("Adds an integer to the integer stored at a key.", "1.0.0", "string", "O(1)")),
    cmd!("decrby", arity: 3, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::decrby),
        doc: ("Subtracts an integer from the integer stored at a key.", "1.0.0", "string", "O(1)")),
    cmd!("incrbyfloat", arity: 3, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::STRING | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::incrbyfloat),
        doc: ("Adds a floating point number to the number stored at a key.", "2.6.0", "string", "O(1)")),
    cmd!("getrange", arity: 4, flags: f::READONLY, acl: a::READ | a::STRING | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::getrange),
        doc: ("Returns a byte range of a string.", "2.4.0", "string", "O(N) for N bytes returned")),
    cmd!("substr", arity: 4, flags: f::READONLY, acl: a::READ | a::STRING | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::substr),
        doc: ("Returns a byte range of a string (old name of GETRANGE).", "1.0.0", "string", "O(N) for N bytes returned", replaced_by: "`GETRANGE`" "2.0.0")),
    cmd!("setrange", arity: 4, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::STRING | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::setrange),
        doc: ("Overwrites part of a string at a byte offset, padding with zero bytes.", "2.2.0", "string", "O(1) plus the bytes written and padded")),
    cmd!("lcs", arity: -3, flags: f::READONLY, acl: a::READ | a::STRING | a::SLOW,
        keys: (1, 2, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 1 1 0])],
        handler: Some(string::lcs),
        doc: ("Finds the longest common subsequence of two strings.", "7.0.0", "string", "O(N*M) for strings of N and M bytes")),
    cmd!("setbit", arity: 4, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::BITMAP | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(string::setbit),
        doc: ("Sets or clears one bit of a string, growing it as needed.", "2.2.0", "bitmap", "O(1)")),
    cmd!("getbit", arity: 3, flags: f::READONLY | f::FAST, acl: a::READ | a::BITMAP | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::getbit),
        doc: ("Returns one bit of a string.", "2.2.0", "bitmap", "O(1)")),
    cmd!("bitcount", arity: -2, flags: f::READONLY, acl: a::READ | a::BITMAP | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::bitcount),
        doc: ("Counts the set bits of a string, optionally within a byte or bit range.", "2.6.0", "bitmap", "O(N) for N bytes examined")),
    cmd!("bitpos", arity: -3, flags: f::READONLY, acl: a::READ | a::BITMAP | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::bitpos),
        doc: ("Finds the first set or clear bit of a string, optionally within a range.", "2.8.7", "bitmap", "O(N) for N bytes examined")),
    cmd!("bitop", arity: -4, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::BITMAP | a::SLOW,
        keys: (2, -1, 1), specs: [key_spec!(ks::OW | ks::UPDATE, [index 2], [range 0 1 0]), key_spec!(ks::RO | ks::ACCESS, [index 3], [range -1 1 0])],
        handler: Some(string::bitop),
        doc: ("Combines strings bitwise (AND, OR, XOR, NOT) into a destination key.", "2.6.0", "bitmap", "O(N) for the longest string of N bytes")),
    cmd!("bitfield", arity: -2, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::BITMAP | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS, [index 1], [range 0 1 0], notes "This command allows both access and modification of the key")],
        handler: Some(string::bitfield),
        doc: ("Reads, writes and increments integer fields of arbitrary width inside a string.", "3.2.0", "bitmap", "O(1) per operation")),
    cmd!("bitfield_ro", arity: -2, flags: f::READONLY | f::FAST, acl: a::READ | a::BITMAP | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(string::bitfield_ro),
        doc: ("Reads integer fields of arbitrary width inside a string.", "6.0.0", "bitmap", "O(1) per operation")),
    // ---- server ----
    cmd!("dbsize", arity: 1, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "response_policy:agg_sum"],
        handler: Some(server::dbsize),
        doc: ("Returns how many keys the selected database holds.", "1.0.0", "server", "O(1)")),
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
