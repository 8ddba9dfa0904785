//! Server-side resource sampling: every ~250 ms, reads /proc for every
//! process of a target's process group and accumulates its CPU time
//! (utime + stime) and resident memory. CPU is counted per pid from the
//! first time it is seen (from the start of sampling for pids alive then,
//! from zero for pids born during the step), so workers forked mid-step
//! count fully and pre-existing ones count only their share of the step.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::process::proc_stat;
use crate::results::ServerUsage;

/// Interval between samples.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// Accumulated figures of one process group.
#[derive(Debug, Default, Clone)]
struct Tally {
    /// pid → (ticks when first seen, ticks last seen).
    cpu: HashMap<i32, (u64, u64)>,
    rss_peak_bytes: u64,
    samples: u32,
}

impl Tally {
    fn sample(&mut self, pgid: i32, first: bool) {
        let page = page_size();
        let mut rss = 0u64;
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        for pid in dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
            let Some(stat) = proc_stat(pid) else { continue };
            if stat.pgrp != pgid || stat.state == 'Z' {
                continue;
            }
            let base = if first { stat.cpu_ticks } else { 0 };
            let entry = self.cpu.entry(pid).or_insert((base, stat.cpu_ticks));
            entry.1 = entry.1.max(stat.cpu_ticks);
            rss += statm_rss_pages(pid).unwrap_or(0) * page;
        }
        self.rss_peak_bytes = self.rss_peak_bytes.max(rss);
        self.samples += 1;
    }

    fn cpu_ticks(&self) -> u64 {
        self.cpu.values().map(|(a, b)| b.saturating_sub(*a)).sum()
    }
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as u64 } else { 4096 }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// Resident pages from /proc/<pid>/statm (second field).
fn statm_rss_pages(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// A running sampler; [`ResourceSampler::finish`] stops it and returns the figures.
#[derive(Debug)]
pub struct ResourceSampler {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Tally>,
}

impl ResourceSampler {
    /// Starts sampling process group `pgid` (takes the first sample at once).
    pub fn start(pgid: i32) -> Self {
        let (tx, mut rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut tally = Tally::default();
            tally.sample(pgid, true);
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    _ = tokio::time::sleep(INTERVAL) => tally.sample(pgid, false),
                }
            }
            tally.sample(pgid, false);
            tally
        });
        ResourceSampler {
            stop: Some(tx),
            task,
        }
    }

    /// Stops sampling. `rps_per_core` is `successful_requests` per server
    /// CPU-second. `duration` is the measured window, accepted so callers
    /// pass what they measured; the CPU figure itself comes from /proc.
    pub async fn finish(mut self, successful_requests: u64, duration: Duration) -> ServerUsage {
        let _ = duration;
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let tally = (&mut self.task).await.unwrap_or_default();
        let cpu_s = tally.cpu_ticks() as f64 / clock_ticks();
        ServerUsage {
            cpu_s,
            rss_peak_bytes: tally.rss_peak_bytes,
            rps_per_core: if cpu_s > 0.0 {
                successful_requests as f64 / cpu_s
            } else {
                0.0
            },
            samples: tally.samples,
            processes: 0,
            db_cpu_s: None,
        }
    }
}

impl Drop for ResourceSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn samples_a_busy_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut spec =
            crate::targets::process::SpawnSpec::new("busy", "sh", &dir.path().join("busy.log"));
        // A busy loop in a child of the leader: counted through the group.
        spec.args = vec!["-c".into(), "sh -c 'while :; do :; done' & wait".into()];
        let group = crate::targets::process::spawn(&spec).unwrap();
        let sampler = ResourceSampler::start(group.pgid);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let usage = sampler.finish(1000, Duration::from_millis(1200)).await;
        group.stop(Duration::from_secs(2)).await;
        assert!(usage.samples >= 3, "{usage:?}");
        assert!(usage.cpu_s > 0.0, "{usage:?}");
        assert!(usage.rss_peak_bytes > 0, "{usage:?}");
        assert!((usage.rps_per_core - 1000.0 / usage.cpu_s).abs() < 1e-6);
    }
}
