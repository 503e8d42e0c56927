//! Human-facing renderings of scheduler events: a live view on a terminal, plain lines otherwise.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::{Event, EventSink};

/// Plain lines on stderr (CI logs, `nohup` runs): one line per state change; progress every
/// 10 % and at least once a minute for long stages, with elapsed time and an estimate of the
/// time left.
#[derive(Default)]
pub struct PlainSink {
    last: Mutex<HashMap<String, Track>>,
}

/// What [`PlainSink`] remembers of a running stage's progress.
struct Track {
    /// The decile of the last line printed.
    decile: u32,
    printed: Instant,
    /// The first progress seen: a resumed stage starts part-way, and the estimate must only
    /// count what this run did.
    first: (Instant, f64),
}

/// Seconds left at `fraction`, from the rate since `(first_fraction, elapsed)` ago; `None` until
/// there is a rate to go by.
pub fn eta_seconds(first_fraction: f64, fraction: f64, elapsed: f64) -> Option<f64> {
    let done = fraction - first_fraction;
    (done > 1e-9 && elapsed > 0.0).then(|| elapsed * (1.0 - fraction).max(0.0) / done)
}

/// `42s`, `3m05s`, `2h07m`.
pub fn short_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

impl EventSink for PlainSink {
    fn emit(&self, e: &Event) {
        match e {
            Event::Planned { pipeline, instances } => eprintln!("pipeline {pipeline}: {instances} stage instances"),
            Event::Cached { .. } => {}
            Event::Corrupt { id, reason } => eprintln!("  corrupt  {id}: {reason} (entry dropped, recomputing)"),
            Event::Warning { message } => eprintln!("warning: {message}"),
            Event::Started { id, device } => eprintln!("  run      {id} [{device}]"),
            Event::Progress { id, fraction, message } => {
                let Some(f) = *fraction else { return };
                let decile = (f * 10.0).floor() as u32;
                let now = Instant::now();
                let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
                let track = last.entry(id.clone()).or_insert(Track { decile: u32::MAX, printed: now, first: (now, f) });
                let due = track.decile == u32::MAX
                    || decile > track.decile
                    || now.duration_since(track.printed) >= Duration::from_secs(60);
                if due {
                    track.decile = decile;
                    track.printed = now;
                    let elapsed = now.duration_since(track.first.0).as_secs_f64();
                    let timing = match eta_seconds(track.first.1, f, elapsed) {
                        Some(eta) => format!(" ({} elapsed, ~{} left)", short_duration(elapsed), short_duration(eta)),
                        None => String::new(),
                    };
                    eprintln!("  {:>3.0}%     {id}: {message}{timing}", f * 100.0);
                }
            }
            Event::Finished { id, .. } | Event::Failed { id, .. } | Event::Cancelled { id } => {
                self.last.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
                match e {
                    Event::Finished { seconds, .. } => eprintln!("  done     {id} ({seconds:.2}s)"),
                    Event::Failed { error, .. } => eprintln!("  FAILED   {id}: {error}"),
                    _ => eprintln!("  stopped  {id}"),
                }
            }
            Event::Skipped { id, reason } => eprintln!("  skipped  {id}: {reason}"),
            Event::Retry { id, attempt, reason, request } => {
                self.last.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
                eprintln!("  retry    {id}: {reason}; attempt {attempt} asks for {request}")
            }
        }
    }
}

/// A live view: an overall bar plus one line per running stage with its own progress.
pub struct LiveSink {
    multi: MultiProgress,
    total: ProgressBar,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Default for LiveSink {
    fn default() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        total.enable_steady_tick(Duration::from_millis(200));
        LiveSink { multi, total, bars: Mutex::new(HashMap::new()) }
    }
}

impl LiveSink {
    fn counts(&self, what: &str) {
        self.total.inc(1);
        self.total.set_message(what.to_string());
    }
}

impl EventSink for LiveSink {
    fn emit(&self, e: &Event) {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::Planned { pipeline, instances } => {
                self.total.set_length(*instances as u64);
                self.total.set_prefix(pipeline.clone());
            }
            Event::Cached { .. } => self.counts(""),
            Event::Corrupt { id, reason } => {
                let _ = self.multi.println(format!("corrupt cache entry for {id}: {reason}; recomputing"));
            }
            Event::Warning { message } => {
                let _ = self.multi.println(format!("warning: {message}"));
            }
            Event::Started { id, device } => {
                let b = self.multi.add(ProgressBar::new(1000));
                b.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix} [{bar:20}] {msg} (eta {eta})")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                b.set_prefix(format!("{id} [{device}]"));
                b.enable_steady_tick(Duration::from_millis(150));
                bars.insert(id.clone(), b);
            }
            Event::Progress { id, fraction, message } => {
                if let Some(b) = bars.get(id) {
                    if let Some(f) = fraction {
                        let first = b.position() == 0;
                        b.set_position((f * 1000.0) as u64);
                        if first {
                            // A resumed stage jumps to where it stopped: that jump is no rate.
                            b.reset_eta();
                        }
                    }
                    b.set_message(message.clone());
                }
            }
            Event::Finished { id, seconds } => {
                if let Some(b) = bars.remove(id) {
                    b.finish_and_clear();
                }
                let _ = self.multi.println(format!("  done    {id} ({seconds:.2}s)"));
                self.counts("");
            }
            Event::Failed { id, error } => {
                if let Some(b) = bars.remove(id) {
                    b.finish_and_clear();
                }
                let _ = self.multi.println(format!("  FAILED  {id}: {error}"));
                self.counts("");
            }
            Event::Skipped { .. } => self.counts(""),
            Event::Retry { id, attempt, reason, request } => {
                if let Some(b) = bars.remove(id) {
                    b.finish_and_clear();
                }
                let _ = self.multi.println(format!("  retry   {id}: {reason}; attempt {attempt} asks for {request}"));
            }
            Event::Cancelled { id } => {
                if let Some(b) = bars.remove(id) {
                    b.finish_and_clear();
                }
                let _ = self.multi.println(format!("  stopped {id}"));
            }
        }
    }

    fn finish(&self) {
        for (_, b) in self.bars.lock().unwrap_or_else(|p| p.into_inner()).drain() {
            b.finish_and_clear();
        }
        self.total.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_count_only_this_runs_progress() {
        // Fresh: 25 % in 60 s leaves 180 s.
        assert_eq!(eta_seconds(0.0, 0.25, 60.0), Some(180.0));
        // Resumed at 40 %: 10 % more in 60 s leaves 5 × 60 s, not what 50 % in 60 s would say.
        let eta = eta_seconds(0.4, 0.5, 60.0).expect("a rate");
        assert!((eta - 300.0).abs() < 1e-9, "{eta}");
        // No progress yet: no estimate rather than infinity.
        assert_eq!(eta_seconds(0.4, 0.4, 60.0), None);
        assert_eq!(eta_seconds(0.0, 0.1, 0.0), None);
    }

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(42.4), "42s");
        assert_eq!(short_duration(185.0), "3m05s");
        assert_eq!(short_duration(7620.0), "2h07m");
        assert_eq!(short_duration(-1.0), "0s");
    }
}
