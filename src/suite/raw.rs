//! The suite file as written: serde structs mirroring the TOML, with
//! `deny_unknown_fields` everywhere and a byte span on every value a later
//! check may need to point at. Nothing here is validated beyond TOML types;
//! `validate.rs` turns these into the typed plan. Numbers are read as `i64`
//! so that a zero or negative count gets a precise message from validation
//! instead of a generic "expected u32".

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_spanned::Spanned;

/// A whole suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuite {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub targets: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub db_connections: Option<Spanned<i64>>,
    #[serde(default)]
    pub defaults: Option<RawDefaults>,
    #[serde(default)]
    pub cpu: Option<Spanned<RawCpu>>,
    #[serde(default)]
    pub urls: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub scenario: Vec<Spanned<RawScenario>>,
    #[serde(default)]
    pub thresholds: Vec<Spanned<RawThreshold>>,
}

impl RawSuite {
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "description",
        "targets",
        "db_connections",
        "defaults",
        "cpu",
        "urls",
        "scenario",
        "thresholds",
    ];
}

/// `[defaults]`: step timing shared by every scenario unless overridden.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    #[serde(default)]
    pub warmup: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub duration: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub repeats: Option<Spanned<i64>>,
    #[serde(default)]
    pub timeout: Option<Spanned<RawDuration>>,
}

impl RawDefaults {
    pub const FIELDS: &'static [&'static str] = &["warmup", "duration", "repeats", "timeout"];
}

/// `[cpu]`: which CPU indices the generator and the servers use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCpu {
    #[serde(default)]
    pub generator: Option<Spanned<Vec<Spanned<i64>>>>,
    #[serde(default)]
    pub targets: Option<Spanned<Vec<Spanned<i64>>>>,
}

impl RawCpu {
    pub const FIELDS: &'static [&'static str] = &["generator", "targets"];
}

/// The load model of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawModel {
    Closed,
    Open,
    Fanout,
}

/// One `[[scenario]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub model: Spanned<RawModel>,
    #[serde(default)]
    pub concurrency: Option<Spanned<Vec<Spanned<i64>>>>,
    #[serde(default)]
    pub rates: Option<Spanned<Vec<Spanned<i64>>>>,
    #[serde(default)]
    pub connections: Option<Spanned<i64>>,
    #[serde(default)]
    pub warmup: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub duration: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub repeats: Option<Spanned<i64>>,
    #[serde(default)]
    pub timeout: Option<Spanned<RawDuration>>,
    #[serde(default)]
    pub slo_p99: Option<Spanned<RawDuration>>,
    /// Open model: a rate profile of `[[scenario.stage]]` tables instead of
    /// `rates` (one step per target, at the profile's peak).
    #[serde(default)]
    pub stage: Vec<Spanned<RawStage>>,
    /// With stages: the rate the first stage starts from.
    #[serde(default)]
    pub start_rate: Option<Spanned<f64>>,
    /// Open model: "uniform" (default) or "poisson".
    #[serde(default)]
    pub arrivals: Option<Spanned<String>>,
    /// Fan-out model: the levels, subscriber connections per step.
    #[serde(default)]
    pub subscribers: Option<Spanned<Vec<Spanned<i64>>>>,
    /// Fan-out model: messages per second, all publishers together.
    #[serde(default)]
    pub rate: Option<Spanned<f64>>,
    /// Fan-out model: publishing connections among the subscribers (1).
    #[serde(default)]
    pub publishers: Option<Spanned<i64>>,
    /// Fan-out model: subscribers connected per second (500).
    #[serde(default)]
    pub connect_rate: Option<Spanned<f64>>,
    /// The suite's targets this scenario runs on (all when absent).
    #[serde(default)]
    pub targets: Option<Spanned<Vec<Spanned<String>>>>,
    /// Shorthand for a mix of one `GET path`.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    #[serde(default)]
    pub request: Vec<Spanned<RawRequest>>,
}

impl RawScenario {
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "description",
        "model",
        "concurrency",
        "rates",
        "connections",
        "warmup",
        "duration",
        "repeats",
        "timeout",
        "slo_p99",
        "stage",
        "start_rate",
        "arrivals",
        "subscribers",
        "rate",
        "publishers",
        "connect_rate",
        "targets",
        "path",
        "request",
    ];
}

/// One `[[scenario.stage]]` of a rate profile.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub duration: Spanned<RawDuration>,
    pub rate: Spanned<f64>,
}

impl RawStage {
    pub const FIELDS: &'static [&'static str] = &["duration", "rate"];
}

/// One `[[scenario.request]]` entry of a mix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    #[serde(default)]
    pub headers: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub expect_status: Option<Spanned<i64>>,
    #[serde(default)]
    pub weight: Option<Spanned<i64>>,
    #[serde(default)]
    pub label: Option<Spanned<String>>,
}

impl RawRequest {
    pub const FIELDS: &'static [&'static str] = &[
        "method",
        "path",
        "headers",
        "body",
        "expect_status",
        "weight",
        "label",
    ];
}

/// One `[[thresholds]]` gate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThreshold {
    #[serde(default)]
    pub target: Option<Spanned<String>>,
    #[serde(default)]
    pub scenario: Option<Spanned<String>>,
    #[serde(default)]
    pub model: Option<Spanned<String>>,
    pub check: Spanned<String>,
}

impl RawThreshold {
    pub const FIELDS: &'static [&'static str] = &["target", "scenario", "model", "check"];
}

/// Where each struct's fields live in the file, for "unknown key ... in
/// [[scenario]]" messages: serde's own error only lists the expected
/// fields, so the table is recognised by its field list.
pub const TABLES: &[(&str, &[&str])] = &[
    ("the top level", RawSuite::FIELDS),
    ("[defaults]", RawDefaults::FIELDS),
    ("[cpu]", RawCpu::FIELDS),
    ("[[scenario]]", RawScenario::FIELDS),
    ("[[scenario.request]]", RawRequest::FIELDS),
    ("[[scenario.stage]]", RawStage::FIELDS),
    ("[[thresholds]]", RawThreshold::FIELDS),
];

/// A duration as written (e.g. "10s"), parsed later so the error can point
/// at it. A bare TOML number is refused with a hint instead of being
/// guessed to mean seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDuration(pub String);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string with a unit, such as \"10s\" or \"500ms\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                Ok(RawDuration(v.to_string()))
            }
        }

        deserializer.deserialize_str(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extracts the backquoted names serde lists after "expected".
    fn expected_fields(message: &str) -> Vec<String> {
        let tail = message.split("expected").nth(1).unwrap_or("");
        tail.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    fn unknown_field_message<T: for<'de> Deserialize<'de> + fmt::Debug>() -> String {
        toml::from_str::<T>("zzz_not_a_key = 1")
            .unwrap_err()
            .message()
            .to_string()
    }

    /// The FIELDS constants drive error messages; they must match what serde
    /// actually accepts, or the message would name the wrong table.
    #[test]
    fn field_lists_match_serde() {
        let cases: Vec<(String, &[&str])> = vec![
            (unknown_field_message::<RawSuite>(), RawSuite::FIELDS),
            (unknown_field_message::<RawDefaults>(), RawDefaults::FIELDS),
            (unknown_field_message::<RawCpu>(), RawCpu::FIELDS),
            (unknown_field_message::<RawScenario>(), RawScenario::FIELDS),
            (unknown_field_message::<RawRequest>(), RawRequest::FIELDS),
            (
                unknown_field_message::<RawThreshold>(),
                RawThreshold::FIELDS,
            ),
        ];
        for (message, fields) in cases {
            assert!(message.contains("zzz_not_a_key"), "{message}");
            assert_eq!(expected_fields(&message), fields.to_vec(), "{message}");
        }
    }

    #[test]
    fn field_lists_are_distinct() {
        for (i, (_, a)) in TABLES.iter().enumerate() {
            for (_, b) in &TABLES[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn bare_number_duration_is_refused_with_a_hint() {
        let err = toml::from_str::<RawDefaults>("warmup = 10").unwrap_err();
        assert!(err.message().contains("\"10s\""), "{}", err.message());
        let ok: RawDefaults = toml::from_str("warmup = \"2s\"").unwrap();
        assert_eq!(ok.warmup.unwrap().into_inner(), RawDuration("2s".into()));
    }
}
