//! Measuring what a stage instance uses: wall time, CPU time (`getrusage`) and peak resident
//! memory.
//!
//! A process that runs one stage (a SLURM job's `tscpipe run-job`, a local child process) is
//! measured whole: [`whole_process`] at its end, or `wait4`'s figures for a child.
//!
//! A stage run in a thread of `tscpipe run` shares the process with the scheduler and, under
//! `-j` > 1, with other stages; nothing in Linux attributes memory to a thread. [`InProcess`]
//! therefore records the process's figures over the stage's run, which are exact when the stage
//! ran alone and an upper bound otherwise (then [`Usage::shared`] is set):
//! - CPU time: `RUSAGE_SELF` at the end minus at the start (all threads: the stage's own and the
//!   rayon workers it keeps busy, and those of any stage alongside).
//! - Peak memory: the process's high-water mark `VmHWM` is monotonic, so when it rose during the
//!   stage the new mark is the peak of the stage's run, exactly. When it did not (an earlier stage
//!   set a higher mark), the peak is the largest `VmRSS` seen by a sampler thread every 100 ms
//!   during the run, as tsml-eval samples a fit's RSS. The mark is never reset through
//!   `/proc/self/clear_refs`: with stages in parallel threads a reset by one would wipe the peak
//!   another is being measured against.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

pub use crate::cache::runs::Usage;

/// CPU seconds (user + system) and peak RSS (bytes) of `who` (`RUSAGE_SELF`, `RUSAGE_CHILDREN`).
pub fn rusage(who: libc::c_int) -> Option<(f64, u64)> {
    // SAFETY: getrusage writes into the zeroed struct it is given and reads nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return None;
    }
    Some(from_rusage(&ru))
}

/// CPU seconds and peak RSS (bytes: Linux reports `ru_maxrss` in KiB) of a `rusage`.
pub fn from_rusage(ru: &libc::rusage) -> (f64, u64) {
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (secs(ru.ru_utime) + secs(ru.ru_stime), (ru.ru_maxrss.max(0) as u64) * 1024)
}

/// A `VmRSS:`/`VmHWM:` line of `/proc/self/status`, in bytes.
fn proc_status(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

pub fn current_rss() -> Option<u64> {
    proc_status("VmRSS:")
}

fn high_water_mark() -> Option<u64> {
    proc_status("VmHWM:")
}

/// The figures of this whole process since it started, `wall` being its run so far: what
/// `tscpipe run-job` reports for the one stage it ran (its children, if any, included).
pub fn whole_process(wall: Duration) -> Usage {
    let own = rusage(libc::RUSAGE_SELF);
    let children = rusage(libc::RUSAGE_CHILDREN);
    let cpu = own.map(|(c, _)| c + children.map_or(0.0, |(c, _)| c));
    let peak = own.map(|(_, p)| p.max(children.map_or(0, |(_, p)| p)));
    Usage { wall_s: wall.as_secs_f64(), cpu_s: cpu, peak_rss: peak, start_rss: None, shared: false }
}

/// Stages being measured in this process now, and how many ever started (to tell whether one
/// ran alone).
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static STARTED: AtomicU64 = AtomicU64::new(0);

/// The peaks the sampler thread keeps up to date, one per stage being measured.
fn sampled() -> &'static Mutex<Vec<Weak<AtomicU64>>> {
    static SLOTS: OnceLock<Mutex<Vec<Weak<AtomicU64>>>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        std::thread::Builder::new()
            .name("tscpipe-rss".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(SAMPLE_EVERY);
                    let Some(slots) = SLOTS.get() else { continue };
                    let mut g = slots.lock().unwrap_or_else(|p| p.into_inner());
                    g.retain(|w| w.strong_count() > 0);
                    if g.is_empty() {
                        continue;
                    }
                    if let Some(rss) = current_rss() {
                        for s in g.iter().filter_map(Weak::upgrade) {
                            s.fetch_max(rss, Ordering::Relaxed);
                        }
                    }
                }
            })
            .ok();
        Mutex::new(Vec::new())
    })
}

/// How often the sampler reads `VmRSS` (tsml-eval's interval).
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Measures one stage run in this process, from [`InProcess::start`] to [`InProcess::finish`].
pub struct InProcess {
    started: Instant,
    cpu: Option<f64>,
    hwm: Option<u64>,
    rss: Option<u64>,
    peak: Arc<AtomicU64>,
    others: usize,
    starts: u64,
}

impl InProcess {
    pub fn start() -> InProcess {
        let others = RUNNING.fetch_add(1, Ordering::SeqCst);
        let starts = STARTED.fetch_add(1, Ordering::SeqCst) + 1;
        let rss = current_rss();
        let peak = Arc::new(AtomicU64::new(rss.unwrap_or(0)));
        sampled().lock().unwrap_or_else(|p| p.into_inner()).push(Arc::downgrade(&peak));
        InProcess {
            started: Instant::now(),
            cpu: rusage(libc::RUSAGE_SELF).map(|(c, _)| c),
            hwm: high_water_mark(),
            rss,
            peak,
            others,
            starts,
        }
    }

    pub fn finish(self) -> Usage {
        let wall = self.started.elapsed().as_secs_f64();
        let cpu = match (self.cpu, rusage(libc::RUSAGE_SELF)) {
            (Some(a), Some((b, _))) => Some((b - a).max(0.0)),
            _ => None,
        };
        let end_rss = current_rss();
        if let Some(r) = end_rss {
            self.peak.fetch_max(r, Ordering::Relaxed);
        }
        let peak = match (self.hwm, high_water_mark()) {
            (Some(before), Some(after)) if after > before => Some(after),
            _ => Some(self.peak.load(Ordering::Relaxed)).filter(|p| *p > 0),
        };
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        let shared = self.others > 0 || STARTED.load(Ordering::SeqCst) != self.starts;
        Usage { wall_s: wall, cpu_s: cpu, peak_rss: peak, start_rss: self.rss, shared }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_that_allocates_shows_its_peak_and_its_cpu_time() {
        let m = InProcess::start();
        // 200 MiB touched page by page, then freed: the peak stays, the end RSS does not.
        let mut v = vec![0u8; 200 << 20];
        for i in (0..v.len()).step_by(4096) {
            v[i] = 1;
        }
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(200) {
            x = x.wrapping_add(std::hint::black_box(v[x as usize % v.len()] as u64 + 1));
        }
        drop(v);
        let u = m.finish();
        // (other tests run in this process too: only lower bounds hold)
        let peak = u.peak_rss.expect("peak");
        assert!(peak >= 190 << 20, "peak {peak}: {u:?}");
        assert!(u.start_rss.is_some(), "{u:?}");
        assert!(u.cpu_s.expect("cpu") >= 0.1, "{u:?}");
        assert!(u.wall_s >= 0.2, "{u:?}");
        let whole = whole_process(Duration::from_secs(1));
        assert!(whole.peak_rss.expect("peak") >= peak - (1 << 20), "{whole:?} {u:?}");
    }
}
