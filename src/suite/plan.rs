//! The validated suite: typed, checked, with every default resolved. The
//! engine and the run orchestration only ever see these types, never raw
//! TOML.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::bounds::{BoundsError, check_connection_cap};
use super::error::{Diagnostic, SuiteError};
use crate::engine::{Arrivals, EndpointError, Mix, RateProfile, Schedule};
use crate::results::{MixRecord, PlanRecord, ScenarioRecord, StageRecord, ThresholdRecord};

/// Database connections per variant when the suite does not say.
pub const DEFAULT_DB_CONNECTIONS: u32 = 16;

/// Connection pool of an open-model scenario when the suite does not say.
pub const DEFAULT_OPEN_CONNECTIONS: u32 = 128;

/// A whole validated suite.
#[derive(Debug, Clone)]
pub struct SuitePlan {
    pub name: String,
    /// Free text from the file ("" when absent).
    pub description: String,
    /// The file it came from, or "<embedded>/suites/default.toml".
    pub source: PathBuf,
    /// Variant names, in run order.
    pub targets: Vec<String>,
    pub cpu: CpuPlan,
    /// Total database connections each variant may open (equal across variants).
    pub db_connections: u32,
    /// External targets: variant name → base URL (for `--targets external`).
    pub urls: BTreeMap<String, String>,
    /// Where each `[urls]` value is written (1-based line, column), so a
    /// refusal later (a remote host) can still point at it.
    pub url_locations: BTreeMap<String, (usize, usize)>,
    pub scenarios: Vec<ScenarioPlan>,
    pub thresholds: Vec<Threshold>,
}

impl SuitePlan {
    /// Keeps only the named targets and scenarios (an empty list keeps
    /// all), in suite order, and drops thresholds about removed ones.
    /// Unknown names are an error listing the valid ones.
    pub fn filter(
        mut self,
        only_targets: &[String],
        scenarios: &[String],
    ) -> Result<SuitePlan, SuiteError> {
        let source = self.source.display().to_string();
        check_names(only_targets, &self.targets, "target", "--only", &source)?;
        let scenario_names: Vec<String> = self.scenarios.iter().map(|s| s.name.clone()).collect();
        check_names(
            scenarios,
            &scenario_names,
            "scenario",
            "--scenario",
            &source,
        )?;
        if !only_targets.is_empty() {
            self.targets.retain(|t| only_targets.contains(t));
            for s in &mut self.scenarios {
                if let Some(list) = &mut s.targets {
                    list.retain(|t| only_targets.contains(t));
                }
            }
            // A scenario left with none of the chosen targets has nothing to run.
            self.scenarios
                .retain(|s| s.targets.as_ref().is_none_or(|list| !list.is_empty()));
        }
        if !scenarios.is_empty() {
            self.scenarios.retain(|s| scenarios.contains(&s.name));
        }
        let (targets, scenario_names) = (&self.targets, &self.scenarios);
        self.thresholds.retain(|t| {
            t.target.as_ref().is_none_or(|name| targets.contains(name))
                && t.scenario
                    .as_ref()
                    .is_none_or(|name| scenario_names.iter().any(|s| &s.name == name))
        });
        Ok(self)
    }

    /// Quick settings for any suite (`run --quick SUITE`): warm-up at most
    /// 1 s, duration at most 3 s, one repeat, and at most two levels per
    /// scenario (the lowest and the highest). A surge scenario keeps its
    /// profile's length: cutting it would cut the recovery it measures.
    pub fn shortened(mut self) -> SuitePlan {
        for s in &mut self.scenarios {
            s.warmup = s.warmup.min(Duration::from_secs(1));
            if s.load.profile().is_none() {
                s.duration = s.duration.min(Duration::from_secs(3));
            }
            s.repeats = 1;
            match &mut s.load {
                LoadModel::Closed {
                    concurrency: levels,
                }
                | LoadModel::Open { rates: levels, .. }
                | LoadModel::Fanout {
                    subscribers: levels,
                    ..
                } => {
                    if levels.len() > 2 {
                        let (first, last) = (levels[0], levels[levels.len() - 1]);
                        *levels = vec![first, last];
                    }
                }
            }
        }
        self
    }

    /// Every scenario runs each step `n` times (`--repeat N`; 0 counts as 1).
    pub fn with_repeats(mut self, n: u32) -> SuitePlan {
        for s in &mut self.scenarios {
            s.repeats = n.max(1);
        }
        self
    }

    /// Number of steps the plan runs: per scenario, the targets it runs on
    /// × levels × repeats.
    pub fn step_count(&self) -> u64 {
        self.scenarios
            .iter()
            .map(|s| {
                let targets = self.targets.iter().filter(|t| s.runs_on(t)).count() as u64;
                s.load.levels().len() as u64 * u64::from(s.repeats) * targets
            })
            .sum()
    }

    /// Time spent warming up and measuring over the whole plan (targets ×
    /// repeats × the levels' [`ScenarioPlan::step_time`]); excludes start-up
    /// of targets and the database.
    pub fn measurement_time(&self) -> Duration {
        self.scenarios
            .iter()
            .map(|s| {
                let targets = self.targets.iter().filter(|t| s.runs_on(t)).count() as u32;
                let levels: Duration = s.load.levels().iter().map(|&l| s.step_time(l)).sum();
                levels * s.repeats * targets
            })
            .sum()
    }
}

impl SuitePlan {
    /// The plan as `results.json` records it ([`PlanRecord`]).
    pub fn record(&self) -> PlanRecord {
        PlanRecord {
            suite: self.name.clone(),
            source: self.source.display().to_string(),
            targets: self.targets.clone(),
            db_connections: self.db_connections,
            scenarios: self.scenarios.iter().map(ScenarioPlan::record).collect(),
            thresholds: self
                .thresholds
                .iter()
                .map(|t| ThresholdRecord {
                    text: t.text.clone(),
                    target: t.target.clone(),
                    scenario: t.scenario.clone(),
                    model: t.model,
                })
                .collect(),
        }
    }
}

impl ScenarioPlan {
    /// Whether the scenario runs on `target` (its `targets`, or all).
    pub fn runs_on(&self, target: &str) -> bool {
        self.targets
            .as_ref()
            .is_none_or(|only| only.iter().any(|t| t == target))
    }

    /// How long one step at `level` warms up and measures: warm-up +
    /// duration; a fan-out step instead connects its subscribers at the
    /// connect rate (its warm-up), publishes for the duration and drains
    /// for [`crate::engine::fanout::DEFAULT_DRAIN`].
    pub fn step_time(&self, level: u64) -> Duration {
        match &self.load {
            LoadModel::Fanout { connect_rate, .. } => {
                Duration::from_secs_f64(level as f64 / connect_rate.max(1e-9))
                    + self.duration
                    + crate::engine::fanout::DEFAULT_DRAIN
            }
            _ => self.warmup + self.duration,
        }
    }

    fn record(&self) -> ScenarioRecord {
        ScenarioRecord {
            name: self.name.clone(),
            targets: self.targets.clone(),
            model: self.load.model(),
            levels: self.load.levels(),
            connections: match &self.load {
                LoadModel::Open { connections, .. } => Some(*connections),
                LoadModel::Closed { .. } | LoadModel::Fanout { .. } => None,
            },
            arrivals: match &self.load {
                LoadModel::Open { arrivals, .. } => Some(arrivals.as_str().to_string()),
                LoadModel::Closed { .. } | LoadModel::Fanout { .. } => None,
            },
            start_rate: self.load.profile().map(RateProfile::start_rate),
            stages: self.load.profile().map_or_else(Vec::new, |p| {
                p.stage_list()
                    .iter()
                    .map(|s| StageRecord {
                        duration_s: s.duration.as_secs_f64(),
                        rate: s.rate,
                    })
                    .collect()
            }),
            warmup_s: self.warmup.as_secs_f64(),
            duration_s: self.duration.as_secs_f64(),
            timeout_s: self.timeout.as_secs_f64(),
            repeats: self.repeats,
            slo_p99_us: self.slo_p99.map(|d| d.as_secs_f64() * 1e6),
            mix: self
                .mix
                .entries()
                .iter()
                .map(|e| MixRecord {
                    label: e.label.clone(),
                    weight: e.weight,
                    expect_status: e.expect_status,
                })
                .collect(),
        }
    }
}

impl SuitePlan {
    /// Refuses a plan whose steps open more than `cap` connections
    /// (`--max-connections`), naming the first scenario that does.
    pub fn check_connection_cap(&self, cap: u32) -> Result<(), BoundsError> {
        for s in &self.scenarios {
            let what = format!("scenario {:?} of {}", s.name, self.source.display());
            check_connection_cap(&what, s.load.max_connections(), cap)?;
        }
        Ok(())
    }

    /// The most connections any step of the plan opens.
    pub fn max_connections(&self) -> u32 {
        self.scenarios
            .iter()
            .map(|s| s.load.max_connections())
            .max()
            .unwrap_or(0)
    }

    /// Refuses every `[urls]` entry whose host is not loopback, at its
    /// `file:line:column`, naming `--allow-remote`. Looks at the literal
    /// host only, so nothing is resolved.
    pub fn refuse_remote_urls(&self) -> Result<(), SuiteError> {
        let file = self.source.display().to_string();
        let mut diagnostics = Vec::new();
        for (name, url) in &self.urls {
            if let Err(EndpointError::Remote { host, .. }) = crate::engine::parse_url(url, false) {
                let (line, column) = self.url_locations.get(name).copied().unwrap_or((1, 1));
                diagnostics.push(Diagnostic {
                    file: file.clone(),
                    line,
                    column,
                    message: format!(
                        "[urls] {name} = {url:?}: refusing to send load to {host:?}, which is not loopback (127.0.0.0/8, ::1, localhost); pass --allow-remote if you own that host"
                    ),
                });
            }
        }
        if diagnostics.is_empty() {
            Ok(())
        } else {
            diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(SuiteError::Invalid { diagnostics })
        }
    }
}

fn check_names(
    wanted: &[String],
    valid: &[String],
    what: &str,
    flag: &str,
    source: &str,
) -> Result<(), SuiteError> {
    let unknown: Vec<&String> = wanted.iter().filter(|w| !valid.contains(w)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let unknown: Vec<String> = unknown.iter().map(|u| format!("{u:?}")).collect();
    Err(SuiteError::Selection {
        message: format!(
            "{flag} names unknown {what}{} {}; suite {source} has: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", "),
            valid.join(", ")
        ),
    })
}

/// Which CPUs the load generator and the servers (targets + database) use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuPlan {
    pub generator: Vec<usize>,
    pub targets: Vec<usize>,
}

impl CpuPlan {
    /// Default layout on `cpus` (ascending; what this process may run on,
    /// [`crate::cpus::allowed`]): the generator gets the last CPU, servers
    /// the rest; on one CPU both share it (CPU 0 when `cpus` is empty).
    pub fn auto(cpus: &[usize]) -> Self {
        match cpus.split_last() {
            None => CpuPlan {
                generator: vec![0],
                targets: vec![0],
            },
            Some((&last, [])) => CpuPlan {
                generator: vec![last],
                targets: vec![last],
            },
            Some((&last, rest)) => CpuPlan {
                generator: vec![last],
                targets: rest.to_vec(),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    pub name: String,
    pub description: String,
    pub load: LoadModel,
    pub mix: Mix,
    pub warmup: Duration,
    pub duration: Duration,
    pub repeats: u32,
    pub timeout: Duration,
    /// Open model: p99 objective used to find capacity.
    pub slo_p99: Option<Duration>,
    /// The suite's targets it runs on, in the suite's order (`targets =
    /// [...]` in the scenario); None: every target.
    pub targets: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    /// Each level is a number of connections.
    Closed { concurrency: Vec<u64> },
    /// Each level is an offered rate (req/s) spread over `connections`,
    /// with arrivals spread by `arrivals`. With a `profile` (a suite's
    /// `[[scenario.stage]]` tables) the one level is the profile's peak
    /// and every step offers the whole profile.
    Open {
        rates: Vec<u64>,
        connections: u32,
        arrivals: Arrivals,
        profile: Option<RateProfile>,
    },
    /// Each level is a number of WebSocket subscribers; `publishers` of
    /// them send `rate` messages/s together (`engine::fanout`).
    Fanout {
        subscribers: Vec<u64>,
        rate: f64,
        publishers: u32,
        connect_rate: f64,
    },
}

impl LoadModel {
    pub fn levels(&self) -> Vec<u64> {
        match self {
            LoadModel::Closed { concurrency } => concurrency.clone(),
            LoadModel::Open { rates, .. } => rates.clone(),
            LoadModel::Fanout { subscribers, .. } => subscribers.clone(),
        }
    }
    /// The most connections one step of this scenario opens: the highest
    /// concurrency level, or the open model's connection pool.
    pub fn max_connections(&self) -> u32 {
        match self {
            LoadModel::Closed { concurrency } => concurrency
                .iter()
                .copied()
                .max()
                .map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX)),
            LoadModel::Open { connections, .. } => *connections,
            LoadModel::Fanout { subscribers, .. } => subscribers
                .iter()
                .copied()
                .max()
                .map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX)),
        }
    }

    /// The rate profile of a surge scenario (None: constant rates).
    pub fn profile(&self) -> Option<&RateProfile> {
        match self {
            LoadModel::Open { profile, .. } => profile.as_ref(),
            LoadModel::Closed { .. } | LoadModel::Fanout { .. } => None,
        }
    }

    pub fn model(&self) -> crate::model::Model {
        match self {
            LoadModel::Closed { .. } => crate::model::Model::Closed,
            LoadModel::Open { .. } => crate::model::Model::Open,
            LoadModel::Fanout { .. } => crate::model::Model::Fanout,
        }
    }

    /// How the engine paces one step of this scenario at `level`
    /// (connections, or an offered rate over the scenario's pool).
    pub fn schedule(&self, level: u64) -> Schedule {
        match self {
            LoadModel::Closed { .. } => Schedule::Closed {
                connections: u32::try_from(level).unwrap_or(u32::MAX),
            },
            LoadModel::Open {
                connections,
                arrivals,
                profile,
                ..
            } => Schedule::Open {
                profile: profile
                    .clone()
                    .unwrap_or_else(|| RateProfile::constant(level as f64)),
                connections: *connections,
                arrivals: *arrivals,
            },
            LoadModel::Fanout {
                rate,
                publishers,
                connect_rate,
                ..
            } => Schedule::Fanout {
                subscribers: u32::try_from(level).unwrap_or(u32::MAX),
                rate: *rate,
                publishers: *publishers,
                connect_rate: *connect_rate,
            },
        }
    }
}

/// A CI gate such as `p99 < 50ms` for some target/scenario (None = all).
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub target: Option<String>,
    pub scenario: Option<String>,
    /// Only steps of this load model (`model = "closed"` in a suite): an
    /// open scenario that offers rates past a target's capacity on purpose
    /// (to find it) would otherwise fail an error-rate gate by design.
    pub model: Option<crate::model::Model>,
    pub metric: Metric,
    pub op: Comparison,
    /// Microseconds for latency metrics, a fraction (0.001 = 0.1%) for
    /// error_rate, requests/s for rps.
    pub value: f64,
    /// The expression as written, for messages.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P99,
    P999,
    Max,
    Rps,
    ErrorRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    pub fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Comparison::Lt => actual < limit,
            Comparison::Le => actual <= limit,
            Comparison::Gt => actual > limit,
            Comparison::Ge => actual >= limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::results::Model;

    #[test]
    fn the_recorded_plan_is_the_resolved_one() {
        let plan = crate::suite::parse_for_cores(
            crate::suite::DEFAULT_SUITE,
            crate::suite::DEFAULT_SUITE_NAME,
            2,
        )
        .unwrap()
        .filter(&[], &["json".into(), "shop-open".into()])
        .unwrap()
        .with_repeats(3);
        let r = plan.record();
        assert_eq!(r.suite, "default");
        assert_eq!(r.targets, plan.targets);
        let names: Vec<&str> = r.scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["json", "shop-open"]);
        let open = &r.scenarios[1];
        assert_eq!(open.model, Model::Open);
        assert_eq!(open.levels, plan.scenarios[1].load.levels());
        assert!(open.connections.is_some() && open.repeats == 3);
        let slo = |name: &str| r.scenarios.iter().find(|s| s.name == name)?.slo_p99_us;
        assert_eq!(slo("shop-open"), Some(50_000.0));
        assert_eq!(slo("json"), None);
        assert!(!open.mix.is_empty() && open.mix.iter().all(|m| m.weight > 0));
        // The record survives results.json.
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            serde_json::from_str::<crate::results::PlanRecord>(&json).unwrap(),
            r
        );
    }

    #[test]
    fn an_older_results_file_gets_its_embedded_suites_plan() {
        assert_eq!(
            crate::suite::embedded_named("default").unwrap().name,
            "default"
        );
        assert_eq!(crate::suite::embedded_named("quick").unwrap().name, "quick");
        assert!(crate::suite::embedded_named("mine").is_none());
    }
}
