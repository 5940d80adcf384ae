//! Logging in Redis's line format: `pid:role dd Mon yyyy hh:mm:ss.mmm <level> message`, to stdout or to
//! the `logfile`. Level marks: `.` debug, `-` verbose, `*` notice, `#` warning; role `C` before the
//! server is initialised (Redis's "child or not yet a server" mark), then `M` (master).

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "debug" => Level::Debug,
            "verbose" => Level::Verbose,
            "notice" => Level::Notice,
            "warning" => Level::Warning,
            _ => return None,
        })
    }

    /// The level the `loglevel` directive names.
    pub fn from_config(l: crate::config::LogLevel) -> Level {
        match l {
            crate::config::LogLevel::Debug => Level::Debug,
            crate::config::LogLevel::Verbose => Level::Verbose,
            crate::config::LogLevel::Notice => Level::Notice,
            crate::config::LogLevel::Warning => Level::Warning,
        }
    }

    fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
}

struct Sink {
    level: Level,
    file: String,
    role: char,
}

static SINK: Mutex<Sink> = Mutex::new(Sink {
    level: Level::Notice,
    file: String::new(),
    role: 'C',
});

/// Set the minimum level and destination (`""` = stdout).
pub fn configure(level: Level, file: &str) {
    if let Ok(mut s) = SINK.lock() {
        s.level = level;
        s.file = file.to_string();
    }
}

/// Change only the minimum level (CONFIG SET loglevel).
pub fn configure_level(level: Level) {
    if let Ok(mut s) = SINK.lock() {
        s.level = level;
    }
}

/// The role mark of the following lines (`C` until the server is initialised, then `M`).
pub fn set_role(role: char) {
    if let Ok(mut s) = SINK.lock() {
        s.role = role;
    }
}

/// Check that the log file can be opened for appending (Redis fails at start when it cannot).
pub fn check_file(file: &str) -> std::io::Result<()> {
    if file.is_empty() {
        return Ok(());
    }
    OpenOptions::new().create(true).append(true).open(file).map(|_| ())
}

pub fn enabled(level: Level) -> bool {
    SINK.lock().map(|s| level >= s.level).unwrap_or(true)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Format the timestamp as Redis does, in local time.
fn timestamp() -> String {
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both out-parameters are owned, properly sized structs.
    unsafe {
        libc::gettimeofday(&mut tv, std::ptr::null_mut());
        libc::localtime_r(&tv.tv_sec, &mut tm);
    }
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        tv.tv_usec / 1000
    )
}

/// Write one log line (if the level is enabled).
pub fn log(level: Level, msg: &str) {
    let Ok(sink) = SINK.lock() else { return };
    if level < sink.level {
        return;
    }
    write_line(
        &sink.file,
        &format!(
            "{}:{} {} {} {}\n",
            std::process::id(),
            sink.role,
            timestamp(),
            level.mark(),
            msg
        ),
    );
}

/// Write raw text (the start-up logo) to the log destination.
pub fn raw(text: &str) {
    let Ok(sink) = SINK.lock() else { return };
    write_line(&sink.file, text);
}

fn write_line(file: &str, line: &str) {
    if file.is_empty() {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    } else if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(file) {
        let _ = f.write_all(line.as_bytes());
    }
}

#[macro_export]
macro_rules! log_notice { ($($t:tt)*) => { $crate::server::log::log($crate::server::log::Level::Notice, &format!($($t)*)) } }
#[macro_export]
macro_rules! log_warning { ($($t:tt)*) => { $crate::server::log::log($crate::server::log::Level::Warning, &format!($($t)*)) } }
#[macro_export]
macro_rules! log_verbose { ($($t:tt)*) => { $crate::server::log::log($crate::server::log::Level::Verbose, &format!($($t)*)) } }
#[macro_export]
macro_rules! log_debug { ($($t:tt)*) => { $crate::server::log::log($crate::server::log::Level::Debug, &format!($($t)*)) } }
