//! /proc helpers of the lifecycle tests: who is alive, in which process
//! group, read here independently of the code under test.

use std::process::Child;
use std::time::{Duration, Instant};

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
