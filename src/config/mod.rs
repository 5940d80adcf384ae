//! The configuration registry: one table of directives (`table.rs`) feeding the config file and
//! `--directive value` arguments, CONFIG GET, CONFIG SET and CONFIG REWRITE, and typed fields
//! that the server reads directly (`cfg.port`, `cfg.hz`, `cfg.maxmemory`, ...).
//!
//! Invariant: the registry is pure. It validates and stores values and reads files (the config
//! file, includes, the directory named by `dir`), but never changes the process: after
//! [`Config::set`] returns the changed directives, the server applies their side effects (rebind
//! after `port`/`bind`, chdir after `dir`, ...), and if one of those fails it restores the clone
//! it took before, which is Redis's rollback. See docs/config.md.

pub(crate) mod parse;
mod rewrite;
mod special;
pub mod table;
pub mod types;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

pub use table::{flags, Directive, Kind, Support};
pub use types::*;

/// The Redis version whose messages Ferrite reproduces.
pub const REDIS_VERSION: &str = "7.0.15";
/// The same version as one number, `0x00MMmmpp` (`redis.REDIS_VERSION_NUM` in scripts).
pub const REDIS_VERSION_NUM: i64 = 0x00_07_00_0f;

/// Ferrite stores string values as UTF-8 (documented exception).
pub(crate) const NOT_UTF8: &str = "argument must be valid UTF-8";

/// A fatal configuration error, displayed exactly as Redis prints it to stderr before exiting
/// with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `*** FATAL CONFIG FILE ERROR ***` with the line (number and text) when there is one.
    Fatal {
        line: Option<(usize, String)>,
        reason: String,
    },
    /// A config file (or include) that cannot be opened. Redis logs this one as a warning
    /// ("Fatal error, can't open config file '...': ...") rather than with the banner.
    CantOpen { path: String, reason: String },
}

impl ConfigError {
    /// A fatal error without a line, e.g. for checks the server makes after loading (Redis's
    /// "Can't open the log file: ..." is printed this way).
    pub fn fatal(reason: impl Into<String>) -> ConfigError {
        ConfigError::Fatal {
            line: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Fatal { line, reason } => {
                write!(f, "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n")?;
                if let Some((n, text)) = line {
                    write!(f, "Reading the configuration file, at line {n}\n>>> '{text}'\n")?;
                }
                writeln!(f, "{reason}")
            }
            ConfigError::CantOpen { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// `strerror(code)`.
pub(crate) fn strerror(code: i32) -> String {
    let s = std::io::Error::from_raw_os_error(code).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

pub(crate) fn io_strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => strerror(code),
        None => e.to_string(),
    }
}

/// Every directive as a typed field. Names follow the directives (`-` becomes `_`); values are
/// Redis's built-in defaults except where docs/config.md lists a Ferrite exception.
#[derive(Clone, Debug)]
pub struct Config {
    // Network and clients.
    pub port: u16,
    pub bind: Vec<String>,
    pub bind_source_addr: String,
    pub protected_mode: bool,
    pub tcp_backlog: u32,
    pub tcp_keepalive: u32,
    pub timeout: u32,
    pub unixsocket: String,
    pub unixsocketperm: u32,
    pub socket_mark_id: u32,
    pub maxclients: u32,
    pub client_query_buffer_limit: u64,
    pub proto_max_bulk_len: u64,
    pub client_output_buffer_limit: ObufLimits,
    pub io_threads: u32,
    pub io_threads_do_reads: bool,
    pub requirepass: String,
    pub aclfile: String,
    pub acllog_max_len: u64,
    pub acl_pubsub_default: AclPubsubDefault,
    pub enable_protected_configs: ProtectedAction,
    pub enable_debug_command: ProtectedAction,
    pub enable_module_command: ProtectedAction,
    pub tracking_table_max_keys: u64,

    // Process, logging.
    pub daemonize: bool,
    pub supervised: Supervised,
    pub pidfile: String,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub syslog_enabled: bool,
    pub syslog_ident: String,
    pub syslog_facility: SyslogFacility,
    pub always_show_logo: bool,
    pub set_proc_title: bool,
    pub proc_title_template: String,
    pub crash_log_enabled: bool,
    pub crash_memcheck_enabled: bool,
    pub use_exit_on_panic: bool,
    pub watchdog_period: u32,
    pub shutdown_on_sigint: i32,
    pub shutdown_on_sigterm: i32,
    pub shutdown_timeout: u32,
    pub oom_score_adj: OomScoreAdj,
    pub oom_score_adj_values: [i32; 3],
    pub disable_thp: bool,
    pub jemalloc_bg_thread: bool,
    pub server_cpulist: String,
    pub bio_cpulist: String,
    pub aof_rewrite_cpulist: String,
    pub bgsave_cpulist: String,
    pub ignore_warnings: String,
    /// The working directory, absolute and canonical (what Redis's getcwd() reports).
    pub dir: PathBuf,

    // Keyspace, expiry, memory.
    pub databases: u32,
    pub hz: u32,
    pub dynamic_hz: bool,
    pub activerehashing: bool,
    pub active_expire_effort: u32,
    pub maxmemory: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    /// Bytes, or when negative, a percentage of `maxmemory` (`-5` is `5%`), as Redis stores it.
    pub maxmemory_clients: i64,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub activedefrag: bool,
    pub active_defrag_ignore_bytes: u64,
    pub active_defrag_threshold_lower: u32,
    pub active_defrag_threshold_upper: u32,
    pub active_defrag_cycle_min: u32,
    pub active_defrag_cycle_max: u32,
    pub active_defrag_max_scan_fields: u64,
    pub notify_keyspace_events: u32,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub list_max_listpack_size: i32,
    pub list_compress_depth: u32,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub hll_sparse_max_bytes: u64,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: u64,
    pub sanitize_dump_payload: SanitizeDumpPayload,

    // Observability.
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold: u64,
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,

    // Scripting.
    pub busy_reply_threshold: u64,
    pub lua_enable_deprecated_api: bool,

    // Persistence.
    pub save: Vec<SavePoint>,
    pub stop_writes_on_bgsave_error: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub dbfilename: String,
    pub rdb_del_sync_files: bool,
    pub rdb_save_incremental_fsync: bool,
    pub rdb_key_save_delay: i32,
    pub key_load_delay: i32,
    pub loading_process_events_interval_bytes: u32,
    pub appendonly: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    pub appendfsync: AppendFsync,
    pub no_appendfsync_on_rewrite: bool,
    pub auto_aof_rewrite_percentage: u32,
    pub auto_aof_rewrite_min_size: u64,
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    pub aof_timestamp_enabled: bool,
    pub aof_rewrite_incremental_fsync: bool,
    pub aof_disable_auto_gc: bool,

    // Replication.
    pub replicaof: Option<ReplicaOf>,
    pub masteruser: String,
    pub masterauth: String,
    pub replica_serve_stale_data: bool,
    pub replica_read_only: bool,
    pub replica_ignore_maxmemory: bool,
    pub replica_lazy_flush: bool,
    pub replica_announced: bool,
    pub replica_announce_ip: String,
    pub replica_announce_port: u16,
    pub replica_priority: u32,
    pub replica_ignore_disk_write_errors: bool,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay: u32,
    pub repl_diskless_sync_max_replicas: u32,
    pub repl_diskless_load: ReplDisklessLoad,
    pub repl_ping_replica_period: u32,
    pub repl_timeout: u32,
    pub repl_disable_tcp_nodelay: bool,
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl: u64,
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag: u32,
    pub propagation_error_behavior: PropagationErrorBehavior,

    // Cluster.
    pub cluster_enabled: bool,
    pub cluster_config_file: String,
    pub cluster_node_timeout: u64,
    pub cluster_port: u16,
    pub cluster_announce_ip: String,
    pub cluster_announce_hostname: String,
    pub cluster_announce_port: u16,
    pub cluster_announce_bus_port: u16,
    pub cluster_announce_tls_port: u16,
    pub cluster_preferred_endpoint_type: EndpointType,
    pub cluster_replica_validity_factor: u32,
    pub cluster_migration_barrier: u32,
    pub cluster_allow_replica_migration: bool,
    pub cluster_require_full_coverage: bool,
    pub cluster_replica_no_failover: bool,
    pub cluster_allow_reads_when_down: bool,
    pub cluster_allow_pubsubshard_when_down: bool,
    pub cluster_link_sendbuf_limit: u64,

    // TLS.
    pub tls_port: u16,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    pub tls_key_file_pass: String,
    pub tls_client_cert_file: String,
    pub tls_client_key_file: String,
    pub tls_client_key_file_pass: String,
    pub tls_dh_params_file: String,
    pub tls_ca_cert_file: String,
    pub tls_ca_cert_dir: String,
    pub tls_protocols: String,
    pub tls_ciphers: String,
    pub tls_ciphersuites: String,
    pub tls_prefer_server_ciphers: bool,
    pub tls_session_caching: bool,
    pub tls_session_cache_size: u32,
    pub tls_session_cache_timeout: u32,
    pub tls_cluster: bool,
    pub tls_replication: bool,
    pub tls_auth_clients: TlsAuthClients,

    // Not directives.
    /// `rename-command old new` lines in file order (`new` empty: the command is removed). The
    /// command table applies them; an unknown `old` must fail the start with Redis's
    /// "No such command in rename-command" (see [`RenameCommand::error`]).
    pub renamed_commands: Vec<RenameCommand>,
    /// The config file, absolute, when the server was started with one.
    pub config_file: Option<PathBuf>,
    /// While loading a file: a `save` line was seen (the first one replaces the defaults).
    save_loaded: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config::default()
    }
}

/// Built-in defaults from the table (and the special directives' own).
fn defaults_from_table(c: &mut Config) {
    for d in table::table() {
        match &d.kind {
            Kind::Bool(b) => (b.set)(c, b.default),
            Kind::Num(n) => (n.set)(c, n.default),
            Kind::Enum(e) => (e.set)(c, e.default),
            Kind::Str(s) => (s.set)(c, s.default.to_string()),
            Kind::Special(_) => {}
        }
    }
}

/// The name CONFIG GET prints for an enum value (a bitflag set prints its names in order).
pub(crate) fn enum_name(e: &table::EnumSpec, v: i32) -> String {
    if let Some((n, _)) = e.names.iter().find(|(_, x)| *x == v) {
        return (*n).to_string();
    }
    if e.bitflags {
        let mut names = Vec::new();
        let mut left = v;
        for (n, x) in e.names {
            if *x != 0 && left & x == *x {
                names.push(*n);
                left &= !x;
            }
        }
        if left == 0 && !names.is_empty() {
            return names.join(" ");
        }
    }
    String::new()
}

/// The server's answer to CONFIG SET needs to know whether the client may touch protected
/// directives (`enable-protected-configs local` allows loopback and unix-socket clients).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetContext {
    pub local_client: bool,
}

/// Where the directive lines being loaded come from.
struct Loader {
    log: Vec<String>,
    /// The line (number and text) that last set each directive, by table index.
    set_at: Vec<Option<(usize, String)>>,
    depth: usize,
}

impl Config {
    /// Redis 7.0 built-in defaults, with Ferrite's documented exceptions (docs/config.md).
    #[allow(clippy::should_implement_trait)]
    pub fn default() -> Config {
        let dir = std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .unwrap_or_else(|_| PathBuf::from("/"));
        let mut c = Config {
            port: 0,
            bind: special::bind::DEFAULT.iter().map(|s| s.to_string()).collect(),
            bind_source_addr: String::new(),
            protected_mode: false,
            tcp_backlog: 0,
            tcp_keepalive: 0,
            timeout: 0,
            unixsocket: String::new(),
            unixsocketperm: 0,
            socket_mark_id: 0,
            maxclients: 0,
            client_query_buffer_limit: 0,
            proto_max_bulk_len: 0,
            client_output_buffer_limit: ObufLimits::DEFAULT,
            io_threads: 0,
            io_threads_do_reads: false,
            requirepass: String::new(),
            aclfile: String::new(),
            acllog_max_len: 0,
            acl_pubsub_default: AclPubsubDefault::ResetChannels,
            enable_protected_configs: ProtectedAction::No,
            enable_debug_command: ProtectedAction::No,
            enable_module_command: ProtectedAction::No,
            tracking_table_max_keys: 0,
            daemonize: false,
            supervised: Supervised::No,
            pidfile: String::new(),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            syslog_enabled: false,
            syslog_ident: String::new(),
            syslog_facility: SyslogFacility::Local0,
            always_show_logo: false,
            set_proc_title: false,
            proc_title_template: String::new(),
            crash_log_enabled: false,
            crash_memcheck_enabled: false,
            use_exit_on_panic: false,
            watchdog_period: 0,
            shutdown_on_sigint: 0,
            shutdown_on_sigterm: 0,
            shutdown_timeout: 0,
            oom_score_adj: OomScoreAdj::No,
            oom_score_adj_values: special::oom_score_adj_values::DEFAULT,
            disable_thp: false,
            jemalloc_bg_thread: false,
            server_cpulist: String::new(),
            bio_cpulist: String::new(),
            aof_rewrite_cpulist: String::new(),
            bgsave_cpulist: String::new(),
            ignore_warnings: String::new(),
            dir,
            databases: 0,
            hz: 0,
            dynamic_hz: false,
            activerehashing: false,
            active_expire_effort: 0,
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::Noeviction,
            maxmemory_samples: 0,
            maxmemory_eviction_tenacity: 0,
            maxmemory_clients: 0,
            lfu_log_factor: 0,
            lfu_decay_time: 0,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            activedefrag: false,
            active_defrag_ignore_bytes: 0,
            active_defrag_threshold_lower: 0,
            active_defrag_threshold_upper: 0,
            active_defrag_cycle_min: 0,
            active_defrag_cycle_max: 0,
            active_defrag_max_scan_fields: 0,
            notify_keyspace_events: 0,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            set_max_intset_entries: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            hll_sparse_max_bytes: 0,
            stream_node_max_bytes: 0,
            stream_node_max_entries: 0,
            sanitize_dump_payload: SanitizeDumpPayload::No,
            slowlog_log_slower_than: 0,
            slowlog_max_len: 0,
            latency_monitor_threshold: 0,
            latency_tracking: false,
            latency_tracking_info_percentiles: special::latency_tracking_info_percentiles::DEFAULT.to_vec(),
            busy_reply_threshold: 0,
            lua_enable_deprecated_api: false,
            // Ferrite exception: Redis's built-in default is "3600 1 300 100 60 10000"; Ferrite
            // has no RDB yet and must not promise snapshots.
            save: special::save::DEFAULT
                .iter()
                .map(|&(seconds, changes)| crate::config::types::SavePoint { seconds, changes })
                .collect(),
            stop_writes_on_bgsave_error: false,
            rdbcompression: false,
            rdbchecksum: false,
            dbfilename: String::new(),
            rdb_del_sync_files: false,
            rdb_save_incremental_fsync: false,
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            loading_process_events_interval_bytes: 0,
            appendonly: false,
            appendfilename: String::new(),
            appenddirname: String::new(),
            appendfsync: AppendFsync::Everysec,
            no_appendfsync_on_rewrite: false,
            auto_aof_rewrite_percentage: 0,
            auto_aof_rewrite_min_size: 0,
            aof_load_truncated: false,
            aof_use_rdb_preamble: false,
            aof_timestamp_enabled: false,
            aof_rewrite_incremental_fsync: false,
            aof_disable_auto_gc: false,
            replicaof: None,
            masteruser: String::new(),
            masterauth: String::new(),
            replica_serve_stale_data: false,
            replica_read_only: false,
            replica_ignore_maxmemory: false,
            replica_lazy_flush: false,
            replica_announced: false,
            replica_announce_ip: String::new(),
            replica_announce_port: 0,
            replica_priority: 0,
            replica_ignore_disk_write_errors: false,
            repl_diskless_sync: false,
            repl_diskless_sync_delay: 0,
            repl_diskless_sync_max_replicas: 0,
            repl_diskless_load: ReplDisklessLoad::Disabled,
            repl_ping_replica_period: 0,
            repl_timeout: 0,
            repl_disable_tcp_nodelay: false,
            repl_backlog_size: 0,
            repl_backlog_ttl: 0,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 0,
            propagation_error_behavior: PropagationErrorBehavior::Ignore,
            cluster_enabled: false,
            cluster_config_file: String::new(),
            cluster_node_timeout: 0,
            cluster_port: 0,
            cluster_announce_ip: String::new(),
            cluster_announce_hostname: String::new(),
            cluster_announce_port: 0,
            cluster_announce_bus_port: 0,
            cluster_announce_tls_port: 0,
            cluster_preferred_endpoint_type: EndpointType::Ip,
            cluster_replica_validity_factor: 0,
            cluster_migration_barrier: 0,
            cluster_allow_replica_migration: false,
            cluster_require_full_coverage: false,
            cluster_replica_no_failover: false,
            cluster_allow_reads_when_down: false,
            cluster_allow_pubsubshard_when_down: false,
            cluster_link_sendbuf_limit: 0,
            tls_port: 0,
            tls_cert_file: String::new(),
            tls_key_file: String::new(),
            tls_key_file_pass: String::new(),
            tls_client_cert_file: String::new(),
            tls_client_key_file: String::new(),
            tls_client_key_file_pass: String::new(),
            tls_dh_params_file: String::new(),
            tls_ca_cert_file: String::new(),
            tls_ca_cert_dir: String::new(),
            tls_protocols: String::new(),
            tls_ciphers: String::new(),
            tls_ciphersuites: String::new(),
            tls_prefer_server_ciphers: false,
            tls_session_caching: false,
            tls_session_cache_size: 0,
            tls_session_cache_timeout: 0,
            tls_cluster: false,
            tls_replication: false,
            tls_auth_clients: TlsAuthClients::Yes,
            renamed_commands: Vec::new(),
            config_file: None,
            save_loaded: false,
        };
        defaults_from_table(&mut c);
        c
    }

    /// Parses redis-server style arguments (without the program name):
    /// `[config-file | -] [--directive value ...]`. `-` as the first or last argument reads a
    /// config from stdin. The `--directive value` pairs become extra config lines appended after
    /// the file, numbered as Redis numbers them. Returns the config and log lines for the server
    /// to print at notice level ("... is not yet supported; accepted because it changes nothing").
    /// `--sentinel` is refused (Sentinel is not built); `-v`/`--help`/`--test-memory` are the
    /// binary's business and must be handled before calling this.
    pub fn from_args(args: &[String]) -> Result<(Config, Vec<String>), ConfigError> {
        let mut cfg = Config::default();
        if args.iter().any(|a| a == "--sentinel") {
            return Err(ConfigError::fatal("Sentinel mode is not yet supported by Ferrite"));
        }
        let mut j = 0;
        if let Some(first) = args.first() {
            if !first.starts_with('-') {
                cfg.config_file = Some(absolute(Path::new(first)));
                j = 1;
            }
        }
        let (options, from_stdin) = options_from_args(args, j);
        let mut text = Vec::new();
        if let Some(path) = cfg.config_file.clone() {
            text = read_config_files(&path)?;
        }
        if from_stdin {
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut text)
                .map_err(|e| ConfigError::fatal(format!("Reading config from stdin: {}", io_strerror(&e))))?;
        }
        text.push(b'\n');
        text.extend_from_slice(options.as_bytes());
        let mut loader = Loader {
            log: Vec::new(),
            set_at: vec![None; table::table().len()],
            depth: 0,
        };
        cfg.load_text(&text, &mut loader)?;
        cfg.save_loaded = false;
        table::after_load(&mut cfg);
        cfg.check_support_at_start(&mut loader)?;
        Ok((cfg, loader.log))
    }

    /// Loads config text (a file's content) on top of this config. For tests and for servers
    /// that build their config themselves; `from_args` is the usual entry point.
    pub fn load_str(&mut self, text: &str) -> Result<Vec<String>, ConfigError> {
        let mut loader = Loader {
            log: Vec::new(),
            set_at: vec![None; table::table().len()],
            depth: 0,
        };
        self.load_text(text.as_bytes(), &mut loader)?;
        self.save_loaded = false;
        table::after_load(self);
        self.check_support_at_start(&mut loader)?;
        Ok(loader.log)
    }

    fn load_text(&mut self, text: &[u8], loader: &mut Loader) -> Result<(), ConfigError> {
        // Redis works on a C string: the content ends at the first NUL byte.
        let text = match text.iter().position(|&b| b == 0) {
            Some(n) => &text[..n],
            None => text,
        };
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let linenum = i + 1;
            let line = trim_line(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let shown = String::from_utf8_lossy(line).into_owned();
            let fail = |reason: Cow<'static, str>| ConfigError::Fatal {
                line: Some((linenum, shown.clone())),
                reason: reason.into_owned(),
            };
            let Ok(mut argv) = parse::split_args(line) else {
                return Err(fail("Unbalanced quotes in configuration line".into()));
            };
            if argv.is_empty() {
                continue;
            }
            argv[0].make_ascii_lowercase();
            if let Some((d, _)) = table::lookup(&argv[0]) {
                if !d.is_multi_arg() && argv.len() != 2 {
                    return Err(fail("wrong number of arguments".into()));
                }
                let args: Vec<Vec<u8>> = if d.is_multi_arg() && argv.len() == 2 && !argv[1].is_empty() {
                    parse::split_args(&argv[1]).unwrap_or_default()
                } else {
                    argv[1..].to_vec()
                };
                self.set_directive(d, &args, true).map_err(fail)?;
                if let Some(idx) = table::table().iter().position(|x| std::ptr::eq(x, d)) {
                    loader.set_at[idx] = Some((linenum, shown.clone()));
                }
                continue;
            }
            match self.file_only_directive(&argv, (linenum, &shown), loader) {
                Ok(()) => {}
                Err(LineError::Reason(r)) => return Err(fail(r)),
                Err(LineError::Nested(e)) => return Err(e),
            }
        }
        Ok(())
    }

    /// The directives the table does not hold: `include`, `rename-command`, `user`,
    /// `loadmodule`, `sentinel`, module configs, and Redis's deprecated ones.
    fn file_only_directive(
        &mut self,
        argv: &[Vec<u8>],
        at: (usize, &str),
        loader: &mut Loader,
    ) -> Result<(), LineError> {
        let name = argv[0].as_slice();
        let argc = argv.len();
        // Redis 7.0 still accepts and ignores these.
        if matches!(
            name,
            b"list-max-ziplist-entries" | b"list-max-ziplist-value" | b"lua-replicate-commands"
        ) && argc == 2
        {
            return Ok(());
        }
        match name {
            b"include" if argc == 2 => {
                if loader.depth > 32 {
                    return Err("include nesting is too deep (an include loop?)".into());
                }
                let path = self.dir.join(String::from_utf8(argv[1].clone()).map_err(|_| NOT_UTF8)?);
                let text = read_config_files(&path).map_err(LineError::Nested)?;
                loader.depth += 1;
                let result = self.load_text(&text, loader);
                loader.depth -= 1;
                result.map_err(LineError::Nested)
            }
            b"rename-command" if argc == 3 => {
                let old = String::from_utf8(argv[1].clone()).map_err(|_| NOT_UTF8)?;
                let new = String::from_utf8(argv[2].clone()).map_err(|_| NOT_UTF8)?;
                self.renamed_commands.push(RenameCommand {
                    old,
                    new,
                    line: (at.0, at.1.to_string()),
                });
                Ok(())
            }
            b"user" if argc >= 2 => {
                if is_neutral_default_user(&argv[1..]) {
                    loader.note(
                        "user",
                        "ACL users are not yet supported; accepted because it changes nothing",
                    );
                    Ok(())
                } else {
                    Err(refusal("user", "ACL users").into())
                }
            }
            b"loadmodule" if argc >= 2 => Err(refusal("loadmodule", "modules").into()),
            b"sentinel" => {
                if argc == 1 {
                    Ok(())
                } else {
                    Err("sentinel directive while not in sentinel mode".into())
                }
            }
            _ if name.contains(&b'.') => {
                if argc < 2 {
                    Err("Module config specified without value".into())
                } else {
                    Err(refusal("module configuration", "modules").into())
                }
            }
            _ => Err("Bad directive or wrong number of arguments".into()),
        }
    }

    /// Sets one directive from its arguments, as Redis's `interface.set` does (the caller has
    /// already checked the argument count of single-argument directives).
    fn set_directive(&mut self, d: &Directive, args: &[Vec<u8>], reading_file: bool) -> Result<(), Cow<'static, str>> {
        match &d.kind {
            Kind::Bool(b) => {
                let v = args.first().map(|a| a.to_ascii_lowercase());
                match v.as_deref() {
                    Some(b"yes") => (b.set)(self, true),
                    Some(b"no") => (b.set)(self, false),
                    _ => return Err("argument must be 'yes' or 'no'".into()),
                }
            }
            Kind::Num(n) => {
                let raw = args.first().map(Vec::as_slice).unwrap_or_default();
                let v = parse_number(n, raw)?;
                check_bounds(n, v)?;
                (n.set)(self, v);
            }
            Kind::Enum(e) => {
                let v = parse_enum(e, args)?;
                if let Some(valid) = e.valid {
                    valid(v)?;
                }
                (e.set)(self, v);
            }
            Kind::Str(s) => {
                let raw = args.first().map(Vec::as_slice).unwrap_or_default();
                let v = std::str::from_utf8(raw).map_err(|_| NOT_UTF8)?;
                if let Some(valid) = s.valid {
                    valid(self, v)?;
                }
                (s.set)(self, v.to_string());
            }
            Kind::Special(sp) => (sp.set)(self, args, reading_file)?,
        }
        // Redis applies these when CONFIG SET changes a value; after a file, `after_load` does.
        if let (Some(normalize), false) = (d.normalize, reading_file) {
            normalize(self);
        }
        Ok(())
    }

    /// Refuses a config that promises a feature Ferrite does not have, naming the line that set
    /// it; notes the accepted not-yet-supported directives in the log.
    fn check_support_at_start(&self, loader: &mut Loader) -> Result<(), ConfigError> {
        let set_at = std::mem::take(&mut loader.set_at);
        for (d, at) in table::table().iter().zip(&set_at) {
            if at.is_none() {
                continue;
            }
            match d.support {
                Support::Built => {}
                Support::Unbuilt { neutral, feature } => {
                    if !neutral(self) {
                        return Err(ConfigError::Fatal {
                            line: at.clone(),
                            reason: format!(
                                "{} is not yet supported by Ferrite ({feature}); refusing to start rather than \
                                 pretend it works",
                                quote_setting(d, &self.value_of(d))
                            ),
                        });
                    }
                    if !self.is_default(d) {
                        loader.note(
                            d.name,
                            &format!("{feature} is not yet supported; accepted because it changes nothing"),
                        );
                    }
                }
                Support::Inert => {
                    if !self.is_default(d) {
                        loader.note(d.name, "not yet supported; accepted because it changes nothing");
                    }
                }
            }
        }
        Ok(())
    }

    /// CONFIG GET: the directives matching any of `patterns` (globs, case-insensitive), each
    /// once, with Redis's value text. A pattern without `*`, `?` or `[` is an exact lookup that
    /// also finds hidden directives and is echoed as the client typed it, as Redis does.
    pub fn get<'p>(&self, patterns: &[&'p [u8]]) -> Vec<(Cow<'p, str>, String)> {
        let mut out: Vec<(Cow<'p, str>, String)> = Vec::new();
        let seen = |out: &[(Cow<'p, str>, String)], name: &[u8]| {
            out.iter().any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        };
        for &pat in patterns {
            if !pat.iter().any(|b| b"[*?".contains(b)) {
                if seen(&out, pat) {
                    continue;
                }
                if let (Some((d, _)), Ok(typed)) = (table::lookup(pat), std::str::from_utf8(pat)) {
                    out.push((Cow::Borrowed(typed), self.value_of(d)));
                }
                continue;
            }
            for d in table::table() {
                if d.has(flags::HIDDEN) {
                    continue;
                }
                for name in std::iter::once(d.name).chain(d.alias) {
                    if !seen(&out, name.as_bytes()) && crate::util::glob::glob_match(pat, name.as_bytes(), true) {
                        out.push((Cow::Borrowed(name), self.value_of(d)));
                    }
                }
            }
        }
        out
    }

    /// The CONFIG GET text of one directive.
    pub fn value_of(&self, d: &Directive) -> String {
        match &d.kind {
            Kind::Bool(b) => if (b.get)(self) { "yes" } else { "no" }.to_string(),
            Kind::Num(n) => {
                let v = (n.get)(self);
                if n.nflags & table::nflags::PERCENT != 0 && v < 0 {
                    format!("{}%", -v)
                } else if n.nflags & table::nflags::MEMORY != 0 {
                    (v as u64).to_string()
                } else if n.nflags & table::nflags::OCTAL != 0 {
                    format!("{v:o}")
                } else {
                    v.to_string()
                }
            }
            Kind::Enum(e) => enum_name(e, (e.get)(self)),
            Kind::Str(s) => (s.get)(self).to_string(),
            Kind::Special(sp) => (sp.get)(self),
        }
    }

    /// Is the directive at its built-in default (Ferrite's)?
    pub fn is_default(&self, d: &Directive) -> bool {
        match &d.kind {
            Kind::Bool(b) => (b.get)(self) == b.default,
            Kind::Num(n) => (n.get)(self) == n.default,
            Kind::Enum(e) => (e.get)(self) == e.default,
            Kind::Str(s) => (s.get)(self) == s.default,
            Kind::Special(sp) => (sp.is_default)(self),
        }
    }

    /// CONFIG SET with `enable-protected-configs` checked as for a remote client.
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_with(pairs, SetContext::default())
    }

    /// CONFIG SET: all pairs are validated before any is kept. On success returns the names of
    /// the directives whose value changed (canonical names, each once), for the server to apply.
    /// On failure nothing changed and the error is the full Redis error line without the leading
    /// `-` (e.g. `ERR Unknown option or number of arguments for CONFIG SET - 'foo'`). An odd
    /// argument count is the caller's "ERR syntax error".
    pub fn set_with(&mut self, pairs: &[(&[u8], &[u8])], ctx: SetContext) -> Result<Vec<&'static str>, String> {
        let shown = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let failed =
            |name: &str, why: &str| format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}");

        // Pass 1, as Redis: find every directive; the first unknown name wins, then the first
        // immutable/protected/duplicate.
        let mut unknown: Option<&[u8]> = None;
        let mut error: Option<String> = None;
        let mut chosen: Vec<(&'static Directive, bool, &[u8], &[u8])> = Vec::new();
        for &(name, value) in pairs {
            let Some((d, is_alias)) = table::lookup(name) else {
                if unknown.is_none() && error.is_none() {
                    unknown = Some(name);
                }
                continue;
            };
            if unknown.is_some() || error.is_some() {
                continue;
            }
            let protected_ok = self.enable_protected_configs.allows(ctx.local_client);
            if d.has(flags::IMMUTABLE) || (d.has(flags::PROTECTED) && !protected_ok) {
                let why = if d.has(flags::IMMUTABLE) {
                    "can't set immutable config"
                } else {
                    "can't set protected config"
                };
                error = Some(failed(&shown(name), why));
                continue;
            }
            // A directive and its alias are different entries for Redis: not a duplicate.
            if chosen
                .iter()
                .any(|(d2, a2, _, _)| std::ptr::eq(*d2, d) && *a2 == is_alias)
            {
                error = Some(failed(&shown(name), "duplicate parameter"));
            }
            chosen.push((d, is_alias, name, value));
        }
        if let Some(name) = unknown {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                shown(name)
            ));
        }
        if let Some(e) = error {
            return Err(e);
        }

        // Pass 2: set everything on a copy; the first failure discards the copy.
        let mut next = self.clone();
        for &(d, is_alias, _, value) in &chosen {
            let name = if is_alias { d.alias.unwrap_or(d.name) } else { d.name };
            let args: Vec<Vec<u8>> = if d.is_multi_arg() {
                if value.is_empty() {
                    Vec::new()
                } else {
                    value.split(|&b| b == b' ').map(<[u8]>::to_vec).collect()
                }
            } else {
                vec![value.to_vec()]
            };
            next.set_directive(d, &args, false).map_err(|why| failed(name, &why))?;
        }

        // Ferrite: refuse what would promise an unbuilt feature.
        for d in table::table() {
            if let Support::Unbuilt { neutral, feature } = d.support {
                if !neutral(&next) {
                    let why = format!(
                        "{} is not yet supported by Ferrite ({feature})",
                        quote_setting(d, &next.value_of(d))
                    );
                    return Err(failed(d.name, &why));
                }
            }
        }

        let mut changed = Vec::new();
        for &(d, _, _, _) in &chosen {
            if self.value_of(d) != next.value_of(d) && !changed.contains(&d.name) {
                changed.push(d.name);
            }
        }
        *self = next;
        Ok(changed)
    }

    /// CONFIG REWRITE into the file the config was loaded from. The error is the full Redis
    /// error line without the leading `-`.
    pub fn rewrite(&self) -> Result<(), String> {
        let Some(path) = &self.config_file else {
            return Err("ERR The server is running without a config file".to_string());
        };
        let old = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("ERR Rewriting config file: {}", io_strerror(&e))),
        };
        let content = rewrite::render(self, &old);
        rewrite::write_atomically(path, &content).map_err(|e| format!("ERR Rewriting config file: {}", io_strerror(&e)))
    }

    /// The config file the server was started with (absolute), if any.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// The directive called `name` (or with that alias), case-insensitively.
    pub fn directive(name: &[u8]) -> Option<&'static Directive> {
        table::lookup(name).map(|(d, _)| d)
    }

    /// Every directive, in table order.
    pub fn directives() -> &'static [Directive] {
        table::table()
    }
}

/// One `rename-command` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameCommand {
    pub old: String,
    pub new: String,
    /// Where it was read (line number and text), for Redis's fatal error.
    pub line: (usize, String),
}

impl RenameCommand {
    /// The fatal error for this line, e.g. with "No such command in rename-command" or
    /// "Target command name already exists".
    pub fn error(&self, reason: &str) -> ConfigError {
        ConfigError::Fatal {
            line: Some(self.line.clone()),
            reason: reason.to_string(),
        }
    }
}

/// Why a line failed: a reason (printed under the line), or an error inside an included file
/// (printed with that file's own line).
enum LineError {
    Reason(Cow<'static, str>),
    Nested(ConfigError),
}

impl From<Cow<'static, str>> for LineError {
    fn from(r: Cow<'static, str>) -> LineError {
        LineError::Reason(r)
    }
}

impl From<&'static str> for LineError {
    fn from(r: &'static str) -> LineError {
        LineError::Reason(Cow::Borrowed(r))
    }
}

impl Loader {
    fn note(&mut self, name: &str, text: &str) {
        let line = format!("{name}: {text}");
        if !self.log.contains(&line) {
            self.log.push(line);
        }
    }
}

fn refusal(what: &str, feature: &str) -> Cow<'static, str> {
    Cow::Owned(format!(
        "{what} is not yet supported by Ferrite ({feature}); refusing to start rather than pretend it works"
    ))
}

/// `name value` as a user would write it, for messages.
fn quote_setting(d: &Directive, value: &str) -> String {
    if value.is_empty() {
        format!("'{} \"\"'", d.name)
    } else {
        format!("'{} {value}'", d.name)
    }
}

/// A `user` line that only restates the default user's default rules (what Redis's CONFIG
/// REWRITE writes for it): accepted, since it changes nothing.
fn is_neutral_default_user(args: &[Vec<u8>]) -> bool {
    args.first().is_some_and(|u| u.as_slice() == b"default")
        && args[1..].iter().all(|a| {
            matches!(
                a.to_ascii_lowercase().as_slice(),
                b"on"
                    | b"nopass"
                    | b"~*"
                    | b"&*"
                    | b"+@all"
                    | b"allkeys"
                    | b"allchannels"
                    | b"allcommands"
                    | b"sanitize-payload"
                    | b"skip-sanitize-payload"
            )
        })
}

fn trim_line(raw: &[u8]) -> &[u8] {
    let is_trim = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = raw.iter().position(|b| !is_trim(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !is_trim(b)).map_or(start, |e| e + 1);
    &raw[start..end.max(start)]
}

/// Redis's `getAbsolutePath`: relative to the current directory, not resolving links.
fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) => {
            let mut out = cwd;
            for comp in p.components() {
                match comp {
                    std::path::Component::ParentDir => {
                        out.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => out.push(other),
                }
            }
            out
        }
        Err(_) => p.to_path_buf(),
    }
}

/// Reads a config file, or every file a wildcard pattern names (in sorted order; a pattern that
/// matches nothing reads as empty, as Redis's glob() does). Wildcards are honoured in the last
/// path component only.
fn read_config_files(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let text = path.to_string_lossy();
    let cant_open = |p: &Path, e: &std::io::Error| ConfigError::CantOpen {
        path: p.display().to_string(),
        reason: io_strerror(e),
    };
    if !text.contains(['*', '?', '[']) {
        return std::fs::read(path).map_err(|e| cant_open(path, &e));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let pattern = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                !n.starts_with('.') && crate::util::glob::glob_match(pattern.as_bytes(), n.as_bytes(), false)
            })
            .map(|e| e.path())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    let mut out = Vec::new();
    for p in names {
        out.extend(std::fs::read(&p).map_err(|e| cant_open(&p, &e))?);
    }
    Ok(out)
}

/// Redis's main(): turns `--name value ...` arguments into config lines. Returns the lines and
/// whether `-` asked for stdin.
fn options_from_args(args: &[String], start: usize) -> (String, bool) {
    let mut options = String::new();
    let mut from_stdin = false;
    let mut handled_last = true;
    let last = args.len().saturating_sub(1);
    let mut j = start;
    while j < args.len() {
        let a = args[j].as_str();
        let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
        if a == "-" && (j == 0 || j == last) {
            from_stdin = true;
        } else if handled_last && a.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&a[2..]);
            options.push(' ');
            let words = parse::split_args(a.as_bytes()).map(|v| v.len()).unwrap_or(0);
            if words == 1 {
                handled_last = false;
                if a.eq_ignore_ascii_case("--save") && (j == last || next_is_option) {
                    // `--save` without a value means `save ""` (Redis 7.0.1+ compatibility).
                    options.push_str("\"\"");
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            options.push_str(&parse::repr(a.as_bytes()));
            options.push(' ');
            handled_last = true;
        }
        j += 1;
    }
    (options, from_stdin)
}

fn parse_number(n: &table::NumSpec, raw: &[u8]) -> Result<i64, &'static str> {
    use table::nflags::*;
    if n.nflags & MEMORY != 0 {
        if let Some(v) = parse::memtoull(raw) {
            return Ok(v as i64);
        }
    }
    if n.nflags & PERCENT != 0 && raw.len() > 1 && raw.last() == Some(&b'%') {
        if let Some(v) = parse::string2ll(&raw[..raw.len() - 1]).filter(|v| *v >= 0) {
            return Ok(-v);
        }
    }
    if n.nflags & OCTAL != 0 {
        if let Some(v) = parse::strtoll_full(raw, 8) {
            return Ok(v);
        }
    }
    if n.nflags & (MEMORY | PERCENT | OCTAL) == 0 {
        if let Some(v) = parse::string2ll(raw) {
            return Ok(v);
        }
    }
    Err(if n.nflags & MEMORY != 0 && n.nflags & PERCENT != 0 {
        "argument must be a memory or percent value"
    } else if n.nflags & MEMORY != 0 {
        "argument must be a memory value"
    } else if n.nflags & OCTAL != 0 {
        "argument couldn't be parsed as an octal number"
    } else {
        "argument couldn't be parsed into an integer"
    })
}

fn check_bounds(n: &table::NumSpec, v: i64) -> Result<(), String> {
    use table::nflags::*;
    if n.nflags & UNSIGNED != 0 {
        let (u, lo, hi) = (v as u64, n.min as u64, n.max as u64);
        if u < lo || u > hi {
            return Err(format!("argument must be between {lo} and {hi} inclusive"));
        }
        return Ok(());
    }
    if n.nflags & PERCENT != 0 && v < 0 {
        if v < n.min {
            return Err(format!("percentage argument must be less or equal to {}", -n.min));
        }
        return Ok(());
    }
    if v < n.min || v > n.max {
        return Err(if n.nflags & OCTAL != 0 {
            format!("argument must be between {:o} and {:o} inclusive", n.min, n.max)
        } else {
            format!("argument must be between {} and {} inclusive", n.min, n.max)
        });
    }
    Ok(())
}

fn parse_enum(e: &table::EnumSpec, args: &[Vec<u8>]) -> Result<i32, String> {
    let bad = || {
        let names: Vec<&str> = e.names.iter().map(|(n, _)| *n).collect();
        format!("argument(s) must be one of the following: {}", names.join(", "))
    };
    if args.is_empty() || (!e.bitflags && args.len() != 1) {
        return Err(bad());
    }
    let mut v = 0;
    for a in args {
        let found = e.names.iter().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(a));
        match found {
            Some((_, x)) => v |= x,
            None => return Err(bad()),
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
