//! `summary.csv`: one row per measured step with the figures of the
//! summary tables, for spreadsheets and scripts. `errors` and `error_rate`
//! include the `unsent` requests; the latency cells are empty, never 0,
//! when no request succeeded; `db_cpu_s` is empty when bakeoff ran no
//! database (or the server was not sampled). `flags` lists the step's
//! flags separated by `;` (interrupted, generator_saturated, errors,
//! unsent; empty when clean) and `saturated_reason` says why the generator
//! was the bottleneck. Rows are ordered by scenario (as run), target
//! (report order), level and repeat.

use std::fmt::Write as _;

use super::{Exporter, Report, ReportError};
use crate::results::StepRecord;

pub struct CsvExporter;

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

impl Exporter for CsvExporter {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn export(&self, report: &Report) -> Result<Vec<u8>, ReportError> {
        let scenario_rank = |s: &StepRecord| {
            report
                .summary
                .scenarios
                .iter()
                .position(|sc| sc.scenario == s.scenario && sc.model == s.model)
                .unwrap_or(usize::MAX)
        };
        let target_rank = |s: &StepRecord| {
            report
                .summary
                .targets
                .iter()
                .position(|t| *t == s.target)
                .unwrap_or(usize::MAX)
        };
        let mut steps: Vec<&StepRecord> = report.results.steps.iter().collect();
        steps.sort_by_key(|s| (scenario_rank(s), target_rank(s), s.level, s.repeat));

        let mut out = COLUMNS.join(",");
        out.push('\n');
        for s in steps {
            // An empty cell, never 0, when no request succeeded.
            let pct = |f: fn(&crate::results::LatencySummary) -> u64| {
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
            // Writing into a String cannot fail.
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{:.6},{},{:.2},{},{},{},{},{},{},{},{},{},{},{}",
                field(&s.target),
                field(&s.scenario),
                s.model.as_str(),
                s.level,
                s.repeat,
                s.summary.requests,
                s.summary.errors,
                s.summary.error_rate,
                s.summary.generator.unsent,
                s.summary.rps,
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
                field(s.summary.generator.saturated.as_deref().unwrap_or(""))
            );
        }
        Ok(out.into_bytes())
    }
}

/// RFC 4180 quoting when needed.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("node"), "node");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
