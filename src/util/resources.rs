//! What a stage instance asks of the machine it runs on: CPUs, memory, a time limit, GPUs. The
//! quantities read as a cluster user writes them — memory as `8G`, `500M` or a number of MiB
//! (sbatch's `--mem`), time as `2h`, `1h30m`, `90s` or sbatch's `30` (minutes), `2:00:00`,
//! `1-12:00:00` — and are written back in sbatch's forms.
//!
//! None of this enters a cache key: it changes where and how long a stage may run, never its numbers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of memory, in whole MiB (sbatch's unit when none is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Memory {
    mib: u64,
}

impl Memory {
    pub const fn mib(mib: u64) -> Memory {
        Memory { mib }
    }
    pub const fn gib(gib: u64) -> Memory {
        Memory { mib: gib * 1024 }
    }
    pub fn as_mib(self) -> u64 {
        self.mib
    }
    pub fn bytes(self) -> u64 {
        self.mib.saturating_mul(1 << 20)
    }
    /// `self × factor`, rounded up to a whole MiB (a retry's larger request).
    pub fn scaled(self, factor: f64) -> Memory {
        Memory { mib: ((self.mib as f64) * factor).ceil().max(1.0) as u64 }
    }
    /// As sbatch's `--mem` takes it: `8G`, `1536M`.
    pub fn sbatch(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.mib;
        if m > 0 && m.is_multiple_of(1 << 20) {
            write!(f, "{}T", m >> 20)
        } else if m > 0 && m.is_multiple_of(1 << 10) {
            write!(f, "{}G", m >> 10)
        } else {
            write!(f, "{m}M")
        }
    }
}

/// A memory amount or time limit that does not read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("memory `{0}`: expected an amount such as `8G`, `500M` or `2048` (MiB)")]
    Memory(String),
    #[error("memory `{0}`: must be at least 1M")]
    MemoryTooSmall(String),
    #[error(
        "time `{0}`: expected a duration such as `2h`, `1h30m`, `90s`, or as sbatch writes it: `30` (minutes), \
         `2:00:00`, `1-12:00:00`"
    )]
    Time(String),
    #[error("time `{0}`: must be at least one second")]
    TimeTooShort(String),
}

impl FromStr for Memory {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Memory, QuantityError> {
        let bad = || QuantityError::Memory(s.to_string());
        let t = s.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: f64 = num.parse().map_err(|_| bad())?;
        let unit = unit.trim().to_ascii_lowercase();
        let unit = unit.trim_end_matches("ib").trim_end_matches('b');
        let per_mib = match unit {
            "k" => 1.0 / 1024.0,
            "" | "m" => 1.0,
            "g" => 1024.0,
            "t" => 1024.0 * 1024.0,
            _ => return Err(bad()),
        };
        let mib = (n * per_mib).ceil();
        if !(mib.is_finite() && mib >= 1.0) {
            return Err(QuantityError::MemoryTooSmall(s.to_string()));
        }
        Ok(Memory { mib: mib as u64 })
    }
}

/// A time limit, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeLimit {
    secs: u64,
}

impl TimeLimit {
    pub const fn secs(secs: u64) -> TimeLimit {
        TimeLimit { secs }
    }
    pub const fn hours(h: u64) -> TimeLimit {
        TimeLimit { secs: h * 3600 }
    }
    pub fn as_secs(self) -> u64 {
        self.secs
    }
    pub fn duration(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.secs)
    }
    /// `self × factor`, rounded up to a whole second.
    pub fn scaled(self, factor: f64) -> TimeLimit {
        TimeLimit { secs: ((self.secs as f64) * factor).ceil().max(1.0) as u64 }
    }
    /// As sbatch's `--time` takes it: `HH:MM:SS`, or `D-HH:MM:SS` from a day on.
    pub fn sbatch(self) -> String {
        let (d, h, m, s) = (self.secs / 86400, self.secs % 86400 / 3600, self.secs % 3600 / 60, self.secs % 60);
        if d > 0 { format!("{d}-{h:02}:{m:02}:{s:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
    }
}

/// `2h`, `1h30m`, `45s`, `1d12h`.
impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut left = self.secs;
        if left == 0 {
            return write!(f, "0s");
        }
        for (unit, n) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
            if left >= n {
                write!(f, "{}{unit}", left / n)?;
                left %= n;
            }
        }
        Ok(())
    }
}

impl FromStr for TimeLimit {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<TimeLimit, QuantityError> {
        let bad = || QuantityError::Time(s.to_string());
        let t = s.trim();
        let secs = if t.chars().any(|c| c.is_ascii_alphabetic()) {
            // `1d12h`, `2h`, `1.5h`, `90s`, `30m` (`min` too)
            let mut total = 0.0;
            let mut rest = t;
            while !rest.is_empty() {
                let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
                let (num, tail) = rest.split_at(split);
                let n: f64 = num.parse().map_err(|_| bad())?;
                let ulen = tail.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(tail.len());
                let (unit, tail) = tail.split_at(ulen);
                total += n * match unit.to_ascii_lowercase().as_str() {
                    "d" | "day" | "days" => 86400.0,
                    "h" | "hr" | "hour" | "hours" => 3600.0,
                    "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
                    "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
                    _ => return Err(bad()),
                };
                rest = tail.trim_start();
            }
            total.ceil()
        } else {
            // sbatch: minutes, minutes:seconds, hours:minutes:seconds, days-hours[:minutes[:seconds]]
            let num = |x: &str| x.trim().parse::<u64>().map_err(|_| bad());
            let (days, clock) = match t.split_once('-') {
                Some((d, c)) => (Some(num(d)?), c),
                None => (None, t),
            };
            let parts: Vec<u64> = clock.split(':').map(num).collect::<Result<_, _>>()?;
            let secs = match (days, parts.as_slice()) {
                (None, [m]) => m * 60,
                (None, [m, s]) => m * 60 + s,
                (None, [h, m, s]) => h * 3600 + m * 60 + s,
                (Some(d), [h]) => d * 86400 + h * 3600,
                (Some(d), [h, m]) => d * 86400 + h * 3600 + m * 60,
                (Some(d), [h, m, s]) => d * 86400 + h * 3600 + m * 60 + s,
                _ => return Err(bad()),
            };
            secs as f64
        };
        if !(secs.is_finite() && secs >= 1.0) {
            return Err(QuantityError::TimeTooShort(s.to_string()));
        }
        Ok(TimeLimit { secs: secs as u64 })
    }
}

/// A string, or a bare number in the quantity's default unit (MiB, minutes), as sbatch reads them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Text(String),
    Number(u64),
}

impl<'de> Deserialize<'de> for Memory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Memory, D::Error> {
        match Written::deserialize(d)? {
            Written::Text(s) => s.parse().map_err(serde::de::Error::custom),
            Written::Number(n) => format!("{n}M").parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for Memory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for TimeLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TimeLimit, D::Error> {
        match Written::deserialize(d)? {
            Written::Text(s) => s.parse().map_err(serde::de::Error::custom),
            Written::Number(n) => n.to_string().parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for TimeLimit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A CPU count: at least 1 where given.
pub(crate) fn positive<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<u32>::deserialize(d)? {
        Some(0) => Err(serde::de::Error::custom("cpus must be at least 1")),
        v => Ok(v),
    }
}

/// What a stage's instances need, as a pipeline writes it on the stage:
/// `resources = { cpus = 4, mem = "8G", time = "2h", gpus = 1 }`. Every field is optional; what
/// is left out comes from the settings or the stage kind's own declaration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU cores (threads) one instance uses: sbatch's `--cpus-per-task`, and the number of `-j`
    /// slots it takes in a local run.
    #[serde(default, deserialize_with = "positive", skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem: Option<Memory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeLimit>,
    /// GPUs, for stages that want an accelerator and a run on one (`--gres=gpu:N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
}

impl Resources {
    /// `self`'s fields where set, else `other`'s.
    pub fn or(self, other: Resources) -> Resources {
        Resources {
            cpus: self.cpus.or(other.cpus),
            mem: self.mem.or(other.mem),
            time: self.time.or(other.time),
            gpus: self.gpus.or(other.gpus),
        }
    }
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }
}

/// What one attempt of a stage instance asks for, every field decided: the pipeline's and the
/// settings' [`Resources`] over the stage kind's declaration, or a retry's larger request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    pub cpus: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem: Option<Memory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeLimit>,
    /// 0 for stages that compute on the CPU.
    #[serde(default)]
    pub gpus: u32,
}

impl Default for Request {
    fn default() -> Request {
        Request { cpus: 1, mem: None, time: None, gpus: 0 }
    }
}

impl Request {
    /// The request of a retry after running out of memory (`memory`) or time (`time`).
    pub fn scaled(self, memory: bool, time: bool, factor: f64) -> Request {
        Request {
            mem: if memory { self.mem.map(|m| m.scaled(factor)) } else { self.mem },
            time: if time { self.time.map(|t| t.scaled(factor)) } else { self.time },
            ..self
        }
    }
}

/// `2 cpus, 8G, 2h, 1 gpu`.
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cpu{}", self.cpus, if self.cpus == 1 { "" } else { "s" })?;
        if let Some(m) = self.mem {
            write!(f, ", {m}")?;
        }
        if let Some(t) = self.time {
            write!(f, ", {t}")?;
        }
        if self.gpus > 0 {
            write!(f, ", {} gpu{}", self.gpus, if self.gpus == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_reads_as_sbatch_and_people_write_it() {
        for (text, mib) in [
            ("8G", 8192),
            ("8g", 8192),
            ("8GB", 8192),
            ("8GiB", 8192),
            ("500M", 500),
            ("2048", 2048),
            ("1.5G", 1536),
            ("1T", 1 << 20),
            ("512K", 1),
            (" 4 G ", 4096),
        ] {
            assert_eq!(text.parse::<Memory>().map(Memory::as_mib), Ok(mib), "{text}");
        }
        for bad in ["", "G", "8X", "-1G", "0", "eight"] {
            assert!(bad.parse::<Memory>().is_err(), "{bad}");
        }
        assert_eq!(Memory::mib(8192).sbatch(), "8G");
        assert_eq!(Memory::mib(1536).sbatch(), "1536M");
        assert_eq!(Memory::mib(1 << 20).sbatch(), "1T");
        assert_eq!(Memory::mib(100).scaled(2.0), Memory::mib(200));
        assert_eq!(Memory::mib(3).scaled(1.5), Memory::mib(5));
        let m: Memory = serde_json::from_value(serde_json::json!(300)).expect("number");
        assert_eq!(m, Memory::mib(300));
        assert_eq!(serde_json::to_value(Memory::gib(4)).expect("json"), serde_json::json!("4G"));
    }

    #[test]
    fn time_reads_human_and_sbatch_forms_and_writes_sbatch_form() {
        for (text, secs) in [
            ("2h", 7200),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("90s", 90),
            ("1.5h", 5400),
            ("1d12h", 129600),
            ("30min", 1800),
            ("30", 1800),
            ("5:30", 330),
            ("2:00:00", 7200),
            ("1-00:00:00", 86400),
            ("1-12", 129600),
            ("1-12:30", 131400),
        ] {
            assert_eq!(text.parse::<TimeLimit>().map(TimeLimit::as_secs), Ok(secs), "{text}");
        }
        for bad in ["", "h", "2x", "1:2:3:4", "0", "0s", "-5", "a-1"] {
            assert!(bad.parse::<TimeLimit>().is_err(), "{bad}");
        }
        assert_eq!(TimeLimit::secs(330).sbatch(), "00:05:30");
        assert_eq!(TimeLimit::secs(129600).sbatch(), "1-12:00:00");
        assert_eq!(TimeLimit::secs(5400).to_string(), "1h30m");
        assert_eq!(TimeLimit::hours(2).scaled(2.0), TimeLimit::hours(4));
        let t: TimeLimit = serde_json::from_value(serde_json::json!(5)).expect("number");
        assert_eq!(t, TimeLimit::secs(300), "a bare number is minutes, as sbatch reads it");
    }

    #[test]
    fn a_resources_table_names_its_typos_and_refuses_zero_cpus() {
        let r: Resources =
            serde_json::from_value(serde_json::json!({ "cpus": 4, "mem": "8G", "time": "2h", "gpus": 1 })).expect("ok");
        assert_eq!(r.mem, Some(Memory::gib(8)));
        let e = serde_json::from_value::<Resources>(serde_json::json!({ "memory": "8G" })).unwrap_err().to_string();
        assert!(e.contains("unknown field `memory`"), "{e}");
        let e = serde_json::from_value::<Resources>(serde_json::json!({ "cpus": 0 })).unwrap_err().to_string();
        assert!(e.contains("at least 1"), "{e}");
        let both = Resources { cpus: Some(2), ..Default::default() }.or(r);
        assert_eq!((both.cpus, both.gpus), (Some(2), Some(1)));
    }

    #[test]
    fn a_retry_scales_what_ran_out() {
        let r = Request { cpus: 2, mem: Some(Memory::mib(100)), time: Some(TimeLimit::secs(60)), gpus: 1 };
        assert_eq!(r.to_string(), "2 cpus, 100M, 1m, 1 gpu");
        let more = r.scaled(true, false, 2.0);
        assert_eq!((more.mem, more.time), (Some(Memory::mib(200)), Some(TimeLimit::secs(60))));
        let longer = r.scaled(false, true, 1.5);
        assert_eq!((longer.mem, longer.time), (Some(Memory::mib(100)), Some(TimeLimit::secs(90))));
        assert_eq!(Request::default().to_string(), "1 cpu");
    }
}
