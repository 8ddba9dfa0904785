//! `bakeoff check`: verify the API contract on every target. With `--url`
//! it checks already-running targets (loopback only) and starts nothing;
//! otherwise it starts the private PostgreSQL and the suite's targets
//! through the lifecycle (`crate::targets::Lab`; `--targets compose`: as
//! compose services), checks them, and stops everything, also on Ctrl-C.
//! The checks themselves are `crate::check`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use super::signals::{StopSignals, Stopped};
use crate::Outcome;
use crate::check::{self, CheckResult, table};
use crate::cli::{CheckArgs, TargetsMode};
use crate::report::format::{self, Format};
use crate::targets::{Lab, LabConfig};
use crate::variants::Variants;

pub async fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    let outputs = format::or_default(&args.format, Format::Text);
    format::check_outputs(&outputs)?;
    match (args.targets, args.urls.is_empty()) {
        (TargetsMode::External, _) => anyhow::bail!(
            "--targets external: bakeoff check starts nothing for external targets; pass each as --url NAME=URL"
        ),
        (TargetsMode::Compose, false) => anyhow::bail!(
            "--targets compose starts the targets, --url checks running ones: pass one of them"
        ),
        _ => {}
    }
    let (names, results) = if args.urls.is_empty() {
        check_started(&args).await?
    } else {
        let targets = parse_urls(&args.urls, &args.only)?;
        // With `--url`, a database to verify `/updates` persistence against
        // and to count queries in (otherwise those checks are reported as
        // not verifiable).
        let database_url = crate::env::database_url();
        let names = targets.iter().map(|(n, _)| n.clone()).collect();
        let options = crate::engine::TransportOptions {
            cacert: args.tls.cacert.clone(),
            insecure: args.tls.insecure,
            ..Default::default()
        };
        if options.insecure {
            eprintln!("{}", crate::engine::TransportOptions::INSECURE_WARNING);
        }
        let tls = (*crate::engine::tls::client_config(&options)?).clone();
        let results = check::check_targets_tls(&targets, database_url.as_deref(), Some(tls)).await;
        (names, results)
    };
    let doc = table::document(&names, &results);
    let json = table::json(&results).context("serializing the check results")?;
    format::emit(&outputs, &doc, &json)?;
    Ok(if check::any_failed(&results) {
        Outcome::GateFailed
    } else {
        Outcome::Ok
    })
}

/// `NAME=URL` pairs, validated (http, loopback host), filtered by `--only`,
/// in the order given.
fn parse_urls(urls: &[String], only: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut targets: Vec<(String, String)> = Vec::new();
    for pair in urls {
        let (name, url) = pair
            .split_once('=')
            .filter(|(n, u)| !n.trim().is_empty() && !u.trim().is_empty())
            .with_context(|| format!("--url {pair:?}: expected NAME=URL"))?;
        let name = name.trim().to_string();
        if targets.iter().any(|(n, _)| *n == name) {
            anyhow::bail!("--url: target {name:?} given twice");
        }
        let url = crate::targets::external::validate(&name, url.trim(), false)?;
        targets.push((name, url));
    }
    if let Some(unknown) = only.iter().find(|o| !targets.iter().any(|(n, _)| n == *o)) {
        anyhow::bail!("--only {unknown}: no --url names that target");
    }
    if !only.is_empty() {
        targets.retain(|(n, _)| only.contains(n));
    }
    Ok(targets)
}

/// Starts PostgreSQL and the suite's targets, checks them, stops
/// everything. Logs and the database cluster live in a scratch directory
/// that is removed unless something failed (then its path is printed).
async fn check_started(args: &CheckArgs) -> anyhow::Result<(Vec<String>, Vec<CheckResult>)> {
    // Listen before starting anything, so a signal during start-up is ours.
    let mut signals = StopSignals::new();
    let variants = Variants::load(&crate::targets::targets_root()?).map_err(anyhow::Error::msg)?;
    let plan = crate::suite::load_with(args.suite.as_deref(), &variants.names())?
        .filter(&args.only, &[])?;
    let names = plan.targets.clone();
    let scratch = scratch_dir();
    let lab_env = super::LabEnv::resolve()?;
    let cfg = LabConfig {
        mode: super::lab_mode(args.targets),
        targets_root: crate::targets::targets_root()?,
        log_dir: scratch.join("logs"),
        state_dir: scratch.join("state"),
        server_cpus: plan.cpu.targets.clone(),
        db_connections: plan.db_connections,
        urls: BTreeMap::new(),
        allow_remote: false,
        ready_timeout: lab_env.ready_timeout,
        fixed_ports: lab_env.fixed_ports,
        pg_bindir: lab_env.pg_bindir,
        compose_db_password: lab_env.compose_db_password,
        control_tls: None,
    };
    eprintln!(
        "preparing PostgreSQL and {} ({}) ...",
        names.join(", "),
        cfg.mode.as_str()
    );
    let work = async {
        let mut lab = crate::targets::prepare(cfg, &names).await?;
        let checked = start_and_check(lab.as_mut(), &names).await;
        let stopped = lab.shutdown().await;
        let results = checked?;
        stopped?;
        anyhow::Ok(results)
    };
    // On Ctrl-C or SIGTERM the work is dropped at once, and with it the
    // Lab, whose guard kills what it started.
    let outcome = match signals.guard(work, |_| {}, Some(Duration::ZERO)).await {
        Stopped::Finished(r) | Stopped::Drained { result: r, .. } => r,
        Stopped::Abandoned { signal, .. } => Err(anyhow::anyhow!(
            "interrupted by {signal}: stopped every target and PostgreSQL"
        )),
    };
    let keep = match &outcome {
        Ok(results) => check::any_failed(results),
        Err(_) => true,
    };
    if keep {
        eprintln!("logs of the targets: {}", scratch.join("logs").display());
    } else {
        match std::fs::remove_dir_all(&scratch) {
            // Compose mode writes nothing there: the logs are the engine's.
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                eprintln!("warning: cannot remove {}: {e}", scratch.display());
            }
            _ => {}
        }
    }
    Ok((names, outcome?))
}

async fn start_and_check(lab: &mut dyn Lab, names: &[String]) -> anyhow::Result<Vec<CheckResult>> {
    let mut targets = Vec::with_capacity(names.len());
    for name in names {
        eprintln!("starting {name} ...");
        let t = lab.start(name).await?;
        targets.push((t.name, t.base_url));
    }
    eprintln!("checking {} ...", names.join(", "));
    let database_url = lab.database_url();
    Ok(check::check_targets_with_db(&targets, database_url.as_deref()).await)
}

/// A fresh directory for one check's logs and database cluster.
fn scratch_dir() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("bakeoff-check-{}-{stamp}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_validated_and_filtered() {
        let urls = vec![
            "node=http://127.0.0.1:3000/".to_string(),
            "django-sync=http://[::1]:8000".to_string(),
        ];
        let all = parse_urls(&urls, &[]).unwrap();
        assert_eq!(
            all,
            vec![
                ("node".to_string(), "http://127.0.0.1:3000".to_string()),
                ("django-sync".to_string(), "http://[::1]:8000".to_string()),
            ]
        );
        let only = parse_urls(&urls, &["django-sync".to_string()]).unwrap();
        assert_eq!(only.len(), 1);
        assert!(parse_urls(&urls, &["node-cluster".to_string()]).is_err());
        assert!(parse_urls(&["node".to_string()], &[]).is_err());
        assert!(parse_urls(&["node=http://10.1.2.3:80".to_string()], &[]).is_err());
        let twice = vec![urls[0].clone(), urls[0].clone()];
        assert!(parse_urls(&twice, &[]).is_err());
    }
}
