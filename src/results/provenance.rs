//! Provenance probed from this machine and process (version, commit, host,
//! CPUs, OS, command line), recorded with every run.

use std::collections::BTreeMap;

use super::{Provenance, now_rfc3339};

/// Provenance of this machine and process, with the run-specific fields empty.
pub fn local_provenance(suite: &str, targets_mode: &str) -> Provenance {
    Provenance {
        bakeoff_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(),
        host: hostname(),
        cores: crate::cpus::count(),
        os: os_description(),
        started_at: now_rfc3339(),
        command_line: std::env::args().collect(),
        suite: suite.to_string(),
        targets_mode: targets_mode.to_string(),
        cpu_layout: None,
        versions: BTreeMap::new(),
        notes: Vec::new(),
        variants: Vec::new(),
        shard: None,
        merged_from: Vec::new(),
    }
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

fn os_description() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .ok();
    match (pretty, kernel) {
        (Some(p), Some(k)) => format!("{p} (Linux {k})"),
        (Some(p), None) => p,
        (None, Some(k)) => format!("Linux {k}"),
        (None, None) => std::env::consts::OS.to_string(),
    }
}
