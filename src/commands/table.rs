//! The command table: one row per command and subcommand (see `spec.rs` for what a row says).
//!
//! Rows were derived from what a real `redis-server` 7.0 answers to `COMMAND INFO` (`tools/command-row.py`
//! prints a skeleton) and `tests/command_info.rs` checks them against a live server; summaries are ours.
//! Everything else reads this table: dispatch, `COMMAND`, and later ACL, cluster and propagation.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::introspection::{command, latency, memory, slowlog};
use super::spec::{acl as a, flags as f, ks, Command};
use super::{client, config_cmd, connection, debug, info, server, string, zset};
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
    cmd!("hello", arity: -1, flags: f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        acl: a::FAST | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(connection::hello),
        doc: ("Negotiates the protocol version, optionally authenticating and naming the connection.", "6.0.0", "connection", "O(1)")),
    cmd!("auth", arity: -2, flags: f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        acl: a::FAST | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(connection::auth),
        doc: ("Authenticates the connection with a password (and user name).", "1.0.0", "connection", "O(N) in the number of the user's passwords")),
    cmd!("reset", arity: 1, flags: f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        acl: a::FAST | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(connection::reset),
        doc: ("Returns the connection to the state of a fresh one.", "6.2.0", "connection", "O(1)")),
    // ---- client ----
    cmd!("client", arity: -2, flags: 0, acl: a::SLOW,
        keys: (0, 0, 0), specs: [],
        handler: None, sub: CLIENT_SUBCOMMANDS,
        doc: ("Inspects and controls client connections.", "2.4.0", "connection", "Depends on the subcommand.")),
    // ---- config ----
    cmd!("config", arity: -2, flags: 0, acl: a::SLOW,
        keys: (0, 0, 0), specs: [],
        handler: None, sub: CONFIG_SUBCOMMANDS,
        doc: ("Reads and changes the configuration at run time.", "2.0.0", "server", "Depends on the subcommand.")),
    // ---- info ----
    cmd!("info", arity: -1, flags: f::LOADING | f::STALE, acl: a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        handler: Some(info::info),
        doc: ("Reports the server's state and statistics, by section.", "1.0.0", "server", "O(1)")),
    // ---- introspection: command, slowlog, latency, memory ----
    cmd!("command", arity: -1, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        tips: ["nondeterministic_output_order"],
        handler: Some(command::all),
        sub: &[
            cmd!("count" in "command", arity: 2, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
                keys: (0, 0, 0), specs: [],
                handler: Some(command::count),
                doc: ("Returns how many commands the server has.", "2.8.13", "server", "O(1)")),
            cmd!("docs" in "command", arity: -2, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output_order"],
                handler: Some(command::docs),
                doc: ("Documents the given commands, or all of them: summary, version, group, complexity.",
                    "7.0.0", "server", "O(N) where N is the number of commands documented")),
            cmd!("getkeys" in "command", arity: -4, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
                keys: (0, 0, 0), specs: [],
                handler: Some(command::getkeys),
                doc: ("Names the keys a full command line would access.", "2.8.13", "server",
                    "O(N) where N is the number of arguments of the command line")),
            cmd!("getkeysandflags" in "command", arity: -4, flags: f::LOADING | f::STALE,
                acl: a::SLOW | a::CONNECTION,
                keys: (0, 0, 0), specs: [],
                handler: Some(command::getkeysandflags),
                doc: ("Names the keys a full command line would access, with how each is accessed.", "7.0.0",
                    "server", "O(N) where N is the number of arguments of the command line")),
            cmd!("help" in "command", arity: 2, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
                keys: (0, 0, 0), specs: [],
                handler: Some(command::help),
                doc: ("Lists the COMMAND subcommands.", "5.0.0", "server", "O(1)")),
            cmd!("info" in "command", arity: -2, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output_order"],
                handler: Some(command::info),
                doc: ("Describes the given commands, or all of them: arity, flags, key positions, subcommands.",
                    "2.8.13", "server", "O(N) where N is the number of commands described")),
            cmd!("list" in "command", arity: -2, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output_order"],
                handler: Some(command::list),
                doc: ("Names every command and subcommand, optionally only those of an ACL category or a glob.",
                    "7.0.0", "server", "O(N) where N is the number of commands and subcommands")),
        ],
        doc: ("Describes every command the server has (COMMAND INFO for all of them).", "2.8.13", "server",
            "O(N) where N is the number of commands")),
    cmd!("latency", arity: -2, flags: 0, acl: a::SLOW,
        keys: (0, 0, 0), specs: [],
        handler: None,
        sub: &[
            cmd!("doctor" in "latency", arity: 2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                handler: Some(latency::doctor),
                doc: ("Reports in plain words what the latency monitor recorded.", "2.8.13", "server",
                    "O(N) where N is the number of recorded samples")),
            cmd!("graph" in "latency", arity: 3, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                handler: Some(latency::graph),
                doc: ("Draws an event's latency samples as a text chart.", "2.8.13", "server",
                    "O(N) where N is the number of samples of the event")),
            cmd!("help" in "latency", arity: 2, flags: f::LOADING | f::STALE, acl: a::SLOW,
                keys: (0, 0, 0), specs: [],
                handler: Some(latency::help),
                doc: ("Lists the LATENCY subcommands.", "2.8.13", "server", "O(1)")),
            cmd!("histogram" in "latency", arity: -2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                handler: Some(latency::histogram),
                doc: ("Shows how command durations are distributed, per command.", "7.0.0", "server",
                    "O(N) where N is the number of commands shown")),
            cmd!("history" in "latency", arity: 3, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                handler: Some(latency::history),
                doc: ("Lists an event's latency samples, oldest first.", "2.8.13", "server",
                    "O(N) where N is the number of samples of the event")),
            cmd!("latest" in "latency", arity: 2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                handler: Some(latency::latest),
                doc: ("Lists every latency event with its newest sample and its worst.", "2.8.13", "server",
                    "O(N) where N is the number of events")),
            cmd!("reset" in "latency", arity: -2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
                handler: Some(latency::reset),
                doc: ("Forgets the samples of some latency events, or of all.", "2.8.13", "server",
                    "O(N) where N is the number of events forgotten")),
        ],
        doc: ("Groups the latency monitor and latency histogram commands.", "2.8.13", "server",
            "Depends on the subcommand.")),
    cmd!("memory", arity: -2, flags: 0, acl: a::SLOW,
        keys: (0, 0, 0), specs: [],
        handler: None,
        sub: &[
            cmd!("help" in "memory", arity: 2, flags: f::LOADING | f::STALE, acl: a::SLOW,
                keys: (0, 0, 0), specs: [],
                handler: Some(memory::help),
                doc: ("Lists the MEMORY subcommands.", "4.0.0", "server", "O(1)")),
            cmd!("malloc-stats" in "memory", arity: 2, flags: 0, acl: a::SLOW,
                keys: (0, 0, 0), specs: [],
                tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
                handler: Some(memory::malloc_stats),
                doc: ("Prints the memory allocator's statistics report.", "4.0.0", "server",
                    "Depends on how much memory is allocated, could be slow")),
            cmd!("purge" in "memory", arity: 2, flags: 0, acl: a::SLOW,
                keys: (0, 0, 0), specs: [],
                tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
                handler: Some(memory::purge),
                doc: ("Asks the memory allocator to give unused pages back to the system.", "4.0.0", "server",
                    "Depends on how much memory is allocated, could be slow")),
            cmd!("usage" in "memory", arity: -3, flags: f::READONLY, acl: a::READ | a::SLOW,
                keys: (2, 2, 1), specs: [key_spec!(ks::RO, [index 2], [range 0 1 0])],
                handler: Some(memory::usage),
                doc: ("Estimates the bytes a key and its value take.", "4.0.0", "server",
                    "O(N) where N is the number of elements sampled")),
        ],
        doc: ("Groups the memory inspection commands.", "4.0.0", "server", "Depends on the subcommand.")),
    cmd!("slowlog", arity: -2, flags: 0, acl: a::SLOW,
        keys: (0, 0, 0), specs: [],
        handler: None,
        sub: &[
            cmd!("get" in "slowlog", arity: -2, flags: f::ADMIN | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["request_policy:all_nodes", "nondeterministic_output"],
                handler: Some(slowlog::get),
                doc: ("Lists the newest entries of the slow log.", "2.2.12", "server",
                    "O(N) where N is the number of entries listed")),
            cmd!("help" in "slowlog", arity: 2, flags: f::LOADING | f::STALE, acl: a::SLOW,
                keys: (0, 0, 0), specs: [],
                handler: Some(slowlog::help),
                doc: ("Lists the SLOWLOG subcommands.", "6.2.0", "server", "O(1)")),
            cmd!("len" in "slowlog", arity: 2, flags: f::ADMIN | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"],
                handler: Some(slowlog::len),
                doc: ("Counts the entries of the slow log.", "2.2.12", "server", "O(1)")),
            cmd!("reset" in "slowlog", arity: 2, flags: f::ADMIN | f::LOADING | f::STALE,
                acl: a::ADMIN | a::SLOW | a::DANGEROUS,
                keys: (0, 0, 0), specs: [],
                tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
                handler: Some(slowlog::reset),
                doc: ("Empties the slow log.", "2.2.12", "server", "O(N) where N is the number of entries")),
        ],
        doc: ("Groups the slow log commands.", "2.2.12", "server", "Depends on the subcommand.")),
    cmd!("debug", arity: -2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::PROTECTED,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(debug::debug),
        doc: ("Testing and debugging helpers: digests, object internals, sleeping, populating.", "1.0.0",
            "server", "Depends on the subcommand.", doc_flags: syscmd)),
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
    // ---- sorted sets ----
    cmd!("zadd", arity: -4, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(zset::zadd),
        doc: ("Adds members with scores to a sorted set, or changes their scores, under optional conditions.", "1.2.0", "sorted-set", "O(log N) per member given, N being the set's size")),
    cmd!("zincrby", arity: 4, flags: f::WRITE | f::DENYOOM | f::FAST, acl: a::WRITE | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::UPDATE, [index 1], [range 0 1 0])],
        handler: Some(zset::zincrby),
        doc: ("Adds an increment to a member's score, creating the member (and the key) when missing.", "1.2.0", "sorted-set", "O(log N) in the set's size")),
    cmd!("zrem", arity: -3, flags: f::WRITE | f::FAST, acl: a::WRITE | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::DELETE, [index 1], [range 0 1 0])],
        handler: Some(zset::zrem),
        doc: ("Removes members from a sorted set, deleting the key once it is empty.", "1.2.0", "sorted-set", "O(M log N): M members removed from a set of N")),
    cmd!("zcard", arity: 2, flags: f::READONLY | f::FAST, acl: a::READ | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO, [index 1], [range 0 1 0])],
        handler: Some(zset::zcard),
        doc: ("Returns how many members a sorted set has.", "1.2.0", "sorted-set", "O(1)")),
    cmd!("zcount", arity: 4, flags: f::READONLY | f::FAST, acl: a::READ | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zcount),
        doc: ("Counts the members whose score lies in an interval.", "2.0.0", "sorted-set", "O(log N) in the set's size")),
    cmd!("zlexcount", arity: 4, flags: f::READONLY | f::FAST, acl: a::READ | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zlexcount),
        doc: ("Counts the members inside a lexicographic interval (for sets whose scores are all equal).", "2.8.9", "sorted-set", "O(log N) in the set's size")),
    cmd!("zscore", arity: 3, flags: f::READONLY | f::FAST, acl: a::READ | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zscore),
        doc: ("Returns a member's score.", "1.2.0", "sorted-set", "O(1)")),
    cmd!("zmscore", arity: -3, flags: f::READONLY | f::FAST, acl: a::READ | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zmscore),
        doc: ("Returns the scores of several members, null for the missing ones.", "6.2.0", "sorted-set", "O(M) for M members asked")),
    cmd!("zrank", arity: 3, flags: f::READONLY | f::FAST, acl: a::READ | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrank),
        doc: ("Returns a member's position counted from the lowest score.", "2.0.0", "sorted-set", "O(log N) in the set's size")),
    cmd!("zrevrank", arity: 3, flags: f::READONLY | f::FAST, acl: a::READ | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrevrank),
        doc: ("Returns a member's position counted from the highest score.", "2.0.0", "sorted-set", "O(log N) in the set's size")),
    cmd!("zrange", arity: -4, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrange),
        doc: ("Returns members by position, score interval or lexicographic interval, optionally reversed, paged and with scores.", "1.2.0", "sorted-set", "O(log N + M): M members returned from a set of N")),
    cmd!("zrangestore", arity: -5, flags: f::WRITE | f::DENYOOM, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (1, 2, 1), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range 0 1 0]), key_spec!(ks::RO | ks::ACCESS, [index 2], [range 0 1 0])],
        handler: Some(zset::zrangestore),
        doc: ("Stores the members a ZRANGE would return into another key.", "6.2.0", "sorted-set", "O(log N + M): M members stored from a set of N")),
    cmd!("zrangebyscore", arity: -4, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrangebyscore),
        doc: ("Returns the members whose score lies in an interval, lowest first.", "1.0.5", "sorted-set", "O(log N + M): M members returned from a set of N", replaced_by: "`ZRANGE` with the `BYSCORE` argument" "6.2.0")),
    cmd!("zrevrangebyscore", arity: -4, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrevrangebyscore),
        doc: ("Returns the members whose score lies in an interval, highest first.", "2.2.0", "sorted-set", "O(log N + M): M members returned from a set of N", replaced_by: "`ZRANGE` with the `BYSCORE` and `REV` arguments" "6.2.0")),
    cmd!("zrangebylex", arity: -4, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrangebylex),
        doc: ("Returns the members inside a lexicographic interval, in order.", "2.8.9", "sorted-set", "O(log N + M): M members returned from a set of N", replaced_by: "`ZRANGE` with the `BYLEX` argument" "6.2.0")),
    cmd!("zrevrangebylex", arity: -4, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrevrangebylex),
        doc: ("Returns the members inside a lexicographic interval, in reverse order.", "2.8.9", "sorted-set", "O(log N + M): M members returned from a set of N", replaced_by: "`ZRANGE` with the `BYLEX` and `REV` arguments" "6.2.0")),
    cmd!("zrevrange", arity: -4, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        handler: Some(zset::zrevrange),
        doc: ("Returns members by position counted from the highest score.", "1.2.0", "sorted-set", "O(log N + M): M members returned from a set of N", replaced_by: "`ZRANGE` with the `REV` argument" "6.2.0")),
    cmd!("zremrangebyrank", arity: 4, flags: f::WRITE, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::DELETE, [index 1], [range 0 1 0])],
        handler: Some(zset::zremrangebyrank),
        doc: ("Removes the members at a range of positions.", "2.0.0", "sorted-set", "O(log N + M): M members removed from a set of N")),
    cmd!("zremrangebyscore", arity: 4, flags: f::WRITE, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::DELETE, [index 1], [range 0 1 0])],
        handler: Some(zset::zremrangebyscore),
        doc: ("Removes the members whose score lies in an interval.", "1.2.0", "sorted-set", "O(log N + M): M members removed from a set of N")),
    cmd!("zremrangebylex", arity: 4, flags: f::WRITE, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::DELETE, [index 1], [range 0 1 0])],
        handler: Some(zset::zremrangebylex),
        doc: ("Removes the members inside a lexicographic interval.", "2.8.9", "sorted-set", "O(log N + M): M members removed from a set of N")),
    cmd!("zpopmin", arity: -2, flags: f::WRITE | f::FAST, acl: a::WRITE | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [range 0 1 0])],
        handler: Some(zset::zpopmin),
        doc: ("Removes and returns the members with the lowest scores.", "5.0.0", "sorted-set", "O(M log N): M members popped from a set of N")),
    cmd!("zpopmax", arity: -2, flags: f::WRITE | f::FAST, acl: a::WRITE | a::SORTEDSET | a::FAST,
        keys: (1, 1, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [range 0 1 0])],
        handler: Some(zset::zpopmax),
        doc: ("Removes and returns the members with the highest scores.", "5.0.0", "sorted-set", "O(M log N): M members popped from a set of N")),
    cmd!("zmpop", arity: -4, flags: f::WRITE | f::MOVABLEKEYS, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (0, 0, 0), specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [keynum 0 1 1])],
        handler: Some(zset::zmpop),
        doc: ("Pops the lowest or highest members of the first non-empty sorted set among several keys.", "7.0.0", "sorted-set", "O(K + M log N): K keys tried, M members popped from a set of N")),
    cmd!("zrandmember", arity: -2, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        tips: ["nondeterministic_output"],
        handler: Some(zset::zrandmember),
        doc: ("Returns random members, distinct for a positive count, possibly repeated for a negative one.", "6.2.0", "sorted-set", "O(M log N) for M members returned")),
    cmd!("zunion", arity: -3, flags: f::READONLY | f::MOVABLEKEYS, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (0, 0, 0), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [keynum 0 1 1])],
        handler: Some(zset::zunion),
        doc: ("Returns the union of sorted sets (and sets), scores weighted and combined.", "6.2.0", "sorted-set", "O(N log N) in the total size of the inputs")),
    cmd!("zinter", arity: -3, flags: f::READONLY | f::MOVABLEKEYS, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (0, 0, 0), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [keynum 0 1 1])],
        handler: Some(zset::zinter),
        doc: ("Returns the members common to every input, scores weighted and combined.", "6.2.0", "sorted-set", "O(N K log M): N members of the smallest input, K inputs, M the result's size")),
    cmd!("zdiff", arity: -3, flags: f::READONLY | f::MOVABLEKEYS, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (0, 0, 0), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [keynum 0 1 1])],
        handler: Some(zset::zdiff),
        doc: ("Returns the members of the first input that no other input has.", "6.2.0", "sorted-set", "O(L + M log M): L members in all inputs, M in the result")),
    cmd!("zunionstore", arity: -4, flags: f::WRITE | f::DENYOOM | f::MOVABLEKEYS, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range 0 1 0]), key_spec!(ks::RO | ks::ACCESS, [index 2], [keynum 0 1 1])],
        handler: Some(zset::zunionstore),
        doc: ("Stores the union of sorted sets (and sets) into a key.", "2.0.0", "sorted-set", "O(N log N) in the total size of the inputs")),
    cmd!("zinterstore", arity: -4, flags: f::WRITE | f::DENYOOM | f::MOVABLEKEYS, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range 0 1 0]), key_spec!(ks::RO | ks::ACCESS, [index 2], [keynum 0 1 1])],
        handler: Some(zset::zinterstore),
        doc: ("Stores the members common to every input into a key.", "2.0.0", "sorted-set", "O(N K log M): N members of the smallest input, K inputs, M the result's size")),
    cmd!("zdiffstore", arity: -4, flags: f::WRITE | f::DENYOOM | f::MOVABLEKEYS, acl: a::WRITE | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range 0 1 0]), key_spec!(ks::RO | ks::ACCESS, [index 2], [keynum 0 1 1])],
        handler: Some(zset::zdiffstore),
        doc: ("Stores the members of the first input that no other input has into a key.", "6.2.0", "sorted-set", "O(L + M log M): L members in all inputs, M in the result")),
    cmd!("zintercard", arity: -3, flags: f::READONLY | f::MOVABLEKEYS, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (0, 0, 0), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [keynum 0 1 1])],
        handler: Some(zset::zintercard),
        doc: ("Counts the members common to every input, optionally stopping at a limit.", "7.0.0", "sorted-set", "O(N K): N members of the smallest input, K inputs")),
    cmd!("zscan", arity: -3, flags: f::READONLY, acl: a::READ | a::SORTEDSET | a::SLOW,
        keys: (1, 1, 1), specs: [key_spec!(ks::RO | ks::ACCESS, [index 1], [range 0 1 0])],
        tips: ["nondeterministic_output"],
        handler: Some(zset::zscan),
        doc: ("Iterates over a sorted set's members and scores with a cursor.", "2.8.0", "sorted-set", "O(1) per call, O(N) for a whole iteration")),
    cmd!("bzpopmin", arity: -3, flags: f::WRITE | f::NOSCRIPT | f::BLOCKING | f::FAST, acl: a::WRITE | a::SORTEDSET | a::FAST | a::BLOCKING,
        keys: (1, -2, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [range -2 1 0])],
        handler: Some(zset::bzpopmin),
        doc: ("Pops the lowest member of the first non-empty sorted set, waiting for one when all are empty.", "5.0.0", "sorted-set", "O(log N) in the set's size")),
    cmd!("bzpopmax", arity: -3, flags: f::WRITE | f::NOSCRIPT | f::BLOCKING | f::FAST, acl: a::WRITE | a::SORTEDSET | a::FAST | a::BLOCKING,
        keys: (1, -2, 1), specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 1], [range -2 1 0])],
        handler: Some(zset::bzpopmax),
        doc: ("Pops the highest member of the first non-empty sorted set, waiting for one when all are empty.", "5.0.0", "sorted-set", "O(log N) in the set's size")),
    cmd!("bzmpop", arity: -5, flags: f::WRITE | f::BLOCKING | f::MOVABLEKEYS, acl: a::WRITE | a::SORTEDSET | a::SLOW | a::BLOCKING,
        keys: (0, 0, 0), specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 2], [keynum 0 1 1])],
        handler: Some(zset::bzmpop),
        doc: ("ZMPOP that waits for a sorted set to pop from when every key is empty.", "7.0.0", "sorted-set", "O(K + M log N): K keys tried, M members popped from a set of N")),
    // ---- server ----
    cmd!("dbsize", arity: 1, flags: f::READONLY | f::FAST, acl: a::KEYSPACE | a::READ | a::FAST,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_shards", "response_policy:agg_sum"],
        handler: Some(server::dbsize),
        doc: ("Returns how many keys the selected database holds.", "1.0.0", "server", "O(1)")),
    cmd!("lastsave", arity: 1, flags: f::LOADING | f::STALE | f::FAST, acl: a::ADMIN | a::FAST | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        tips: ["nondeterministic_output"],
        handler: Some(server::lastsave),
        doc: ("Returns the Unix time of the last successful save.", "1.0.0", "server", "O(1)")),
    cmd!("monitor", arity: 1, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE, acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(server::monitor),
        doc: ("Streams every command the server executes to this connection.", "1.0.0", "server", "O(1)")),
    cmd!("shutdown", arity: -1,
        flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::NO_MULTI | f::ALLOW_BUSY,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(server::shutdown),
        doc: ("Stops the server, optionally saving first.", "1.0.0", "server", "O(N) when saving, with N the number of keys")),
    cmd!("time", arity: 1, flags: f::LOADING | f::STALE | f::FAST, acl: a::FAST,
        keys: (0, 0, 0), specs: [],
        tips: ["nondeterministic_output"],
        handler: Some(server::time),
        doc: ("Returns the server's clock as seconds and microseconds.", "2.6.0", "server", "O(1)")),
];

/// CLIENT's subcommands.
static CLIENT_SUBCOMMANDS: &[Command] = &[
    cmd!("no-evict" in "client", arity: 3, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::no_evict),
        doc: ("Exempts the connection from client eviction, or stops doing so.", "7.0.0", "connection", "O(1)")),
    cmd!("help" in "client", arity: 2, flags: f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::help),
        doc: ("Lists CLIENT's subcommands.", "5.0.0", "connection", "O(1)")),
    cmd!("list" in "client", arity: -2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        tips: ["nondeterministic_output"],
        handler: Some(client::list),
        doc: ("Describes the connections, one line each.", "2.4.0", "connection", "O(N) with N the number of connections")),
    cmd!("id" in "client", arity: 2, flags: f::NOSCRIPT | f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::id),
        doc: ("Returns the connection's unique id.", "5.0.0", "connection", "O(1)")),
    cmd!("info" in "client", arity: 2, flags: f::NOSCRIPT | f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        tips: ["nondeterministic_output"],
        handler: Some(client::info),
        doc: ("Describes this connection in CLIENT LIST's format.", "6.2.0", "connection", "O(1)")),
    cmd!("reply" in "client", arity: 3, flags: f::NOSCRIPT | f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::reply),
        doc: ("Turns the replies to this connection on or off, or skips the next one.", "3.2.0", "connection", "O(1)")),
    cmd!("unblock" in "client", arity: -3, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::unblock),
        doc: ("Wakes a client blocked on a command.", "5.0.0", "connection", "O(log N) with N the number of blocked connections")),
    cmd!("getredir" in "client", arity: 2, flags: f::NOSCRIPT | f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::getredir),
        doc: ("Returns the id tracking notifications are redirected to.", "6.0.0", "connection", "O(1)")),
    cmd!("kill" in "client", arity: -3, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::kill),
        doc: ("Closes connections chosen by address or by filters.", "2.4.0", "connection", "O(N) with N the number of connections")),
    cmd!("unpause" in "client", arity: 2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::unpause),
        doc: ("Ends a pause started by CLIENT PAUSE.", "6.2.0", "connection", "O(N) with N the number of paused connections")),
    cmd!("pause" in "client", arity: -3, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::pause),
        doc: ("Holds the commands of every client, or only the writes, for a while.", "2.9.50", "connection", "O(1)")),
    cmd!("trackinginfo" in "client", arity: 2, flags: f::NOSCRIPT | f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::trackinginfo),
        doc: ("Reports this connection's client-side caching state.", "6.2.0", "connection", "O(1)")),
    cmd!("getname" in "client", arity: 2, flags: f::NOSCRIPT | f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::getname),
        doc: ("Returns the connection's name.", "2.6.9", "connection", "O(1)")),
    cmd!("setname" in "client", arity: 3, flags: f::NOSCRIPT | f::LOADING | f::STALE, acl: a::SLOW | a::CONNECTION,
        keys: (0, 0, 0), specs: [],
        handler: Some(client::setname),
        doc: ("Names the connection.", "2.6.9", "connection", "O(1)")),
];

/// CONFIG's subcommands.
static CONFIG_SUBCOMMANDS: &[Command] = &[
    cmd!("rewrite" in "config", arity: 2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(config_cmd::rewrite),
        doc: ("Writes the running configuration back to the config file.", "2.8.0", "server", "O(1)")),
    cmd!("get" in "config", arity: -3, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(config_cmd::get),
        doc: ("Returns the directives matching glob patterns, with their values.", "2.0.0", "server", "O(N) with N the number of directives")),
    cmd!("help" in "config", arity: 2, flags: f::LOADING | f::STALE, acl: a::SLOW,
        keys: (0, 0, 0), specs: [],
        handler: Some(config_cmd::help),
        doc: ("Lists CONFIG's subcommands.", "5.0.0", "server", "O(1)")),
    cmd!("resetstat" in "config", arity: 2, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        handler: Some(config_cmd::resetstat),
        doc: ("Zeroes the statistics INFO reports.", "2.0.0", "server", "O(1)")),
    cmd!("set" in "config", arity: -4, flags: f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        acl: a::ADMIN | a::SLOW | a::DANGEROUS,
        keys: (0, 0, 0), specs: [],
        tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
        handler: Some(config_cmd::set),
        doc: ("Changes directives at run time, all or none.", "2.0.0", "server", "O(N) with N the number of directives")),
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

fn build_index() -> Index {
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
}

fn index() -> &'static Index {
    INDEX.get_or_init(build_index)
}

/// Apply `rename-command old new` lines to the lookup (an empty `new` removes the command), as Redis
/// does while loading its config: only the name clients type changes, the row (and what COMMAND
/// reports) stays. Must run before the first lookup. On failure returns the position of the
/// offending rename and Redis's reason.
pub fn apply_renames(renames: &[(&str, &str)]) -> Result<(), (usize, &'static str)> {
    let mut idx = build_index();
    for (i, (old, new)) in renames.iter().enumerate() {
        let old = old.to_ascii_lowercase().into_bytes();
        let new = new.to_ascii_lowercase().into_bytes();
        // Only top-level commands can be renamed; `a|b` names subcommands.
        let Some(pos) = idx.by_name.get(&old).copied().filter(|_| !old.contains(&b'|')) else {
            return Err((i, "No such command in rename-command"));
        };
        if !new.is_empty() && idx.by_name.contains_key(&new) {
            return Err((i, "Target command name already exists"));
        }
        idx.by_name.remove(&old);
        if !new.is_empty() {
            idx.by_name.insert(new, pos);
        }
    }
    INDEX
        .set(idx)
        .map_err(|_| (0, "rename-command applied after the command table was in use"))
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
