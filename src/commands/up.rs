//! `bakeoff up`: brings up the private PostgreSQL and the targets of a suite
//! (default: every variant of targets/targets.toml) as local processes,
//! prints their URLs once all are healthy, and stays up until SIGINT or
//! SIGTERM, then stops everything it started. The lifecycle itself lives in
//! `crate::targets`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use super::signals::{StopSignals, Stopped};
use crate::Outcome;
use crate::cli::UpArgs;
use crate::suite::CpuPlan;
use crate::targets::{self, LabConfig, Mode, TargetsSpec, process};
use crate::variants::Variants;

/// DB_POOL when no suite says otherwise.
const DEFAULT_DB_CONNECTIONS: u32 = 16;

pub async fn run(args: UpArgs) -> anyhow::Result<Outcome> {
    process::install_panic_hook();
    // Listen before starting anything, so a Ctrl-C during start-up is ours.
    let mut signals = StopSignals::new();

    let root = targets::targets_root()?;
    let (mut names, cpus, db_connections) = match &args.suite {
        Some(path) => {
            let variants = Variants::load(&root).map_err(anyhow::Error::msg)?;
            let plan = crate::suite::load_with(Some(path), &variants.names())?;
            (plan.targets, plan.cpu.targets, plan.db_connections)
        }
        None => (
            TargetsSpec::load(&root)?.names(),
            CpuPlan::auto(&crate::cpus::allowed()).targets,
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
    let lab_env = super::LabEnv::resolve()?;
    let cfg = LabConfig {
        mode: Mode::Local,
        targets_root: root,
        log_dir: run_dir.join("logs"),
        state_dir: run_dir.join("state"),
        server_cpus: cpus,
        db_connections,
        urls: BTreeMap::new(),
        allow_remote: false,
        ready_timeout: lab_env.ready_timeout,
        fixed_ports: lab_env.fixed_ports,
        pg_bindir: lab_env.pg_bindir,
        compose_db_password: lab_env.compose_db_password,
        control_tls: None,
    };
    eprintln!("bakeoff up: logs in {}", cfg.log_dir.display());

    let startup = async {
        let mut lab = targets::prepare(cfg, &names).await?;
        let mut urls = BTreeMap::new();
        for name in &names {
            let t = lab.start(name).await?;
            urls.insert(t.name, t.base_url);
        }
        Ok::<_, targets::TargetError>((lab, urls))
    };
    let (lab, urls) = match signals.guard(startup, |_| {}, Some(Duration::ZERO)).await {
        Stopped::Finished(r) | Stopped::Drained { result: r, .. } => r?,
        Stopped::Abandoned { .. } => {
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

    signals.next().await;
    eprintln!("bakeoff up: stopping");
    let mut lab = lab;
    lab.shutdown().await?;
    Ok(Outcome::Ok)
}
