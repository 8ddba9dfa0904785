//! Executes a validated suite plan against a [`Lab`]: the order of steps,
//! the SLO search of open-model scenarios, and writing results.json after
//! every step. It does not parse suites, start processes itself or draw
//! reports.
//!
//! Equal conditions: repeats are outermost and targets alternate their
//! order (A B C D, then D C B A, ...), so neither machine drift nor
//! "whoever runs first" favours one target; one target is up at a time;
//! the database is brought back to its seed state before each target
//! starts; and the SLO search probes the same rates in every repeat of a
//! target (repeat 0 searches, later repeats replay its rates), so each
//! probed rate has every repeat and capacity is a median over the same
//! points.
//!
//! The runner talks to two seams, so it runs in-process in tests: a
//! [`Lab`] (where targets start, stop and are sampled) and a
//! [`StepExecutor`] (which measures a step: the real engine, or
//! `engine::MockEngine`). It starts the server sampler when the executor
//! reports the measured window started ([`engine::StepEvent`]).
//!
//! A target that misbehaves or dies mid-run does not stop the run: every
//! step runs its full time with its failures counted in `errors_by_kind`
//! (and the step flagged `errors`), the target's later steps in the same
//! repeat are still measured against whatever is left (a dead process
//! gives connect errors; it is not restarted within a repeat, so a crash
//! shows on every step after it instead of being hidden by a fresh
//! process), stopping it reaps what is left, and the run moves on to the
//! next target. The next repeat starts it afresh ([`Lab::start`] restarts
//! a target that died), and a note in the results' provenance says it
//! died. Only a target that cannot be started at all ends the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::engine::{self, Cancel, StepExecutor, StepSpec, WindowSignal};
use crate::measure::StepMeta;
use crate::progress::StepProgress;
use crate::results::{RunResults, StepRecord, TransportRecord, now_rfc3339};
use crate::stats;
use crate::suite::{LoadModel, ScenarioPlan, SuitePlan};
use crate::targets::{Lab, RunningTarget};

/// At most this many extra rates are probed per open-model scenario when
/// searching for the highest rate within `slo_p99`.
pub const MAX_SLO_PROBES: u32 = 4;
/// Stop the SLO search once passing and failing rates are this close.
const SLO_RESOLUTION: f64 = 0.10;

/// A run in progress: the plan, where results go, what has been measured.
pub struct Runner<'a> {
    pub plan: &'a SuitePlan,
    pub results_path: PathBuf,
    pub results: RunResults,
    pub generator_cpus: Vec<usize>,
    pub allow_remote: bool,
    /// TLS and HTTP/2 options of the steps (`--cacert`, `--insecure`,
    /// `--http2`, `--streams`): an https:// target's steps use TLS.
    pub transport: engine::TransportOptions,
    pub quiet: bool,
    /// Cancelled on Ctrl-C: the running step ends early, is saved marked
    /// `interrupted`, and no further step starts.
    pub cancel: Cancel,
    /// This process's part of every step (`run --shard K/N`).
    pub shard: crate::engine::Shard,
    /// The shared time-table of a sharded run: the next step's start
    /// (step j at `--start-at` plus the budgets of the steps before it,
    /// [`step_budget`]); None: each step starts when the last ended.
    pub start_at: Option<std::time::SystemTime>,
    /// Extra rates the SLO search probed, per (target, scenario), in the
    /// order probed: found by the first repeat, replayed by the others.
    pub slo_probes: BTreeMap<(String, String), Vec<u64>>,
    /// Test hook (`BAKEOFF_DEBUG_PANIC_AFTER_STEPS`): panic right after
    /// this many steps are saved.
    pub panic_after_steps: Option<usize>,
}

/// What one step of a sharded run's time-table may take: warm-up, window,
/// the timeout for the last requests, and [`STEP_SLACK`] for saving
/// results and reading counters. Every shard derives the same time-table
/// from the plan alone, so shards need no messages between them.
pub fn step_budget(
    warmup: std::time::Duration,
    duration: std::time::Duration,
    timeout: std::time::Duration,
) -> std::time::Duration {
    warmup + duration + timeout + STEP_SLACK
}

/// Time between a step's hard deadline and the next step's start in a
/// sharded run's time-table.
pub const STEP_SLACK: std::time::Duration = std::time::Duration::from_secs(2);

/// The order targets run in during `repeat`: the plan's order on even
/// repeats, reversed on odd ones.
pub fn target_order(targets: &[String], repeat: u32) -> Vec<&String> {
    let mut order: Vec<&String> = targets.iter().collect();
    if repeat % 2 == 1 {
        order.reverse();
    }
    order
}

/// The run was stopped by a signal; everything measured is saved.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: the step in progress was saved marked interrupted")]
pub struct Interrupted;

impl<'a> Runner<'a> {
    /// A runner that writes to `results_path`, with nothing measured yet.
    pub fn new(plan: &'a SuitePlan, results_path: PathBuf, results: RunResults) -> Self {
        Runner {
            plan,
            results_path,
            results,
            generator_cpus: plan.cpu.generator.clone(),
            allow_remote: false,
            transport: engine::TransportOptions::default(),
            quiet: false,
            cancel: Cancel::new(),
            shard: crate::engine::Shard::WHOLE,
            start_at: None,
            slo_probes: BTreeMap::new(),
            panic_after_steps: None,
        }
    }

    /// Runs every step of the plan on `lab`, measured by `executor`.
    /// Results are saved after each step, so an error or interruption
    /// keeps everything measured so far; they are marked complete once
    /// every step ran.
    pub async fn run_all(
        &mut self,
        lab: &mut dyn Lab,
        executor: &dyn StepExecutor,
    ) -> anyhow::Result<()> {
        let max_repeats = self
            .plan
            .scenarios
            .iter()
            .map(|s| s.repeats)
            .max()
            .unwrap_or(1);
        for repeat in 0..max_repeats {
            for target in target_order(&self.plan.targets, repeat) {
                let scenarios: Vec<&ScenarioPlan> = self
                    .plan
                    .scenarios
                    .iter()
                    .filter(|s| repeat < s.repeats && s.runs_on(target))
                    .collect();
                if scenarios.is_empty() {
                    continue;
                }
                // Same database state for every target: the seed rows, vacuumed.
                lab.restore_database().await?;
                let running = lab.start(target).await?;
                let outcome = self
                    .run_target(&*lab, executor, &running, &scenarios, repeat)
                    .await;
                if !lab.alive(target) {
                    self.note_death(target, repeat)?;
                }
                // Also after a failed step, and for a process that already
                // died (stopping only reaps it); the step's error comes first.
                let stopped = lab.stop(target).await;
                outcome?;
                stopped?;
            }
        }
        self.results.complete = true;
        self.save()
    }

    /// Records that `target` died during `repeat`: its later steps of that
    /// repeat were measured against whatever was left.
    fn note_death(&mut self, target: &str, repeat: u32) -> anyhow::Result<()> {
        let note = format!(
            "{target} exited during repeat {}: its steps after that were measured against a dead target (errors); the next repeat started it afresh.",
            repeat + 1
        );
        if !self.quiet {
            eprintln!("bakeoff: {note}");
        }
        self.results.provenance.notes.push(note);
        self.save()
    }

    async fn run_target(
        &mut self,
        lab: &dyn Lab,
        executor: &dyn StepExecutor,
        running: &RunningTarget,
        scenarios: &[&ScenarioPlan],
        repeat: u32,
    ) -> anyhow::Result<()> {
        for scenario in scenarios {
            let mut measured: Vec<(u64, f64)> = Vec::new();
            for level in scenario.load.levels() {
                let step = self
                    .run_step(lab, executor, running, scenario, level, repeat)
                    .await?;
                measured.push((level, slo_latency(&step)));
            }
            let key = (running.name.clone(), scenario.name.clone());
            if repeat > 0 {
                let rates = self.slo_probes.get(&key).cloned().unwrap_or_default();
                for rate in rates {
                    self.run_step(lab, executor, running, scenario, rate, repeat)
                        .await?;
                }
            } else if let (Some(slo), LoadModel::Open { .. } | LoadModel::Fanout { .. }) =
                (scenario.slo_p99, &scenario.load)
            {
                let slo_us = slo.as_micros() as f64;
                let max_rate = measured.iter().map(|(r, _)| *r).max().unwrap_or(1);
                for _ in 0..MAX_SLO_PROBES {
                    let (passing, failing) = stats::slo_bracket(&measured, slo_us);
                    // Search only between measured rates: never above the
                    // highest rate the suite offers.
                    let Some(rate) =
                        stats::next_probe_rate(passing, failing, SLO_RESOLUTION, max_rate)
                    else {
                        break;
                    };
                    if measured.iter().any(|(r, _)| *r == rate) {
                        break;
                    }
                    let step = self
                        .run_step(lab, executor, running, scenario, rate, repeat)
                        .await?;
                    measured.push((rate, slo_latency(&step)));
                    self.slo_probes.entry(key.clone()).or_default().push(rate);
                }
            }
        }
        Ok(())
    }

    /// Measures one step and appends it to the saved results.
    async fn run_step(
        &mut self,
        lab: &dyn Lab,
        executor: &dyn StepExecutor,
        running: &RunningTarget,
        scenario: &ScenarioPlan,
        level: u64,
        repeat: u32,
    ) -> anyhow::Result<StepRecord> {
        let url = engine::parse_url(&running.base_url, self.allow_remote)?;
        let schedule = scenario.load.schedule(level);
        let (transport, transport_record) =
            step_transport(&self.transport, &url.endpoint, &running.base_url).await?;
        let spec = StepSpec {
            transport,
            endpoint: url.endpoint,
            mix: scenario.mix.clone(),
            schedule,
            warmup: scenario.warmup,
            duration: scenario.duration,
            timeout: scenario.timeout,
            max_requests: None,
            seed: step_seed(&scenario.name, level),
            cpus: self.generator_cpus.clone(),
            cancel: self.cancel.clone(),
            shard: self.shard,
            start_at: self.start_at,
        };
        if let Some(late) = self
            .start_at
            .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
            .filter(|late| *late > std::time::Duration::from_millis(100))
        {
            // The time-table is the only thing shards share: a step that
            // starts late is out of phase with the other shards' step.
            let note = format!(
                "shard {}: step {} · {} · {level} started {:.1} s after its time-table slot (out of phase with the other shards)",
                self.shard,
                running.name,
                scenario.name,
                late.as_secs_f64()
            );
            eprintln!("warning: {note}");
            self.results.provenance.notes.push(note);
        }
        // The next step of the time-table starts one budget later.
        self.start_at = self
            .start_at
            .map(|t| t + step_budget(scenario.warmup, scenario.duration, scenario.timeout));
        let label = format!(
            "{} · {} · {} {}{}",
            running.name,
            scenario.name,
            level,
            scenario.load.model().level_label(),
            if scenario.repeats > 1 {
                format!(" · repeat {}/{}", repeat + 1, scenario.repeats)
            } else {
                String::new()
            }
        );
        // The database's query counters, read before the step's first
        // request and after its last one completed: two quiet moments, so
        // both readings are exact whatever the load does to a reading's
        // latency (a reading at the window's start lagged by up to 0.3 s on
        // a saturated server CPU).
        let counted_from = match lab.query_counter().map(|c| c.session()) {
            Some(Ok(mut s)) => match s.read().await {
                Ok(from) => Some((s, from)),
                Err(e) => {
                    eprintln!("warning: queries of the step not counted: {e}");
                    s.close().await;
                    None
                }
            },
            Some(Err(e)) => {
                eprintln!("warning: queries of the step not counted: {e}");
                None
            }
            None => None,
        };
        // Which bus a fan-out target broadcasts over, asked before the load.
        let bus = match scenario.load.model() {
            crate::model::Model::Fanout => fanout_bus(&running.base_url).await,
            _ => None,
        };
        let started_at = now_rfc3339();
        let progress = StepProgress::start(&label, scenario.step_time(level), self.quiet);
        let (window, mut window_started) = WindowSignal::new();
        let run = executor.run(spec, Box::new((progress, window)));
        tokio::pin!(run);
        // Sample the server over the measured window only, not the warm-up:
        // from the moment the executor says the window started.
        let mut sampler = None;
        let mut window_seen = false;
        let measurement = loop {
            tokio::select! {
                biased;
                started = &mut window_started, if !window_seen => {
                    window_seen = true;
                    if started.is_ok() {
                        sampler = lab.sample(&running.name);
                    }
                }
                m = &mut run => break m,
            }
        };
        let measurement = measurement?;
        let s = &measurement.summary;
        let ok = s.successes();
        let duration = Duration::from_secs_f64(s.duration_s);
        let server = match sampler {
            Some(sampler) => Some(sampler.finish(ok, duration).await),
            None => None,
        };
        // An interrupted step is no verdict's and the run is stopping: no
        // reading then, so the exit stays quick.
        let stopping = measurement.interrupted || self.cancel.is_cancelled();
        let database = match counted_from {
            Some((session, _)) if stopping => {
                session.kill().await;
                None
            }
            Some((session, from)) => {
                step_queries(session, from, measurement.completed_in_step).await
            }
            None => None,
        };
        let meta = StepMeta {
            target: running.name.clone(),
            scenario: scenario.name.clone(),
            model: scenario.load.model(),
            level,
            repeat,
            started_at,
        };
        let interrupted = measurement.interrupted;
        let mut step = measurement.into_step(meta, server, database);
        step.summary.transport = transport_record;
        if let Some(fanout) = step.summary.fanout.as_mut() {
            fanout.bus = bus;
        }
        self.results.steps.push(step.clone());
        self.save()?;
        if self.panic_after_steps == Some(self.results.steps.len()) {
            panic!(
                "deliberate panic after {} saved steps (BAKEOFF_DEBUG_PANIC_AFTER_STEPS)",
                self.results.steps.len()
            );
        }
        if interrupted || self.cancel.is_cancelled() {
            return Err(Interrupted.into());
        }
        Ok(step)
    }

    /// Writes results.json atomically.
    pub fn save(&self) -> anyhow::Result<()> {
        self.results.save_atomic(&self.results_path)?;
        Ok(())
    }
}

/// The p99 the SLO search compares, in µs (see [`stats::slo_p99`]).
fn slo_latency(step: &StepRecord) -> f64 {
    let s = &step.summary;
    stats::slo_p99(
        s.latency_us.map_or(f64::INFINITY, |l| l.p99 as f64),
        s.requests,
        s.errors,
    )
}

/// Deterministic seed of a step's mix selection.
fn step_seed(scenario: &str, level: u64) -> u64 {
    // FNV-1a over the scenario name, mixed with the level.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in scenario.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h ^ level.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// `results/<timestamp>/`, and `results/latest` pointing at it.
pub fn default_out_dir(base: &Path) -> anyhow::Result<PathBuf> {
    let dir = base.join(crate::results::now_compact());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let latest = base.join("latest");
    let _ = std::fs::remove_file(&latest);
    if let Some(name) = dir.file_name() {
        // A missing `latest` link is a convenience lost, not an error.
        let _ = std::os::unix::fs::symlink(name, &latest);
    }
    Ok(dir)
}

/// A step's transport and what results record of it: a cleartext URL
/// without TLS or HTTP/2 flags is the measured hot path and records
/// nothing (`transport` absent = cleartext HTTP/1.1); anything else is
/// tried by one test connection first, so a certificate problem is an
/// error naming the URL rather than a step of connect errors.
pub async fn step_transport(
    options: &engine::TransportOptions,
    endpoint: &engine::Endpoint,
    url: &str,
) -> Result<(engine::Transport, Option<TransportRecord>), engine::TlsError> {
    if endpoint.scheme == engine::Scheme::Http && options.is_plain() {
        return Ok((options.resolve(endpoint, url)?, None));
    }
    let (transport, negotiated) = options.prepare(endpoint, url).await?;
    let record = TransportRecord {
        scheme: endpoint.scheme.as_str().into(),
        http_version: negotiated.unwrap_or("unknown").into(),
        insecure: options.insecure,
        cacert: options.cacert.as_ref().map(|p| p.display().to_string()),
        streams: transport.streams,
        client: Some(
            if transport.tls.is_none()
                && !transport.http2
                && transport.client == engine::HttpClient::Lean
            {
                "lean"
            } else {
                "hyper"
            }
            .into(),
        ),
    };
    Ok((transport, Some(record)))
}

/// The bus `GET {base}/ws/info` names (targets/API.md), or None with a
/// warning when the target does not say.
async fn fanout_bus(base: &str) -> Option<String> {
    let url = format!("{}/ws/info", base.trim_end_matches('/'));
    let answer = async {
        let resp = crate::targets::local::control_client()
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        crate::check::fanout::parse_info(&body)
    };
    match answer.await {
        Ok(crate::check::fanout::Offer::Offered(bus)) => Some(bus),
        Ok(crate::check::fanout::Offer::NotOffered(reason)) => {
            eprintln!("warning: {url} says fan-out is not offered: {reason}");
            None
        }
        Err(e) => {
            eprintln!("warning: the fan-out bus is not recorded: {url}: {e}");
            None
        }
    }
}

#[cfg(test)]
mod mock_tests;

/// The step's queries from the reading taken before its first request
/// (`from`) and one now, over the `completed` requests of the step (warm-up
/// included); None, with a warning, when the reading fails.
async fn step_queries(
    mut session: crate::targets::CounterSession,
    from: crate::targets::QueryCounts,
    completed: u64,
) -> Option<crate::results::StepQueries> {
    let to = session.read().await;
    session.close().await;
    match to {
        Ok(to) => {
            let c = to.since(&from);
            Some(crate::results::StepQueries::new(
                c.queries(),
                c.rows(),
                completed,
            ))
        }
        Err(e) => {
            eprintln!("warning: queries of the step not counted: {e}");
            None
        }
    }
}
