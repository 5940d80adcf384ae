//! The one table of directives. Each row says everything about a directive: its name and alias,
//! how its value is typed and bounded, its default (Redis 7.0's built-in one unless docs/config.md
//! lists an exception), its flags, whether Ferrite implements it, and the typed `Config` field it
//! lives in. File parsing, `--directive value` arguments, CONFIG GET/SET/REWRITE all read it.

use super::special;
use super::types::*;
use super::Config;
use std::borrow::Cow;

/// Directive flags (Redis's `*_CONFIG` flags).
pub mod flags {
    /// CONFIG SET refuses it ("can't set immutable config").
    pub const IMMUTABLE: u32 = 1;
    /// CONFIG SET needs `enable-protected-configs` ("can't set protected config").
    pub const PROTECTED: u32 = 1 << 1;
    /// Its value is redacted from SLOWLOG, MONITOR and the command log.
    pub const SENSITIVE: u32 = 1 << 2;
    /// Not listed by glob patterns in CONFIG GET; only an exact name finds it.
    pub const HIDDEN: u32 = 1 << 3;
    /// Takes several arguments (a single argument is split on spaces).
    pub const MULTI_ARG: u32 = 1 << 4;
}

/// Numeric flags (Redis's `MEMORY_CONFIG`, `PERCENT_CONFIG`, `OCTAL_CONFIG`, plus the C type's
/// signedness where it shows).
pub mod nflags {
    pub const MEMORY: u8 = 1;
    pub const PERCENT: u8 = 1 << 1;
    pub const OCTAL: u8 = 1 << 2;
    /// An `unsigned long long` whose upper bound does not fit an `i64`.
    pub const UNSIGNED: u8 = 1 << 3;
}

/// What Ferrite does with a directive today.
#[derive(Clone, Copy)]
pub enum Support {
    /// Implemented in this milestone.
    Built,
    /// A tuning knob of a subsystem not built yet: any valid value changes nothing today.
    Inert,
    /// A feature not built yet: accepted only while `neutral` holds (the value changes nothing);
    /// otherwise refused at start and by CONFIG SET. `feature` names what is missing.
    Unbuilt {
        neutral: fn(&Config) -> bool,
        feature: &'static str,
    },
}

/// Checks an enum value beyond membership (Redis's `is_valid_fn`).
pub type EnumCheck = fn(i32) -> Result<(), &'static str>;
/// Checks a string value (Redis's `is_valid_fn`); sees the config for context.
pub type StrCheck = fn(&Config, &str) -> Result<(), &'static str>;
/// Sets a special directive from its arguments; the flag is "reading a config file".
pub type SpecialSet = fn(&mut Config, &[Vec<u8>], bool) -> Result<(), Cow<'static, str>>;

pub struct BoolSpec {
    pub default: bool,
    pub get: fn(&Config) -> bool,
    pub set: fn(&mut Config, bool),
}

pub struct NumSpec {
    pub nflags: u8,
    pub min: i64,
    pub max: i64,
    pub default: i64,
    /// The value as Redis's `long long` (an unsigned field is its bit pattern).
    pub get: fn(&Config) -> i64,
    pub set: fn(&mut Config, i64),
}

pub struct EnumSpec {
    pub names: &'static [(&'static str, i32)],
    pub default: i32,
    /// Several names may be given and are OR-ed (`shutdown-on-sigint save now`).
    pub bitflags: bool,
    pub get: fn(&Config) -> i32,
    pub set: fn(&mut Config, i32),
    pub valid: Option<EnumCheck>,
}

pub struct StrSpec {
    pub default: &'static str,
    /// Redis keeps an empty value as NULL: CONFIG REWRITE then drops the directive's lines.
    pub null_if_empty: bool,
    pub get: fn(&Config) -> &str,
    pub set: fn(&mut Config, String),
    pub valid: Option<StrCheck>,
}

/// A directive with its own syntax (`save`, `bind`, `client-output-buffer-limit`, ...).
pub struct SpecialSpec {
    pub set: SpecialSet,
    pub get: fn(&Config) -> String,
    pub rewrite: fn(&Config, &'static str, &mut super::rewrite::State),
    pub is_default: fn(&Config) -> bool,
}

pub enum Kind {
    Bool(BoolSpec),
    Num(NumSpec),
    Enum(EnumSpec),
    Str(StrSpec),
    Special(SpecialSpec),
}

pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u32,
    pub support: Support,
    pub kind: Kind,
    /// Run after every change of the value (Redis clamps `hz` this way).
    pub normalize: Option<fn(&mut Config)>,
}

impl Directive {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
    pub fn is_multi_arg(&self) -> bool {
        self.has(flags::MULTI_ARG) || matches!(&self.kind, Kind::Enum(e) if e.bitflags)
    }
}

use flags::*;
use nflags::*;
use Support::{Built, Inert};

const NONE: u32 = 0;

macro_rules! boolean {
    ($name:literal, $alias:expr, $flags:expr, $sup:expr, $default:expr, $field:ident) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            support: $sup,
            normalize: None,
            kind: Kind::Bool(BoolSpec {
                default: $default,
                get: |c| c.$field,
                set: |c, v| c.$field = v,
            }),
        }
    };
}

macro_rules! num {
    ($name:literal, $alias:expr, $flags:expr, $sup:expr, $nf:expr, $min:expr, $max:expr, $default:expr, $field:ident) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            support: $sup,
            normalize: None,
            kind: Kind::Num(NumSpec {
                nflags: $nf,
                min: $min as i64,
                max: $max as i64,
                default: $default as i64,
                get: |c| c.$field as i64,
                set: |c, v| c.$field = v as _,
            }),
        }
    };
}

macro_rules! int {
    ($name:literal, $alias:expr, $flags:expr, $sup:expr, $min:expr, $max:expr, $default:expr, $field:ident) => {
        num!($name, $alias, $flags, $sup, 0, $min, $max, $default, $field)
    };
}

macro_rules! mem {
    ($name:literal, $alias:expr, $flags:expr, $sup:expr, $min:expr, $max:expr, $default:expr, $field:ident) => {
        num!($name, $alias, $flags, $sup, MEMORY, $min, $max, $default, $field)
    };
}

macro_rules! enumerated {
    ($name:literal, $alias:expr, $flags:expr, $sup:expr, $ty:ident, $default:ident, $field:ident) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            support: $sup,
            normalize: None,
            kind: Kind::Enum(EnumSpec {
                names: $ty::NAMES,
                default: $ty::$default as i32,
                bitflags: false,
                get: |c| c.$field as i32,
                set: |c, v| {
                    if let Some(x) = $ty::from_i32(v) {
                        c.$field = x;
                    }
                },
                valid: None,
            }),
        }
    };
}

macro_rules! string {
    ($name:literal, $alias:expr, $flags:expr, $sup:expr, $null:expr, $default:expr, $field:ident, $valid:expr) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            support: $sup,
            normalize: None,
            kind: Kind::Str(StrSpec {
                default: $default,
                null_if_empty: $null,
                get: |c| c.$field.as_str(),
                set: |c, v| c.$field = v,
                valid: $valid,
            }),
        }
    };
}

macro_rules! special {
    ($name:literal, $alias:expr, $flags:expr, $sup:expr, $module:ident) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            support: $sup,
            normalize: None,
            kind: Kind::Special(SpecialSpec {
                set: special::$module::set,
                get: special::$module::get,
                rewrite: special::$module::rewrite,
                is_default: special::$module::is_default,
            }),
        }
    };
}

const I32: i64 = i32::MAX as i64;
const U32: i64 = u32::MAX as i64;
const LMAX: i64 = i64::MAX;

fn unbuilt(neutral: fn(&Config) -> bool, feature: &'static str) -> Support {
    Support::Unbuilt { neutral, feature }
}

const fn unb(neutral: fn(&Config) -> bool, feature: &'static str) -> Support {
    Support::Unbuilt { neutral, feature }
}

const CLUSTER: Support = unb(|c| !c.cluster_enabled, "cluster mode");
const TLS_PORT: Support = unb(|c| c.tls_port == 0, "TLS");
const TLS_REPL: Support = unb(|c| !c.tls_replication, "TLS");
const TLS_CLUSTER: Support = unb(|c| !c.tls_cluster, "TLS");
const SYSLOG: Support = unb(|c| !c.syslog_enabled, "logging to syslog");
const UNIXSOCKET: Support = unb(|c| c.unixsocket.is_empty(), "listening on a unix socket");
const ACLFILE: Support = unb(|c| c.aclfile.is_empty(), "ACL users");
const CLIENT_EVICTION: Support = unb(|c| c.maxmemory_clients == 0, "client eviction");
const OOM_ADJ: Support = unb(|c| matches!(c.oom_score_adj, OomScoreAdj::No), "setting the OOM score");
const MIN_REPLICAS: Support = unb(|c| c.min_replicas_to_write == 0, "replication");
const SOCKET_MARK: Support = unb(|c| c.socket_mark_id == 0, "socket marks");
const EVICTION: Support = unb(
    |c| c.maxmemory == 0 || matches!(c.maxmemory_policy, MaxmemoryPolicy::Noeviction),
    "eviction (only maxmemory-policy noeviction is)",
);

fn valid_dbfilename(_: &Config, v: &str) -> Result<(), &'static str> {
    if v.contains('/') {
        return Err("dbfilename can't be a path, just a filename");
    }
    Ok(())
}

fn valid_appendfilename(_: &Config, v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appendfilename can't be empty");
    }
    if v.contains('/') {
        return Err("appendfilename can't be a path, just a filename");
    }
    Ok(())
}

fn valid_appenddirname(_: &Config, v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appenddirname can't be empty");
    }
    if v.contains('/') {
        return Err("appenddirname can't be a path, just a dirname");
    }
    Ok(())
}

fn valid_hostname(_: &Config, v: &str) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

fn valid_proc_title(c: &Config, v: &str) -> Result<(), &'static str> {
    match special::expand_proc_title(c, v, "") {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables"),
    }
}

fn valid_shutdown_flags(v: i32) -> Result<(), &'static str> {
    if v & shutdown::SAVE != 0 && v & shutdown::NOSAVE != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously");
    }
    Ok(())
}

fn clamp_hz(c: &mut Config) {
    c.hz = c.hz.clamp(1, 500);
}

/// Redis's `enableWatchdog`: a period shorter than two cron ticks is raised to that.
fn watchdog_min_period(c: &mut Config) {
    let min = (1000 / c.hz.max(1)) * 2;
    if c.watchdog_period != 0 && c.watchdog_period < min {
        c.watchdog_period = min;
    }
}

/// Redis's `resizeReplicationBacklog` raises a CONFIG SET value below 16kb to 16kb.
fn backlog_min_size(c: &mut Config) {
    c.repl_backlog_size = c.repl_backlog_size.max(16 * 1024);
}

/// What Redis does once a whole file is loaded (clamp `hz`, then start the watchdog).
pub fn after_load(c: &mut Config) {
    clamp_hz(c);
    watchdog_min_period(c);
}

fn shutdown_flags(name: &'static str, get: fn(&Config) -> i32, set: fn(&mut Config, i32)) -> Directive {
    Directive {
        name,
        alias: None,
        flags: MULTI_ARG,
        support: Inert,
        normalize: None,
        kind: Kind::Enum(EnumSpec {
            names: shutdown::NAMES,
            default: shutdown::DEFAULT,
            bitflags: true,
            get,
            set,
            valid: Some(valid_shutdown_flags),
        }),
    }
}

/// Every directive Redis 7.0 accepts in a config file, CONFIG GET and CONFIG SET (the file-only
/// ones, `include`, `rename-command`, `user`, `loadmodule`, `sentinel`, are handled by the loader).
pub fn table() -> &'static [Directive] {
    static TABLE: std::sync::OnceLock<Vec<Directive>> = std::sync::OnceLock::new();
    TABLE.get_or_init(build)
}

#[rustfmt::skip]
fn build() -> Vec<Directive> {
    let null = true;
    let keep = false;
    let mut t = vec![
        // Booleans.
        boolean!("rdbchecksum", None, IMMUTABLE, Inert, true, rdbchecksum),
        boolean!("daemonize", None, IMMUTABLE, Built, false, daemonize),
        boolean!("io-threads-do-reads", None, IMMUTABLE, Inert, false, io_threads_do_reads),
        boolean!("always-show-logo", None, IMMUTABLE, Inert, false, always_show_logo),
        boolean!("protected-mode", None, NONE, Built, true, protected_mode),
        boolean!("rdbcompression", None, NONE, Inert, true, rdbcompression),
        boolean!("rdb-del-sync-files", None, NONE, Inert, false, rdb_del_sync_files),
        boolean!("activerehashing", None, NONE, Built, true, activerehashing),
        boolean!("stop-writes-on-bgsave-error", None, NONE, Inert, true, stop_writes_on_bgsave_error),
        boolean!("set-proc-title", None, IMMUTABLE, Inert, true, set_proc_title),
        boolean!("dynamic-hz", None, NONE, Built, true, dynamic_hz),
        boolean!("lazyfree-lazy-eviction", None, NONE, Inert, false, lazyfree_lazy_eviction),
        boolean!("lazyfree-lazy-expire", None, NONE, Built, false, lazyfree_lazy_expire),
        boolean!("lazyfree-lazy-server-del", None, NONE, Built, false, lazyfree_lazy_server_del),
        boolean!("lazyfree-lazy-user-del", None, NONE, Built, false, lazyfree_lazy_user_del),
        boolean!("lazyfree-lazy-user-flush", None, NONE, Built, false, lazyfree_lazy_user_flush),
        boolean!("repl-disable-tcp-nodelay", None, NONE, Inert, false, repl_disable_tcp_nodelay),
        boolean!("repl-diskless-sync", None, NONE, Inert, true, repl_diskless_sync),
        boolean!("aof-rewrite-incremental-fsync", None, NONE, Inert, true, aof_rewrite_incremental_fsync),
        boolean!("no-appendfsync-on-rewrite", None, NONE, Built, false, no_appendfsync_on_rewrite),
        boolean!("cluster-require-full-coverage", None, NONE, Inert, true, cluster_require_full_coverage),
        boolean!("rdb-save-incremental-fsync", None, NONE, Inert, true, rdb_save_incremental_fsync),
        boolean!("aof-load-truncated", None, NONE, Built, true, aof_load_truncated),
        boolean!("aof-use-rdb-preamble", None, NONE, Built, true, aof_use_rdb_preamble),
        boolean!("aof-timestamp-enabled", None, NONE, Built, false, aof_timestamp_enabled),
        boolean!("cluster-replica-no-failover", Some("cluster-slave-no-failover"), NONE, Inert, false, cluster_replica_no_failover),
        boolean!("replica-lazy-flush", Some("slave-lazy-flush"), NONE, Inert, false, replica_lazy_flush),
        boolean!("replica-serve-stale-data", Some("slave-serve-stale-data"), NONE, Inert, true, replica_serve_stale_data),
        boolean!("replica-read-only", Some("slave-read-only"), NONE, Inert, true, replica_read_only),
        boolean!("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), NONE, Inert, true, replica_ignore_maxmemory),
        boolean!("jemalloc-bg-thread", None, NONE, Inert, true, jemalloc_bg_thread),
        boolean!("activedefrag", None, NONE, unbuilt(|c| !c.activedefrag, "active defragmentation"), false, activedefrag),
        boolean!("syslog-enabled", None, IMMUTABLE, SYSLOG, false, syslog_enabled),
        boolean!("cluster-enabled", None, IMMUTABLE, CLUSTER, false, cluster_enabled),
        boolean!("appendonly", None, NONE, Built, false, appendonly),
        boolean!("cluster-allow-reads-when-down", None, NONE, Inert, false, cluster_allow_reads_when_down),
        boolean!("cluster-allow-pubsubshard-when-down", None, NONE, Inert, true, cluster_allow_pubsubshard_when_down),
        boolean!("crash-log-enabled", None, NONE, Inert, true, crash_log_enabled),
        boolean!("crash-memcheck-enabled", None, NONE, Inert, true, crash_memcheck_enabled),
        boolean!("use-exit-on-panic", None, HIDDEN, Inert, false, use_exit_on_panic),
        boolean!("disable-thp", None, IMMUTABLE, Inert, true, disable_thp),
        boolean!("cluster-allow-replica-migration", None, NONE, Inert, true, cluster_allow_replica_migration),
        boolean!("replica-announced", None, NONE, Inert, true, replica_announced),
        boolean!("latency-tracking", None, NONE, Built, true, latency_tracking),
        boolean!("aof-disable-auto-gc", None, NONE, Built, false, aof_disable_auto_gc),
        boolean!("replica-ignore-disk-write-errors", None, NONE, Inert, false, replica_ignore_disk_write_errors),
        boolean!("lua-enable-deprecated-api", None, IMMUTABLE | HIDDEN, Inert, false, lua_enable_deprecated_api),
        boolean!("tls-cluster", None, NONE, TLS_CLUSTER, false, tls_cluster),
        boolean!("tls-replication", None, NONE, TLS_REPL, false, tls_replication),
        boolean!("tls-prefer-server-ciphers", None, NONE, Inert, false, tls_prefer_server_ciphers),
        boolean!("tls-session-caching", None, NONE, Inert, true, tls_session_caching),

        // Strings.
        string!("aclfile", None, IMMUTABLE, ACLFILE, keep, "", aclfile, None),
        string!("unixsocket", None, IMMUTABLE, UNIXSOCKET, null, "", unixsocket, None),
        string!("pidfile", None, IMMUTABLE, Built, null, "", pidfile, None),
        string!("replica-announce-ip", Some("slave-announce-ip"), NONE, Inert, null, "", replica_announce_ip, None),
        string!("masteruser", None, SENSITIVE, Inert, null, "", masteruser, None),
        string!("cluster-announce-ip", None, NONE, Inert, null, "", cluster_announce_ip, None),
        string!("cluster-config-file", None, IMMUTABLE, Inert, keep, "nodes.conf", cluster_config_file, None),
        string!("cluster-announce-hostname", None, NONE, Inert, null, "", cluster_announce_hostname, Some(valid_hostname)),
        string!("syslog-ident", None, IMMUTABLE, Inert, keep, "redis", syslog_ident, None),
        string!("dbfilename", None, PROTECTED, Inert, keep, "dump.rdb", dbfilename, Some(valid_dbfilename)),
        string!("appendfilename", None, IMMUTABLE, Built, keep, "appendonly.aof", appendfilename, Some(valid_appendfilename)),
        string!("appenddirname", None, IMMUTABLE, Built, keep, "appendonlydir", appenddirname, Some(valid_appenddirname)),
        string!("server_cpulist", None, IMMUTABLE, Inert, null, "", server_cpulist, None),
        string!("bio_cpulist", None, IMMUTABLE, Inert, null, "", bio_cpulist, None),
        string!("aof_rewrite_cpulist", None, IMMUTABLE, Inert, null, "", aof_rewrite_cpulist, None),
        string!("bgsave_cpulist", None, IMMUTABLE, Inert, null, "", bgsave_cpulist, None),
        string!("ignore-warnings", None, NONE, Inert, keep, "", ignore_warnings, None),
        string!("proc-title-template", None, NONE, Inert, keep, "{title} {listen-addr} {server-mode}", proc_title_template, Some(valid_proc_title)),
        string!("bind-source-addr", None, NONE, Inert, null, "", bind_source_addr, None),
        string!("logfile", None, IMMUTABLE, Built, keep, "", logfile, None),
        string!("requirepass", None, SENSITIVE, Built, null, "", requirepass, None),
        string!("masterauth", None, SENSITIVE, Inert, null, "", masterauth, None),
        string!("tls-cert-file", None, NONE, Inert, null, "", tls_cert_file, None),
        string!("tls-key-file", None, NONE, Inert, null, "", tls_key_file, None),
        string!("tls-key-file-pass", None, SENSITIVE, Inert, null, "", tls_key_file_pass, None),
        string!("tls-client-cert-file", None, NONE, Inert, null, "", tls_client_cert_file, None),
        string!("tls-client-key-file", None, NONE, Inert, null, "", tls_client_key_file, None),
        string!("tls-client-key-file-pass", None, SENSITIVE, Inert, null, "", tls_client_key_file_pass, None),
        string!("tls-dh-params-file", None, NONE, Inert, null, "", tls_dh_params_file, None),
        string!("tls-ca-cert-file", None, NONE, Inert, null, "", tls_ca_cert_file, None),
        string!("tls-ca-cert-dir", None, NONE, Inert, null, "", tls_ca_cert_dir, None),
        string!("tls-protocols", None, NONE, Inert, null, "", tls_protocols, None),
        string!("tls-ciphers", None, NONE, Inert, null, "", tls_ciphers, None),
        string!("tls-ciphersuites", None, NONE, Inert, null, "", tls_ciphersuites, None),

        // Enums.
        enumerated!("supervised", None, IMMUTABLE, Inert, Supervised, No, supervised),
        enumerated!("syslog-facility", None, IMMUTABLE, Inert, SyslogFacility, Local0, syslog_facility),
        enumerated!("repl-diskless-load", None, NONE, Inert, ReplDisklessLoad, Disabled, repl_diskless_load),
        enumerated!("loglevel", None, NONE, Built, LogLevel, Notice, loglevel),
        enumerated!("maxmemory-policy", None, NONE, EVICTION, MaxmemoryPolicy, Noeviction, maxmemory_policy),
        enumerated!("appendfsync", None, NONE, Built, AppendFsync, Everysec, appendfsync),
        enumerated!("oom-score-adj", None, NONE, OOM_ADJ, OomScoreAdj, No, oom_score_adj),
        enumerated!("acl-pubsub-default", None, NONE, Inert, AclPubsubDefault, ResetChannels, acl_pubsub_default),
        enumerated!("sanitize-dump-payload", None, NONE, Inert, SanitizeDumpPayload, No, sanitize_dump_payload),
        enumerated!("cluster-preferred-endpoint-type", None, NONE, Inert, EndpointType, Ip, cluster_preferred_endpoint_type),
        enumerated!("propagation-error-behavior", None, NONE, Inert, PropagationErrorBehavior, Ignore, propagation_error_behavior),
        shutdown_flags("shutdown-on-sigint", |c| c.shutdown_on_sigint, |c, v| c.shutdown_on_sigint = v),
        shutdown_flags("shutdown-on-sigterm", |c| c.shutdown_on_sigterm, |c, v| c.shutdown_on_sigterm = v),
        enumerated!("enable-protected-configs", None, IMMUTABLE, Built, ProtectedAction, No, enable_protected_configs),
        enumerated!("enable-debug-command", None, IMMUTABLE, Built, ProtectedAction, No, enable_debug_command),
        enumerated!("enable-module-command", None, IMMUTABLE, Inert, ProtectedAction, No, enable_module_command),
        enumerated!("tls-auth-clients", None, NONE, Inert, TlsAuthClients, Yes, tls_auth_clients),

        // Integers.
        int!("databases", None, IMMUTABLE, Built, 1, I32, 16, databases),
        int!("port", None, NONE, Built, 0, 65535, 6379, port),
        int!("io-threads", None, IMMUTABLE, Inert, 1, 128, 1, io_threads),
        int!("auto-aof-rewrite-percentage", None, NONE, Built, 0, I32, 100, auto_aof_rewrite_percentage),
        int!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), NONE, Inert, 0, I32, 10, cluster_replica_validity_factor),
        int!("list-max-listpack-size", Some("list-max-ziplist-size"), NONE, Built, i32::MIN, I32, -2, list_max_listpack_size),
        int!("tcp-keepalive", None, NONE, Built, 0, I32, 300, tcp_keepalive),
        int!("cluster-migration-barrier", None, NONE, Inert, 0, I32, 1, cluster_migration_barrier),
        int!("active-defrag-cycle-min", None, NONE, Inert, 1, 99, 1, active_defrag_cycle_min),
        int!("active-defrag-cycle-max", None, NONE, Inert, 1, 99, 25, active_defrag_cycle_max),
        int!("active-defrag-threshold-lower", None, NONE, Inert, 0, 1000, 10, active_defrag_threshold_lower),
        int!("active-defrag-threshold-upper", None, NONE, Inert, 0, 1000, 100, active_defrag_threshold_upper),
        int!("lfu-log-factor", None, NONE, Inert, 0, I32, 10, lfu_log_factor),
        int!("lfu-decay-time", None, NONE, Inert, 0, I32, 1, lfu_decay_time),
        int!("replica-priority", Some("slave-priority"), NONE, Inert, 0, I32, 100, replica_priority),
        int!("repl-diskless-sync-delay", None, NONE, Inert, 0, I32, 5, repl_diskless_sync_delay),
        int!("maxmemory-samples", None, NONE, Inert, 1, I32, 5, maxmemory_samples),
        int!("maxmemory-eviction-tenacity", None, NONE, Inert, 0, 100, 10, maxmemory_eviction_tenacity),
        int!("timeout", None, NONE, Built, 0, I32, 0, timeout),
        int!("repl-timeout", None, NONE, Inert, 1, I32, 60, repl_timeout),
        int!("repl-ping-replica-period", Some("repl-ping-slave-period"), NONE, Inert, 1, I32, 10, repl_ping_replica_period),
        int!("list-compress-depth", None, NONE, Built, 0, I32, 0, list_compress_depth),
        int!("rdb-key-save-delay", None, HIDDEN, Inert, i32::MIN, I32, 0, rdb_key_save_delay),
        int!("key-load-delay", None, HIDDEN, Built, i32::MIN, I32, 0, key_load_delay),
        int!("active-expire-effort", None, NONE, Built, 1, 10, 1, active_expire_effort),
        int!("min-replicas-to-write", Some("min-slaves-to-write"), NONE, MIN_REPLICAS, 0, I32, 0, min_replicas_to_write),
        int!("min-replicas-max-lag", Some("min-slaves-max-lag"), NONE, Inert, 0, I32, 10, min_replicas_max_lag),
        int!("watchdog-period", None, HIDDEN, Inert, 0, I32, 0, watchdog_period),
        int!("shutdown-timeout", None, NONE, Inert, 0, I32, 10, shutdown_timeout),
        int!("repl-diskless-sync-max-replicas", None, NONE, Inert, 0, I32, 0, repl_diskless_sync_max_replicas),
        int!("maxclients", None, NONE, Built, 1, U32, 10000, maxclients),
        num!("unixsocketperm", None, IMMUTABLE, Inert, OCTAL, 0, 0o777, 0, unixsocketperm),
        int!("socket-mark-id", None, IMMUTABLE, SOCKET_MARK, 0, U32, 0, socket_mark_id),
        int!("slowlog-log-slower-than", None, NONE, Built, -1, LMAX, 10000, slowlog_log_slower_than),
        int!("latency-monitor-threshold", None, NONE, Built, 0, LMAX, 0, latency_monitor_threshold),
        mem!("proto-max-bulk-len", None, NONE, Built, 1024 * 1024, LMAX, 512i64 << 20, proto_max_bulk_len),
        int!("stream-node-max-entries", None, NONE, Built, 0, LMAX, 100, stream_node_max_entries),
        mem!("repl-backlog-size", None, NONE, Inert, 1, LMAX, 1 << 20, repl_backlog_size),
        num!("maxmemory", None, NONE, Built, MEMORY | UNSIGNED, 0, -1, 0, maxmemory),
        num!("cluster-link-sendbuf-limit", None, NONE, Inert, MEMORY | UNSIGNED, 0, -1, 0, cluster_link_sendbuf_limit),
        int!("slowlog-max-len", None, NONE, Built, 0, LMAX, 128, slowlog_max_len),
        int!("acllog-max-len", None, NONE, Inert, 0, LMAX, 128, acllog_max_len),
        int!("cluster-node-timeout", None, NONE, Inert, 0, LMAX, 15000, cluster_node_timeout),
        int!("active-defrag-max-scan-fields", None, NONE, Inert, 1, LMAX, 1000, active_defrag_max_scan_fields),
        int!("busy-reply-threshold", Some("lua-time-limit"), NONE, Built, 0, LMAX, 5000, busy_reply_threshold),
        int!("tracking-table-max-keys", None, NONE, Built, 0, LMAX, 1_000_000, tracking_table_max_keys),
        mem!("active-defrag-ignore-bytes", None, NONE, Inert, 1, LMAX, 100i64 << 20, active_defrag_ignore_bytes),
        int!("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), NONE, Built, 0, LMAX, 512, hash_max_listpack_entries),
        int!("set-max-intset-entries", None, NONE, Inert, 0, LMAX, 512, set_max_intset_entries),
        int!("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), NONE, Inert, 0, LMAX, 128, zset_max_listpack_entries),
        mem!("hash-max-listpack-value", Some("hash-max-ziplist-value"), NONE, Built, 0, LMAX, 64, hash_max_listpack_value),
        mem!("zset-max-listpack-value", Some("zset-max-ziplist-value"), NONE, Inert, 0, LMAX, 64, zset_max_listpack_value),
        mem!("stream-node-max-bytes", None, NONE, Built, 0, LMAX, 4096, stream_node_max_bytes),
        mem!("hll-sparse-max-bytes", None, NONE, Built, 0, LMAX, 3000, hll_sparse_max_bytes),
        mem!("client-query-buffer-limit", None, NONE, Built, 1024 * 1024, LMAX, 1i64 << 30, client_query_buffer_limit),
        mem!("auto-aof-rewrite-min-size", None, NONE, Built, 0, LMAX, 64i64 << 20, auto_aof_rewrite_min_size),
        int!("repl-backlog-ttl", None, NONE, Inert, 0, LMAX, 3600, repl_backlog_ttl),
        num!("maxmemory-clients", None, NONE, CLIENT_EVICTION, MEMORY | PERCENT, -100, LMAX, 0, maxmemory_clients),
        int!("tcp-backlog", None, IMMUTABLE, Built, 0, I32, 511, tcp_backlog),
        int!("cluster-announce-bus-port", None, NONE, Inert, 0, 65535, 0, cluster_announce_bus_port),
        int!("cluster-announce-port", None, NONE, Inert, 0, 65535, 0, cluster_announce_port),
        int!("cluster-announce-tls-port", None, NONE, Inert, 0, 65535, 0, cluster_announce_tls_port),
        int!("cluster-port", None, IMMUTABLE, Inert, 0, 65535, 0, cluster_port),
        int!("replica-announce-port", Some("slave-announce-port"), NONE, Inert, 0, 65535, 0, replica_announce_port),
        int!("tls-port", None, NONE, TLS_PORT, 0, 65535, 0, tls_port),
        int!("tls-session-cache-size", None, NONE, Inert, 0, I32, 20 * 1024, tls_session_cache_size),
        int!("tls-session-cache-timeout", None, NONE, Inert, 0, I32, 300, tls_session_cache_timeout),
        int!("loading-process-events-interval-bytes", None, HIDDEN, Built, 1024, I32, 2 * 1024 * 1024, loading_process_events_interval_bytes),
        int!("hz", None, NONE, Built, 0, I32, 10, hz),

        // Directives with their own syntax.
        special!("dir", None, PROTECTED, Built, dir),
        special!("save", None, MULTI_ARG, Built, save),
        special!("client-output-buffer-limit", None, MULTI_ARG, Built, client_output_buffer_limit),
        special!("oom-score-adj-values", None, MULTI_ARG, Inert, oom_score_adj_values),
        special!("notify-keyspace-events", None, NONE, Built, notify_keyspace_events),
        special!("bind", None, MULTI_ARG, Built, bind),
        special!("replicaof", Some("slaveof"), IMMUTABLE | MULTI_ARG, unbuilt(|c| c.replicaof.is_none(), "replication"), replicaof),
        special!("latency-tracking-info-percentiles", None, MULTI_ARG, Built, latency_tracking_info_percentiles),
    ];
    for d in &mut t {
        if d.name == "hz" {
            d.normalize = Some(clamp_hz);
        }
        if d.name == "repl-backlog-size" {
            d.normalize = Some(backlog_min_size);
        }
        if d.name == "watchdog-period" {
            d.normalize = Some(watchdog_min_period);
        }
    }
    t
}

/// The directive called `name` (or with that alias), case-insensitively; the flag says whether
/// `name` was the alias.
pub fn lookup(name: &[u8]) -> Option<(&'static Directive, bool)> {
    table().iter().find_map(|d| {
        if d.name.as_bytes().eq_ignore_ascii_case(name) {
            Some((d, false))
        } else if d.alias.is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name)) {
            Some((d, true))
        } else {
            None
        }
    })
}
