//! INTERIM configuration: the typed fields the server reads, with Redis 7.0's defaults. The full registry
//! (every directive, config files, CONFIG GET/SET/REWRITE) replaces this module.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: Option<Vec<u8>>,
    pub hz: u32,
    pub databases: usize,
    pub maxclients: usize,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub tcp_backlog: u32,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub enable_debug_command: String,
    pub loglevel: String,
    pub logfile: String,
    pub always_show_logo: bool,
    pub active_expire_effort: u32,
    pub dir: PathBuf,
    pub pidfile: String,
    pub daemonize: bool,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold: u64,
    pub maxmemory: u64,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub activerehashing: bool,
    pub dynamic_hz: bool,
    config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            protected_mode: true,
            requirepass: None,
            hz: 10,
            databases: 16,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            enable_debug_command: "no".into(),
            loglevel: "notice".into(),
            logfile: String::new(),
            always_show_logo: false,
            active_expire_effort: 1,
            dir: PathBuf::from("."),
            pidfile: String::new(),
            daemonize: false,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            maxmemory: 0,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            activerehashing: true,
            dynamic_hz: true,
            config_file: None,
        }
    }
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn yes_no(v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(ConfigError("argument must be 'yes' or 'no'".into())),
    }
}

fn num<T: std::str::FromStr>(v: &str) -> Result<T, ConfigError> {
    v.parse().map_err(|_| ConfigError("argument couldn't be parsed into an integer".into()))
}

impl Config {
    pub fn from_args(args: &[String]) -> Result<(Config, Vec<String>), ConfigError> {
        let mut c = Config::default();
        let mut i = 0;
        while i < args.len() {
            let name = args[i].trim_start_matches("--").to_ascii_lowercase();
            let mut vals = vec![];
            i += 1;
            while i < args.len() && !args[i].starts_with("--") {
                vals.push(args[i].clone());
                i += 1;
            }
            let v = vals.join(" ");
            match name.as_str() {
                "port" => c.port = num(&v)?,
                "bind" => c.bind = vals,
                "protected-mode" => c.protected_mode = yes_no(&v)?,
                "requirepass" => c.requirepass = (!v.is_empty()).then(|| v.into_bytes()),
                "hz" => c.hz = num(&v)?,
                "databases" => c.databases = num(&v)?,
                "maxclients" => c.maxclients = num(&v)?,
                "timeout" => c.timeout = num(&v)?,
                "enable-debug-command" => c.enable_debug_command = v,
                "loglevel" => c.loglevel = v,
                "logfile" => c.logfile = v,
                "always-show-logo" => c.always_show_logo = yes_no(&v)?,
                "dir" => c.dir = PathBuf::from(v),
                "save" | "appendonly" | "daemonize" | "dbfilename" => {}
                "proto-max-bulk-len" => c.proto_max_bulk_len = num(&v)?,
                "active-expire-effort" => c.active_expire_effort = num(&v)?,
                other => return Err(ConfigError(format!("Bad directive or wrong number of arguments: {other}"))),
            }
        }
        Ok((c, vec![]))
    }

    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }
}
