//! Latency: the latency monitor (`LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR`) and per-command
//! latency tracking (`LATENCY HISTOGRAM`, INFO's `latencystats`).
//!
//! The monitor keeps, per named event, the last 160 one-second samples of anything that took at
//! least `latency-monitor-threshold` ms (0 turns it off): one sample per second holding that second's
//! worst, plus the all-time worst. Redis 7.0 records the events `command` and `fast-command` (commands
//! flagged `fast`) after every call; other parts of the server add their own events (`expire-cycle`,
//! `aof-fsync-always`, ...) with [`add_sample_if_needed`].
//!
//! Tracking (`latency-tracking yes`, the default) counts every call's duration in a per-command
//! [`Histogram`], created on the command's first call and freed by `CONFIG RESETSTAT`.

use std::collections::BTreeMap;

use resp::ReplyBuf;

use super::histogram::Histogram;
use crate::commands::spec::Command;
use crate::commands::{table, Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::core::Core;

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
pub const SAMPLES: usize = 160;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix time, seconds.
    pub time: i64,
    /// Milliseconds.
    pub latency: u64,
}

/// One event's time series: a ring of one-second samples and the all-time maximum.
#[derive(Debug, Clone, Default)]
pub struct Series {
    ring: Vec<Sample>,
    next: usize,
    pub max: u64,
}

impl Series {
    fn add(&mut self, time: i64, latency: u64) {
        self.max = self.max.max(latency);
        if let Some(prev) = self.last_mut() {
            if prev.time == time {
                prev.latency = prev.latency.max(latency);
                return;
            }
        }
        let s = Sample { time, latency };
        if self.ring.len() < SAMPLES {
            self.ring.push(s);
        } else {
            self.ring[self.next] = s;
        }
        self.next = (self.next + 1) % SAMPLES;
    }

    fn last_mut(&mut self) -> Option<&mut Sample> {
        if self.ring.is_empty() {
            return None;
        }
        let i = ((self.next + SAMPLES - 1) % SAMPLES).min(self.ring.len() - 1);
        self.ring.get_mut(i)
    }

    /// The newest sample.
    pub fn last(&self) -> Option<Sample> {
        if self.ring.is_empty() {
            return None;
        }
        let i = (self.next + SAMPLES - 1) % SAMPLES;
        self.ring.get(i.min(self.ring.len() - 1)).copied()
    }

    /// Oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        if self.ring.len() < SAMPLES {
            return self.ring.clone();
        }
        let (newer, older) = self.ring.split_at(self.next);
        older.iter().chain(newer).copied().collect()
    }
}

/// Every event's series, by name.
#[derive(Debug, Default)]
pub struct Monitor {
    events: BTreeMap<String, Series>,
}

impl Monitor {
    pub fn add_sample(&mut self, event: &str, time: i64, latency_ms: u64) {
        match self.events.get_mut(event) {
            Some(s) => s.add(time, latency_ms),
            None => {
                let mut s = Series::default();
                s.add(time, latency_ms);
                self.events.insert(event.to_string(), s);
            }
        }
    }

    pub fn get(&self, event: &str) -> Option<&Series> {
        self.events.get(event)
    }

    pub fn events(&self) -> impl Iterator<Item = (&str, &Series)> {
        self.events.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Forget one event; whether it existed.
    pub fn reset_event(&mut self, event: &[u8]) -> bool {
        match std::str::from_utf8(event) {
            Ok(e) => self.events.remove(e).is_some(),
            Err(_) => false,
        }
    }

    /// Forget every event; how many there were.
    pub fn reset_all(&mut self) -> usize {
        let n = self.events.len();
        self.events.clear();
        n
    }
}

/// Record `latency_ms` for `event` if the monitor is on and it reaches the threshold.
pub fn add_sample_if_needed(core: &mut Core, event: &str, latency_ms: u64) {
    let threshold = core.config.latency_monitor_threshold;
    if threshold > 0 && latency_ms >= threshold {
        let now = core.now_ms / 1000;
        core.introspection.latency.add_sample(event, now, latency_ms);
    }
}

/// Per-command latency histograms, indexed like the command table's statistics.
#[derive(Default)]
pub struct Tracking {
    hists: Vec<Option<Histogram>>,
}

impl Tracking {
    #[inline]
    pub fn record(&mut self, idx: usize, duration_us: u64) {
        if self.hists.len() <= idx {
            self.hists.resize_with(table::count_all().max(idx + 1), || None);
        }
        self.hists[idx]
            .get_or_insert_with(Histogram::new)
            .record(duration_us.saturating_mul(1000));
    }

    pub fn get(&self, idx: usize) -> Option<&Histogram> {
        self.hists.get(idx).and_then(|h| h.as_ref())
    }

    /// Drop every histogram (`CONFIG RESETSTAT`).
    pub fn reset(&mut self) {
        self.hists.clear();
    }
}

/// INFO's `latencystats` section, header included: one line per command that has a histogram, with
/// the percentiles of `latency-tracking-info-percentiles` in µs (`p50=1.003,p99=...`).
pub fn info_latencystats(core: &Core) -> String {
    let mut s = String::from("# Latencystats\r\n");
    let labels: Vec<String> = core
        .config
        .latency_tracking_info_percentiles
        .iter()
        .map(|p| percentile_label(*p))
        .collect();
    for (idx, cmd) in table::all() {
        let Some(h) = core.introspection.tracking.get(idx) else {
            continue;
        };
        s.push_str("latency_percentiles_usec_");
        s.push_str(cmd.full_name);
        s.push(':');
        for (j, (p, label)) in core
            .config
            .latency_tracking_info_percentiles
            .iter()
            .zip(&labels)
            .enumerate()
        {
            if j > 0 {
                s.push(',');
            }
            let v = h.value_at_percentile(*p) as f64 / 1000.0;
            s.push_str(&format!("p{label}={v:.3}"));
        }
        s.push_str("\r\n");
    }
    s
}

/// `%f` without trailing zeros (99.900000 → 99.9), as Redis prints percentile names.
fn percentile_label(p: f64) -> String {
    let mut s = format!("{p:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

// ---- Commands ----

/// LATENCY LATEST: per event, the newest sample's time and value and the all-time maximum.
pub fn latest(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let m = &ctx.core.introspection.latency;
    let events: Vec<_> = m.events().collect();
    out.array(events.len());
    for (name, s) in events {
        let last = s.last().unwrap_or_default();
        out.array(4);
        out.bulk(name.as_bytes());
        out.int(last.time);
        out.int(last.latency as i64);
        out.int(s.max as i64);
    }
    Ok(())
}

/// LATENCY HISTORY event: the event's samples, oldest first.
pub fn history(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let samples = event(ctx, args.get(2)).map(|s| s.samples()).unwrap_or_default();
    out.array(samples.len());
    for s in samples {
        out.array(2);
        out.int(s.time);
        out.int(s.latency as i64);
    }
    Ok(())
}

fn event<'c>(ctx: &'c Ctx<'_>, name: &[u8]) -> Option<&'c Series> {
    std::str::from_utf8(name)
        .ok()
        .and_then(|n| ctx.core.introspection.latency.get(n))
}

/// LATENCY RESET [event ...]: how many events were forgotten.
pub fn reset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let m = &mut ctx.core.introspection.latency;
    let n = if args.len() == 2 {
        m.reset_all()
    } else {
        args.rest(2).filter(|e| m.reset_event(e)).count()
    };
    out.int(n as i64);
    Ok(())
}

/// LATENCY HISTOGRAM [command ...]: per command, its call count and the cumulative distribution of
/// its durations at power-of-two µs bounds. A container name stands for its subcommands.
pub fn histogram(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let tracking = &ctx.core.introspection.tracking;
    let mut picked: Vec<(&'static Command, &Histogram)> = vec![];
    if args.len() == 2 {
        for (idx, cmd) in table::all() {
            if let Some(h) = tracking.get(idx) {
                picked.push((cmd, h));
            }
        }
    } else {
        for name in args.rest(2) {
            let Some((cmd, idx)) = table::find(name) else {
                continue;
            };
            if let Some(h) = tracking.get(idx) {
                picked.push((cmd, h));
            }
            for (si, sub) in cmd.subcommands.iter().enumerate() {
                if let Some(h) = tracking.get(idx + 1 + si) {
                    picked.push((sub, h));
                }
            }
        }
    }
    out.map(picked.len());
    for (cmd, h) in picked {
        out.bulk(cmd.full_name.as_bytes());
        out.map(2);
        out.bulk(b"calls");
        out.int(h.total() as i64);
        out.bulk(b"histogram_usec");
        let cdf = h.cumulative_usec();
        out.map(cdf.len());
        for (bound, count) in cdf {
            out.int(bound as i64);
            out.int(count as i64);
        }
    }
    Ok(())
}

/// LATENCY GRAPH event: the event's samples as a text chart, newest on the right.
pub fn graph(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let name = args.get(2);
    let Some(series) = event(ctx, name) else {
        return Err(CmdError::err(format!(
            "No samples available for event '{}'",
            String::from_utf8_lossy(name)
        )));
    };
    let text = render_graph(&String::from_utf8_lossy(name), series, ctx.core.now_ms / 1000);
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// Chart rows, from the top.
const GRAPH_ROWS: u64 = 4;
/// Most columns shown (the newest samples).
const GRAPH_COLS: usize = 80;

/// A bar per sample, scaled between the lowest and highest shown: `#` for a full cell, `.` for a
/// half one; under each bar, its age read top to bottom (`12s`, `3m`, `2h`, `1d`).
fn render_graph(name: &str, s: &Series, now: i64) -> String {
    let all = s.samples();
    let shown = &all[all.len().saturating_sub(GRAPH_COLS)..];
    let high = shown.iter().map(|x| x.latency).max().unwrap_or(0);
    let low = shown.iter().map(|x| x.latency).min().unwrap_or(0);
    let mut text = format!("{name} - high {high} ms, low {low} ms (all time high {} ms)\n", s.max);
    text.push_str(&"-".repeat(GRAPH_COLS));
    text.push('\n');
    // Height in half cells: the lowest sample still gets a half cell, the highest a full column.
    let span = (high - low).max(1);
    let halves: Vec<u64> = shown
        .iter()
        .map(|x| 1 + (x.latency - low) * (GRAPH_ROWS * 2 - 1) / span)
        .collect();
    for row in (0..GRAPH_ROWS).rev() {
        let line: String = halves
            .iter()
            .map(|&h| {
                let base = row * 2;
                if h >= base + 2 {
                    '#'
                } else if h == base + 1 {
                    '.'
                } else {
                    ' '
                }
            })
            .collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let ages: Vec<Vec<char>> = shown
        .iter()
        .map(|x| age_label(now - x.time).chars().collect())
        .collect();
    let depth = ages.iter().map(|a| a.len()).max().unwrap_or(0);
    for i in 0..depth {
        let line: String = ages.iter().map(|a| a.get(i).copied().unwrap_or(' ')).collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn age_label(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// LATENCY DOCTOR: a plain report of what the monitor recorded, with the likely causes.
pub fn doctor(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let text = doctor_report(ctx.core);
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn doctor_report(core: &Core) -> String {
    let threshold = core.config.latency_monitor_threshold;
    let m = &core.introspection.latency;
    let mut text = String::new();
    if m.events.is_empty() {
        if threshold == 0 {
            text.push_str(
                "The latency monitor is off (latency-monitor-threshold is 0), so no event has been \
                 recorded. Turn it on with CONFIG SET latency-monitor-threshold <milliseconds>.\n",
            );
        } else {
            text.push_str(&format!(
                "No event has reached the latency-monitor-threshold of {threshold} ms since the server \
                 started (or since LATENCY RESET).\n"
            ));
        }
        return text;
    }
    text.push_str(&format!(
        "Events that reached the latency-monitor-threshold of {threshold} ms:\n\n"
    ));
    for (i, (name, s)) in m.events().enumerate() {
        let samples = s.samples();
        let n = samples.len() as u64;
        let sum: u64 = samples.iter().map(|x| x.latency).sum();
        let avg = sum / n.max(1);
        let mad = samples.iter().map(|x| x.latency.abs_diff(avg)).sum::<u64>() / n.max(1);
        let first = samples.first().map(|x| x.time).unwrap_or(0);
        let last = samples.last().map(|x| x.time).unwrap_or(0);
        let period = if n > 1 {
            format!("one every {:.2} s", (last - first) as f64 / (n - 1) as f64)
        } else {
            "a single one".to_string()
        };
        text.push_str(&format!(
            "{}. {name}: {n} samples ({period}), average {avg} ms, mean deviation {mad} ms, \
             worst ever {} ms.\n",
            i + 1,
            s.max
        ));
    }
    text.push_str("\nWhat to look at:\n\n");
    for (name, _) in m.events() {
        let advice = match name {
            "command" => {
                "- command: SLOWLOG GET lists the slowest commands with their arguments; commands that \
                          walk a whole key or keyspace (KEYS, SMEMBERS, HGETALL, SORT, DEL of big values) are the \
                          usual suspects."
            }
            "fast-command" => {
                "- fast-command: a command flagged fast (constant or logarithmic time) took long; \
                               the host itself is the likely cause (CPU contention, swapping, a noisy neighbour)."
            }
            "expire-cycle" => {
                "- expire-cycle: many keys expire at the same moment; spreading their TTLs smooths \
                               the work."
            }
            _ => continue,
        };
        text.push_str(advice);
        text.push('\n');
    }
    text
}

/// LATENCY HELP
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::reply_help(
        out,
        "latency",
        &[
            "DOCTOR",
            "    Report, in plain words, the events the latency monitor recorded.",
            "GRAPH <event>",
            "    Draw the recorded samples of <event> as a text chart.",
            "HISTORY <event>",
            "    List the samples of <event>: Unix time and milliseconds.",
            "LATEST",
            "    List every event with its newest sample and its all-time maximum.",
            "RESET [<event> ...]",
            "    Forget the samples of the given events (of every event without arguments).",
            "HISTOGRAM [<command> ...]",
            "    Show how the durations of the given commands (all tracked commands without",
            "    arguments) are distributed, as cumulative counts at power-of-two microsecond bounds.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_keeping_the_worst() {
        let mut s = Series::default();
        s.add(100, 5);
        s.add(100, 9);
        s.add(100, 7);
        s.add(101, 3);
        assert_eq!(
            s.samples(),
            [Sample { time: 100, latency: 9 }, Sample { time: 101, latency: 3 }]
        );
        assert_eq!(s.max, 9);
        assert_eq!(s.last(), Some(Sample { time: 101, latency: 3 }));
    }

    #[test]
    fn the_ring_keeps_the_newest_160() {
        let mut s = Series::default();
        for t in 0..200 {
            s.add(t, t as u64);
        }
        let v = s.samples();
        assert_eq!(v.len(), SAMPLES);
        assert_eq!(v[0].time, 40);
        assert_eq!(v[SAMPLES - 1].time, 199);
        assert_eq!(s.last().map(|x| x.time), Some(199));
        s.add(199, 1000);
        assert_eq!(s.last().map(|x| x.latency), Some(1000));
        assert_eq!(s.samples().len(), SAMPLES);
    }

    #[test]
    fn percentile_labels() {
        assert_eq!(percentile_label(50.0), "50");
        assert_eq!(percentile_label(99.9), "99.9");
        assert_eq!(percentile_label(99.99), "99.99");
        assert_eq!(percentile_label(0.0), "0");
    }

    #[test]
    fn graph_shape() {
        let mut s = Series::default();
        s.add(100, 10);
        s.add(130, 40);
        let g = render_graph("command", &s, 150);
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(lines[0], "command - high 40 ms, low 10 ms (all time high 40 ms)");
        assert_eq!(lines[1].len(), 80);
        assert_eq!(lines[2], " #");
        assert_eq!(lines[5], ".#");
        assert_eq!(lines[6], "52");
        assert_eq!(lines[7], "00");
        assert_eq!(lines[8], "ss");
    }
}
