//! `bakeoff load URL`: ad-hoc load against one URL, like wrk or oha, with
//! the same engine and results schema as `run`.

use std::path::Path;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::Method;

use super::signals::{StopSignals, Stopped};
use crate::Outcome;
use crate::cli::{LoadArgs, OutputFormat};
use crate::engine::{self, Cancel, Engine, Mix, MixEntry, Schedule, StepExecutor, StepSpec};
use crate::measure::{StepMeta, hgrm};
use crate::progress::StepProgress;
use crate::results::{
    CpuLayout, Model, RunResults, Summary, local_provenance, now_rfc3339, write_atomic,
};
use crate::suite::bounds::{check_connection_cap, ensure_open_files};
use crate::units;

pub async fn run(args: LoadArgs) -> anyhow::Result<Outcome> {
    // Refuse remote hosts before anything touches the network.
    let url = engine::parse_url(&args.url, args.allow_remote)?;
    let entry = mix_entry(&args, &url.path_and_query)?;
    for path in [&args.output, &args.hgrm].into_iter().flatten() {
        check_writable(path)?;
    }
    // -c, --rate and the durations are bounded by their value parsers
    // (cli.rs); the cap and the open-file limit need both flags or the OS.
    check_connection_cap("-c/--connections", args.connections, args.max_connections)?;
    ensure_open_files(args.connections)?;
    let schedule = match args.rate {
        Some(rate) => Schedule::Open {
            rate,
            connections: args.connections,
        },
        None => Schedule::Closed {
            connections: args.connections,
        },
    };
    let spec = StepSpec {
        endpoint: url.endpoint.clone(),
        mix: Mix::single(entry),
        schedule,
        warmup: args.warmup,
        duration: args.duration,
        timeout: args.timeout,
        max_requests: args.requests,
        seed: 0x0BAD_C0FFEE,
        cpus: args.cpus.clone(),
        cancel: Cancel::new(),
    };
    let cancel = spec.cancel.clone();
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| url.endpoint.authority.clone());
    let started_at = now_rfc3339();
    let progress = StepProgress::start(&name, args.warmup + args.duration, args.quiet);
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
    let interrupted = measurement.interrupted;

    if let Some(path) = &args.hgrm {
        write_atomic(path, hgrm::render(&measurement.latency).as_bytes())?;
    }
    match args.format {
        OutputFormat::Json => {
            crate::outln!("{}", serde_json::to_string_pretty(&measurement.summary)?)
        }
        OutputFormat::Text => crate::out!(
            "{}",
            text_report(&name, &args, &measurement.summary, interrupted)
        ),
    }
    if let Some(path) = &args.output {
        let (model, level) = match schedule {
            Schedule::Closed { connections } => (Model::Closed, u64::from(connections)),
            Schedule::Open { rate, .. } => (Model::Open, rate.round() as u64),
        };
        let mut provenance = local_provenance("load", "adhoc");
        provenance.started_at = started_at.clone();
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
        results.steps.push(measurement.into_step(meta, None));
        results.complete = !interrupted;
        results.save_atomic(path)?;
    }
    Ok(if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Ok
    })
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
fn check_writable(path: &Path) -> anyhow::Result<()> {
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

fn text_report(name: &str, args: &LoadArgs, s: &Summary, interrupted: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let model = match args.rate {
        Some(rate) => format!(
            "open model, {rate} req/s over {} connections",
            args.connections
        ),
        None => format!("closed model, {} connections", args.connections),
    };
    let _ = writeln!(
        out,
        "Target      {name}  {} {}",
        args.method.to_ascii_uppercase(),
        args.url
    );
    let _ = writeln!(
        out,
        "Load        {model}, {:.1}s measured after {:.1}s warm-up",
        args.duration.as_secs_f64(),
        args.warmup.as_secs_f64()
    );
    if interrupted {
        let _ = writeln!(
            out,
            "Interrupted only {:.2}s of the window ran",
            s.duration_s
        );
    }
    let _ = writeln!(
        out,
        "Requests    {} in {:.2}s, {} errors ({:.2}%), {} successful req/s",
        s.requests,
        s.duration_s,
        s.errors,
        s.error_rate * 100.0,
        units::rate(s.rps)
    );
    let lat = |l: &crate::results::LatencySummary| {
        format!(
            "min {}  mean {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            units::latency_us(l.min),
            units::latency_us(l.mean as u64),
            units::latency_us(l.p50),
            units::latency_us(l.p90),
            units::latency_us(l.p99),
            units::latency_us(l.p999),
            units::latency_us(l.max)
        )
    };
    let corrected = if args.rate.is_some() {
        " (from intended send time)"
    } else {
        ""
    };
    match &s.latency_us {
        Some(l) => {
            let _ = writeln!(out, "Latency     {}{corrected}", lat(l));
        }
        None => {
            let _ = writeln!(out, "Latency     n/a: no request succeeded");
        }
    }
    if let Some(u) = &s.uncorrected_latency_us {
        let _ = writeln!(out, "Uncorrected {}", lat(u));
    }
    if let Some(f) = &s.failed_latency_us {
        let _ = writeln!(out, "Failed      {} (time to the error)", lat(f));
    }
    if s.out_of_range > 0 {
        let _ = writeln!(
            out,
            "Range       {} latencies beyond the histogram's 1 h range, recorded at 1 h",
            s.out_of_range
        );
    }
    let status: Vec<String> = s.status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let _ = writeln!(
        out,
        "Status      {}",
        if status.is_empty() {
            "none".into()
        } else {
            status.join(", ")
        }
    );
    if !s.errors_by_kind.is_empty() {
        let errs: Vec<String> = s
            .errors_by_kind
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(out, "Errors      {}", errs.join(", "));
    }
    let per_req = if s.requests > 0 {
        s.generator.cpu_s * 1e6 / s.requests as f64
    } else {
        0.0
    };
    let g = &s.generator;
    let _ = write!(
        out,
        "Generator   {:.2} CPU s ({per_req:.1} µs/request), {} thread{}, busiest {:.0}% busy ({:.0}% wanting a CPU)",
        g.cpu_s,
        g.threads,
        if g.threads == 1 { "" } else { "s" },
        g.busiest_thread_utilization * 100.0,
        g.busiest_thread_runnable * 100.0
    );
    if let (Some(lag), Some(own)) = (&g.send_lag_us, &g.wake_lag_us) {
        let _ = write!(
            out,
            "\nSend lag    p50 {} p99 {} ({} late sends); generator's own delay p50 {} p99 {}",
            units::latency_us(lag.p50),
            units::latency_us(lag.p99),
            g.late_sends,
            units::latency_us(own.p50),
            units::latency_us(own.p99),
        );
        if g.unsent > 0 {
            let _ = write!(out, ", {} never sent (counted as errors)", g.unsent);
        }
    }
    out.push('\n');
    if let Some(why) = &g.saturated {
        let _ = writeln!(
            out,
            "Warning     the generator was the bottleneck ({why}): these figures are its limit, not the target's"
        );
    }
    out
}
