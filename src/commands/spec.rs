//! The vocabulary of the command table: what one row says about a command.
//!
//! A row holds every fact `COMMAND INFO` reports in Redis 7.0 (arity, flags, ACL categories, the legacy
//! first/last/step key positions, key specs, tips, subcommands) plus the handler and the documentation
//! `COMMAND DOCS` reports (summaries in our own words).

use super::Handler;

/// Command flags, as `COMMAND INFO` names them.
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const MODULE: u64 = 1 << 3;
    pub const ADMIN: u64 = 1 << 4;
    pub const PUBSUB: u64 = 1 << 5;
    pub const NOSCRIPT: u64 = 1 << 6;
    pub const BLOCKING: u64 = 1 << 8;
    pub const LOADING: u64 = 1 << 9;
    pub const STALE: u64 = 1 << 10;
    pub const SKIP_MONITOR: u64 = 1 << 11;
    pub const SKIP_SLOWLOG: u64 = 1 << 12;
    pub const ASKING: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const NO_AUTH: u64 = 1 << 15;
    /// Not a write, but may propagate one (PFCOUNT, a script without declared flags): CLIENT PAUSE WRITE
    /// holds it. Redis 7.0's COMMAND INFO does not show it.
    pub const MAY_REPLICATE: u64 = 1 << 16;
    pub const SENTINEL: u64 = 1 << 17;
    pub const ONLY_SENTINEL: u64 = 1 << 18;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 19;
    /// Internal (not reported by COMMAND INFO): gated by `enable-debug-command` and friends.
    pub const PROTECTED: u64 = 1 << 20;
    pub const NO_ASYNC_LOADING: u64 = 1 << 23;
    pub const NO_MULTI: u64 = 1 << 24;
    pub const MOVABLEKEYS: u64 = 1 << 25;
    pub const ALLOW_BUSY: u64 = 1 << 26;
    pub const TOUCHES_ARBITRARY_KEYS: u64 = 1 << 28;
    /// Internal: runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT,
    /// RESET).
    pub const NOT_QUEUED: u64 = 1 << 29;
    /// Internal: runs the transaction's queue (EXEC); the gates judge it by the queued commands' flags.
    pub const RUNS_QUEUED: u64 = 1 << 30;
    /// Internal: not refused over `maxmemory` inside MULTI, where every other command is (queuing takes
    /// memory): the ones that end a transaction (EXEC, DISCARD, QUIT, RESET).
    pub const QUEUE_OOM_EXEMPT: u64 = 1 << 31;
    /// Internal: runs the command its arguments name (LOCK.FENCED); the gates judge it by that
    /// command's flags too (see `dispatch::request_flags`).
    pub const RUNS_ARGUMENT: u64 = 1 << 32;
    /// Internal: runs a script given by its body (EVAL, EVAL_RO), its SHA1 (EVALSHA, EVALSHA_RO) or a
    /// function's name (FCALL, FCALL_RO); a script that declares its flags is judged by them (see
    /// `dispatch::script_flags`).
    pub const RUNS_SCRIPT_BODY: u64 = 1 << 33;
    pub const RUNS_SCRIPT_SHA: u64 = 1 << 34;
    pub const RUNS_FUNCTION: u64 = 1 << 35;
    /// Internal: allowed to a RESP2 client in subscriber mode ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING,
    /// QUIT, RESET).
    pub const SUBSCRIBER_OK: u64 = 1 << 36;

    /// Names in the order Redis 7.0 lists them in `COMMAND INFO`.
    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (MODULE, "module"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories (`@read`, `@string`, ...).
pub mod acl {
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;

    /// Names in the order Redis 7.0 lists them.
    pub const NAMES: &[(u64, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

/// Key-spec flags.
pub mod ks {
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where the search for a spec's keys begins.
#[derive(Debug, Clone, Copy)]
pub enum BeginSearch {
    Index(i32),
    Keyword { keyword: &'static str, start_from: i32 },
    Unknown,
}

/// How the keys are found from there.
#[derive(Debug, Clone, Copy)]
pub enum FindKeys {
    Range { last_key: i32, step: i32, limit: i32 },
    Keynum { keynum_idx: i32, first_key: i32, step: i32 },
    Unknown,
}

/// A Redis 7 key spec.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub notes: Option<&'static str>,
    pub flags: u32,
    pub begin: BeginSearch,
    pub find: FindKeys,
}

/// What `COMMAND DOCS` reports.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    /// One line, in our own words.
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: &'static str,
    /// `deprecated` commands name the one that replaces them (in our words) and the version that
    /// deprecated them: `(replaced_by, deprecated_since)`.
    pub replaced_by: Option<(&'static str, &'static str)>,
    /// The `syscmd` doc flag: a command meant for servers and tools, not applications.
    pub syscmd: bool,
}

/// One row of the command table (a command or a subcommand).
pub struct Command {
    /// Lowercase name; for a subcommand, the subcommand alone (`get`).
    pub name: &'static str,
    /// `config|get` for a subcommand, else the name.
    pub full_name: &'static str,
    pub arity: i32,
    pub flags: u64,
    pub acl: u64,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    pub key_specs: &'static [KeySpec],
    pub tips: &'static [&'static str],
    /// `None` for a container whose subcommands do the work (`CONFIG`).
    pub handler: Option<Handler>,
    pub subcommands: &'static [Command],
    /// Finds the keys when the key specs cannot (variable flags, incomplete or unknown specs); see
    /// `getkeys.rs`.
    pub getkeys: Option<super::getkeys::KeysFn>,
    pub doc: Doc,
}

impl Command {
    #[inline]
    pub fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    /// Whether `argc` (the command name included) satisfies the arity.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }
}

/// A key spec: `key_spec!(flags, [index N | keyword "K" from N | unknown], [range L S M | keynum I F S | unknown]
/// [, notes "..."])`.
#[macro_export]
macro_rules! key_spec {
    (@begin index $i:literal) => { $crate::commands::spec::BeginSearch::Index($i) };
    (@begin keyword $k:literal from $s:literal) => {
        $crate::commands::spec::BeginSearch::Keyword { keyword: $k, start_from: $s }
    };
    (@begin unknown) => { $crate::commands::spec::BeginSearch::Unknown };
    (@find range $l:literal $s:literal $m:literal) => {
        $crate::commands::spec::FindKeys::Range { last_key: $l, step: $s, limit: $m }
    };
    (@find keynum $i:literal $f:literal $s:literal) => {
        $crate::commands::spec::FindKeys::Keynum { keynum_idx: $i, first_key: $f, step: $s }
    };
    (@find unknown) => { $crate::commands::spec::FindKeys::Unknown };
    ($flags:expr, [$($b:tt)+], [$($f:tt)+] $(, notes $n:literal)?) => {
        $crate::commands::spec::KeySpec {
            notes: $crate::key_spec!(@notes $($n)?),
            flags: $flags,
            begin: $crate::key_spec!(@begin $($b)+),
            find: $crate::key_spec!(@find $($f)+),
        }
    };
    (@notes $n:literal) => { Some($n) };
    (@notes) => { None };
}

/// One table row; see `table.rs` for examples. Optional parts: `tips: [...]`, `sub: &[...]` (a
/// container's subcommands), `getkeys: f` (a key extractor, see `getkeys.rs`), and at the end of `doc`,
/// `replaced_by: "..." "version"` for a deprecated command and `doc_flags: syscmd` for the doc flag.
#[macro_export]
macro_rules! cmd {
    (
        $name:literal $(in $parent:literal)?, arity: $arity:expr, flags: $flags:expr, acl: $acl:expr,
        keys: ($first:expr, $last:expr, $step:expr), specs: [$($spec:expr),* $(,)?],
        $(tips: [$($tip:literal),* $(,)?],)?
        handler: $handler:expr,
        $(sub: $sub:expr,)?
        $(getkeys: $getkeys:expr,)?
        doc: ($summary:literal, $since:literal, $group:literal, $complexity:literal
            $(, replaced_by: $rb:literal $rbv:literal)? $(, doc_flags: $syscmd:ident)?) $(,)?
    ) => {
        $crate::commands::spec::Command {
            name: $name,
            full_name: $crate::cmd!(@full $name $(, $parent)?),
            arity: $arity,
            flags: $flags,
            acl: $acl,
            first_key: $first,
            last_key: $last,
            key_step: $step,
            key_specs: &[$($spec),*],
            tips: &[$($($tip),*)?],
            handler: $handler,
            subcommands: $crate::cmd!(@sub $($sub)?),
            getkeys: $crate::cmd!(@getkeys $($getkeys)?),
            doc: $crate::commands::spec::Doc {
                summary: $summary,
                since: $since,
                group: $group,
                complexity: $complexity,
                replaced_by: $crate::cmd!(@rb $($rb $rbv)?),
                syscmd: $crate::cmd!(@syscmd $($syscmd)?),
            },
        }
    };
    (@full $name:literal) => { $name };
    (@full $name:literal, $parent:literal) => { concat!($parent, "|", $name) };
    (@sub $sub:expr) => { $sub };
    (@sub) => { &[] };
    (@rb $rb:literal $rbv:literal) => { Some(($rb, $rbv)) };
    (@rb) => { None };
    (@getkeys $g:expr) => { Some($g) };
    (@getkeys) => { None };
    (@syscmd syscmd) => { true };
    (@syscmd) => { false };
}
