//! `ferrite-server [config-file] [--directive value ...]`, started like `redis-server`.

use std::process::ExitCode;

use ferrite::config::Config;
use ferrite::server::{log, Server};
use ferrite::{log_notice, log_warning};

#[global_allocator]
static ALLOC: ferrite::memory::CountingAllocator = ferrite::memory::CountingAllocator;

/// The Redis version whose behaviour Ferrite reproduces.
const REDIS_VERSION: &str = "7.0.15";

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
        Some("-h") | Some("--help") => {
            print_usage();
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let (config, notes) = match Config::from_args(&args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    log::configure(
        log::Level::parse(config.loglevel.name()).unwrap_or(log::Level::Notice),
        &config.logfile,
    );
    let pid = std::process::id();
    log_warning!("oO0OoO0OoO0Oo Ferrite is starting oO0OoO0OoO0Oo");
    log_warning!(
        "Ferrite version={}, Redis compatibility={REDIS_VERSION}, bits=64, pid={pid}, just started",
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
    log_notice!("Server initialized");
    log_notice!("Ready to accept connections");
    server.run();
    ExitCode::SUCCESS
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
         ./ferrite-server /etc/redis/6379.conf\n       \
         ./ferrite-server --port 7777\n       \
         ./ferrite-server /etc/myredis.conf --loglevel verbose -\n       \
         ./ferrite-server /etc/myredis.conf --loglevel verbose"
    );
}
