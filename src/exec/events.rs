//! Events the scheduler emits while it works; sinks render them (live view, plain lines, JSON).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Planned {
        pipeline: String,
        instances: usize,
    },
    Cached {
        id: String,
    },
    /// A cache entry failed verification and was dropped; the stage will run.
    Corrupt {
        id: String,
        reason: String,
    },
    Started {
        id: String,
        device: String,
    },
    Progress {
        id: String,
        fraction: Option<f64>,
        message: String,
    },
    Finished {
        id: String,
        seconds: f64,
    },
    Failed {
        id: String,
        error: String,
    },
    /// An attempt ran out of memory or time (or lost its node) and the instance goes again,
    /// asking for `request`.
    Retry {
        id: String,
        /// The attempt about to start (2 for the first retry).
        attempt: u32,
        reason: String,
        request: String,
    },
    Skipped {
        id: String,
        reason: String,
    },
    Cancelled {
        id: String,
    },
    /// Something the user should know that is not about one instance (e.g. the remote cache
    /// went down and the run carries on locally).
    Warning {
        message: String,
    },
}

pub trait EventSink: Send + Sync {
    fn emit(&self, event: &Event);
    /// Called once at the end, before the summary is printed.
    fn finish(&self) {}
}

/// Discards events (library use, benchmarks).
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _: &Event) {}
}

/// One JSON object per line on stdout, for machines.
pub struct JsonSink;

impl EventSink for JsonSink {
    fn emit(&self, event: &Event) {
        if let Ok(s) = serde_json::to_string(event) {
            println!("{s}");
        }
    }
}

/// Collects events (tests).
#[derive(Default)]
pub struct CollectSink(pub std::sync::Mutex<Vec<Event>>);

impl EventSink for CollectSink {
    fn emit(&self, event: &Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event.clone());
        }
    }
}
