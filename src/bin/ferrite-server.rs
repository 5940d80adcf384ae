//! `ferrite-server [config-file] [--directive value ...]`, started like `redis-server`.
//!
//! Start-up follows Redis's order: parse the configuration (fatal errors go to stderr, exit 1), check
//! what Redis checks after loading (the log file opens, `rename-command` names exist), daemonize
//! (fork, the parent exits, the child starts a session and drops the terminal), write the pid file,
//! raise the open-files limit for `maxclients`, bind, log Redis's start-up lines, then load the dataset
//! while the event loop runs (clients get `-LOADING` meanwhile).

use std::process::ExitCode;

use ferrite::config::{Config, ConfigError, REDIS_VERSION};
use ferrite::server::{load, log, Exit, Server};
use ferrite::{log_notice, log_warning};

#[global_allocator]
static ALLOC: ferrite::memory::CountingAllocator = ferrite::memory::CountingAllocator;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-v") | Some("--version") => {
            println!(
                "Ferrite server v={REDIS_VERSION} sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ferrite-{}",
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        // Redis prints its usage on stderr and exits with 1.
        Some("-h") | Some("--help") => {
            print_usage();
            return ExitCode::from(1);
        }
        _ => {}
    }
    let (mut config, notes) = match Config::from_args(&args) {
        Ok(x) => x,
        Err(e @ ConfigError::CantOpen { .. }) => {
            // Redis logs this one (to stdout: the log is not configured yet) rather than failing loudly.
            log_warning!("{e}");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprint!("{e}");
            return ExitCode::from(1);
        }
    };
    // The registry resolved `dir` without moving there (docs/config.md); Redis is in it by now.
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        eprint!(
            "{}",
            ConfigError::fatal(format!("Can't chdir to '{}': {e}", config.dir.display()))
        );
        return ExitCode::from(1);
    }
    if let Err(e) = post_load_checks(&config) {
        eprint!("{e}");
        return ExitCode::from(1);
    }
    // Redis sends the log of a daemon without a log file to /dev/null.
    let logfile = if config.daemonize && config.logfile.is_empty() {
        "/dev/null".to_string()
    } else {
        config.logfile.clone()
    };
    log::configure(log::Level::from_config(config.loglevel), &logfile);
    if config.daemonize {
        daemonize();
    }
    let pid = std::process::id();
    log_warning!("oO0OoO0OoO0Oo Ferrite is starting oO0OoO0OoO0Oo");
    log_warning!(
        "Ferrite version={}, Redis version={REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid={pid}, just \
         started",
        env!("CARGO_PKG_VERSION")
    );
    if config.config_file().is_none() {
        log_warning!(
            "Warning: no config file specified, using the default config. In order to specify a config file use \
             ferrite-server /path/to/redis.conf"
        );
    } else {
        log_warning!("Configuration loaded");
    }
    for n in notes {
        log_notice!("{n}");
    }
    log::set_role('M');
    if config.daemonize || !config.pidfile.is_empty() {
        if config.pidfile.is_empty() {
            config.pidfile = "/var/run/redis.pid".into();
        }
        if let Err(e) = std::fs::write(&config.pidfile, format!("{pid}\n")) {
            log_warning!("Failed to write PID file: {e}");
        }
    }
    config.maxclients = ferrite::server::adjust_open_files_limit(config.maxclients);
    log_notice!("monotonic clock: POSIX clock_gettime");
    let mut server = match Server::new(config.clone()) {
        Ok(s) => s,
        Err(e) => {
            log_warning!("{e}");
            return ExitCode::from(1);
        }
    };
    if config.always_show_logo {
        log::raw(&logo(config.port, pid));
    } else {
        log_notice!("Running mode=standalone, port={}.", config.port);
    }
    log_warning!("Server initialized");
    if config.appendonly {
        // The AOF wins over the RDB file when it is on, even when it does not exist yet; it loads as
        // the RDB does, while the server answers -LOADING.
        use ferrite::server::aof;
        match aof::begin_load(&mut server.core) {
            Ok(Some(job)) => load::begin(&mut server.core, load::LoadKind::Aof(job), load::Origin::Startup),
            Ok(None) => log_notice!("Ready to accept connections"),
            Err(_) => return ExitCode::from(1),
        }
    } else {
        // As Redis, the server listens before it loads: clients connected meanwhile get -LOADING, and
        // the event loop steps the load (server::load), logging "Ready to accept connections" at its
        // end.
        let path = ferrite::server::persist::rdb_path(&server.core);
        match load::open_rdb(&path, false) {
            Ok(Some(job)) => load::begin(&mut server.core, job, load::Origin::Startup),
            Ok(None) => log_notice!("Ready to accept connections"),
            Err(e) => {
                log_warning!("Fatal error loading the DB from {}: {e}. Exiting.", path.display());
                return ExitCode::from(1);
            }
        }
    }
    match server.run() {
        Exit::Shutdown => ExitCode::SUCCESS,
        Exit::LoadFailed => ExitCode::from(1),
    }
}

/// What Redis checks once the configuration is read: the log file must open, and every
/// `rename-command` must name an existing command and not clash with another.
fn post_load_checks(config: &Config) -> Result<(), ConfigError> {
    if let Err(e) = log::check_file(&config.logfile) {
        let reason = match e.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code)
                .to_string()
                .split(" (os error")
                .next()
                .unwrap_or_default()
                .to_string(),
            None => e.to_string(),
        };
        return Err(ConfigError::fatal(format!("Can't open the log file: {reason}")));
    }
    let renames: Vec<(&str, &str)> = config
        .renamed_commands
        .iter()
        .map(|r| (r.old.as_str(), r.new.as_str()))
        .collect();
    if let Err((i, reason)) = ferrite::commands::table::apply_renames(&renames) {
        return Err(match config.renamed_commands.get(i) {
            Some(r) => r.error(reason),
            None => ConfigError::fatal(reason),
        });
    }
    Ok(())
}

/// Redis's daemonize(): fork (the parent exits at once), start a new session, and point the standard
/// streams at /dev/null. Runs before any other thread exists.
fn daemonize() {
    // SAFETY: single-threaded at this point (nothing has spawned a thread yet), so fork is sound; the
    // child only continues the same program.
    unsafe {
        match libc::fork() {
            -1 => {
                log_warning!("fork failed: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            libc::dup2(fd, libc::STDIN_FILENO);
            libc::dup2(fd, libc::STDOUT_FILENO);
            libc::dup2(fd, libc::STDERR_FILENO);
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
    }
}

fn logo(port: u16, pid: u32) -> String {
    format!(
        "\n      ______                _ _\n     |  ____|              (_) |\n     | |__ ___ _ __ _ __ _| |_ ___     \
         Ferrite {} (Redis {REDIS_VERSION} compatible) 64 bit\n     |  __/ _ \\ '__| '__| | __/ _ \\\n     | | |  __/ |  \
         | |  | | ||  __/    Running in standalone mode\n     |_|  \\___|_|  |_|  |_|\\__\\___|    Port: {port}\n     \
                                                PID: {pid}\n\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn print_usage() {
    eprintln!(
        "Usage: ./ferrite-server [/path/to/redis.conf] [options] [-]\n       \
         ./ferrite-server - (read config from stdin)\n       \
         ./ferrite-server -v or --version\n       \
         ./ferrite-server -h or --help\n\n\
         Examples:\n       \
         ./ferrite-server (run the server with default conf)\n       \
         echo 'maxmemory 128mb' | ./ferrite-server -\n       \
         ./ferrite-server /etc/redis/6379.conf\n       \
         ./ferrite-server --port 7777\n       \
         ./ferrite-server /etc/myredis.conf --loglevel verbose -\n       \
         ./ferrite-server /etc/myredis.conf --loglevel verbose"
    );
}
