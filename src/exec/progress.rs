//! Human-facing renderings of scheduler events: a live view on a terminal, plain lines otherwise.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::{Event, EventSink};

/// Plain lines on stderr (CI logs): one line per state change, progress at most every 10 %.
#[derive(Default)]
pub struct PlainSink {
    last: Mutex<HashMap<String, u32>>,
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
                let Some(f) = fraction else { return };
                let decile = (f * 10.0).floor() as u32;
                let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
                if last.get(id).is_none_or(|&d| decile > d) {
                    last.insert(id.clone(), decile);
                    eprintln!("  {:>3.0}%     {id}: {message}", f * 100.0);
                }
            }
            Event::Finished { id, seconds } => eprintln!("  done     {id} ({seconds:.2}s)"),
            Event::Failed { id, error } => eprintln!("  FAILED   {id}: {error}"),
            Event::Skipped { id, reason } => eprintln!("  skipped  {id}: {reason}"),
            Event::Cancelled { id } => eprintln!("  stopped  {id}"),
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
                        b.set_position((f * 1000.0) as u64);
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
