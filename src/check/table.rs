//! Presenting check results: a text table target × endpoint (one cell per
//! pair: `ok`, `FAIL k/n`, with unverifiable checks flagged; a `/raw/`
//! twin counts in its endpoint's column), the bus of every `/ws/fanout`, the queries and rows per request of every
//! database endpoint, then the details of every failure, or the results as one JSON document. Nothing
//! here decides pass or fail; it only shows [`CheckResult`]s.

use serde::Serialize;

use super::contract::ENDPOINTS;
use super::fanout;
use super::{CROSS_TARGET, CheckResult, QueryFigures};
use crate::report::doc::{Column, Document, Rich, Table};

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
    serde_json::to_string_pretty(&report(results))
}

/// `results` as a JSON value ([`Report`]), for `--format json`.
pub fn json(results: &[CheckResult]) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(report(results))
}

fn report(results: &[CheckResult]) -> Report<'_> {
    let summary = Summary::of(results);
    Report {
        passed: summary.failed == 0,
        summary,
        results,
    }
}

/// The text table, failure details and a summary line: [`document`] on a
/// terminal.
pub fn render_text(targets: &[String], results: &[CheckResult]) -> String {
    crate::report::render::text::render(&document(targets, results))
}

/// Which bus each target's `/ws/fanout` broadcasts over, as its
/// `/ws/info` said ("not offered (WSGI)" where the 426 was verified); None
/// when no target answered `/ws/info`.
fn buses(targets: &[String], results: &[CheckResult]) -> Option<String> {
    let said: Vec<String> = targets
        .iter()
        .filter_map(|t| {
            let of = |check: &str| {
                results.iter().find(|r| {
                    &r.target == t && r.endpoint == fanout::EP && r.check == check && r.passed
                })
            };
            let info = of(fanout::INFO)?;
            Some(match of(fanout::NOT_OFFERED) {
                Some(_) => format!("{t} not offered (WSGI)"),
                None => format!("{t} {}", info.detail.trim_start_matches("bus: ")),
            })
        })
        .collect();
    (!said.is_empty()).then(|| format!("/ws/fanout bus: {}.", said.join(", ")))
}

/// The check results as a document: a table target × endpoint, the
/// cross-target checks, the failures and unverified checks, a summary
/// line. `targets` gives the row order; targets with no results still get
/// a row.
pub fn document(targets: &[String], results: &[CheckResult]) -> Document {
    let mut columns: Vec<&str> = Vec::new();
    for e in ENDPOINTS.iter().filter(|e| **e != CROSS_TARGET) {
        if !columns.contains(&column(e)) {
            columns.push(column(e));
        }
    }
    let mut table = Table::new(
        std::iter::once(Column::left("target"))
            .chain(columns.iter().map(|e| Column::left(*e)))
            .collect(),
    );
    for target in targets {
        let cells = columns.iter().map(|col| {
            Summary::of(
                results
                    .iter()
                    .filter(|r| &r.target == target && column(&r.endpoint) == *col),
            )
            .cell()
        });
        table.row(std::iter::once(target.clone()).chain(cells).map(Rich::text));
    }
    let mut doc = Document::new("");
    doc.table(table);
    doc.paragraph(
        "The /db, /queries, /fortunes and /updates columns include their /raw/ twins; \
         /ws is /ws/fanout and /ws/info.",
    );
    if let Some(line) = buses(targets, results) {
        doc.paragraph(line);
    }
    queries_table(&mut doc, targets, results);

    let cross: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.target == CROSS_TARGET)
        .collect();
    if !cross.is_empty() {
        doc.paragraph(format!(
            "across targets: {}",
            Summary::of(cross.iter().copied()).cell()
        ));
    }
    let detail = |r: &CheckResult| {
        Rich::text(format!(
            "{} {} {}: {}",
            r.target, r.endpoint, r.check, r.detail
        ))
    };
    let failures: Vec<Rich> = results
        .iter()
        .filter(|r| r.is_failure())
        .map(detail)
        .collect();
    if !failures.is_empty() {
        doc.heading(3, "Failures:");
        doc.list(failures);
    }
    let unverified: Vec<Rich> = results
        .iter()
        .filter(|r| !r.verifiable)
        .map(detail)
        .collect();
    if !unverified.is_empty() {
        doc.heading(3, "Not verified:");
        doc.list(unverified);
    }
    let s = Summary::of(results);
    doc.paragraph(format!(
        "{} checks: {} passed, {} failed, {} not verified",
        s.checks, s.passed, s.failed, s.unverified
    ));
    doc
}

/// The main table's column of an endpoint: a `/raw/` twin counts in its
/// endpoint's column (the failures below name it).
fn column(endpoint: &str) -> &str {
    match endpoint.strip_prefix(RAW_PREFIX) {
        Some(path) if path.starts_with('/') => path,
        // Short, so the table keeps within the text width.
        _ if endpoint == fanout::EP => WS_COLUMN,
        _ => endpoint,
    }
}

/// The column of `/ws/fanout` (and its `/ws/info`).
const WS_COLUMN: &str = "/ws";

const RAW_PREFIX: &str = "/raw";

/// Queries and rows per request of every counted database endpoint, one
/// row per target and endpoint, in the table's target order.
fn queries_table(doc: &mut Document, targets: &[String], results: &[CheckResult]) {
    let counted: Vec<(&CheckResult, &QueryFigures)> = targets
        .iter()
        .flat_map(|t| results.iter().filter(move |r| &r.target == t))
        .filter_map(|r| r.queries.as_ref().map(|q| (r, q)))
        .collect();
    let Some((_, first)) = counted.first() else {
        return;
    };
    doc.paragraph(format!(
        "Queries and rows per request (pg_stat_statements: statements on world and \
         fortune, {} requests each):",
        first.requests
    ));
    let mut table = Table::new(vec![
        Column::left("target"),
        Column::left("request"),
        Column::right("queries"),
        Column::right("rows"),
        Column::left("allowed"),
        Column::left("result"),
    ]);
    for (r, q) in counted {
        table.row(
            [
                r.target.clone(),
                q.request.clone(),
                super::queries::per_request(q.reads + q.writes, q.requests),
                super::queries::per_request(q.read_rows + q.written_rows, q.requests),
                q.allowed.describe(),
                if r.passed { "ok" } else { "FAIL" }.to_string(),
            ]
            .into_iter()
            .map(Rich::text),
        );
    }
    doc.table(table);
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
            queries: None,
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
        assert!(lines[1].starts_with("------  "));
        assert!(lines[2].starts_with("node"));
        assert!(lines[2].contains("FAIL 1/2"));
        assert!(lines[2].contains("ok (1 n/a)"));
        assert!(lines[3].starts_with("other"));
        assert!(text.contains("across targets: ok"));
        assert!(text.contains("Failures:\n\n  - node /json c: why"));
        assert!(text.contains("Not verified:\n\n  - node /updates c: why"));
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
