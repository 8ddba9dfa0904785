//! `bakeoff load URL`: ad-hoc load against one URL, like wrk or oha, with
//! the same engine and results schema as `run`.

use std::path::Path;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::Method;

use super::shard::ShardPlan;
use super::signals::{StopSignals, Stopped};
use crate::Outcome;
use crate::cli::{ArrivalsArg, LoadArgs};
use crate::engine::{
    self, Arrivals, Cancel, Engine, Mix, MixEntry, RateProfile, Schedule, Shard, Stage,
    StepExecutor, StepSpec,
};
use crate::measure::{StepMeta, hgrm};
use crate::progress::StepProgress;
use crate::report::doc::{Column, Document, Rich, Table};
use crate::report::format::{self, Format};
use crate::results::{
    CpuLayout, LatencySummary, RunResults, Summary, local_provenance, now_rfc3339, write_atomic,
};
use crate::suite::bounds::{check_connection_cap, ensure_open_files};
use crate::units;

pub async fn run(args: LoadArgs) -> anyhow::Result<Outcome> {
    // Refuse remote hosts before anything touches the network.
    let url = engine::parse_url(&args.url, args.allow_remote)?;
    let entry = mix_entry(&args, &url.path_and_query)?;
    let outputs = format::or_default(&args.format, Format::Text);
    format::check_outputs(&outputs)?;
    let files = outputs.iter().filter_map(|o| o.path.as_ref());
    for path in [&args.output, &args.hgrm]
        .into_iter()
        .flatten()
        .chain(files)
    {
        check_writable(path)?;
    }
    // -c, --rate and the durations are bounded by their value parsers
    // (cli.rs); the cap and the open-file limit need both flags or the OS.
    check_connection_cap("-c/--connections", args.connections, args.max_connections)?;
    ensure_open_files(args.connections)?;
    let load = resolve_load(&args)?;
    let sharding = ShardPlan::resolve(args.shard.as_deref(), args.start_at.as_deref())?;
    let options = super::transport_options(&args.transport);
    if options.insecure {
        eprintln!("{}", engine::TransportOptions::INSECURE_WARNING);
    }
    let (transport, transport_record) =
        crate::runner::step_transport(&options, &url.endpoint, &args.url).await?;
    let schedule = load.schedule.clone();
    let spec = StepSpec {
        transport: transport.clone(),
        endpoint: url.endpoint.clone(),
        mix: Mix::single(entry),
        schedule: load.schedule.clone(),
        warmup: load.warmup,
        duration: load.duration,
        timeout: args.timeout,
        max_requests: args.requests,
        seed: 0x0BAD_C0FFEE,
        cpus: args.cpus.clone(),
        cancel: Cancel::new(),
        shard: sharding.as_ref().map_or(Shard::WHOLE, |s| s.shard),
        start_at: sharding.as_ref().map(|s| s.start_at),
    };
    // What every shard must share, hashed into provenance.shard.plan_hash.
    let shard_record = sharding.as_ref().map(|s| {
        let plan = format!(
            "load {} {} {:?} {:?}\n{:?}\nwarmup {:?} duration {:?} timeout {:?} requests {:?} seed {}",
            args.method.to_ascii_uppercase(),
            args.url,
            args.headers.iter().map(|h| (h.name.as_str(), h.value.as_bytes())).collect::<Vec<_>>(),
            args.body,
            spec.schedule,
            spec.warmup,
            spec.duration,
            spec.timeout,
            spec.max_requests,
            spec.seed
        );
        s.record(&plan)
    });
    if let (Some(r), false) = (&shard_record, args.quiet) {
        eprintln!(
            "bakeoff: shard {}/{} starts at {}",
            r.index, r.count, r.start_at
        );
    }
    let cancel = spec.cancel.clone();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| url.endpoint.authority.clone());
    // A shard's step starts at the shared start, not when it was launched.
    let started_at = shard_record
        .as_ref()
        .map_or_else(now_rfc3339, |r| r.start_at.clone());
    let progress = StepProgress::start(&name, load.warmup + load.duration, args.quiet);
    let mut signals = StopSignals::new();
    let step = Engine.run(spec, Box::new(progress));
    let on_signal = |signal| {
        cancel.cancel();
        eprintln!("bakeoff: {signal}: stopping; what was measured is kept (again to quit at once)");
    };
    let measurement = match signals.guard(step, on_signal, None).await {
        Stopped::Finished(m) | Stopped::Drained { result: m, .. } => m?,
        Stopped::Abandoned { .. } => {
            // `load` starts no processes: nothing to clean up.
            eprintln!("bakeoff: second interrupt, quitting without results");
            std::process::exit(130);
        }
    };
    let mut measurement = measurement;
    measurement.summary.transport = transport_record;
    let interrupted = measurement.interrupted;

    if let Some(path) = &args.hgrm {
        write_atomic(path, hgrm::render(&measurement.latency).as_bytes())?;
    }
    let doc = document(&name, &args, &load, &measurement.summary, interrupted);
    let json = serde_json::to_value(&measurement.summary)?;
    format::emit(&outputs, &doc, &json)?;
    if let Some(path) = &args.output {
        let (model, level) = (schedule.model(), schedule.level());
        let mut provenance = local_provenance("load", "adhoc");
        provenance.started_at = started_at.clone();
        provenance.shard = shard_record;
        if !args.cpus.is_empty() {
            provenance.cpu_layout = Some(CpuLayout {
                generator: args.cpus.clone(),
                targets: Vec::new(),
            });
        }
        let mut results = RunResults::new(provenance);
        let meta = StepMeta {
            target: name,
            scenario: "load".into(),
            model,
            level,
            repeat: 0,
            started_at,
        };
        results.steps.push(measurement.into_step(meta, None, None));
        results.complete = !interrupted;
        results.save_atomic(path)?;
    }
    Ok(if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Ok
    })
}

/// What `load` runs, resolved once from the flags.
struct Load {
    schedule: Schedule,
    warmup: std::time::Duration,
    duration: std::time::Duration,
}

/// Warm-up default without --stages.
const DEFAULT_WARMUP: std::time::Duration = std::time::Duration::from_secs(1);

/// The flags' schedule, warm-up and measured duration: `--stages` makes
/// the window their sum and the warm-up 0 unless given.
fn resolve_load(args: &LoadArgs) -> anyhow::Result<Load> {
    let arrivals = match args.arrivals {
        None | Some(ArrivalsArg::Uniform) => Arrivals::Uniform,
        Some(ArrivalsArg::Poisson) => Arrivals::Poisson,
    };
    if args.arrivals.is_some() && args.rate.is_none() && args.stages.is_none() {
        bail!("--arrivals applies to the open model: give --rate R or --stages too");
    }
    let connections = args.connections;
    let (schedule, duration, warmup) = match (&args.stages, args.rate) {
        (Some(list), _) => {
            let stages = list
                .stages
                .iter()
                .map(|&(duration, rate)| Stage { duration, rate })
                .collect();
            let profile = RateProfile::stages(args.start_rate, stages).map_err(|e| {
                anyhow::anyhow!("invalid value '{}' for '--stages': {e}", list.text)
            })?;
            let duration = profile.duration().unwrap_or(args.duration);
            let schedule = Schedule::Open {
                profile,
                connections,
                arrivals,
            };
            (schedule, duration, args.warmup.unwrap_or_default())
        }
        (None, Some(rate)) => {
            let schedule = Schedule::Open {
                profile: RateProfile::constant(rate),
                connections,
                arrivals,
            };
            (
                schedule,
                args.duration,
                args.warmup.unwrap_or(DEFAULT_WARMUP),
            )
        }
        (None, None) => (
            Schedule::Closed { connections },
            args.duration,
            args.warmup.unwrap_or(DEFAULT_WARMUP),
        ),
    };
    Ok(Load {
        schedule,
        warmup,
        duration,
    })
}

/// "open model, stages 10s:200 → 2s:2000 (from 100 req/s), poisson
/// arrivals, 64 connections", or the constant-rate and closed forms.
fn describe(schedule: &Schedule) -> String {
    match schedule {
        Schedule::Closed { connections } => format!("closed model, {connections} connections"),
        // `load` builds closed and open schedules only.
        Schedule::Fanout { subscribers, .. } => format!("fan-out, {subscribers} subscribers"),
        Schedule::Open {
            profile,
            connections,
            arrivals,
        } => {
            let arrivals = match arrivals {
                Arrivals::Uniform => String::new(),
                a => format!(", {} arrivals", a.as_str()),
            };
            let stages = profile.stage_list();
            if stages.is_empty() {
                return format!(
                    "open model, {} req/s{arrivals} over {connections} connections",
                    profile.start_rate()
                );
            }
            let list = stages
                .iter()
                .map(|s| format!("{}:{}", short_duration(s.duration), s.rate))
                .collect::<Vec<_>>()
                .join(" → ");
            let from = if profile.start_rate() == stages[0].rate {
                String::new()
            } else {
                format!(" from {} req/s", profile.start_rate())
            };
            format!(
                "open model, stages {list}{from} (peak {} req/s){arrivals}, {connections} connections",
                profile.peak()
            )
        }
    }
}

/// "baseline p99 4.10 ms at 200 req/s; peak p99 310 ms, backlog 812;
/// errors from the surge on: 0; back to baseline 2 s after the surge ...".
fn surge_fact(s: &crate::results::SurgeSummary) -> String {
    let share = units::number(crate::measure::RECOVERY_ERROR_SHARE * 100.0);
    let recovered = match s.recovery_s {
        Some(_) => format!(
            "back to baseline {} after the surge ended at {}s (p99 ≤ {} and ≤ {share}% errors for {} s)",
            units::recovery(s.recovery_s),
            units::number(s.end_s),
            units::latency_opt_us(s.tolerance_p99_us),
            units::number(s.hold_s)
        ),
        None => format!(
            "not back to baseline (p99 ≤ {} and ≤ {share}% errors for {} s) before the window ended",
            units::latency_opt_us(s.tolerance_p99_us),
            units::number(s.hold_s)
        ),
    };
    format!(
        "{}: baseline p99 {} at {} req/s; peak p99 {}, peak backlog {}; errors from the surge on: {}; {recovered}",
        s.outcome.as_str(),
        units::latency_opt_us(s.baseline_p99_us),
        units::number(s.baseline_rate),
        units::latency_opt_us(s.peak_p99_us),
        s.peak_backlog,
        units::errors(s.surge_errors, s.surge_offered, 0),
    )
}

/// "10s", "500ms", "250us": the duration grammar's own spelling.
fn short_duration(d: std::time::Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_nanos() % 1_000_000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}us", d.as_secs_f64() * 1e6)
    }
}

fn mix_entry(args: &LoadArgs, path: &str) -> anyhow::Result<MixEntry> {
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .with_context(|| format!("invalid --method {:?}", args.method))?;
    let mut entry = MixEntry::get(path);
    entry.label = format!("{method} {path}");
    entry.method = method;
    for h in &args.headers {
        entry.headers.append(h.name.clone(), h.value.clone());
    }
    if let Some(body) = &args.body {
        entry.body = Bytes::from(body.clone());
    }
    Ok(entry)
}

/// Fails early when an output file could not be written later.
pub(super) fn check_writable(path: &Path) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let probe = dir.join(format!(".bakeoff-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("cannot write {}", path.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// What `load` shows: a table of what was run and measured, the latency
/// percentiles (successful, uncorrected, failed requests), and notes.
fn document(name: &str, args: &LoadArgs, load: &Load, s: &Summary, interrupted: bool) -> Document {
    let mut doc = Document::new("");
    let mut facts = Table::new(vec![Column::left(""), Column::left("")]);
    let mut fact = |k: &str, v: String| facts.row([Rich::text(k), Rich::text(v)]);
    let model = describe(&load.schedule);
    fact(
        "Target",
        format!("{name} {} {}", args.method.to_ascii_uppercase(), args.url),
    );
    fact(
        "Load",
        format!(
            "{model}, {:.1}s measured after {:.1}s warm-up",
            load.duration.as_secs_f64(),
            load.warmup.as_secs_f64()
        ),
    );
    if interrupted {
        fact(
            "Interrupted",
            format!("only {:.2}s of the window ran", s.duration_s),
        );
    }
    fact(
        "Requests",
        format!(
            "{} in {:.2}s, {} errors ({:.2}%), {} successful req/s",
            s.requests,
            s.duration_s,
            s.errors,
            s.error_rate * 100.0,
            units::rate(s.rps)
        ),
    );
    let counts = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    fact(
        "Status",
        if s.status.is_empty() {
            "none".into()
        } else {
            counts(&s.status)
        },
    );
    if !s.errors_by_kind.is_empty() {
        fact("Errors", counts(&s.errors_by_kind));
    }
    let g = &s.generator;
    let per_req = if s.requests > 0 {
        g.cpu_s * 1e6 / s.requests as f64
    } else {
        0.0
    };
    fact(
        "Generator",
        format!(
            "{:.2} CPU s ({per_req:.1} µs/request), {} thread{}, busiest {:.0}% busy ({:.0}% wanting a CPU)",
            g.cpu_s,
            g.threads,
            if g.threads == 1 { "" } else { "s" },
            g.busiest_thread_utilization * 100.0,
            g.busiest_thread_runnable * 100.0
        ),
    );
    if let (Some(lag), Some(own)) = (&g.send_lag_us, &g.wake_lag_us) {
        let mut v = format!(
            "p50 {} p99 {} ({} late sends); generator's own delay p50 {} p99 {}",
            units::latency_us(lag.p50),
            units::latency_us(lag.p99),
            g.late_sends,
            units::latency_us(own.p50),
            units::latency_us(own.p99),
        );
        if g.unsent > 0 {
            v.push_str(&format!(", {} never sent (counted as errors)", g.unsent));
        }
        fact("Send lag", v);
    }
    if let Some(surge) = &s.surge {
        fact("Surge", surge_fact(surge));
    } else if load.schedule.surge().is_some() {
        fact(
            "Surge",
            format!(
                "no surge figures: they need a whole second before the surge and {} seconds after it within the window",
                crate::measure::RECOVERY_HOLD
            ),
        );
    }
    doc.table(facts);

    let mut latency = Table::new(
        std::iter::once(Column::left("latency"))
            .chain(
                ["min", "mean", "p50", "p90", "p99", "p99.9", "max"]
                    .into_iter()
                    .map(Column::right),
            )
            .collect(),
    );
    let mut row = |what: &str, l: &LatencySummary| {
        latency.row(
            std::iter::once(what.to_string())
                .chain(
                    [l.min, l.mean as u64, l.p50, l.p90, l.p99, l.p999, l.max]
                        .into_iter()
                        .map(units::latency_us),
                )
                .map(Rich::text),
        )
    };
    match &s.latency_us {
        Some(l) if load.schedule.model() == crate::model::Model::Open => {
            row("successful, from intended send time", l)
        }
        Some(l) => row("successful", l),
        None => {}
    }
    if let Some(u) = &s.uncorrected_latency_us {
        row("successful, uncorrected", u);
    }
    if let Some(f) = &s.failed_latency_us {
        row("failed, time to the error", f);
    }
    if !latency.rows.is_empty() {
        doc.table(latency);
    }
    if s.latency_us.is_none() {
        doc.note("no request succeeded, so there is no latency of successful requests");
    }
    if s.out_of_range > 0 {
        doc.note(format!(
            "{} latencies beyond the histogram's 1 h range, recorded at 1 h",
            s.out_of_range
        ));
    }
    if let Some(why) = &g.saturated {
        doc.note(
            Rich::strong("the generator was the bottleneck").and(format!(
                " ({why}): these figures are its limit, not the target's"
            )),
        );
    }
    doc
}
