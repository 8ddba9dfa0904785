//! Presenting check results: a text table target × endpoint (one cell per
//! pair: `ok`, `FAIL k/n`, with unverifiable checks flagged) followed by the
//! details of every failure, or the results as one JSON document. Nothing
//! here decides pass or fail; it only shows [`CheckResult`]s.

use std::fmt::Write as _;

use serde::Serialize;

use super::contract::ENDPOINTS;
use super::{CROSS_TARGET, CheckResult};

/// Counts over a set of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Summary {
    pub checks: usize,
    pub passed: usize,
    pub failed: usize,
    pub unverified: usize,
}

impl Summary {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Self {
        let mut s = Summary::default();
        for r in results {
            s.checks += 1;
            if !r.verifiable {
                s.unverified += 1;
            } else if r.passed {
                s.passed += 1;
            } else {
                s.failed += 1;
            }
        }
        s
    }

    /// The table cell for these results.
    fn cell(&self) -> String {
        if self.checks == 0 {
            return "-".into();
        }
        let verified = self.checks - self.unverified;
        let mut cell = if self.failed > 0 {
            format!("FAIL {}/{verified}", self.failed)
        } else {
            "ok".to_string()
        };
        if self.unverified > 0 {
            cell.push_str(&format!(" ({} n/a)", self.unverified));
        }
        cell
    }
}

/// The JSON document printed by `bakeoff check --format json`.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// False if any check failed (unverifiable checks do not count).
    pub passed: bool,
    pub summary: Summary,
    pub results: &'a [CheckResult],
}

/// `results` as a pretty JSON document ([`Report`]).
pub fn render_json(results: &[CheckResult]) -> Result<String, serde_json::Error> {
    let summary = Summary::of(results);
    serde_json::to_string_pretty(&Report {
        passed: summary.failed == 0,
        summary,
        results,
    })
}

/// The text table, failure details and a summary line. `targets` gives the
/// row order; targets with no results still get a row.
pub fn render_text(targets: &[String], results: &[CheckResult]) -> String {
    let columns: Vec<&str> = ENDPOINTS
        .iter()
        .copied()
        .filter(|e| *e != CROSS_TARGET)
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["target".to_string()];
    header.extend(columns.iter().map(|c| c.to_string()));
    rows.push(header);
    for target in targets {
        let mut row = vec![target.clone()];
        for column in &columns {
            let s = Summary::of(
                results
                    .iter()
                    .filter(|r| &r.target == target && r.endpoint == *column),
            );
            row.push(s.cell());
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }

    let cross: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.target == CROSS_TARGET)
        .collect();
    if !cross.is_empty() {
        let _ = writeln!(
            out,
            "\nacross targets: {}",
            Summary::of(cross.iter().copied()).cell()
        );
    }

    let failures: Vec<&CheckResult> = results.iter().filter(|r| r.is_failure()).collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nFailures:");
        for r in failures {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                r.target, r.endpoint, r.check, r.detail
            );
        }
    }
    let unverified: Vec<&CheckResult> = results.iter().filter(|r| !r.verifiable).collect();
    if !unverified.is_empty() {
        let _ = writeln!(out, "\nNot verified:");
        for r in unverified {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                r.target, r.endpoint, r.check, r.detail
            );
        }
    }
    let s = Summary::of(results);
    let _ = writeln!(
        out,
        "\n{} checks: {} passed, {} failed, {} not verified",
        s.checks, s.passed, s.failed, s.unverified
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(target: &str, endpoint: &str, passed: bool, verifiable: bool) -> CheckResult {
        CheckResult {
            target: target.into(),
            endpoint: endpoint.into(),
            check: "c".into(),
            passed,
            verifiable,
            detail: if passed { String::new() } else { "why".into() },
        }
    }

    #[test]
    fn cells_count_failures_and_unverified() {
        let results = vec![
            result("node", "/json", true, true),
            result("node", "/json", false, true),
            result("node", "/updates", true, true),
            result("node", "/updates", false, false),
            result(CROSS_TARGET, CROSS_TARGET, true, true),
        ];
        let text = render_text(&["node".into(), "other".into()], &results);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("target"));
        assert!(lines[1].starts_with("node"));
        assert!(lines[1].contains("FAIL 1/2"));
        assert!(lines[1].contains("ok (1 n/a)"));
        assert!(lines[2].starts_with("other"));
        assert!(text.contains("across targets: ok"));
        assert!(text.contains("Failures:\n  node /json c: why"));
        assert!(text.contains("Not verified:\n  node /updates c: why"));
        assert!(text.contains("5 checks: 3 passed, 1 failed, 1 not verified"));
    }

    #[test]
    fn json_report_says_whether_everything_passed() {
        let ok = vec![
            result("node", "/json", true, true),
            result("node", "/updates", false, false),
        ];
        let v: serde_json::Value = serde_json::from_str(&render_json(&ok).unwrap()).unwrap();
        assert_eq!(v["passed"], true);
        assert_eq!(v["summary"]["unverified"], 1);
        assert_eq!(v["results"][0]["target"], "node");
        let bad = vec![result("node", "/json", false, true)];
        let v: serde_json::Value = serde_json::from_str(&render_json(&bad).unwrap()).unwrap();
        assert_eq!(v["passed"], false);
    }
}
