//! Claims under test → verdicts (Supported / Refuted / Inconclusive /
//! OutOfScope) with one sentence of evidence each, and the report sections
//! built from them: the verdict table, the throughput-ratio table and the
//! capacity/knee table.
//!
//! Claims are data (`suites/claims.toml`, parsed in `spec`); predicate
//! kinds are code (`predicates`); the capacity table is `capacity`. This
//! module does not measure, and it never reads the suite: the SLOs of the
//! capacity table live in the claims file.

pub mod capacity;
mod predicates;
pub mod spec;

use std::path::Path;

use serde::Serialize;

pub use spec::{ClaimSpec, ClaimsError, ClaimsFile, Predicate, load};

use crate::report::Section;
use crate::results::RunResults;
use crate::stats::{MIN_REPEATS_FOR_INTERVAL, StepGroups, median};

/// The verdict on one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    Refuted,
    Inconclusive,
    OutOfScope,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Refuted => "refuted",
            Verdict::Inconclusive => "inconclusive",
            Verdict::OutOfScope => "out_of_scope",
        }
    }
}

/// One row of the verdict table (and of `verify --format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimVerdict {
    pub id: String,
    /// The claim's exact words.
    pub text: String,
    /// Whether `text` is a quotation (false: a description).
    #[serde(skip)]
    pub quoted: bool,
    pub verdict: Verdict,
    /// One sentence: figures, targets, scenario, levels, repeats.
    pub evidence: String,
    /// The predicate in words.
    pub predicate: String,
}

/// Evaluates every claim of `claims` against `results`, in file order.
pub fn evaluate(results: &RunResults, claims: &ClaimsFile) -> Vec<ClaimVerdict> {
    let groups = StepGroups::from_results(results);
    claims
        .claims
        .iter()
        .map(|c| {
            let finding = predicates::evaluate(&c.predicate, &groups, claims.noise);
            ClaimVerdict {
                id: c.id.clone(),
                text: c.text.clone(),
                quoted: c.quoted,
                verdict: finding.verdict,
                evidence: finding.evidence,
                predicate: predicates::describe(&c.predicate, claims.noise),
            }
        })
        .collect()
}

/// `{"claims":[{"id","text","verdict","evidence","predicate"}...]}`.
pub fn verdicts_json(verdicts: &[ClaimVerdict]) -> serde_json::Value {
    serde_json::json!({ "claims": verdicts })
}

/// The verdict table in Markdown, followed by a line on how noise was
/// handled in this run.
pub fn verdict_markdown(results: &RunResults, verdicts: &[ClaimVerdict]) -> String {
    let mut md = String::new();
    md.push_str("| Claim | Text | Verdict | Evidence | Predicate |\n");
    md.push_str("|---|---|---|---|---|\n");
    for v in verdicts {
        let text = if v.quoted {
            format!("“{}”", cell(&v.text))
        } else {
            cell(&v.text)
        };
        md.push_str(&format!(
            "| {} | {text} | **{}** | {} | {} |\n",
            cell(&v.id),
            v.verdict.as_str(),
            cell(&v.evidence),
            cell(&v.predicate)
        ));
    }
    md.push('\n');
    let max_repeats = StepGroups::from_results(results)
        .groups
        .values()
        .map(|r| r.n())
        .max()
        .unwrap_or(0);
    if max_repeats < MIN_REPEATS_FOR_INTERVAL {
        md.push_str(&format!(
            "This run has fewer than {MIN_REPEATS_FOR_INTERVAL} repeats per step, so no spread could be measured: differences had to reach the larger margin to count. Run with `--repeat {MIN_REPEATS_FOR_INTERVAL}` or more for verdicts that account for run-to-run noise.\n"
        ));
    } else {
        md.push_str("Differences count only when the ratio clears the threshold and the 95% bootstrap intervals of the medians over repeats do not overlap.\n");
    }
    if !results.complete {
        md.push_str("\nThe run is incomplete: verdicts use only the steps that were measured.\n");
    }
    md
}

/// Markdown table cell: no pipes or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The throughput-ratio table of the first `ratio_table` claim: per
/// scenario, at the highest level every listed target reached, each
/// target's median rps and its ratio to the baseline target.
pub fn ratio_table_section(results: &RunResults, claims: &ClaimsFile) -> Option<Section> {
    let (scenarios, subject, versus, also) =
        claims.claims.iter().find_map(|c| match &c.predicate {
            Predicate::RatioTable {
                scenarios,
                subject,
                versus,
                also,
                ..
            } => Some((scenarios, subject, versus, also)),
            _ => None,
        })?;
    let g = StepGroups::from_results(results);
    let mut targets: Vec<&str> = vec![subject.as_str()];
    targets.extend(also.iter().map(String::as_str));
    let mut all = targets.clone();
    all.push(versus.as_str());
    let mut md = format!(
        "Median rps at the highest level every measured target reached, and each target's ratio to {versus} (above ×1 = faster).\n\n| Scenario | Level |"
    );
    for t in &all {
        md.push_str(&format!(" {t} rps |"));
    }
    for t in &targets {
        md.push_str(&format!(" {t} ÷ {versus} |"));
    }
    md.push_str("\n|---|---:|");
    md.push_str(&"---:|".repeat(all.len() + targets.len()));
    md.push('\n');
    let mut rows = 0;
    for s in scenarios {
        let present: Vec<&str> = all
            .iter()
            .copied()
            .filter(|t| !g.levels(t, s).is_empty())
            .collect();
        let Some(level) = g.highest_common_level(s, &present) else {
            continue;
        };
        rows += 1;
        let rps = |t: &str| g.get(t, s, level).and_then(|r| median(&r.rps));
        md.push_str(&format!("| {s} | {level} |"));
        for t in &all {
            match rps(t) {
                Some(v) => md.push_str(&format!(" {v:.0} |")),
                None => md.push_str(" — |"),
            }
        }
        let base = rps(versus);
        for t in &targets {
            match (rps(t), base) {
                (Some(a), Some(b)) => md.push_str(&format!(" ×{:.2} |", crate::stats::ratio(a, b))),
                _ => md.push_str(" — |"),
            }
        }
        md.push('\n');
    }
    (rows > 0).then(|| Section {
        title: "Throughput ratios across scenarios".to_string(),
        markdown: md,
    })
}

/// Sections for report.md / report.html: the verdict table, the
/// throughput-ratio table (when the claims have a `ratio_table` claim and
/// the run measured its scenarios) and the capacity/knee table. `claims` =
/// None means the embedded suites/claims.toml.
pub fn report_sections(
    results: &RunResults,
    claims: Option<&Path>,
) -> anyhow::Result<Vec<Section>> {
    let file = load(claims)?;
    let verdicts = evaluate(results, &file);
    let mut sections = vec![Section {
        title: "Claims and verdicts".to_string(),
        markdown: verdict_markdown(results, &verdicts),
    }];
    sections.extend(ratio_table_section(results, &file));
    sections.push(capacity::capacity_section(results, &file.capacity));
    Ok(sections)
}
