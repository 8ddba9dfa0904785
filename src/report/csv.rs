//! `summary.csv`: one row per measured step with the figures of the
//! summary tables, for spreadsheets and scripts. `errors` and `error_rate`
//! include the `unsent` requests; the latency cells are empty, never 0,
//! when no request succeeded; `db_cpu_s` is empty when bakeoff ran no
//! database (or the server was not sampled). `flags` lists the step's
//! flags separated by `;` (interrupted, generator_saturated, errors,
//! unsent; empty when clean) and `saturated_reason` says why the generator
//! was the bottleneck. Rows are ordered by scenario (as run), target
//! (report order), level and repeat.

use super::doc::{Column, Document, Rich, Table};
use crate::analysis::RunSummary;
use crate::results::{LatencySummary, RunResults, StepRecord};

/// Column names, in order.
pub const COLUMNS: [&str; 21] = [
    "target",
    "scenario",
    "model",
    "level",
    "repeat",
    "requests",
    "errors",
    "error_rate",
    "unsent",
    "rps",
    "p50_us",
    "p90_us",
    "p99_us",
    "p999_us",
    "max_us",
    "server_cpu_s",
    "rps_per_core",
    "processes",
    "db_cpu_s",
    "flags",
    "saturated_reason",
];

/// One row per measured step, as a one-table document.
pub fn steps_document(results: &RunResults, summary: &RunSummary) -> Document {
    let scenario_rank = |s: &StepRecord| {
        summary
            .scenarios
            .iter()
            .position(|sc| sc.scenario == s.scenario && sc.model == s.model)
            .unwrap_or(usize::MAX)
    };
    let target_rank = |s: &StepRecord| {
        summary
            .targets
            .iter()
            .position(|t| *t == s.target)
            .unwrap_or(usize::MAX)
    };
    let mut steps: Vec<&StepRecord> = results.steps.iter().collect();
    steps.sort_by_key(|s| (scenario_rank(s), target_rank(s), s.level, s.repeat));

    let mut table = Table::new(COLUMNS.iter().map(|c| Column::left(*c)).collect());
    for s in steps {
        // An empty cell, never 0, when no request succeeded.
        let pct = |f: fn(&LatencySummary) -> u64| {
            s.summary
                .latency_us
                .as_ref()
                .map(|l| f(l).to_string())
                .unwrap_or_default()
        };
        let (cpu, per_core, processes, db_cpu) = match &s.server {
            Some(u) => (
                format!("{:.3}", u.cpu_s),
                format!("{:.2}", u.rps_per_core),
                if u.processes > 0 {
                    u.processes.to_string()
                } else {
                    String::new()
                },
                u.db_cpu_s.map(|d| format!("{d:.3}")).unwrap_or_default(),
            ),
            None => (String::new(), String::new(), String::new(), String::new()),
        };
        let flags = s
            .flags
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let cells = [
            s.target.clone(),
            s.scenario.clone(),
            s.model.as_str().to_string(),
            s.level.to_string(),
            s.repeat.to_string(),
            s.summary.requests.to_string(),
            s.summary.errors.to_string(),
            format!("{:.6}", s.summary.error_rate),
            s.summary.generator.unsent.to_string(),
            format!("{:.2}", s.summary.rps),
            pct(|l| l.p50),
            pct(|l| l.p90),
            pct(|l| l.p99),
            pct(|l| l.p999),
            pct(|l| l.max),
            cpu,
            per_core,
            processes,
            db_cpu,
            flags,
            s.summary.generator.saturated.clone().unwrap_or_default(),
        ];
        table.row(cells.map(Rich::text));
    }
    let mut doc = Document::new("summary");
    doc.table(table);
    doc
}
