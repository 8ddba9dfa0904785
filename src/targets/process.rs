//! Child processes of the lifecycle: each is spawned as the leader of its own
//! process group, pinned to the server CPUs (sched_setaffinity in the child
//! before exec), with stdout and stderr appended to a log file and
//! PR_SET_PDEATHSIG(SIGKILL) as a backstop should bakeoff die without
//! cleaning up. Every live group is kept in a global registry so
//! [`kill_all`] (panic hook, signal handler) can stop them all.
//!
//! Stopping a group means: its stop signal (SIGTERM, or SIGINT for
//! PostgreSQL's fast shutdown) to the whole group, up to a grace period for
//! every member to exit, then SIGKILL to the group, and reaping the leader.
//! Zombies reparented elsewhere count as gone: they hold no resources but a
//! pid. This module knows nothing about targets or PostgreSQL.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::TargetError;

/// How long a group gets between its stop signal and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(5);

/// What to start and how.
#[derive(Debug, Clone)]
pub struct SpawnSpec {
    /// Label for the registry and messages ("node", "postgres").
    pub label: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// Added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// CPUs to pin to; empty = inherit.
    pub cpus: Vec<usize>,
    /// stdout and stderr are appended here.
    pub log: PathBuf,
    /// Run as this (uid, gid) instead of ours (PostgreSQL refuses root).
    pub user: Option<(u32, u32)>,
    /// Signal that asks the group to stop cleanly.
    pub stop_signal: i32,
}

impl SpawnSpec {
    pub fn new(label: &str, program: impl Into<PathBuf>, log: &Path) -> Self {
        SpawnSpec {
            label: label.to_string(),
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            cpus: Vec::new(),
            log: log.to_path_buf(),
            user: None,
            stop_signal: libc::SIGTERM,
        }
    }
}

/// A live process group whose leader is our child.
#[derive(Debug)]
pub struct Group {
    pub label: String,
    /// Process group id, equal to the leader's pid.
    pub pgid: i32,
    pub log: PathBuf,
    stop_signal: i32,
    child: Child,
    status: Option<ExitStatus>,
}

struct Entry {
    label: String,
    stop_signal: i32,
}

fn registry() -> &'static Mutex<BTreeMap<i32, Entry>> {
    static REGISTRY: OnceLock<Mutex<BTreeMap<i32, Entry>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// Locks the registry without ever blocking for long (kill_all may run in a
/// panic hook on a thread that holds the lock) and despite poisoning.
fn with_registry<T>(f: impl FnOnce(&mut BTreeMap<i32, Entry>) -> T) -> Option<T> {
    for _ in 0..200 {
        match registry().try_lock() {
            Ok(mut g) => return Some(f(&mut g)),
            Err(std::sync::TryLockError::Poisoned(p)) => return Some(f(&mut p.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(Duration::from_millis(5))
            }
        }
    }
    None
}

/// Process groups currently registered (live or being stopped).
pub fn registered() -> Vec<i32> {
    with_registry(|r| r.keys().copied().collect()).unwrap_or_default()
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `f` on one long-lived thread. PR_SET_PDEATHSIG fires when the
/// *thread* that forked the child exits, so children must not be spawned
/// from runtime threads that may be retired (tokio's blocking pool).
fn on_spawner_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("bakeoff-spawner".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            });
        if let Err(e) = spawned {
            eprintln!("warning: cannot start the spawner thread: {e}");
        }
        Mutex::new(tx)
    });
    let (tx, rx) = mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    sender.lock().ok()?.send(job).ok()?;
    rx.recv().ok()
}

fn cpu_set(cpus: &[usize]) -> Result<Option<libc::cpu_set_t>, TargetError> {
    if cpus.is_empty() {
        return Ok(None);
    }
    // The same set the suite's [cpu] was checked against.
    let allowed = crate::cpus::allowed();
    if cpus
        .iter()
        .any(|&c| !allowed.contains(&c) || c >= libc::CPU_SETSIZE as usize)
    {
        return Err(TargetError::Cpus {
            cpus: cpus.to_vec(),
            allowed: crate::cpus::describe(&allowed),
        });
    }
    // SAFETY: cpu_set_t is a plain bitmask; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        // SAFETY: c < CPU_SETSIZE was checked above.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    Ok(Some(set))
}

/// Starts `spec` as the leader of a new process group and registers it.
pub fn spawn(spec: &SpawnSpec) -> Result<Group, TargetError> {
    let set = cpu_set(&spec.cpus)?;
    if let Some(dir) = spec.log.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| TargetError::io(format!("cannot create {}", dir.display()), e))?;
    }
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
        .map_err(|e| TargetError::io(format!("cannot open {}", spec.log.display()), e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| TargetError::io(format!("cannot open {}", spec.log.display()), e))?;
    let spec = spec.clone();
    let what = format!(
        "cannot start {} ({}{})",
        spec.label,
        spec.program.display(),
        spec.cwd
            .as_ref()
            .map(|d| format!(" in {}", d.display()))
            .unwrap_or_default()
    );
    let result = on_spawner_thread(move || {
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0);
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        if let Some((uid, gid)) = spec.user {
            cmd.uid(uid).gid(gid);
        }
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the closure runs in the forked child before exec and only
        // calls async-signal-safe functions (prctl, getppid, _exit,
        // sched_setaffinity) on data copied before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    // bakeoff died between fork and prctl.
                    libc::_exit(1);
                }
                if let Some(set) = &set {
                    if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        let pgid = child.id() as i32;
        with_registry(|r| {
            r.insert(
                pgid,
                Entry {
                    label: spec.label.clone(),
                    stop_signal: spec.stop_signal,
                },
            )
        });
        Ok::<_, std::io::Error>(Group {
            label: spec.label,
            pgid,
            log: spec.log,
            stop_signal: spec.stop_signal,
            child,
            status: None,
        })
    });
    match result {
        Some(Ok(group)) => Ok(group),
        Some(Err(e)) => Err(TargetError::io(what, e)),
        None => Err(TargetError::io(
            what,
            std::io::Error::other("the spawner thread is gone"),
        )),
    }
}

impl Group {
    /// The leader's exit status if it has exited (reaping it).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            match self.child.try_wait() {
                Ok(s) => self.status = s,
                // ECHILD: someone (kill_all) reaped it already.
                Err(_) => self.status = Some(ExitStatus::from_raw(0)),
            }
        }
        self.status
    }

    /// True once the leader has exited and no other member is left.
    fn is_gone(&mut self) -> bool {
        self.try_status().is_some() && group_members(self.pgid).is_empty()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: plain syscall; a negative pid addresses the group. ESRCH
        // (group already gone) is fine.
        unsafe { libc::kill(-self.pgid, sig) };
    }

    /// Stops the group (stop signal, grace, SIGKILL), waiting asynchronously.
    pub async fn stop(mut self, grace: Duration) -> Option<ExitStatus> {
        if !self.is_gone() {
            self.signal(self.stop_signal);
            let deadline = Instant::now() + grace;
            while !self.is_gone() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            if !self.is_gone() {
                self.signal(libc::SIGKILL);
                let deadline = Instant::now() + Duration::from_secs(5);
                while !self.is_gone() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        self.finish()
    }

    /// Same as [`Group::stop`], blocking the calling thread (Drop, panics).
    pub fn stop_blocking(mut self, grace: Duration) -> Option<ExitStatus> {
        if !self.is_gone() {
            self.signal(self.stop_signal);
            let deadline = Instant::now() + grace;
            while !self.is_gone() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(25));
            }
            if !self.is_gone() {
                self.signal(libc::SIGKILL);
                let deadline = Instant::now() + Duration::from_secs(5);
                while !self.is_gone() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        self.finish()
    }

    fn finish(mut self) -> Option<ExitStatus> {
        let status = self.try_status();
        with_registry(|r| r.remove(&self.pgid));
        status
    }
}

/// Pids of the live (not zombie) processes whose process group is `pgid`,
/// read from /proc.
pub fn group_members(pgid: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|(_, s)| s.pgrp == pgid && s.is_live())
        .map(|(pid, _)| pid)
        .collect()
}

/// Every pid in /proc, in the order the directory lists them: the crate's
/// one walk of /proc (sampling, groups, PostgreSQL's children, a port's
/// holder, and the integration tests' checks all go through it). Empty
/// when /proc cannot be read.
pub fn pids() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// Every process in /proc with its stat fields, one read of each
/// /proc/<pid>/stat; processes that vanish meanwhile are left out.
pub fn processes() -> Vec<(i32, ProcStat)> {
    pids()
        .into_iter()
        .filter_map(|pid| Some((pid, proc_stat(pid)?)))
        .collect()
}

/// The fields of /proc/<pid>/stat the lifecycle uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Start time after boot, in clock ticks: with the pid, it tells a
    /// process from a later one that reused its pid.
    pub start_time: u64,
}

impl ProcStat {
    /// Neither a zombie nor dead: a process still holding resources.
    pub fn is_live(&self) -> bool {
        self.state != 'Z' && self.state != 'X'
    }
}

pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses /proc/<pid>/stat. The command name (field 2) may contain spaces
/// and parentheses, so fields are counted from the last ')'.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state(3) ppid(4) pgrp(5) ... utime(14) stime(15) ...
    // starttime(22).
    Some(ProcStat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        cpu_ticks: f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
        start_time: f.get(19)?.parse().ok()?,
    })
}

/// Stops every registered process group: stop signals to all, one shared
/// grace period, SIGKILL to the rest, leaders reaped. Never blocks on a lock
/// for long and never panics, so it is safe in a panic hook or a signal
/// handling thread.
pub fn kill_all() {
    let groups: Vec<(i32, i32, String)> = with_registry(|r| {
        r.iter()
            .map(|(&pgid, e)| (pgid, e.stop_signal, e.label.clone()))
            .collect()
    })
    .unwrap_or_default();
    kill_groups_raw(&groups);
}

/// [`kill_all`] restricted to the given groups (those still registered).
pub fn kill_groups(pgids: &[i32]) {
    let groups: Vec<(i32, i32, String)> = with_registry(|r| {
        pgids
            .iter()
            .filter_map(|p| r.get(p).map(|e| (*p, e.stop_signal, e.label.clone())))
            .collect()
    })
    .unwrap_or_default();
    kill_groups_raw(&groups);
}

fn kill_groups_raw(groups: &[(i32, i32, String)]) {
    if groups.is_empty() {
        return;
    }
    let reap = |pgid: i32| {
        let mut status = 0;
        // SAFETY: plain syscall; the leader (pid == pgid) is our child, and
        // ECHILD when it was reaped elsewhere is harmless.
        unsafe { libc::waitpid(pgid, &mut status, libc::WNOHANG) };
    };
    let gone = |pgid: i32| {
        reap(pgid);
        group_members(pgid).is_empty()
    };
    for &(pgid, sig, _) in groups {
        // SAFETY: plain syscall addressed to a group we created.
        unsafe { libc::kill(-pgid, sig) };
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline && !groups.iter().all(|g| gone(g.0)) {
        std::thread::sleep(Duration::from_millis(25));
    }
    for &(pgid, _, ref label) in groups {
        if !gone(pgid) {
            eprintln!("bakeoff: {label} (process group {pgid}) did not stop in time; killing it");
            // SAFETY: as above.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !groups.iter().all(|g| gone(g.0)) {
        std::thread::sleep(Duration::from_millis(10));
    }
    with_registry(|r| {
        for g in groups {
            r.remove(&g.0);
        }
    });
}

/// Chains the current panic hook with [`kill_all`], once per process.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            kill_all();
        }));
    });
}

/// Describes an exit status for messages: "exit status 3", "killed by signal 9".
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}

/// Finds a program on PATH (or checks a path given with a '/').
pub fn which(program: &str) -> Option<PathBuf> {
    let is_exec = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_exec(&p).then_some(p);
    }
    let path = crate::env::path()?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| is_exec(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_odd_names() {
        let line = "1234 (we ird) name)) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 100 1000 50";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 1);
        assert_eq!(s.pgrp, 1234);
        assert_eq!(s.cpu_ticks, 10);
        assert_eq!(s.start_time, 100);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn own_stat_is_readable() {
        let me = std::process::id() as i32;
        let s = proc_stat(me).unwrap();
        // SAFETY: plain getters without preconditions.
        let (ppid, pgrp) = unsafe { (libc::getppid(), libc::getpgrp()) };
        assert_eq!((s.ppid, s.pgrp), (ppid, pgrp));
    }

    /// The scanner against the kernel's own answers (getppid, getpgrp,
    /// waitpid), so tests that read processes through it do not share a
    /// bug with it unnoticed.
    #[test]
    fn processes_sees_a_child_come_and_go() {
        let me = std::process::id() as i32;
        let listed = processes();
        let (_, mine) = listed.iter().find(|(p, _)| *p == me).expect("self listed");
        // SAFETY: plain getters without preconditions.
        let (ppid, pgrp) = unsafe { (libc::getppid(), libc::getpgrp()) };
        assert_eq!((mine.ppid, mine.pgrp), (ppid, pgrp));
        assert!(mine.is_live());

        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i32;
        let seen = processes().into_iter().find(|(p, _)| *p == pid);
        let (_, stat) = seen.expect("a child just spawned is listed");
        assert_eq!((stat.ppid, stat.pgrp), (me, pgrp));
        assert!(group_members(pgrp).contains(&pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!processes().iter().any(|(p, _)| *p == pid), "reaped, gone");
        assert!(!group_members(pgrp).contains(&pid));
    }

    #[test]
    fn cpu_sets_are_checked() {
        assert!(cpu_set(&[]).unwrap().is_none());
        assert!(cpu_set(&[0]).unwrap().is_some());
        let msg = cpu_set(&[100_000]).unwrap_err().to_string();
        assert!(msg.contains("100000"), "{msg}");
    }

    #[test]
    fn which_finds_sh() {
        assert!(which("sh").is_some());
        assert!(which("/bin/sh").is_some());
        assert!(which("surely-not-a-program-xyz").is_none());
    }
}
