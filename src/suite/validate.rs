//! Second stage of suite loading: checks a [`RawSuite`] and resolves every
//! default, producing a [`SuitePlan`]. Every problem found is collected as a
//! diagnostic at the span of the offending value, so one run of the loader
//! reports all of them at once. Parsing TOML and formatting locations live
//! elsewhere (`raw.rs`, `error.rs`).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use serde_spanned::Spanned;

use super::bounds::{MAX_PUBLISHERS, MAX_RATE, MAX_STEP_DURATION, MAX_SUBSCRIBERS};
use super::error::{Diagnostic, SourceFile, SuiteError};
use super::plan::{
    CpuPlan, DEFAULT_DB_CONNECTIONS, DEFAULT_OPEN_CONNECTIONS, LoadModel, ScenarioPlan, SuitePlan,
    Threshold,
};
use super::raw::{RawCpu, RawDefaults, RawDuration, RawModel, RawRequest, RawScenario, RawSuite};
use super::values::{RESERVED_HEADERS, parse_check, parse_duration};
use crate::engine::fanout::DEFAULT_CONNECT_RATE;
use crate::engine::{Arrivals, Mix, MixEntry, RateProfile, Stage};

/// Upper bounds that catch typos (an extra zero) rather than limit use.
const MAX_CONCURRENCY: i64 = 100_000;
const MAX_REPEATS: i64 = 1_000;
const MAX_DB_CONNECTIONS: i64 = 10_000;

/// Step timing before per-scenario overrides.
#[derive(Debug, Clone, Copy)]
struct Timing {
    warmup: Duration,
    duration: Duration,
    repeats: u32,
    timeout: Duration,
}

const BUILTIN_TIMING: Timing = Timing {
    warmup: Duration::from_secs(1),
    duration: Duration::from_secs(10),
    repeats: 1,
    timeout: Duration::from_secs(10),
};

/// Validates `raw` (read from `source`) for a process that may run on
/// `cpus` (ascending, not empty), with `variants` the reference variants
/// (targets a suite may name without a `[urls]` entry; the default
/// targets, in this order).
pub fn validate(
    raw: RawSuite,
    source: SourceFile<'_>,
    cpus: &[usize],
    variants: &[String],
) -> Result<SuitePlan, SuiteError> {
    let mut v = Validator {
        source,
        variants,
        diagnostics: Vec::new(),
    };
    let plan = v.suite(raw, cpus);
    if v.diagnostics.is_empty() {
        Ok(plan)
    } else {
        v.diagnostics.sort_by_key(|d| (d.line, d.column));
        Err(SuiteError::Invalid {
            diagnostics: v.diagnostics,
        })
    }
}

struct Validator<'a> {
    source: SourceFile<'a>,
    variants: &'a [String],
    diagnostics: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.source.at(span, message);
        self.diagnostics.push(d);
    }

    /// Builds the plan; fields that failed validation hold placeholders,
    /// which never escape because `validate` then returns the diagnostics.
    fn suite(&mut self, raw: RawSuite, cpus: &[usize]) -> SuitePlan {
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            self.error(raw.name.span(), "the suite name must not be empty");
        }
        let urls = self.urls(&raw.urls);
        let url_locations = raw
            .urls
            .iter()
            .map(|(name, value)| {
                let at = self.source.line_col(value.span().start);
                (name.get_ref().clone(), at)
            })
            .collect();
        // Names from [urls] count as targets even when their URL is bad, so
        // one mistake is not reported twice.
        let url_names: Vec<String> = raw.urls.keys().map(|k| k.get_ref().clone()).collect();
        let targets = self.targets(raw.targets.as_ref(), &url_names);
        let db_connections = match &raw.db_connections {
            Some(n) => self.count(n, "db_connections", 1, MAX_DB_CONNECTIONS),
            None => DEFAULT_DB_CONNECTIONS,
        };
        let cpu = match &raw.cpu {
            Some(cpu) => self.cpu(cpu, cpus),
            None => CpuPlan::auto(cpus),
        };
        let timing = self.defaults(raw.defaults.as_ref().unwrap_or(&RawDefaults::default()));

        if raw.scenario.is_empty() {
            self.error(
                0..0,
                "the suite has no scenarios; add at least one [[scenario]] table",
            );
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut scenarios = Vec::new();
        for s in raw.scenario {
            let span = s.span();
            let s = s.into_inner();
            let line = self.source.line_col(s.name.span().start).0;
            if let Some(first) = seen.get(s.name.get_ref()) {
                let message = format!(
                    "duplicate scenario name {:?} (first defined on line {first})",
                    s.name.get_ref()
                );
                self.error(s.name.span(), message);
            } else {
                seen.insert(s.name.get_ref().clone(), line);
            }
            let only = self.scenario_targets(s.targets.as_ref(), &targets);
            let mut plan = self.scenario(s, span, timing);
            plan.targets = only;
            scenarios.push(plan);
        }

        let mut thresholds = Vec::new();
        for t in raw.thresholds {
            let t = t.into_inner();
            let target = t.target.map(|name| {
                if !targets.contains(name.get_ref()) {
                    let message = format!(
                        "threshold names target {:?}, which is not in this suite's targets ({})",
                        name.get_ref(),
                        targets.join(", ")
                    );
                    self.error(name.span(), message);
                }
                name.into_inner()
            });
            let scenario = t.scenario.map(|name| {
                if !seen.contains_key(name.get_ref()) {
                    let mut names: Vec<&str> = scenarios.iter().map(|s: &ScenarioPlan| s.name.as_str()).collect();
                    names.sort_unstable();
                    let message = format!(
                        "threshold names scenario {:?}, which this suite does not define (scenarios: {})",
                        name.get_ref(),
                        names.join(", ")
                    );
                    self.error(name.span(), message);
                }
                name.into_inner()
            });
            let model = t.model.and_then(|m| match m.get_ref().as_str() {
                "closed" => Some(crate::model::Model::Closed),
                "open" => Some(crate::model::Model::Open),
                "fanout" => Some(crate::model::Model::Fanout),
                other => {
                    let message = format!(
                        "threshold model must be \"closed\", \"open\" or \"fanout\", got {other:?}"
                    );
                    self.error(m.span(), message);
                    None
                }
            });
            match parse_check(t.check.get_ref()) {
                Ok(check) => thresholds.push(Threshold {
                    target,
                    scenario,
                    model,
                    metric: check.metric,
                    op: check.op,
                    value: check.value,
                    text: t.check.get_ref().trim().to_string(),
                }),
                Err(message) => self.error(t.check.span(), message),
            }
        }

        SuitePlan {
            name,
            description: raw.description.unwrap_or_default(),
            source: self.source.name.into(),
            targets,
            cpu,
            db_connections,
            urls,
            url_locations,
            scenarios,
            thresholds,
        }
    }

    fn urls(
        &mut self,
        raw: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> BTreeMap<String, String> {
        let mut urls = BTreeMap::new();
        for (name, value) in raw {
            if !is_identifier(name.get_ref()) {
                let message = format!(
                    "invalid target name {:?} in [urls]: use letters, digits, '-', '_' and '.'",
                    name.get_ref()
                );
                self.error(name.span(), message);
                continue;
            }
            match base_url(value.get_ref()) {
                Ok(url) => {
                    urls.insert(name.get_ref().clone(), url);
                }
                Err(message) => self.error(value.span(), message),
            }
        }
        urls
    }

    fn targets(
        &mut self,
        raw: Option<&Spanned<Vec<Spanned<String>>>>,
        url_names: &[String],
    ) -> Vec<String> {
        let Some(list) = raw else {
            return self.variants.to_vec();
        };
        if list.get_ref().is_empty() {
            self.error(list.span(), "targets must name at least one target");
        }
        let mut valid: Vec<&str> = self.variants.iter().map(String::as_str).collect();
        valid.extend(
            url_names
                .iter()
                .map(String::as_str)
                .filter(|k| !self.variants.iter().any(|v| v == k)),
        );
        let mut targets: Vec<String> = Vec::new();
        for name in list.get_ref() {
            let n = name.get_ref();
            if !valid.contains(&n.as_str()) {
                let message = format!(
                    "unknown target {n:?} (valid: {}; other names need an entry in [urls])",
                    valid.join(", ")
                );
                self.error(name.span(), message);
            } else if targets.contains(n) {
                self.error(name.span(), format!("target {n:?} is listed twice"));
            } else {
                targets.push(n.clone());
            }
        }
        targets
    }

    fn cpu(&mut self, raw: &Spanned<RawCpu>, allowed: &[usize]) -> CpuPlan {
        let auto = CpuPlan::auto(allowed);
        let generator = raw
            .get_ref()
            .generator
            .as_ref()
            .map(|list| self.cpu_list(list, "generator", allowed));
        let targets = raw
            .get_ref()
            .targets
            .as_ref()
            .map(|list| self.cpu_list(list, "targets", allowed));
        let rest = |used: &[usize]| -> Vec<usize> {
            let rest: Vec<usize> = allowed
                .iter()
                .copied()
                .filter(|c| !used.contains(c))
                .collect();
            if rest.is_empty() { used.to_vec() } else { rest }
        };
        match (generator, targets) {
            (Some(g), Some(t)) => CpuPlan {
                generator: g,
                targets: t,
            },
            (Some(g), None) => CpuPlan {
                targets: rest(&g),
                generator: g,
            },
            (None, Some(t)) => CpuPlan {
                generator: rest(&t),
                targets: t,
            },
            (None, None) => auto,
        }
    }

    fn cpu_list(
        &mut self,
        list: &Spanned<Vec<Spanned<i64>>>,
        key: &str,
        allowed: &[usize],
    ) -> Vec<usize> {
        if list.get_ref().is_empty() {
            self.error(
                list.span(),
                format!("cpu.{key} must list at least one CPU index"),
            );
        }
        let mut cpus = Vec::new();
        for c in list.get_ref() {
            let value = *c.get_ref();
            match usize::try_from(value) {
                Ok(i) if allowed.contains(&i) => {
                    if cpus.contains(&i) {
                        self.error(c.span(), format!("CPU {i} is listed twice in cpu.{key}"));
                    } else {
                        cpus.push(i);
                    }
                }
                _ => {
                    let message = format!(
                        "CPU index {value} in cpu.{key} does not exist for this process: it may run on {} CPU{} ({})",
                        allowed.len(),
                        if allowed.len() == 1 { "" } else { "s" },
                        crate::cpus::describe(allowed)
                    );
                    self.error(c.span(), message);
                }
            }
        }
        cpus
    }

    fn defaults(&mut self, raw: &RawDefaults) -> Timing {
        self.timing(
            BUILTIN_TIMING,
            &raw.warmup,
            &raw.duration,
            &raw.repeats,
            &raw.timeout,
        )
    }

    fn timing(
        &mut self,
        base: Timing,
        warmup: &Option<Spanned<RawDuration>>,
        duration: &Option<Spanned<RawDuration>>,
        repeats: &Option<Spanned<i64>>,
        timeout: &Option<Spanned<RawDuration>>,
    ) -> Timing {
        Timing {
            warmup: self.duration(warmup, "warmup", true).unwrap_or(base.warmup),
            duration: self
                .duration(duration, "duration", false)
                .unwrap_or(base.duration),
            repeats: repeats
                .as_ref()
                .map_or(base.repeats, |r| self.count(r, "repeats", 1, MAX_REPEATS)),
            timeout: self
                .duration(timeout, "timeout", false)
                .unwrap_or(base.timeout),
        }
    }

    /// `None` when absent or invalid (the error is recorded).
    fn duration(
        &mut self,
        raw: &Option<Spanned<RawDuration>>,
        key: &str,
        zero_ok: bool,
    ) -> Option<Duration> {
        let raw = raw.as_ref()?;
        match parse_duration(&raw.get_ref().0) {
            Ok(d) if d.is_zero() && !zero_ok => {
                let message = format!("{key} must be greater than zero, got {:?}", raw.get_ref().0);
                self.error(raw.span(), message);
                None
            }
            Ok(d) if d > MAX_STEP_DURATION => {
                let message = format!(
                    "{key} {:?} is longer than the {}h a step may last",
                    raw.get_ref().0,
                    MAX_STEP_DURATION.as_secs() / 3600
                );
                self.error(raw.span(), message);
                None
            }
            Ok(d) => Some(d),
            Err(message) => {
                self.error(raw.span(), format!("{key}: {message}"));
                None
            }
        }
    }

    /// A fan-out scenario's load: `subscribers` levels, `rate` (required),
    /// `publishers` and `connect_rate`; the keys of the other models are
    /// refused where they are written.
    fn fanout(&mut self, s: &RawScenario) -> LoadModel {
        let others = [
            (
                "concurrency",
                s.concurrency.as_ref().map(Spanned::span),
                "closed",
            ),
            ("rates", s.rates.as_ref().map(Spanned::span), "open"),
            (
                "connections",
                s.connections.as_ref().map(Spanned::span),
                "open",
            ),
            ("arrivals", s.arrivals.as_ref().map(Spanned::span), "open"),
            (
                "start_rate",
                s.start_rate.as_ref().map(Spanned::span),
                "open",
            ),
            (
                "[[scenario.stage]]",
                s.stage.first().map(Spanned::span),
                "open",
            ),
        ];
        for (key, span, needs) in others {
            if let Some(span) = span {
                self.error(span, format!("{key} is not allowed with model = \"fanout\"; it belongs to model = \"{needs}\""));
            }
        }
        let subscribers = self.levels(
            s.subscribers.as_ref(),
            "subscribers",
            i64::from(MAX_SUBSCRIBERS),
            &s.model,
        );
        let positive = |v: &mut Self, raw: &Spanned<f64>, key: &str, what: &str| -> f64 {
            let r = *raw.get_ref();
            if r.is_finite() && r > 0.0 && r <= f64::from(MAX_RATE) {
                r
            } else {
                v.error(raw.span(), format!("{key} must be a number of {what} per second greater than 0 and at most {MAX_RATE}, got {r}"));
                0.0
            }
        };
        let rate = match &s.rate {
            Some(r) => positive(self, r, "rate", "messages"),
            None => {
                self.error(
                    s.model.span(),
                    "model = \"fanout\" needs rate = messages per second, e.g. rate = 20",
                );
                0.0
            }
        };
        let connect_rate = s.connect_rate.as_ref().map_or(DEFAULT_CONNECT_RATE, |r| {
            positive(self, r, "connect_rate", "connections")
        });
        let publishers = match &s.publishers {
            Some(p) => {
                let lowest = subscribers.first().copied().unwrap_or(1);
                let max = i64::from(MAX_PUBLISHERS).min(i64::try_from(lowest).unwrap_or(1));
                self.count(p, "publishers (among the fewest subscribers)", 1, max)
            }
            None => 1,
        };
        LoadModel::Fanout {
            subscribers,
            rate,
            publishers,
            connect_rate,
        }
    }

    /// An integer in `min..=max`, as u32 (0 when invalid; the error is
    /// recorded).
    fn count(&mut self, raw: &Spanned<i64>, key: &str, min: i64, max: i64) -> u32 {
        let value = *raw.get_ref();
        if (min..=max).contains(&value) {
            u32::try_from(value).unwrap_or(0)
        } else {
            self.error(
                raw.span(),
                format!("{key} must be between {min} and {max}, got {value}"),
            );
            0
        }
    }

    /// A scenario's `targets`: a non-empty subset of the suite's targets,
    /// each named once, kept in the suite's order; None when absent.
    fn scenario_targets(
        &mut self,
        raw: Option<&Spanned<Vec<Spanned<String>>>>,
        suite: &[String],
    ) -> Option<Vec<String>> {
        let list = raw?;
        if list.get_ref().is_empty() {
            self.error(list.span(), "a scenario's targets must name at least one target (leave the key out to run it on every target)");
        }
        let mut named: Vec<&str> = Vec::new();
        for name in list.get_ref() {
            let n = name.get_ref();
            if !suite.contains(n) {
                let message = format!(
                    "scenario names target {n:?}, which is not in this suite's targets ({})",
                    suite.join(", ")
                );
                self.error(name.span(), message);
            } else if named.contains(&n.as_str()) {
                self.error(name.span(), format!("target {n:?} is named twice"));
            } else {
                named.push(n);
            }
        }
        Some(
            suite
                .iter()
                .filter(|t| named.contains(&t.as_str()))
                .cloned()
                .collect(),
        )
    }

    fn scenario(&mut self, s: RawScenario, span: Range<usize>, defaults: Timing) -> ScenarioPlan {
        let name = s.name.get_ref().clone();
        if !is_identifier(&name) {
            self.error(
                s.name.span(),
                format!("invalid scenario name {name:?}: use letters, digits, '-', '_' and '.'"),
            );
        }
        let mut timing = self.timing(defaults, &s.warmup, &s.duration, &s.repeats, &s.timeout);
        let model = *s.model.get_ref();
        let forbid = |v: &mut Self, present: Option<Range<usize>>, key: &str, needs: &str| {
            if let Some(span) = present {
                v.error(span, format!("{key} is not allowed with model = \"{}\"; it belongs to model = \"{needs}\"", model_name(model)));
            }
        };
        if model != RawModel::Fanout {
            let fanout_keys = [
                ("subscribers", s.subscribers.as_ref().map(Spanned::span)),
                ("rate", s.rate.as_ref().map(Spanned::span)),
                ("publishers", s.publishers.as_ref().map(Spanned::span)),
                ("connect_rate", s.connect_rate.as_ref().map(Spanned::span)),
            ];
            for (key, span) in fanout_keys {
                forbid(self, span, key, "fanout");
            }
        }
        let load = match model {
            RawModel::Fanout => self.fanout(&s),
            RawModel::Closed => {
                forbid(self, s.rates.as_ref().map(Spanned::span), "rates", "open");
                forbid(
                    self,
                    s.connections.as_ref().map(Spanned::span),
                    "connections",
                    "open",
                );
                forbid(
                    self,
                    s.slo_p99.as_ref().map(Spanned::span),
                    "slo_p99",
                    "open",
                );
                forbid(
                    self,
                    s.arrivals.as_ref().map(Spanned::span),
                    "arrivals",
                    "open",
                );
                forbid(
                    self,
                    s.start_rate.as_ref().map(Spanned::span),
                    "start_rate",
                    "open",
                );
                if let Some(stage) = s.stage.first() {
                    forbid(self, Some(stage.span()), "[[scenario.stage]]", "open");
                }
                let concurrency = self.levels(
                    s.concurrency.as_ref(),
                    "concurrency",
                    MAX_CONCURRENCY,
                    &s.model,
                );
                LoadModel::Closed { concurrency }
            }
            RawModel::Open => {
                forbid(
                    self,
                    s.concurrency.as_ref().map(Spanned::span),
                    "concurrency",
                    "closed",
                );
                let connections = match &s.connections {
                    Some(c) => self.count(c, "connections", 1, MAX_CONCURRENCY),
                    None => DEFAULT_OPEN_CONNECTIONS,
                };
                let arrivals = self.arrivals(s.arrivals.as_ref());
                if s.stage.is_empty() {
                    if let Some(r) = &s.start_rate {
                        self.error(r.span(), "start_rate belongs to a profile: add [[scenario.stage]] tables or remove it");
                    }
                    let rates =
                        self.levels(s.rates.as_ref(), "rates", i64::from(MAX_RATE), &s.model);
                    LoadModel::Open {
                        rates,
                        connections,
                        arrivals,
                        profile: None,
                    }
                } else {
                    let profile = self.profile(&s, span.clone());
                    if let Some(p) = &profile {
                        timing.duration = p.duration().unwrap_or(timing.duration);
                    }
                    LoadModel::Open {
                        rates: profile
                            .as_ref()
                            .map_or_else(Vec::new, |p| vec![p.peak().round().max(1.0) as u64]),
                        connections,
                        arrivals,
                        profile,
                    }
                }
            }
        };
        let slo_p99 = match model {
            RawModel::Open | RawModel::Fanout => self.duration(&s.slo_p99, "slo_p99", false),
            RawModel::Closed => None,
        };
        let mix = self.mix(s.path.as_ref(), s.request, span);
        ScenarioPlan {
            name,
            description: s.description.unwrap_or_default(),
            load,
            mix,
            warmup: timing.warmup,
            duration: timing.duration,
            repeats: timing.repeats,
            timeout: timing.timeout,
            slo_p99,
            targets: None,
        }
    }

    /// `arrivals = "uniform" | "poisson"` (uniform when absent).
    fn arrivals(&mut self, raw: Option<&Spanned<String>>) -> Arrivals {
        match raw.map(|r| (r.get_ref().as_str(), r.span())) {
            None | Some(("uniform", _)) => Arrivals::Uniform,
            Some(("poisson", _)) => Arrivals::Poisson,
            Some((other, span)) => {
                self.error(
                    span,
                    format!("arrivals must be \"uniform\" or \"poisson\", got {other:?}"),
                );
                Arrivals::Uniform
            }
        }
    }

    /// A surge scenario's `[[scenario.stage]]` tables (and `start_rate`)
    /// as a profile; `rates`, `duration` and `slo_p99` do not go with it.
    fn profile(&mut self, s: &RawScenario, scenario_span: Range<usize>) -> Option<RateProfile> {
        let with = "with [[scenario.stage]] tables";
        if let Some(r) = &s.rates {
            self.error(r.span(), format!("rates is not allowed {with}: the step offers the profile, whose peak is its level"));
        }
        if let Some(d) = &s.duration {
            self.error(
                d.span(),
                format!("duration is not allowed {with}: the step lasts as long as its stages"),
            );
        }
        if let Some(d) = &s.slo_p99 {
            self.error(
                d.span(),
                format!("slo_p99 is not allowed {with}: capacity is searched at constant rates"),
            );
        }
        let rate = |v: &mut Self, raw: &Spanned<f64>, key: &str| -> Option<f64> {
            let r = *raw.get_ref();
            if r.is_finite() && (0.0..=f64::from(MAX_RATE)).contains(&r) {
                Some(r)
            } else {
                v.error(raw.span(), format!("{key} must be a number of requests per second between 0 and {MAX_RATE}, got {r}"));
                None
            }
        };
        let start_rate = s.start_rate.as_ref().map(|r| rate(self, r, "start_rate"));
        let mut ok = !matches!(start_rate, Some(None));
        let start_rate = start_rate.flatten();
        let mut stages = Vec::new();
        for st in &s.stage {
            let duration =
                self.duration(&Some(st.get_ref().duration.clone()), "stage duration", true);
            let r = rate(self, &st.get_ref().rate, "stage rate");
            match (duration, r) {
                (Some(duration), Some(rate)) => stages.push(Stage { duration, rate }),
                _ => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let total: Duration = stages.iter().map(|st| st.duration).sum();
        if total > MAX_STEP_DURATION || total.is_zero() {
            let message = if total.is_zero() {
                "the stages last 0s; give them durations, e.g. duration = \"10s\"".to_string()
            } else {
                format!(
                    "the stages last {:.0}s, longer than the {}h a step may last",
                    total.as_secs_f64(),
                    MAX_STEP_DURATION.as_secs() / 3600
                )
            };
            self.error(s.stage[0].span(), message);
            return None;
        }
        match RateProfile::stages(start_rate, stages) {
            Ok(p) => Some(p),
            Err(e) => {
                self.error(scenario_span, format!("the scenario's stages: {e}"));
                None
            }
        }
    }

    fn levels(
        &mut self,
        raw: Option<&Spanned<Vec<Spanned<i64>>>>,
        key: &str,
        max: i64,
        model: &Spanned<RawModel>,
    ) -> Vec<u64> {
        let Some(list) = raw else {
            let message = format!(
                "model = \"{}\" needs {key} = [...], e.g. {key} = {}",
                model_name(*model.get_ref()),
                if key == "rates" {
                    "[500, 1000, 2000]"
                } else if key == "subscribers" {
                    "[100, 1000, 5000]"
                } else {
                    "[8, 32, 128]"
                }
            );
            self.error(model.span(), message);
            return Vec::new();
        };
        if list.get_ref().is_empty() {
            self.error(list.span(), format!("{key} must list at least one level"));
        }
        let mut levels: Vec<u64> = Vec::new();
        for level in list.get_ref() {
            let value = *level.get_ref();
            if !(1..=max).contains(&value) {
                let message = format!("every {key} level must be between 1 and {max}, got {value}");
                self.error(level.span(), message);
                continue;
            }
            // In 1..=max, so positive.
            let value = value.unsigned_abs();
            if let Some(&last) = levels.last() {
                if value <= last {
                    let message =
                        format!("{key} levels must be strictly increasing; {value} follows {last}");
                    self.error(level.span(), message);
                    continue;
                }
            }
            levels.push(value);
        }
        levels
    }

    fn mix(
        &mut self,
        path: Option<&Spanned<String>>,
        requests: Vec<Spanned<RawRequest>>,
        scenario_span: Range<usize>,
    ) -> Mix {
        let placeholder = || Mix::single(MixEntry::get("/"));
        match (path, requests.is_empty()) {
            (Some(p), false) => {
                self.error(
                    p.span(),
                    "a scenario has either path = \"...\" (one GET) or [[scenario.request]] entries, not both",
                );
                placeholder()
            }
            (None, true) => {
                self.error(
                    scenario_span,
                    "the scenario has no requests: add path = \"/...\" or [[scenario.request]] entries",
                );
                placeholder()
            }
            (Some(p), true) => match self.path(p) {
                Some(path) => Mix::single(MixEntry::get(&path)),
                None => placeholder(),
            },
            (None, false) => {
                let mut entries = Vec::new();
                let mut labels: HashMap<String, usize> = HashMap::new();
                for r in requests {
                    let span = r.span();
                    if let Some(entry) = self.request(r.into_inner()) {
                        let line = self.source.line_col(span.start).0;
                        if let Some(first) = labels.get(&entry.label) {
                            let message = format!(
                                "two requests of this scenario share the label {:?} (first on line {first}); give them distinct labels",
                                entry.label
                            );
                            self.error(span, message);
                        } else {
                            labels.insert(entry.label.clone(), line);
                        }
                        entries.push(entry);
                    }
                }
                match Mix::new(entries) {
                    Ok(mix) => mix,
                    // Only reachable when an entry was rejected above.
                    Err(_) => placeholder(),
                }
            }
        }
    }

    fn path(&mut self, raw: &Spanned<String>) -> Option<String> {
        let p = raw.get_ref();
        let problem = if !p.starts_with('/') {
            Some("must start with '/'")
        } else if p.contains('#') {
            Some("must not contain a fragment ('#')")
        } else if PathAndQuery::from_str(p).is_err() || p.chars().any(char::is_whitespace) {
            Some("is not a valid URL path (encode spaces and special characters)")
        } else {
            None
        };
        match problem {
            Some(problem) => {
                self.error(raw.span(), format!("path {p:?} {problem}, e.g. \"/json\""));
                None
            }
            None => Some(p.clone()),
        }
    }

    fn request(&mut self, r: RawRequest) -> Option<MixEntry> {
        let errors_before = self.diagnostics.len();
        let method = match &r.method {
            None => Method::GET,
            Some(m) => {
                let upper = m.get_ref().trim().to_ascii_uppercase();
                match Method::from_bytes(upper.as_bytes()) {
                    Ok(method) if !upper.is_empty() => method,
                    _ => {
                        self.error(m.span(), format!("invalid HTTP method {:?}", m.get_ref()));
                        Method::GET
                    }
                }
            }
        };
        let path = self.path(&r.path);
        let mut headers = HeaderMap::new();
        for (name, value) in &r.headers {
            let header_name = match HeaderName::from_bytes(name.get_ref().as_bytes()) {
                Ok(n) => n,
                Err(_) => {
                    self.error(
                        name.span(),
                        format!("invalid header name {:?}", name.get_ref()),
                    );
                    continue;
                }
            };
            if RESERVED_HEADERS.contains(&header_name.as_str()) {
                let message = format!(
                    "header {:?} is set by bakeoff and cannot be overridden",
                    name.get_ref()
                );
                self.error(name.span(), message);
                continue;
            }
            match HeaderValue::from_str(value.get_ref()) {
                Ok(v) => {
                    headers.append(header_name, v);
                }
                Err(_) => {
                    let message = format!(
                        "invalid value for header {:?}: {:?} (visible ASCII only, no newlines)",
                        name.get_ref(),
                        value.get_ref()
                    );
                    self.error(value.span(), message);
                }
            }
        }
        let expect_status = match &r.expect_status {
            None => 200,
            Some(s) => u16::try_from(self.count(s, "expect_status", 100, 599)).unwrap_or(200),
        };
        let weight = match &r.weight {
            None => 1,
            Some(w) => self.count(w, "weight", 1, i64::from(u32::MAX)),
        };
        let label = match &r.label {
            Some(l) if l.get_ref().trim().is_empty() => {
                self.error(l.span(), "label must not be empty");
                String::new()
            }
            Some(l) => l.get_ref().trim().to_string(),
            None => format!("{method} {}", r.path.get_ref()),
        };
        if self.diagnostics.len() > errors_before {
            return None;
        }
        Some(MixEntry {
            label,
            method,
            path: path?,
            headers,
            body: Bytes::from(r.body.unwrap_or_default()),
            expect_status,
            weight,
        })
    }
}

fn model_name(model: RawModel) -> &'static str {
    match model {
        RawModel::Closed => "closed",
        RawModel::Open => "open",
        RawModel::Fanout => "fanout",
    }
}

/// Names used in results, file names and CLI flags.
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Normalises an external target's base URL to `http://host:port`.
fn base_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text)
        .map_err(|e| format!("invalid URL {text:?}: {e} (e.g. \"http://127.0.0.1:3001\")"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "URL {text:?} must use http:// (bakeoff speaks plain HTTP/1.1)"
        ));
    }
    if url.host().is_none() {
        return Err(format!("URL {text:?} has no host"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "URL {text:?} must be a bare base URL such as \"http://127.0.0.1:3001\"; scenario paths are appended to it"
        ));
    }
    Ok(url.origin().ascii_serialization())
}
