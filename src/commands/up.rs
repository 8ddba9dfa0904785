//! `bakeoff up`: brings up the private PostgreSQL and the targets of a suite
//! (default: every variant of targets/targets.toml) as local processes,
//! prints their URLs once all are healthy, and stays up until SIGINT or
//! SIGTERM, then stops everything it started. The lifecycle itself lives in
//! `crate::targets`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::Outcome;
use crate::cli::{TargetsMode, UpArgs};
use crate::suite::CpuPlan;
use crate::targets::{self, Lab, LabConfig, TargetsSpec, process};

/// DB_POOL when no suite says otherwise.
const DEFAULT_DB_CONNECTIONS: u32 = 16;

/// How long each target (and PostgreSQL) gets to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

pub async fn run(args: UpArgs) -> anyhow::Result<Outcome> {
    process::install_panic_hook();
    // Listen before starting anything, so a Ctrl-C during start-up is ours.
    let mut sigint = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut sigterm = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;

    let root = targets::targets_root()?;
    let cores = process::cpu_count();
    let (mut names, cpus, db_connections) = match &args.suite {
        Some(path) => {
            let plan = crate::suite::load(Some(path))?;
            (plan.targets, plan.cpu.targets, plan.db_connections)
        }
        None => (
            TargetsSpec::load(&root)?.names(),
            CpuPlan::auto(cores).targets,
            DEFAULT_DB_CONNECTIONS,
        ),
    };
    if !args.only.is_empty() {
        if let Some(missing) = args.only.iter().find(|o| !names.contains(o)) {
            anyhow::bail!(
                "--only {missing}: not a target here (available: {})",
                names.join(", ")
            );
        }
        names.retain(|n| args.only.contains(n));
    }

    let run_dir = std::env::temp_dir().join(format!(
        "bakeoff-up-{}-{}",
        crate::results::now_compact(),
        std::process::id()
    ));
    let cfg = LabConfig {
        mode: TargetsMode::Local,
        targets_root: root,
        log_dir: run_dir.join("logs"),
        state_dir: run_dir.join("state"),
        server_cpus: cpus,
        db_connections,
        urls: BTreeMap::new(),
        allow_remote: false,
        ready_timeout: READY_TIMEOUT,
    };
    eprintln!("bakeoff up: logs in {}", cfg.log_dir.display());

    let startup = async {
        let mut lab = Lab::prepare(cfg, &names).await?;
        let mut urls = BTreeMap::new();
        for name in &names {
            let t = lab.start(name).await?;
            urls.insert(t.name, t.base_url);
        }
        Ok::<_, targets::TargetError>((lab, urls))
    };
    let started = tokio::select! {
        r = startup => Some(r),
        _ = sigint.recv() => None,
        _ = sigterm.recv() => None,
    };
    let (lab, urls) = match started {
        Some(r) => r?,
        None => {
            // The start-up future was dropped mid-way: whatever it had
            // started is still in the process registry.
            let _ = tokio::task::spawn_blocking(process::kill_all).await;
            anyhow::bail!("interrupted before all targets were up; stopped everything started");
        }
    };

    let database_url = lab.database_url();
    let mut out = std::io::stdout().lock();
    if args.json {
        let line = serde_json::json!({ "targets": urls, "database_url": database_url });
        writeln!(out, "{line}")?;
    } else {
        let width = urls.keys().map(String::len).max().unwrap_or(0).max(8);
        for (name, url) in &urls {
            writeln!(out, "{name:<width$}  {url}")?;
        }
        if let Some(db) = &database_url {
            writeln!(out, "{:<width$}  {db}", "database")?;
        }
    }
    out.flush()?;
    drop(out);
    eprintln!("bakeoff up: all targets are up; press Ctrl-C to stop them");

    tokio::select! {
        _ = sigint.recv() => {},
        _ = sigterm.recv() => {},
    }
    eprintln!("bakeoff up: stopping");
    lab.shutdown().await?;
    Ok(Outcome::Ok)
}
