//! JUnit XML for CI dashboards (Jenkins, GitLab, most others): `run
//! --junit FILE` writes one test case per threshold gate, `compare --junit
//! FILE` one per compared step. The cases are laid out from what
//! [`crate::gates`] and [`crate::compare`] decided, with the messages the
//! terminal prints; nothing here judges or computes a figure. The XML is
//! written by `quick-xml` (which escapes) in the dialect of the Jenkins
//! xUnit plugin's `junit-10.xsd` (one `<testsuites>` holding one
//! `<testsuite>`), atomically like every output file.

use std::path::Path;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::compare::{CompareReport, StepComparison, Verdict};
use crate::gates::GateOutcome;
use crate::results::{Model, ResultsError, write_atomic};

/// One `<testsuite>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    pub name: String,
    /// When the run started (RFC 3339), if known.
    pub timestamp: Option<String>,
    pub hostname: Option<String>,
    pub cases: Vec<Case>,
}

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Grouping shown by CI tools: the target.
    pub classname: String,
    pub name: String,
    pub outcome: CaseOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CaseOutcome {
    Passed,
    /// A gate failed or a step regressed: `message` is the terminal's
    /// line, `detail` the element's text.
    Failed {
        message: String,
        detail: String,
    },
    /// The command could not judge (the run did not finish).
    Error {
        message: String,
    },
    /// Nothing to judge (a step on one side only).
    Skipped {
        message: String,
    },
}

impl Suite {
    fn count(&self, pick: fn(&CaseOutcome) -> bool) -> usize {
        self.cases.iter().filter(|c| pick(&c.outcome)).count()
    }
    pub fn failures(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Failed { .. }))
    }
    pub fn errors(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Error { .. }))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Skipped { .. }))
    }
}

/// The suite's threshold gates, one case per outcome in `gates`' order; a
/// failed one carries the line `run` prints (`FAIL node/db at 64: …`).
pub fn gates_suite(
    suite: &str,
    gates: &[GateOutcome],
    timestamp: Option<String>,
    hostname: Option<String>,
) -> Suite {
    let cases = gates
        .iter()
        .map(|g| Case {
            classname: g.target.clone(),
            name: format!("{} at {}: {}", g.scenario, g.level, g.threshold),
            outcome: if g.passed {
                CaseOutcome::Passed
            } else {
                CaseOutcome::Failed {
                    message: g.to_string(),
                    detail: format!(
                        "threshold {} on {}/{} at level {}",
                        g.threshold, g.target, g.scenario, g.level
                    ),
                }
            },
        })
        .collect();
    Suite {
        name: format!("bakeoff run {suite}: thresholds"),
        timestamp,
        hostname,
        cases,
    }
}

/// A run that stopped before its gates were evaluated: one case in
/// error, with why.
pub fn unfinished_suite(suite: &str, why: &str) -> Suite {
    Suite {
        name: format!("bakeoff run {suite}: thresholds"),
        timestamp: None,
        hostname: None,
        cases: vec![Case {
            classname: "bakeoff".into(),
            name: "run".into(),
            outcome: CaseOutcome::Error {
                message: why.to_string(),
            },
        }],
    }
}

/// A comparison: one case per compared step (a regression fails, with
/// compare's reasons), and one skipped case per step on one side only.
pub fn compare_suite(report: &CompareReport, timestamp: Option<String>) -> Suite {
    let mut cases: Vec<Case> = report.steps.iter().map(step_case).collect();
    for (side, list) in [
        ("only in the baseline", &report.only_in_baseline),
        ("only in the current run", &report.only_in_current),
    ] {
        cases.extend(list.iter().map(|u| Case {
            classname: u.target.clone(),
            name: step_name(&u.scenario, u.level, u.model),
            outcome: CaseOutcome::Skipped {
                message: side.to_string(),
            },
        }));
    }
    Suite {
        name: format!(
            "bakeoff compare at a {}% threshold",
            crate::units::number(report.threshold_pct)
        ),
        timestamp,
        hostname: None,
        cases,
    }
}

fn step_name(scenario: &str, level: u64, model: Model) -> String {
    let unit = match model {
        Model::Closed => "conn",
        Model::Open => "req/s",
        Model::Fanout => "subscribers",
    };
    format!("{scenario} at {level} {unit}")
}

fn step_case(s: &StepComparison) -> Case {
    let name = step_name(&s.scenario, s.level, s.model);
    let outcome = match s.verdict {
        Verdict::Regressed => {
            let mut message = format!("{}/{name}: regressed ({})", s.target, s.reasons.join(", "));
            if !s.mark().is_empty() {
                message.push_str(&format!(" {}", s.mark()));
            }
            CaseOutcome::Failed {
                message,
                detail: format!(
                    "rps {:.1} → {:.1}, p99 {} → {}",
                    s.baseline.rps,
                    s.current.rps,
                    crate::units::latency(s.baseline.p99_us),
                    crate::units::latency(s.current.p99_us)
                ),
            }
        }
        Verdict::Improved | Verdict::NoChange => CaseOutcome::Passed,
    };
    Case {
        classname: s.target.clone(),
        name,
        outcome,
    }
}

/// The document: `<testsuites>` with one `<testsuite>`.
pub fn to_xml(suite: &Suite) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write_suites(&mut w, suite);
    let mut s = String::from_utf8_lossy(&w.into_inner()).into_owned();
    s.push('\n');
    s
}

fn write_suites(w: &mut Writer<Vec<u8>>, suite: &Suite) -> std::io::Result<()> {
    let (tests, failures, errors, skipped) = (
        suite.cases.len().to_string(),
        suite.failures().to_string(),
        suite.errors().to_string(),
        suite.skipped().to_string(),
    );
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("testsuites").with_attributes(
        [
            ("name", "bakeoff"),
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
        ],
    )))?;
    let mut start = BytesStart::new("testsuite").with_attributes([
        ("name", suite.name.as_str()),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("skipped", skipped.as_str()),
    ]);
    if let Some(t) = &suite.timestamp {
        start.push_attribute(("timestamp", t.as_str()));
    }
    if let Some(h) = &suite.hostname {
        start.push_attribute(("hostname", h.as_str()));
    }
    w.write_event(Event::Start(start))?;
    for case in &suite.cases {
        let start = BytesStart::new("testcase").with_attributes([
            ("classname", case.classname.as_str()),
            ("name", case.name.as_str()),
        ]);
        let (tag, message, detail) = match &case.outcome {
            CaseOutcome::Passed => {
                w.write_event(Event::Empty(start))?;
                continue;
            }
            CaseOutcome::Failed { message, detail } => ("failure", message, Some(detail)),
            CaseOutcome::Error { message } => ("error", message, None),
            CaseOutcome::Skipped { message } => ("skipped", message, None),
        };
        w.write_event(Event::Start(start))?;
        let inner = BytesStart::new(tag).with_attributes([("message", message.as_str())]);
        match detail {
            Some(text) => {
                w.write_event(Event::Start(inner))?;
                w.write_event(Event::Text(BytesText::new(text)))?;
                w.write_event(Event::End(BytesEnd::new(tag)))?;
            }
            None => w.write_event(Event::Empty(inner))?,
        }
        w.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

/// Writes the suite to `path` atomically (the error names the file).
pub fn write(path: &Path, suite: &Suite) -> Result<(), ResultsError> {
    write_atomic(path, to_xml(suite).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, outcome: CaseOutcome) -> Case {
        Case {
            classname: "node".into(),
            name: name.into(),
            outcome,
        }
    }

    #[test]
    fn junit_counts_and_escapes() {
        let suite = Suite {
            name: "s <&>".into(),
            timestamp: Some("2026-01-01T00:00:00Z".into()),
            hostname: None,
            cases: vec![
                case("a", CaseOutcome::Passed),
                case(
                    "b",
                    CaseOutcome::Failed {
                        message: "FAIL p99 < 50ms \"x\" & y".into(),
                        detail: "1 < 2".into(),
                    },
                ),
                case(
                    "c",
                    CaseOutcome::Skipped {
                        message: "only in the baseline".into(),
                    },
                ),
            ],
        };
        assert_eq!(
            (suite.failures(), suite.errors(), suite.skipped()),
            (1, 0, 1)
        );
        let xml = to_xml(&suite);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(
            xml.contains(r#"<testsuite name="s &lt;&amp;&gt;" tests="3" failures="1" errors="0" skipped="1" timestamp="2026-01-01T00:00:00Z">"#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<failure message="FAIL p99 &lt; 50ms &quot;x&quot; &amp; y">1 &lt; 2</failure>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase classname="node" name="a"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<skipped message="only in the baseline"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn junit_unfinished_run_is_an_error_case() {
        let s = unfinished_suite("quick", "the run did not finish");
        assert_eq!((s.cases.len(), s.errors(), s.failures()), (1, 1, 0));
        assert!(to_xml(&s).contains(r#"<error message="the run did not finish"/>"#));
    }
}
