//! Processes through /proc, read here independently of the code under
//! test: what a test's bakeoff left running, who is alive in which process
//! group. Used by every test that checks "nothing left behind".

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

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
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) || name == me {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let holds_file = std::fs::read_dir(entry.path().join("fd"))
            .map(|fds| {
                fds.flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.starts_with(dir)))
            })
            .unwrap_or(false);
        let works_there =
            std::fs::read_link(entry.path().join("cwd")).is_ok_and(|c| c.starts_with(dir));
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

/// (pid, ppid, pgrp, state) of every process, read from /proc here rather
/// than through the crate.
pub fn processes() -> Vec<(i32, i32, i32, char)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let rest = &stat[stat.rfind(')').unwrap() + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        out.push((
            pid,
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
            f[0].chars().next().unwrap(),
        ));
    }
    out
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
