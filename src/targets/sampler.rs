//! Server-side resource sampling: every ~250 ms, one pass over /proc reads
//! the target's processes (every member of its process group, the leader
//! included) and, in local mode, the private PostgreSQL's (the postmaster
//! and all its descendants: PostgreSQL's children call setsid() and leave
//! the postmaster's group, so they are found by parent pid, not by group).
//!
//! CPU time (utime + stime) is counted per process, a process being a pid
//! with its start time (so a reused pid is a new process): from the first
//! sample for processes alive then, from zero for processes born during the
//! step, so workers forked (and backends connected) mid-step count fully and
//! pre-existing ones count only their share of the step. A process that is
//! born and exits between two samples is not seen, and the CPU a process
//! spends after its last sample is lost; the reference targets keep their
//! processes and database connections for the whole step, so this misses
//! next to nothing for them.
//!
//! Also recorded: the target's peak resident memory (summed over its
//! processes) and the most live processes it had in one sample. This module
//! does not decide when to sample: the runner starts a sampler after the
//! warm-up and finishes it when the step ends.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::process::{self, ProcStat};
use crate::results::ServerUsage;

/// Interval between samples.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// Which processes a tally follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The live members of process group `pgid`, the leader included.
    Group(i32),
    /// Process `root` and its live descendants, whatever their group.
    Tree(i32),
}

/// One process as read from /proc in one sample.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    stat: ProcStat,
}

/// Every process in /proc (one read of each /proc/<pid>/stat).
fn snapshot() -> Vec<Proc> {
    process::processes()
        .into_iter()
        .map(|(pid, stat)| Proc { pid, stat })
        .collect()
}

/// The live processes of `procs` that `scope` covers.
fn select(scope: Scope, procs: &[Proc]) -> Vec<Proc> {
    match scope {
        Scope::Group(pgid) => procs
            .iter()
            .filter(|p| p.stat.pgrp == pgid && p.stat.is_live())
            .copied()
            .collect(),
        Scope::Tree(root) => {
            let mut children: HashMap<i32, Vec<Proc>> = HashMap::new();
            for p in procs.iter().filter(|p| p.stat.is_live()) {
                children.entry(p.stat.ppid).or_default().push(*p);
            }
            let mut picked: Vec<Proc> = procs
                .iter()
                .filter(|p| p.pid == root && p.stat.is_live())
                .copied()
                .collect();
            let mut next = 0;
            while next < picked.len() {
                if let Some(kids) = children.get(&picked[next].pid) {
                    // A pid is its own parent only for the kernel's pid 0;
                    // guard anyway so a bad read cannot loop.
                    picked.extend(kids.iter().filter(|k| k.pid != k.stat.ppid));
                }
                next += 1;
            }
            picked
        }
    }
}

/// Accumulated figures of one scope.
#[derive(Debug, Clone)]
struct Tally {
    scope: Scope,
    /// (pid, start time) → (ticks when first seen, ticks last seen).
    cpu: HashMap<(i32, u64), (u64, u64)>,
    rss_peak_bytes: u64,
    processes_peak: u32,
}

impl Tally {
    fn new(scope: Scope) -> Self {
        Tally {
            scope,
            cpu: HashMap::new(),
            rss_peak_bytes: 0,
            processes_peak: 0,
        }
    }

    /// Adds one sample. `first`: processes alive now count from their
    /// current ticks (else from zero: born since the first sample).
    /// `rss`: also read their resident memory.
    fn add(&mut self, procs: &[Proc], first: bool, rss: bool) {
        let picked = select(self.scope, procs);
        let page = if rss { page_size() } else { 0 };
        let mut resident = 0u64;
        for p in &picked {
            let ticks = p.stat.cpu_ticks;
            let base = if first { ticks } else { 0 };
            let entry = self
                .cpu
                .entry((p.pid, p.stat.start_time))
                .or_insert((base, ticks));
            entry.1 = entry.1.max(ticks);
            if rss {
                resident += statm_rss_pages(p.pid).unwrap_or(0) * page;
            }
        }
        self.rss_peak_bytes = self.rss_peak_bytes.max(resident);
        self.processes_peak = self.processes_peak.max(picked.len() as u32);
    }

    fn cpu_ticks(&self) -> u64 {
        self.cpu.values().map(|(a, b)| b.saturating_sub(*a)).sum()
    }
}

/// Everything one sampler accumulates.
#[derive(Debug, Clone)]
struct Tallies {
    target: Tally,
    db: Option<Tally>,
    samples: u32,
}

impl Tallies {
    fn sample(&mut self, first: bool) {
        let procs = snapshot();
        self.target.add(&procs, first, true);
        if let Some(db) = &mut self.db {
            db.add(&procs, first, false);
        }
        self.samples += 1;
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
    task: JoinHandle<Tallies>,
    /// Whether a database is sampled (so a failed task still says so).
    db: bool,
}

impl ResourceSampler {
    /// Starts sampling the target in process group `pgid` and, when given,
    /// the database whose server process is `db_root` (with all its
    /// descendants). Takes the first sample at once.
    pub fn start(pgid: i32, db_root: Option<i32>) -> Self {
        let (tx, mut rx) = oneshot::channel();
        let mut tallies = Tallies {
            target: Tally::new(Scope::Group(pgid)),
            db: db_root.map(|root| Tally::new(Scope::Tree(root))),
            samples: 0,
        };
        let task = tokio::spawn(async move {
            tallies.sample(true);
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    _ = tokio::time::sleep(INTERVAL) => tallies.sample(false),
                }
            }
            tallies.sample(false);
            tallies
        });
        ResourceSampler {
            stop: Some(tx),
            task,
            db: db_root.is_some(),
        }
    }

    /// Stops sampling. `rps_per_core` is `successful_requests` per
    /// CPU-second of the target and its database together (0 when they used
    /// none). `duration` is the measured window, accepted so callers pass
    /// what they measured; the CPU figures themselves come from /proc.
    pub async fn finish(mut self, successful_requests: u64, duration: Duration) -> ServerUsage {
        let _ = duration;
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // The task only fails if it panicked or was aborted: report what a
        // sampler that saw nothing would.
        let tallies = (&mut self.task).await.unwrap_or_else(|_| Tallies {
            target: Tally::new(Scope::Group(0)),
            db: self.db.then(|| Tally::new(Scope::Tree(0))),
            samples: 0,
        });
        let ticks = clock_ticks();
        let cpu_s = tallies.target.cpu_ticks() as f64 / ticks;
        let db_cpu_s = tallies.db.as_ref().map(|t| t.cpu_ticks() as f64 / ticks);
        let server_and_db_s = cpu_s + db_cpu_s.unwrap_or(0.0);
        ServerUsage {
            cpu_s,
            rss_peak_bytes: tallies.target.rss_peak_bytes,
            rps_per_core: if server_and_db_s > 0.0 {
                successful_requests as f64 / server_and_db_s
            } else {
                0.0
            },
            samples: tallies.samples,
            processes: tallies.target.processes_peak,
            db_cpu_s,
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
    use crate::targets::process::{self, Group, SpawnSpec};

    fn proc(pid: i32, ppid: i32, pgrp: i32, state: char, ticks: u64, start: u64) -> Proc {
        Proc {
            pid,
            stat: ProcStat {
                state,
                ppid,
                pgrp,
                cpu_ticks: ticks,
                start_time: start,
            },
        }
    }

    fn pids(scope: Scope, procs: &[Proc]) -> Vec<i32> {
        let mut p: Vec<i32> = select(scope, procs).iter().map(|p| p.pid).collect();
        p.sort();
        p
    }

    #[test]
    fn scopes_pick_a_group_or_a_tree_and_skip_zombies() {
        let procs = [
            proc(1, 0, 1, 'S', 0, 0),
            // A target: leader 10, a worker, a zombie worker.
            proc(10, 1, 10, 'S', 5, 1),
            proc(11, 10, 10, 'R', 5, 1),
            proc(12, 10, 10, 'Z', 5, 1),
            // A postmaster whose children left its group (setsid), one of
            // which has a child of its own; a zombie backend.
            proc(20, 1, 20, 'S', 5, 1),
            proc(21, 20, 21, 'S', 5, 1),
            proc(22, 20, 22, 'R', 5, 1),
            proc(23, 22, 22, 'S', 5, 1),
            proc(24, 20, 24, 'Z', 5, 1),
            // Unrelated, though in the target's group id space nowhere.
            proc(30, 1, 30, 'S', 5, 1),
        ];
        assert_eq!(pids(Scope::Group(10), &procs), [10, 11]);
        assert_eq!(pids(Scope::Tree(20), &procs), [20, 21, 22, 23]);
        // The group of the postmaster alone misses its children.
        assert_eq!(pids(Scope::Group(20), &procs), [20]);
        assert!(pids(Scope::Tree(99), &procs).is_empty());
        assert!(pids(Scope::Tree(12), &procs).is_empty(), "zombie root");
    }

    #[test]
    fn cpu_counts_from_the_first_sample_or_from_birth_and_peaks_count_live_processes() {
        let mut t = Tally::new(Scope::Group(10));
        // Pre-existing: 100 ticks before the step do not count.
        t.add(&[proc(10, 1, 10, 'S', 100, 1)], true, false);
        // A worker born during the step counts from zero; a zombie not at all.
        t.add(
            &[
                proc(10, 1, 10, 'S', 110, 1),
                proc(11, 10, 10, 'R', 30, 2),
                proc(12, 10, 10, 'Z', 50, 2),
            ],
            false,
            false,
        );
        // Worker 11 exits and a new process reuses its pid: a new process.
        t.add(
            &[proc(10, 1, 10, 'S', 120, 1), proc(11, 10, 10, 'R', 4, 3)],
            false,
            false,
        );
        assert_eq!(t.cpu_ticks(), 20 + 30 + 4);
        assert_eq!(t.processes_peak, 2);
    }

    fn spawn_sh(label: &str, dir: &std::path::Path, script: &str) -> Group {
        let mut spec = SpawnSpec::new(label, "sh", &dir.join(format!("{label}.log")));
        spec.args = vec!["-c".into(), script.into()];
        process::spawn(&spec).unwrap()
    }

    /// SIGKILLs its process groups when dropped, also when a test panics.
    struct KillOnDrop(Vec<i32>);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            for pgid in &self.0 {
                // SAFETY: plain syscall to a group this test created.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
        }
    }

    /// N busy processes in the target's group besides its leader; the
    /// "database" is a second group whose busy child left it with setsid,
    /// as PostgreSQL's backends do. Each loop also ends by itself once its
    /// parent is gone (`kill -0 $PPID`), so nothing keeps spinning.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counts_a_groups_processes_and_a_second_trees_cpu() {
        const BUSY: usize = 2;
        let dir = tempfile::tempdir().unwrap();
        let busy = "(while kill -0 $PPID 2>/dev/null; do :; done) & ".repeat(BUSY);
        let target = spawn_sh("busy", dir.path(), &format!("{busy}wait"));
        let db = spawn_sh(
            "db",
            dir.path(),
            "setsid sh -c 'while kill -0 $PPID 2>/dev/null; do :; done' & wait",
        );
        let mut cleanup = KillOnDrop(vec![target.pgid, db.pgid]);
        // Both are fully started before sampling begins.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let db_child = loop {
            let child = snapshot()
                .into_iter()
                .find(|p| p.stat.ppid == db.pgid && p.stat.pgrp != db.pgid);
            let members = process::group_members(target.pgid).len();
            match child {
                Some(c) if members == BUSY + 1 => break c,
                _ => {}
            }
            assert!(std::time::Instant::now() < deadline, "not started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        cleanup.0.push(db_child.stat.pgrp);

        let sampler = ResourceSampler::start(target.pgid, Some(db.pgid));
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let usage = sampler.finish(1000, Duration::from_millis(1200)).await;
        let no_db = ResourceSampler::start(target.pgid, None)
            .finish(0, Duration::ZERO)
            .await;
        drop(cleanup);
        target.stop(Duration::from_secs(2)).await;
        db.stop(Duration::from_secs(2)).await;

        assert!(usage.samples >= 3, "{usage:?}");
        // Leader (the waiting sh) + BUSY loops; the db's processes are not
        // the target's.
        assert_eq!(usage.processes as usize, BUSY + 1, "{usage:?}");
        assert!(usage.cpu_s > 0.0, "{usage:?}");
        let db_cpu_s = usage.db_cpu_s.unwrap();
        assert!(db_cpu_s > 0.0, "db CPU comes from the tree: {usage:?}");
        assert!(usage.rss_peak_bytes > 0, "{usage:?}");
        let per_core = 1000.0 / (usage.cpu_s + db_cpu_s);
        assert!((usage.rps_per_core - per_core).abs() < 1e-6, "{usage:?}");
        // Without a database: no db figure, and nothing successful is 0.
        assert_eq!(no_db.db_cpu_s, None);
        assert_eq!(no_db.rps_per_core, 0.0);
        assert_eq!(no_db.processes as usize, BUSY + 1);
    }
}
