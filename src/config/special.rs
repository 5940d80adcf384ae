//! Directives with a syntax of their own. Each module has the same four functions: `set` (the
//! arguments after the name; `reading_file` is true while a config file is loaded), `get` (the
//! CONFIG GET text), `rewrite` (the lines CONFIG REWRITE writes) and `is_default`.

use super::parse::{format_memory, format_percentile, memtoull, repr, strtoll_full};
use super::rewrite::State;
use super::Config;
use std::borrow::Cow;

type SetResult = Result<(), Cow<'static, str>>;

fn utf8(arg: &[u8]) -> Result<String, Cow<'static, str>> {
    String::from_utf8(arg.to_vec()).map_err(|_| Cow::Borrowed(super::NOT_UTF8))
}

/// Expands a `proc-title-template` as Redis's `sdstemplate` does; `None` for an unknown
/// variable or a premature end.
pub fn expand_proc_title(c: &Config, template: &str, title: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while !rest.is_empty() {
        let Some(open) = rest.find('{') else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return None;
        }
        if let Some(stripped) = after.strip_prefix('{') {
            out.push('{');
            rest = stripped;
            continue;
        }
        let close = after.find('}')?;
        let value = match &after[..close] {
            "title" => title.to_string(),
            "listen-addr" => {
                if c.port != 0 || c.tls_port != 0 {
                    let addr = c.bind.first().map(String::as_str).unwrap_or("*");
                    format!("{addr}:{}", if c.port != 0 { c.port } else { c.tls_port })
                } else {
                    format!("unixsocket:{}", c.unixsocket)
                }
            }
            "server-mode" => {
                if c.cluster_enabled {
                    "[cluster]".to_string()
                } else {
                    String::new()
                }
            }
            "config-file" => c
                .config_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "-".to_string()),
            "port" => c.port.to_string(),
            "tls-port" => c.tls_port.to_string(),
            "unixsocket" => c.unixsocket.clone(),
            _ => return None,
        };
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    Some(out.trim_matches(' ').to_string())
}

pub mod dir {
    use super::*;

    pub fn set(c: &mut Config, args: &[Vec<u8>], _: bool) -> SetResult {
        if args.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        let path = std::path::PathBuf::from(utf8(&args[0])?);
        // Redis chdir()s here; the registry stays pure, so resolve the path the way chdir
        // would (relative to the current dir) and keep the canonical result, which is what
        // Redis's getcwd() reports. The server does the chdir after the change is accepted.
        let target = c.dir.join(&path);
        match std::fs::metadata(&target) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(super::super::strerror(libc::ENOTDIR).into()),
            Err(e) => return Err(super::super::io_strerror(&e).into()),
        }
        c.dir = std::fs::canonicalize(&target).map_err(|e| Cow::Owned(super::super::io_strerror(&e)))?;
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        c.dir.display().to_string()
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        st.line(name, format!("{name} {}", repr(get(c).as_bytes())), true);
    }

    pub fn is_default(_: &Config) -> bool {
        false
    }
}

pub mod save {
    use super::*;
    use crate::config::types::SavePoint;

    /// Redis's built-in points: after an hour if 1 key changed, 5 minutes if 100, a minute if 10000.
    pub const DEFAULT: [(i64, i32); 3] = [(3600, 1), (300, 100), (60, 10000)];

    pub fn set(c: &mut Config, args: &[Vec<u8>], reading_file: bool) -> SetResult {
        let mut args = args;
        if args.len() == 1 && args[0].is_empty() {
            c.save.clear();
            args = &[];
        }
        const BAD: &str = "Invalid save parameters";
        if args.len() % 2 == 1 {
            return Err(BAD.into());
        }
        let mut points = Vec::new();
        for pair in args.chunks(2) {
            let seconds = strtoll_full(&pair[0], 10).filter(|&v| v >= 1).ok_or(BAD)?;
            let changes = strtoll_full(&pair[1], 10).filter(|&v| v >= 0).ok_or(BAD)?;
            // Redis stores the count in an int.
            points.push(SavePoint {
                seconds,
                changes: changes as i32,
            });
        }
        // In a file, the first `save` line replaces the defaults and later ones add points.
        if !reading_file || !c.save_loaded {
            c.save.clear();
            c.save_loaded |= reading_file;
        }
        c.save.extend(points);
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        let parts: Vec<String> = c.save.iter().map(|p| format!("{} {}", p.seconds, p.changes)).collect();
        parts.join(" ")
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        if c.save.is_empty() {
            st.line(name, format!("{name} \"\""), true);
        }
        for p in &c.save {
            st.line(name, format!("{name} {} {}", p.seconds, p.changes), true);
        }
        st.mark(name);
    }

    pub fn is_default(c: &Config) -> bool {
        c.save.is_empty()
    }
}

pub mod client_output_buffer_limit {
    use super::*;
    use crate::config::types::ObufLimits;

    fn class_index(name: &[u8]) -> Option<usize> {
        match name.to_ascii_lowercase().as_slice() {
            b"normal" => Some(0),
            b"slave" | b"replica" => Some(1),
            b"pubsub" => Some(2),
            _ => None,
        }
    }

    pub fn set(c: &mut Config, args: &[Vec<u8>], _: bool) -> SetResult {
        if !args.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        // Validate everything first so that one bad class leaves all classes unchanged.
        for (j, a) in args.iter().enumerate() {
            if j % 4 == 0 {
                if class_index(a).is_none() {
                    return Err("Invalid client class specified in buffer limit configuration.".into());
                }
            } else if memtoull(a).is_none() {
                return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
            }
        }
        for group in args.chunks(4) {
            let Some(i) = class_index(&group[0]) else {
                continue;
            };
            let limit = c.client_output_buffer_limit.class_mut(i);
            limit.hard_bytes = memtoull(&group[1]).unwrap_or(0);
            limit.soft_bytes = memtoull(&group[2]).unwrap_or(0);
            // Redis validated with memtoull but stores strtoll's reading ("1kb" is 1 second).
            let digits: Vec<u8> = group[3].iter().copied().take_while(u8::is_ascii_digit).collect();
            limit.soft_seconds = strtoll_full(&digits, 10).unwrap_or(0);
        }
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        let parts: Vec<String> = c
            .client_output_buffer_limit
            .classes()
            .iter()
            .map(|(n, l)| format!("{n} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds))
            .collect();
        parts.join(" ")
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        let defaults = ObufLimits::DEFAULT.classes();
        for ((class, l), (_, d)) in c.client_output_buffer_limit.classes().iter().zip(defaults) {
            let class = if *class == "slave" { "replica" } else { class };
            let line = format!(
                "{name} {class} {} {} {}",
                format_memory(l.hard_bytes as i64),
                format_memory(l.soft_bytes as i64),
                l.soft_seconds
            );
            st.line(name, line, *l != d);
        }
    }

    pub fn is_default(c: &Config) -> bool {
        c.client_output_buffer_limit == ObufLimits::DEFAULT
    }
}

pub mod oom_score_adj_values {
    use super::*;

    pub const DEFAULT: [i32; 3] = [0, 200, 800];

    pub fn set(c: &mut Config, args: &[Vec<u8>], _: bool) -> SetResult {
        if args.len() != 3 {
            return Err("wrong number of arguments".into());
        }
        let mut values = [0i32; 3];
        for (v, a) in values.iter_mut().zip(args) {
            match strtoll_full(a, 10) {
                Some(x) if (-2000..=2000).contains(&x) => *v = x as i32,
                _ => return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into()),
            }
        }
        c.oom_score_adj_values = values;
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        let v = c.oom_score_adj_values;
        format!("{} {} {}", v[0], v[1], v[2])
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        st.line(name, format!("{name} {}", get(c)), !is_default(c));
    }

    pub fn is_default(c: &Config) -> bool {
        c.oom_score_adj_values == DEFAULT
    }
}

pub mod notify_keyspace_events {
    use super::*;
    use crate::server::notify::class::*;

    /// Redis's `keyspaceEventsStringToFlags`.
    pub fn parse(s: &[u8]) -> Option<u32> {
        let mut f = 0;
        for &b in s {
            f |= match b {
                b'A' => ALL,
                b'g' => GENERIC,
                b'$' => STRING,
                b'l' => LIST,
                b's' => SET,
                b'h' => HASH,
                b'z' => ZSET,
                b'x' => EXPIRED,
                b'e' => EVICTED,
                b'K' => KEYSPACE,
                b'E' => KEYEVENT,
                b't' => STREAM,
                b'm' => KEY_MISS,
                b'd' => MODULE,
                b'n' => NEW,
                _ => return None,
            };
        }
        Some(f)
    }

    /// Redis's `keyspaceEventsFlagsToString`.
    pub fn format(f: u32) -> String {
        let mut s = String::new();
        if f & ALL == ALL {
            s.push('A');
        } else {
            for (bit, ch) in [
                (GENERIC, 'g'),
                (STRING, '$'),
                (LIST, 'l'),
                (SET, 's'),
                (HASH, 'h'),
                (ZSET, 'z'),
                (EXPIRED, 'x'),
                (EVICTED, 'e'),
                (STREAM, 't'),
                (MODULE, 'd'),
                (NEW, 'n'),
            ] {
                if f & bit != 0 {
                    s.push(ch);
                }
            }
        }
        for (bit, ch) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if f & bit != 0 {
                s.push(ch);
            }
        }
        s
    }

    pub fn set(c: &mut Config, args: &[Vec<u8>], _: bool) -> SetResult {
        if args.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        c.notify_keyspace_events = parse(&args[0]).ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        format(c.notify_keyspace_events)
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        st.line(name, format!("{name} {}", repr(get(c).as_bytes())), !is_default(c));
    }

    pub fn is_default(c: &Config) -> bool {
        c.notify_keyspace_events == 0
    }
}

pub mod bind {
    use super::*;

    pub const DEFAULT: [&str; 2] = ["*", "-::*"];

    pub fn set(c: &mut Config, args: &[Vec<u8>], _: bool) -> SetResult {
        if args.len() > 16 {
            return Err("Too many bind addresses specified.".into());
        }
        let args = if args.len() == 1 && args[0].is_empty() {
            &[][..]
        } else {
            args
        };
        c.bind = args.iter().map(|a| utf8(a)).collect::<Result<_, _>>()?;
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        c.bind.join(" ")
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        if is_default(c) {
            // Redis drops every bind line when the addresses are the default ones.
            st.mark(name);
            return;
        }
        let addrs = if c.bind.is_empty() {
            "\"\"".to_string()
        } else {
            c.bind.join(" ")
        };
        st.line(name, format!("{name} {addrs}"), true);
    }

    pub fn is_default(c: &Config) -> bool {
        c.bind == DEFAULT
    }
}

pub mod replicaof {
    use super::*;
    use crate::config::types::ReplicaOf;

    pub fn set(c: &mut Config, args: &[Vec<u8>], _: bool) -> SetResult {
        if args.len() != 2 {
            return Err("wrong number of arguments".into());
        }
        c.replicaof = None;
        if args[0].eq_ignore_ascii_case(b"no") && args[1].eq_ignore_ascii_case(b"one") {
            return Ok(());
        }
        // Redis: strtol, then 0..=65535 and nothing left over.
        let port = strtoll_full(&args[1], 10)
            .filter(|p| (0..=65535).contains(p))
            .ok_or("Invalid master port")?;
        c.replicaof = Some(ReplicaOf {
            host: utf8(&args[0])?,
            port: port as u16,
        });
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        match &c.replicaof {
            Some(r) => format!("{} {}", r.host, r.port),
            None => String::new(),
        }
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        match &c.replicaof {
            None => st.mark(name),
            Some(r) => st.line(name, format!("{name} {} {}", r.host, r.port), true),
        }
    }

    pub fn is_default(c: &Config) -> bool {
        c.replicaof.is_none()
    }
}

pub mod latency_tracking_info_percentiles {
    use super::*;
    use crate::config::parse::string2d;

    pub const DEFAULT: [f64; 3] = [50.0, 99.0, 99.9];

    pub fn set(c: &mut Config, args: &[Vec<u8>], _: bool) -> SetResult {
        let args = if args.len() == 1 && args[0].is_empty() {
            &[][..]
        } else {
            args
        };
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            let Some(v) = string2d(a) else {
                c.latency_tracking_info_percentiles.clear();
                return Err("Invalid latency-tracking-info-percentiles parameters".into());
            };
            if !(0.0..=100.0).contains(&v) {
                c.latency_tracking_info_percentiles.clear();
                return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
            }
            values.push(v);
        }
        c.latency_tracking_info_percentiles = values;
        Ok(())
    }

    pub fn get(c: &Config) -> String {
        let parts: Vec<String> = c
            .latency_tracking_info_percentiles
            .iter()
            .map(|v| format_percentile(*v))
            .collect();
        parts.join(" ")
    }

    pub fn rewrite(c: &Config, name: &'static str, st: &mut State) {
        let v = if c.latency_tracking_info_percentiles.is_empty() {
            "\"\"".to_string()
        } else {
            get(c)
        };
        st.line(name, format!("{name} {v}"), true);
    }

    pub fn is_default(c: &Config) -> bool {
        c.latency_tracking_info_percentiles == DEFAULT
    }
}
