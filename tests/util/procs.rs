//! Processes through /proc: what a test's bakeoff left running, who is
//! alive in which process group. Used by every test that checks "nothing
//! left behind". The walk of /proc is the crate's own
//! (`bakeoff::targets::process::{pids, processes}`, checked against
//! getppid/getpgrp/waitpid by its unit test); what a test concludes from
//! it (which processes are its own, what counts as left) is decided here.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use bakeoff::targets::process;

/// Asserts that nothing started for this test is left, allowing `grace`
/// for killed processes to vanish from /proc.
pub fn assert_none_left(dir: &Path, pid: u32, grace: Duration) {
    let deadline = Instant::now() + grace;
    while !leftovers(dir, pid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        leftovers(dir, pid),
        Vec::<String>::new(),
        "processes left behind"
    );
}

/// Processes started for this test: any with an open file, or its working
/// directory, under `dir`, or a command line naming it (the state dir of
/// `run` is named after bakeoff's pid).
pub fn leftovers(dir: &Path, pid: u32) -> Vec<String> {
    let me = std::process::id().to_string();
    let state_marker = format!("bakeoff-{pid}-");
    let dir_text = dir.display().to_string();
    let mut found = Vec::new();
    for pid in listed_pids() {
        let name = pid.to_string();
        if name == me {
            continue;
        }
        let path = Path::new("/proc").join(&name);
        let cmdline = std::fs::read(path.join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let holds_file = std::fs::read_dir(path.join("fd"))
            .map(|fds| {
                fds.flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.starts_with(dir)))
            })
            .unwrap_or(false);
        let works_there = std::fs::read_link(path.join("cwd")).is_ok_and(|c| c.starts_with(dir));
        if holds_file
            || works_there
            || cmdline.contains(&state_marker)
            || cmdline.contains(&dir_text)
        {
            found.push(format!("{name}: {cmdline}"));
        }
    }
    found
}

/// Every pid in /proc; an empty /proc fails the test rather than let it
/// conclude that nothing is left.
fn listed_pids() -> Vec<i32> {
    let pids = process::pids();
    assert!(!pids.is_empty(), "/proc lists no process");
    pids
}

/// (pid, ppid, pgrp, state) of every process.
pub fn processes() -> Vec<(i32, i32, i32, char)> {
    let listed = process::processes();
    assert!(!listed.is_empty(), "/proc lists no process");
    listed
        .into_iter()
        .map(|(pid, s)| (pid, s.ppid, s.pgrp, s.state))
        .collect()
}

/// Live (non-zombie) members of a process group.
pub fn alive_in_group(pgid: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|&(_, _, g, s)| g == pgid && s != 'Z' && s != 'X')
        .map(|(p, ..)| p)
        .collect()
}

/// Waits up to `limit` for a group to be empty (a zombie being reaped by
/// init may lag a moment behind).
pub fn assert_group_gone(pgid: i32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !alive_in_group(pgid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        alive_in_group(pgid).is_empty(),
        "processes left in group {pgid}: {:?}",
        alive_in_group(pgid)
    );
}

/// Pids of processes whose command line contains `needle` as an argument.
pub fn with_arg(needle: &str) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|&(pid, ..)| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).any(|a| a == needle.as_bytes()))
        })
        .map(|(p, ..)| p)
        .collect()
}

/// Process groups led by direct children of `pid`. A child that is not its
/// group's leader (a helper such as `pg_config`, run in bakeoff's own group)
/// leads no group and is left out.
pub fn child_groups(pid: i32) -> Vec<i32> {
    let mut g: Vec<i32> = processes()
        .into_iter()
        .filter(|&(p, ppid, pgrp, _)| ppid == pid && pgrp == p)
        .map(|(.., pgrp, _)| pgrp)
        .collect();
    g.sort();
    g.dedup();
    g
}

pub fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not exit within {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
