//! `bakeoff run [SUITE]`: validate the suite, start the lab, run every
//! step, write results after each, draw reports, evaluate gates, stop
//! everything started, on success, error and Ctrl-C alike. `--junit FILE`
//! writes the gates as JUnit XML ([`crate::report::junit`]); until they are
//! evaluated the file holds one case in error saying the run did not finish.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use super::signals::{StopSignals, Stopped};
use crate::Outcome;
use crate::cli::{RunArgs, TargetsMode};
use crate::engine::Engine;
use crate::report::junit;
use crate::results::{CpuLayout, RunResults, local_provenance};
use crate::runner::{Interrupted, Runner, default_out_dir};
use crate::suite::{self, SuitePlan};
use crate::targets::{self, LabConfig};
use crate::variants::Variants;

/// After Ctrl-C, how long the lab gets to stop in order before whatever
/// is left is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

pub async fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    // Everything that can be wrong with the input fails here, before any
    // process starts.
    let variants = run_variants(args.targets)?;
    let plan = load_plan(&args, &variants)?;
    let urls = external_urls(&plan, &args.urls, args.allow_remote)?;
    let sharding =
        super::shard::ShardPlan::resolve(args.shard.as_deref(), args.start_at.as_deref())?;
    let plan_record = plan.record();
    if let Some(s) = &sharding {
        if args.targets != TargetsMode::External {
            anyhow::bail!(
                "--shard {} needs --targets external: every shard must load the same running targets, not targets of its own",
                s.shard
            );
        }
        if let Some(sc) = plan_record
            .scenarios
            .iter()
            .find(|s| s.slo_p99_us.is_some())
        {
            anyhow::bail!(
                "--shard: scenario '{}' has an SLO search (slo_p99), whose next level depends on what each shard measured, so shards would leave the shared time-table; shard a suite without slo_p99",
                sc.name
            );
        }
    }
    if args.targets == TargetsMode::External {
        for target in &plan.targets {
            let url = urls.get(target).with_context(|| {
                format!("--targets external needs a URL for {target}: add it under [urls] in the suite or pass --url {target}=http://127.0.0.1:PORT")
            })?;
            targets::external::validate(target, url, args.allow_remote)?;
        }
    }
    let out_dir = match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => default_out_dir(Path::new("results"))?,
    };
    let results_path = out_dir.join(crate::results::RESULTS_FILE);
    let targets_root = match args.targets {
        TargetsMode::Local | TargetsMode::Compose => targets::targets_root()?,
        TargetsMode::External => PathBuf::from("."),
    };
    let state_dir = std::env::temp_dir().join(format!(
        "bakeoff-{}-{}",
        std::process::id(),
        crate::results::now_compact()
    ));

    let mode = super::lab_mode(args.targets);
    let lab_env = super::LabEnv::resolve()?;
    let mut provenance = local_provenance(&plan.name, mode.as_str());
    provenance.variants = variants.0.clone();
    provenance.cpu_layout = Some(CpuLayout {
        generator: plan.cpu.generator.clone(),
        targets: plan.cpu.targets.clone(),
    });
    provenance.notes.push(format!(
        "The load generator (CPUs {:?}) and the servers (CPUs {:?}) share this {}-core machine: compare figures with each other, not with other machines.",
        plan.cpu.generator, plan.cpu.targets, provenance.cores
    ));
    provenance.notes.push(format!(
        "Suite: {}; {} steps planned.",
        plan.source.display(),
        plan.step_count()
    ));
    if let Some(s) = &sharding {
        // Every shard's plan, as recorded, must be the same plan.
        provenance.shard = Some(s.record(&serde_json::to_string(&plan_record)?));
    }
    let mut results = RunResults::new(provenance);
    results.plan = Some(plan_record);
    let mut runner = Runner::new(&plan, results_path.clone(), results);
    if let Some(s) = &sharding {
        runner.shard = s.shard;
        runner.start_at = Some(s.start_at);
    }
    runner.allow_remote = args.allow_remote;
    let transport = super::transport_options(&args.transport);
    transport.validate()?;
    if transport.insecure {
        eprintln!("{}", crate::engine::TransportOptions::INSECURE_WARNING);
    }
    runner.transport = transport.clone();
    runner.panic_after_steps = crate::env::debug_panic_after_steps();
    // Written now so a bad output path fails before anything starts.
    runner.save()?;
    // Likewise the JUnit file, which says the run did not finish until
    // the gates replace it at the end.
    let write_junit = |suite: &junit::Suite| -> anyhow::Result<()> {
        match &args.junit {
            Some(path) => Ok(junit::write(path, suite)?),
            None => Ok(()),
        }
    };
    write_junit(&junit::unfinished_suite(
        &plan.name,
        "the run did not finish: no gate was evaluated",
    ))?;
    targets::process::install_panic_hook();

    eprintln!(
        "bakeoff: suite {} — {} targets, {} scenarios, {} steps, ≈{}s of load; results in {}",
        plan.name,
        plan.targets.len(),
        plan.scenarios.len(),
        plan.step_count(),
        plan.measurement_time().as_secs(),
        out_dir.display()
    );
    let cfg = LabConfig {
        mode,
        targets_root,
        log_dir: out_dir.join("logs"),
        state_dir: state_dir.clone(),
        server_cpus: plan.cpu.targets.clone(),
        db_connections: plan.db_connections,
        urls,
        allow_remote: args.allow_remote,
        ready_timeout: lab_env.ready_timeout,
        fixed_ports: lab_env.fixed_ports,
        pg_bindir: lab_env.pg_bindir,
        compose_db_password: lab_env.compose_db_password,
        control_tls: Some(crate::engine::tls::client_config(&transport)?),
    };
    let cancel = runner.cancel.clone();
    let mut signals = StopSignals::new();
    let on_signal = |signal| {
        cancel.cancel();
        eprintln!(
            "\nbakeoff: {signal}: stopping the step in progress and everything started (again to stop at once)"
        );
    };
    // On a signal the step ends within milliseconds and is saved; then the
    // lab shuts down in order. Past the grace period, or on a second
    // signal, `execute` is dropped, and with it the lab, whose guard kills
    // any process it still owns.
    let (interrupted_by, outcome) = match signals
        .guard(execute(cfg, &mut runner), on_signal, Some(STOP_GRACE))
        .await
    {
        Stopped::Finished(r) => (None, r),
        Stopped::Drained { signal, result } => (Some(signal), result.and(Err(Interrupted.into()))),
        Stopped::Abandoned { signal, why } => (
            Some(signal),
            Err(anyhow::anyhow!("interrupted: {why}; killed what was left")),
        ),
    };
    let _ = std::fs::remove_dir_all(&state_dir);
    runner.results.complete = outcome.is_ok();
    runner.save()?;
    let results = runner.results;
    let analysis = analyze_run(&results, &plan);
    write_reports(&out_dir, &results, &analysis);

    if let (Some(signal), Err(err)) = (interrupted_by, &outcome) {
        write_junit(&junit::unfinished_suite(
            &plan.name,
            &format!("the run was interrupted by {signal}: no gate was evaluated"),
        ))?;
        eprintln!(
            "bakeoff: run interrupted by {signal} ({err:#})\n{} steps measured are kept in {} (marked incomplete; the last one marked interrupted if it was cut short)",
            results.steps.len(),
            results_path.display()
        );
        return Ok(Outcome::Interrupted);
    }
    if let Err(err) = outcome {
        write_junit(&junit::unfinished_suite(
            &plan.name,
            &format!("the run stopped: {err:#}"),
        ))?;
        eprintln!(
            "bakeoff: run stopped: {err:#}\n{} steps measured are kept in {} (marked incomplete)",
            results.steps.len(),
            results_path.display()
        );
        return Err(err);
    }
    crate::out!(
        "{}",
        crate::report::render::text::render(&crate::report::terminal::run_summary(
            &analysis.summary
        ))
    );
    let failed: Vec<_> = analysis.gates.iter().filter(|g| !g.passed).collect();
    for g in &failed {
        crate::outln!("gate {g}");
    }
    write_junit(&junit::gates_suite(
        &plan.name,
        &analysis.gates,
        Some(results.provenance.started_at.clone()),
        Some(results.provenance.host.clone()),
    ))?;
    crate::outln!("results: {}", out_dir.display());
    crate::outln!("report:  {}", out_dir.join("report.md").display());
    if failed.is_empty() {
        Ok(Outcome::Ok)
    } else {
        Ok(Outcome::GateFailed)
    }
}

async fn execute(cfg: LabConfig, runner: &mut Runner<'_>) -> anyhow::Result<()> {
    let mut lab = targets::prepare(cfg, &runner.plan.targets).await?;
    runner.results.provenance.versions = lab.versions();
    runner.results.provenance.notes.extend(lab.notes());
    runner
        .results
        .provenance
        .versions
        .insert("bakeoff".into(), env!("CARGO_PKG_VERSION").into());
    runner.save()?;
    let outcome = runner.run_all(lab.as_mut(), &Engine).await;
    let stopped = lab.shutdown().await;
    outcome?;
    stopped?;
    Ok(())
}

/// The reference variants: those of the targets.toml that local and
/// compose mode start from, the built-in list for external targets.
fn run_variants(mode: TargetsMode) -> anyhow::Result<Variants> {
    Ok(match mode {
        TargetsMode::Local | TargetsMode::Compose => {
            Variants::load(&targets::targets_root()?).map_err(anyhow::Error::msg)?
        }
        TargetsMode::External => Variants::embedded().clone(),
    })
}

fn load_plan(args: &RunArgs, variants: &Variants) -> anyhow::Result<SuitePlan> {
    let names = variants.names();
    let plan = match (&args.suite, args.quick) {
        (None, true) => suite::quick_with(&names)?,
        (None, false) => suite::load_with(None, &names)?,
        (Some(path), quick) => {
            let plan = suite::load_with(Some(path), &names)?;
            if quick { plan.shortened() } else { plan }
        }
    };
    let mut plan = plan.filter(&args.only, &args.scenario)?;
    if let Some(n) = args.repeat {
        plan = plan.with_repeats(n);
    }
    if plan.targets.is_empty() || plan.scenarios.is_empty() {
        bail!("nothing to run: the suite selects no targets or no scenarios");
    }
    if !args.allow_remote {
        plan.refuse_remote_urls()?;
    }
    plan.check_connection_cap(args.max_connections)?;
    crate::suite::bounds::ensure_open_files(plan.max_connections())?;
    if args.targets != TargetsMode::External {
        if let Some(name) = plan.targets.iter().find(|t| !variants.contains(t)) {
            bail!(
                "target {name:?} of {} is not a reference variant, so it cannot be started (--targets local and compose start {}); to load it at its [urls] entry, pass --targets external",
                plan.source.display(),
                names.join(", ")
            );
        }
    }
    Ok(plan)
}

/// The suite's `[urls]` overridden by `--url NAME=URL`. A URL that does
/// not parse, or names a host off loopback without `--allow-remote`, is
/// refused here whatever the mode (the suite's own are checked by
/// `load_plan`).
fn external_urls(
    plan: &SuitePlan,
    flags: &[String],
    allow_remote: bool,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut urls = plan.urls.clone();
    for flag in flags {
        let (name, url) = flag
            .split_once('=')
            .with_context(|| format!("invalid --url {flag:?}: expected NAME=URL"))?;
        match crate::engine::parse_url(url.trim(), false) {
            Ok(_) => {}
            Err(crate::engine::EndpointError::Remote { .. }) if allow_remote => {}
            Err(e) => bail!("invalid --url {flag:?}: {e}"),
        }
        urls.insert(
            name.trim().to_string(),
            url.trim().trim_end_matches('/').to_string(),
        );
    }
    Ok(urls)
}

/// The one analysis of the run: figures, verdicts (embedded claims) and
/// the suite's gates.
fn analyze_run(results: &RunResults, plan: &SuitePlan) -> crate::analysis::Analysis {
    let claims = match crate::claims::load(None) {
        Ok(c) => Some(c),
        Err(err) => {
            eprintln!("bakeoff: verdicts not evaluated: {err:#}");
            None
        }
    };
    crate::analysis::analyze(results, claims.as_ref(), &plan.thresholds)
}

fn write_reports(out_dir: &Path, results: &RunResults, analysis: &crate::analysis::Analysis) {
    // A report that cannot be drawn must not lose the measured results.
    if let Err(err) = crate::report::write_reports(out_dir, results, analysis) {
        eprintln!("bakeoff: reports not written: {err}");
    }
}
