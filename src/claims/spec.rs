//! The claims file (`suites/claims.toml`): raw TOML → validated
//! [`ClaimsFile`]. Each claim names a predicate kind and its parameters;
//! what the kinds compute lives in `predicates.rs`. Errors name the file,
//! and the claim and key at fault (TOML syntax errors carry line and column).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::stats::NoisePolicy;

/// The claims file shipped in the binary.
pub const DEFAULT_CLAIMS: &str = include_str!("../../suites/claims.toml");
/// How the embedded file is named in messages.
pub const DEFAULT_CLAIMS_NAME: &str = "<embedded suites/claims.toml>";

#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// A validated claims file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsFile {
    pub source: String,
    pub noise: NoisePolicy,
    pub capacity: CapacitySpec,
    pub claims: Vec<ClaimSpec>,
}

/// Settings of the "Capacity and knee" table.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacitySpec {
    /// Throughput growth below which a level counts as the knee (0.1 = 10 %).
    pub growth_fraction: f64,
    /// p99 objectives that override the run's recorded plan (or stand in
    /// for it in results without one), per open-model scenario; see
    /// [`super::capacity::slo_objectives`].
    pub slo_p99: BTreeMap<String, Duration>,
}

/// One claim: who said what, and how it is tested.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimSpec {
    pub id: String,
    /// The claim's exact words (or a description when `quoted` is false).
    pub text: String,
    /// Whether `text` is a quotation (rendered in quotation marks).
    pub quoted: bool,
    pub predicate: Predicate,
}

/// The predicate kinds. Targets are variant names, scenarios suite
/// scenario names.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// Throughput growth with concurrency on one scenario: subject vs each
    /// of `versus`, at the highest common level, and growth from the lowest.
    Scaling {
        scenario: String,
        subject: String,
        versus: Vec<String>,
        growth_fraction: f64,
    },
    /// Per scenario at the highest common level: subject's rps and p99 vs
    /// `versus`; the subject must be ahead in at least `min_share` of the
    /// measured scenarios.
    RatioAtHighest {
        scenarios: Vec<String>,
        subject: String,
        versus: String,
        min_share: f64,
    },
    /// Like `RatioAtHighest`, plus a table of rps ratios of every target
    /// (`also` included) against `versus` per scenario.
    RatioTable {
        scenarios: Vec<String>,
        subject: String,
        versus: String,
        also: Vec<String>,
        min_share: f64,
    },
    /// Subject's p50 at the lowest level and p99 at the highest, per
    /// scenario, within `ratio` × versus's.
    LatencyUncontendedAndLoaded {
        scenarios: Vec<String>,
        subject: String,
        versus: String,
        ratio: f64,
    },
    /// The ORM's own cost: per pair (`scenarios[i]`, `raw_scenarios[i]`),
    /// the subject's p50 at the lowest and p99 at the highest common level
    /// on the ORM scenario within `ratio` × its raw-SQL twin's; the twin
    /// against `versus` on the ORM scenario is evidence only.
    OrmCost {
        scenarios: Vec<String>,
        raw_scenarios: Vec<String>,
        subject: String,
        versus: String,
        ratio: f64,
    },
    /// Subject's p99 at the highest level below each of `versus`, with an
    /// error rate at most `max_error_rate`.
    TailUnderLoad {
        scenarios: Vec<String>,
        subject: String,
        versus: Vec<String>,
        max_error_rate: f64,
    },
    /// On a CPU-bound scenario the subject's throughput grows less than
    /// `max_growth`× from the lowest to the highest level while p99 climbs.
    CpuBound {
        scenario: String,
        subject: String,
        versus: Vec<String>,
        max_growth: f64,
    },
    /// A traffic spike on one surge scenario: the subject recovers in every
    /// repeat with at most `max_error_rate` errors from the surge on, its
    /// peak p99 is lower than each of `versus` beyond noise and it
    /// recovers no later.
    SurgeRecovery {
        scenario: String,
        subject: String,
        versus: Vec<String>,
        max_error_rate: f64,
    },
    /// Real-time delivery on one fan-out scenario: at the highest common
    /// subscriber level the subject's delivery p99 is lower than each of
    /// `versus` beyond noise with at most `max_error_rate` of deliveries
    /// lost, and it holds at least as many subscribers within `slo_p99`
    /// (capacity, within the SLO search's resolution).
    RealtimeFanout {
        scenario: String,
        subject: String,
        versus: Vec<String>,
        slo_p99: std::time::Duration,
        max_error_rate: f64,
    },
    /// Not testable with a load generator.
    OutOfScope { reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    noise: Option<RawNoise>,
    #[serde(default)]
    capacity: Option<RawCapacity>,
    #[serde(default)]
    claim: Vec<RawClaim>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoise {
    ratio: Option<f64>,
    few_repeats_ratio: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    growth_fraction: Option<f64>,
    #[serde(default)]
    slo_p99: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaim {
    id: String,
    text: String,
    /// Where the words come from (documentation only).
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    /// False when `text` describes rather than quotes (default true).
    quoted: Option<bool>,
    kind: String,
    #[serde(default)]
    scenarios: Vec<String>,
    /// `orm_cost`: the raw-SQL twin of each of `scenarios`, in order.
    #[serde(default)]
    raw_scenarios: Vec<String>,
    subject: Option<String>,
    #[serde(default)]
    versus: OneOrMany,
    #[serde(default)]
    also: Vec<String>,
    ratio: Option<f64>,
    min_share: Option<f64>,
    max_error_rate: Option<f64>,
    max_growth: Option<f64>,
    growth_fraction: Option<f64>,
    /// `realtime_fanout`: the delivery p99 objective of its capacity.
    slo_p99: Option<String>,
    reason: Option<String>,
}

/// `versus = "x"` or `versus = ["x", "y"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Loads a claims file; None = the embedded default.
pub fn load(path: Option<&Path>) -> Result<ClaimsFile, ClaimsError> {
    match path {
        None => parse(DEFAULT_CLAIMS, DEFAULT_CLAIMS_NAME),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| ClaimsError::Read {
                path: p.to_path_buf(),
                source,
            })?;
            parse(&text, &p.display().to_string())
        }
    }
}

/// Parses and validates claims TOML; `name` is used in messages.
pub fn parse(text: &str, name: &str) -> Result<ClaimsFile, ClaimsError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ClaimsError::Parse {
        path: name.to_string(),
        message: e.to_string(),
    })?;
    let invalid = |message: String| ClaimsError::Invalid {
        path: name.to_string(),
        message,
    };
    let defaults = NoisePolicy::default();
    let noise = match raw.noise {
        None => defaults,
        Some(n) => NoisePolicy {
            ratio: n.ratio.unwrap_or(defaults.ratio),
            few_repeats_ratio: n.few_repeats_ratio.unwrap_or(defaults.few_repeats_ratio),
        },
    };
    if !(noise.ratio >= 1.0 && noise.few_repeats_ratio >= noise.ratio) {
        return Err(invalid(format!(
            "[noise] needs 1 <= ratio <= few_repeats_ratio, got ratio = {} and few_repeats_ratio = {}",
            noise.ratio, noise.few_repeats_ratio
        )));
    }
    let raw_cap = raw.capacity.unwrap_or(RawCapacity {
        growth_fraction: None,
        slo_p99: BTreeMap::new(),
    });
    let mut slo_p99 = BTreeMap::new();
    for (scenario, text) in raw_cap.slo_p99 {
        let d = crate::duration::parse(&text, crate::duration::Bare::Refused)
            .map_err(|e| invalid(format!("[capacity.slo_p99] {scenario}: {e}")))?;
        slo_p99.insert(scenario, d);
    }
    let capacity = CapacitySpec {
        growth_fraction: fraction(raw_cap.growth_fraction, 0.1, "[capacity] growth_fraction")
            .map_err(invalid)?,
        slo_p99,
    };
    let mut claims = Vec::new();
    for c in raw.claim {
        if claims.iter().any(|x: &ClaimSpec| x.id == c.id) {
            return Err(invalid(format!("claim id {:?} appears twice", c.id)));
        }
        let id = c.id.clone();
        let predicate = predicate(c.kind.as_str(), &c, noise)
            .map_err(|m| invalid(format!("claim {id:?}: {m}")))?;
        claims.push(ClaimSpec {
            id,
            text: c.text,
            quoted: c.quoted.unwrap_or(true),
            predicate,
        });
    }
    Ok(ClaimsFile {
        source: name.to_string(),
        noise,
        capacity,
        claims,
    })
}

fn fraction(v: Option<f64>, default: f64, what: &str) -> Result<f64, String> {
    match v {
        None => Ok(default),
        Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
        Some(x) => Err(format!("{what} must be between 0 and 1, got {x}")),
    }
}

fn predicate(kind: &str, c: &RawClaim, noise: NoisePolicy) -> Result<Predicate, String> {
    let versus = c.versus.to_vec();
    let subject = || {
        c.subject
            .clone()
            .ok_or_else(|| format!("kind {kind:?} needs `subject`"))
    };
    let one_scenario = || match c.scenarios.as_slice() {
        [s] => Ok(s.clone()),
        _ => Err(format!(
            "kind {kind:?} needs exactly one scenario in `scenarios`, got {}",
            c.scenarios.len()
        )),
    };
    let some_scenarios = || {
        if c.scenarios.is_empty() {
            Err(format!(
                "kind {kind:?} needs at least one scenario in `scenarios`"
            ))
        } else {
            Ok(c.scenarios.clone())
        }
    };
    let one_versus = || match versus.as_slice() {
        [v] => Ok(v.clone()),
        _ => Err(format!(
            "kind {kind:?} needs exactly one target in `versus`, got {}",
            versus.len()
        )),
    };
    let some_versus = || {
        if versus.is_empty() {
            Err(format!(
                "kind {kind:?} needs at least one target in `versus`"
            ))
        } else {
            Ok(versus.clone())
        }
    };
    let ratio_at_least_one = |v: Option<f64>, default: f64, key: &str| match v {
        None => Ok(default),
        Some(x) if x >= 1.0 => Ok(x),
        Some(x) => Err(format!("`{key}` must be at least 1, got {x}")),
    };
    let p = match kind {
        "scaling" => Predicate::Scaling {
            scenario: one_scenario()?,
            subject: subject()?,
            versus: some_versus()?,
            growth_fraction: fraction(c.growth_fraction, 0.1, "`growth_fraction`")?,
        },
        "ratio_at_highest" => Predicate::RatioAtHighest {
            scenarios: some_scenarios()?,
            subject: subject()?,
            versus: one_versus()?,
            min_share: fraction(c.min_share, 2.0 / 3.0, "`min_share`")?,
        },
        "ratio_table" => Predicate::RatioTable {
            scenarios: some_scenarios()?,
            subject: subject()?,
            versus: one_versus()?,
            also: c.also.clone(),
            min_share: fraction(c.min_share, 2.0 / 3.0, "`min_share`")?,
        },
        "latency_uncontended_and_loaded" => Predicate::LatencyUncontendedAndLoaded {
            scenarios: some_scenarios()?,
            subject: subject()?,
            versus: one_versus()?,
            ratio: ratio_at_least_one(c.ratio, noise.ratio, "ratio")?,
        },
        "orm_cost" => {
            let scenarios = some_scenarios()?;
            if c.raw_scenarios.len() != scenarios.len() {
                return Err(format!(
                    "kind \"orm_cost\" needs one raw-SQL twin in `raw_scenarios` per scenario in `scenarios` ({} for {})",
                    c.raw_scenarios.len(),
                    scenarios.len()
                ));
            }
            Predicate::OrmCost {
                scenarios,
                raw_scenarios: c.raw_scenarios.clone(),
                subject: subject()?,
                versus: one_versus()?,
                ratio: ratio_at_least_one(c.ratio, noise.ratio, "ratio")?,
            }
        }
        "tail_under_load" => Predicate::TailUnderLoad {
            scenarios: some_scenarios()?,
            subject: subject()?,
            versus: some_versus()?,
            max_error_rate: fraction(c.max_error_rate, 0.001, "`max_error_rate`")?,
        },
        "cpu_bound" => Predicate::CpuBound {
            scenario: one_scenario()?,
            subject: subject()?,
            versus: versus.clone(),
            max_growth: ratio_at_least_one(c.max_growth, 1.5, "max_growth")?,
        },
        "surge_recovery" => Predicate::SurgeRecovery {
            scenario: one_scenario()?,
            subject: subject()?,
            versus: some_versus()?,
            max_error_rate: fraction(c.max_error_rate, 0.001, "`max_error_rate`")?,
        },
        "realtime_fanout" => Predicate::RealtimeFanout {
            scenario: one_scenario()?,
            subject: subject()?,
            versus: some_versus()?,
            slo_p99: match &c.slo_p99 {
                Some(text) => crate::duration::parse(text, crate::duration::Bare::Refused)
                    .map_err(|e| format!("`slo_p99`: {e}"))?,
                None => return Err(format!("kind {kind:?} needs `slo_p99`, e.g. \"50ms\"")),
            },
            max_error_rate: fraction(c.max_error_rate, 0.001, "`max_error_rate`")?,
        },
        "out_of_scope" => Predicate::OutOfScope {
            reason: c
                .reason
                .clone()
                .filter(|r| !r.trim().is_empty())
                .ok_or("kind \"out_of_scope\" needs a `reason`")?,
        },
        other => {
            return Err(format!(
                "unknown kind {other:?} (expected one of: scaling, ratio_at_highest, ratio_table, latency_uncontended_and_loaded, orm_cost, tail_under_load, cpu_bound, surge_recovery, realtime_fanout, out_of_scope)"
            ));
        }
    };
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_claims_parse() {
        let f = load(None).unwrap();
        assert!(f.claims.len() >= 7, "{} claims", f.claims.len());
        assert!(
            f.claims
                .iter()
                .any(|c| matches!(c.predicate, Predicate::OutOfScope { .. }))
        );
        // The SLOs come from the run's plan, not from here.
        assert!(f.capacity.slo_p99.is_empty());
        let with = parse("[capacity.slo_p99]\nshop-open = \"50ms\"\n", "c.toml").unwrap();
        assert_eq!(
            with.capacity.slo_p99.get("shop-open"),
            Some(&Duration::from_millis(50))
        );
    }

    #[test]
    fn errors_name_the_file_claim_and_key() {
        let bad_kind = "[[claim]]\nid = \"x\"\ntext = \"t\"\nkind = \"vibes\"\n";
        let e = parse(bad_kind, "c.toml").unwrap_err().to_string();
        assert!(
            e.contains("c.toml") && e.contains("\"x\"") && e.contains("vibes"),
            "{e}"
        );

        let unknown_key = "[[claim]]\nid = \"x\"\ntext = \"t\"\nkind = \"out_of_scope\"\nreason = \"r\"\nwieght = 1\n";
        let e = parse(unknown_key, "c.toml").unwrap_err().to_string();
        assert!(
            e.contains("c.toml") && e.contains("wieght") && e.contains("line 6"),
            "{e}"
        );

        let no_subject = "[[claim]]\nid = \"x\"\ntext = \"t\"\nkind = \"scaling\"\nscenarios = [\"io\"]\nversus = [\"b\"]\n";
        let e = parse(no_subject, "c.toml").unwrap_err().to_string();
        assert!(e.contains("subject"), "{e}");

        let dup = "[[claim]]\nid = \"x\"\ntext = \"t\"\nkind = \"out_of_scope\"\nreason = \"r\"\n\
                   [[claim]]\nid = \"x\"\ntext = \"t\"\nkind = \"out_of_scope\"\nreason = \"r\"\n";
        assert!(
            parse(dup, "c.toml")
                .unwrap_err()
                .to_string()
                .contains("twice")
        );

        let bad_slo = "[capacity.slo_p99]\nshop = \"soon\"\n";
        assert!(
            parse(bad_slo, "c.toml")
                .unwrap_err()
                .to_string()
                .contains("shop")
        );

        let bad_noise = "[noise]\nratio = 0.5\n";
        assert!(
            parse(bad_noise, "c.toml")
                .unwrap_err()
                .to_string()
                .contains("ratio")
        );
    }
}
