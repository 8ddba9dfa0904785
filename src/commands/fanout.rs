//! `bakeoff fanout ws://…`: one fan-out step against a WebSocket broadcast
//! endpoint (S subscribers, P publishers at R messages/s), through the
//! engine's fan-out model; prints its delivery counts and latency.

use std::collections::BTreeMap;

use anyhow::bail;
use serde::Serialize;

use super::load::check_writable;
use super::signals::{StopSignals, Stopped};
use crate::Outcome;
use crate::cli::FanoutArgs;
use crate::engine::fanout::{FanoutSpec, parse_ws_url};
use crate::engine::{Cancel, EngineError, StepObserver, run_fanout};
use crate::measure::{Measurement, StepMeta};
use crate::model::Model;
use crate::progress::StepProgress;
use crate::report::doc::{Column, Document, Rich, Table};
use crate::report::format::{self, Format};
use crate::results::{LatencySummary, RunResults, local_provenance, now_rfc3339};
use crate::suite::bounds::ensure_open_files;
use crate::units;

/// What `fanout --format json` prints (results/README.md, "Fan-out figures").
#[derive(Debug, Serialize)]
struct Report<'a> {
    url: &'a str,
    subscribers: u64,
    connected: u64,
    publishers: u64,
    rate: f64,
    duration_s: f64,
    published: u64,
    expected: u64,
    delivered: u64,
    lost: u64,
    duplicated: u64,
    /// Delivery latency; `null` when nothing was delivered.
    latency_us: Option<LatencySummary>,
    /// Deliveries per second of the window.
    deliveries_per_s: f64,
    errors_by_kind: &'a BTreeMap<String, u64>,
    interrupted: bool,
}

pub async fn run(args: FanoutArgs) -> anyhow::Result<Outcome> {
    // Refuse remote hosts before anything touches the network.
    let url = parse_ws_url(&args.url)?;
    let outputs = format::or_default(&args.format, Format::Text);
    format::check_outputs(&outputs)?;
    let files = outputs.iter().filter_map(|o| o.path.as_ref());
    for path in args.output.iter().chain(files) {
        check_writable(path)?;
    }
    if args.publishers > args.subscribers {
        bail!(
            "invalid value '{}' for '--publishers': publishers are among the subscribers, so at most --subscribers ({})",
            args.publishers,
            args.subscribers
        );
    }
    ensure_open_files(args.subscribers)?;
    let spec = FanoutSpec {
        endpoint: url.endpoint.clone(),
        path: url.path_and_query.clone(),
        subscribers: args.subscribers,
        publishers: args.publishers,
        rate: args.rate,
        duration: args.duration,
        connect_rate: args.connect_rate,
        drain: args.drain,
        timeout: args.timeout,
        cpus: args.cpus.clone(),
        cancel: Cancel::new(),
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| url.endpoint.authority.clone());
    let connecting =
        std::time::Duration::from_secs_f64(f64::from(args.subscribers) / args.connect_rate);
    let observer: Box<dyn StepObserver> = Box::new(StepProgress::start(
        &name,
        connecting + args.duration,
        args.quiet,
    ));
    let cancel = spec.cancel.clone();
    let started_at = now_rfc3339();
    let step = run_blocking(spec, observer);
    let on_signal = |signal| {
        cancel.cancel();
        eprintln!("bakeoff: {signal}: stopping; what was measured is kept (again to quit at once)");
    };
    let mut signals = StopSignals::new();
    let m = match signals.guard(step, on_signal, None).await {
        Stopped::Finished(m) | Stopped::Drained { result: m, .. } => m?,
        Stopped::Abandoned { .. } => {
            eprintln!("bakeoff: second interrupt, quitting without results");
            std::process::exit(130);
        }
    };
    let report = report(&args.url, &m)?;
    let doc = document(&name, &args, &report);
    let json = serde_json::to_value(&report)?;
    format::emit(&outputs, &doc, &json)?;
    let interrupted = m.interrupted;
    if let Some(path) = &args.output {
        let mut provenance = local_provenance("fanout", "adhoc");
        provenance.started_at = started_at.clone();
        let mut results = RunResults::new(provenance);
        let meta = StepMeta {
            target: name,
            scenario: "fanout".into(),
            model: Model::Fanout,
            level: u64::from(args.subscribers),
            repeat: 0,
            started_at,
        };
        results.steps.push(m.into_step(meta, None, None));
        results.complete = !interrupted;
        results.save_atomic(path)?;
    }
    Ok(if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Ok
    })
}

async fn run_blocking(
    spec: FanoutSpec,
    mut observer: Box<dyn StepObserver>,
) -> Result<Measurement, EngineError> {
    tokio::task::spawn_blocking(move || run_fanout(&spec, observer.as_mut()))
        .await
        .map_err(|_| EngineError::Panicked)?
}

fn report<'a>(url: &'a str, m: &'a Measurement) -> anyhow::Result<Report<'a>> {
    let s = &m.summary;
    let Some(f) = &s.fanout else {
        bail!("the fan-out step returned no fan-out figures");
    };
    Ok(Report {
        url,
        subscribers: f.subscribers,
        connected: f.connected,
        publishers: f.publishers,
        rate: f.rate,
        duration_s: s.duration_s,
        published: f.published,
        expected: f.expected,
        delivered: f.delivered,
        lost: f.lost,
        duplicated: f.duplicated,
        latency_us: s.latency_us,
        deliveries_per_s: s.rps,
        errors_by_kind: &f.errors_by_kind,
        interrupted: m.interrupted,
    })
}

fn document(name: &str, args: &FanoutArgs, r: &Report) -> Document {
    let mut doc = Document::new("");
    let mut facts = Table::new(vec![Column::left(""), Column::left("")]);
    let mut fact = |k: &str, v: String| facts.row([Rich::text(k), Rich::text(v)]);
    fact("Target", format!("{name} {}", args.url));
    fact(
        "Load",
        format!(
            "fan-out, {} subscribers ({} connected), {} publisher{} at {} msg/s for {:.1}s",
            r.subscribers,
            r.connected,
            r.publishers,
            if r.publishers == 1 { "" } else { "s" },
            units::number(r.rate),
            args.duration.as_secs_f64()
        ),
    );
    if r.interrupted {
        fact(
            "Interrupted",
            format!("only {:.2}s of the window ran", r.duration_s),
        );
    }
    fact(
        "Deliveries",
        format!(
            "{} published, {} expected, {} delivered, {} lost, {} duplicated",
            r.published, r.expected, r.delivered, r.lost, r.duplicated
        ),
    );
    if !r.errors_by_kind.is_empty() {
        let list: Vec<String> = r
            .errors_by_kind
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        fact("Errors", list.join(", "));
    }
    doc.table(facts);
    match &r.latency_us {
        Some(l) => {
            let mut t = Table::new(
                std::iter::once(Column::left("latency"))
                    .chain(
                        ["min", "p50", "p90", "p99", "p99.9", "max"]
                            .into_iter()
                            .map(Column::right),
                    )
                    .collect(),
            );
            t.row(
                std::iter::once("delivery, from intended send time".to_string())
                    .chain(
                        [l.min, l.p50, l.p90, l.p99, l.p999, l.max]
                            .into_iter()
                            .map(units::latency_us),
                    )
                    .map(Rich::text),
            );
            doc.table(t);
        }
        None => doc.note("nothing was delivered, so there is no delivery latency"),
    }
    doc
}
