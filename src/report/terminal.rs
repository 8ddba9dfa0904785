//! The table printed at the end of `run`: per scenario and target (in the
//! one target order), the best level and its median req/s (the report's
//! "best"), the level's p99 at the highest level measured (the figure the
//! report, verdicts, gates and `compare` print), errors and the flagged
//! steps. Every figure is the analysis'; flagged steps count, as in the
//! report (which marks them rather than dropping them).

use std::collections::BTreeMap;

use super::doc::{Column, Document, Rich, Table};
use crate::analysis::RunSummary;
use crate::results::StepFlag;
use crate::units;

/// The end-of-run summary as a one-table document.
pub fn run_summary(summary: &RunSummary) -> Document {
    let mut t = Table::new(vec![
        Column::left("scenario"),
        Column::left("target"),
        Column::right("best rps"),
        Column::right("at"),
        Column::right("p99 @ highest"),
        Column::right("errors"),
        Column::left("flagged steps"),
    ]);
    for sc in &summary.scenarios {
        for target in &sc.targets {
            let Some(top) = target.levels.last() else {
                continue;
            };
            let (best_rps, best_at) = match target.best() {
                Some(b) => (units::rps(b.rps_median), b.level.to_string()),
                None => (units::rps(0.0), "n/a".to_string()),
            };
            let mut flags: BTreeMap<StepFlag, usize> = BTreeMap::new();
            for (_, flag) in target.levels.iter().flat_map(|l| &l.flags) {
                *flags.entry(*flag).or_default() += 1;
            }
            let flagged: Vec<String> = flags
                .iter()
                .map(|(f, n)| format!("{} ×{n}", f.as_str()))
                .collect();
            t.row([
                Rich::text(sc.scenario.clone()),
                Rich::text(target.target.clone()),
                Rich::text(best_rps),
                Rich::text(best_at),
                Rich::text(units::latency(top.p99_us())),
                Rich::text(target.errors().to_string()),
                Rich::text(flagged.join(", ")),
            ]);
        }
    }
    let mut doc = Document::new("");
    doc.table(t);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Model, Provenance, RunResults, StepRecord, Summary};

    fn step(level: u64, flags: Vec<StepFlag>) -> StepRecord {
        let mut s = StepRecord::new("node", "json", Model::Closed, level, 0);
        s.summary = Summary {
            requests: 10,
            rps: level as f64,
            ..Summary::default()
        };
        s.flags = flags;
        s
    }

    fn summary_table(results: &RunResults) -> String {
        let analysis = crate::analysis::analyze(results, None, &[]);
        crate::report::render::text::render(&run_summary(&analysis.summary))
    }

    #[test]
    fn the_summary_table_counts_flagged_steps() {
        let mut results = RunResults::new(Provenance::default());
        results.steps = vec![
            step(8, Vec::new()),
            step(64, vec![StepFlag::GeneratorSaturated, StepFlag::Errors]),
            step(128, vec![StepFlag::GeneratorSaturated]),
        ];
        let table = summary_table(&results);
        let header = table.lines().next().unwrap();
        assert!(
            header.starts_with("scenario") && header.contains("p99 @ highest"),
            "{table}"
        );
        // Header, rule, then the row.
        let row = table.lines().nth(2).unwrap();
        assert!(row.starts_with("json"), "{table}");
        // Best: the level with the highest median rps, its median printed
        // (as in the report); p99 at the highest level: its median, here
        // failing (no step had a successful request).
        assert!(row.contains(" 128 ") && row.contains("failing"), "{table}");
        assert!(
            row.ends_with("generator_saturated ×2, errors ×1"),
            "{table}"
        );
        results.steps.truncate(1);
        let clean = summary_table(&results);
        assert!(clean.lines().nth(2).unwrap().ends_with(" 0"), "{clean}");
    }
}
