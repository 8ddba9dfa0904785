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

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use spec::{ClaimSpec, ClaimsError, ClaimsFile, Predicate, load};

use crate::report::Section;
use crate::results::{RunResults, StepFlag};
use crate::stats::{ExcludedStep, MIN_REPEATS_FOR_INTERVAL, StepGroups, StepKey, median};

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
///
/// No verdict rests on a step flagged `interrupted` or
/// `generator_saturated`: such steps are left out of the evidence
/// ([`StepGroups::for_verdicts`]). A claim whose decisive figures were all
/// excluded is Inconclusive, and every claim that asked for excluded
/// figures ends its evidence with the steps left out, e.g. "2 steps
/// excluded: generator saturated (node · json · 256 ×2)."
pub fn evaluate(results: &RunResults, claims: &ClaimsFile) -> Vec<ClaimVerdict> {
    let groups = StepGroups::for_verdicts(results);
    claims
        .claims
        .iter()
        .map(|c| {
            let finding = predicates::evaluate(&c.predicate, &groups, claims.noise);
            let mut evidence = finding.evidence;
            let misses = groups.take_misses();
            if !misses.is_empty() {
                evidence.push(' ');
                evidence.push_str(&excluded_sentence(&misses));
            }
            ClaimVerdict {
                id: c.id.clone(),
                text: c.text.clone(),
                quoted: c.quoted,
                verdict: finding.verdict,
                evidence,
                predicate: predicates::describe(&c.predicate, claims.noise),
            }
        })
        .collect()
}

/// How a disqualifying flag reads in evidence.
fn flag_words(flag: StepFlag) -> &'static str {
    match flag {
        StepFlag::Interrupted => "interrupted",
        StepFlag::GeneratorSaturated => "generator saturated",
        StepFlag::Errors => "errors",
        StepFlag::Unsent => "unsent",
    }
}

/// "3 steps excluded: generator saturated (node · io · 256 ×2,
/// django-sync · io · 256); interrupted (node · io · 8)." Each step is
/// listed under its first disqualifying flag; ×n counts repeats.
pub fn excluded_sentence(excluded: &[(StepKey, &[ExcludedStep])]) -> String {
    let mut by_flag: BTreeMap<StepFlag, Vec<String>> = BTreeMap::new();
    let mut total = 0;
    for (key, steps) in excluded {
        let mut per_flag: BTreeMap<StepFlag, usize> = BTreeMap::new();
        for s in *steps {
            let flag = s.flags.first().copied().unwrap_or(StepFlag::Interrupted);
            *per_flag.entry(flag).or_default() += 1;
            total += 1;
        }
        for (flag, n) in per_flag {
            let times = if n > 1 {
                format!(" ×{n}")
            } else {
                String::new()
            };
            by_flag.entry(flag).or_default().push(format!(
                "{} · {} · {}{times}",
                key.target, key.scenario, key.level
            ));
        }
    }
    let parts: Vec<String> = by_flag
        .into_iter()
        .map(|(flag, points)| format!("{} ({})", flag_words(flag), points.join(", ")))
        .collect();
    let steps = if total == 1 { "step" } else { "steps" };
    format!("{total} {steps} excluded: {}.", parts.join("; "))
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
    let max_repeats = StepGroups::for_verdicts(results)
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
    let excluded = StepGroups::for_verdicts(results);
    let excluded = excluded.all_excluded();
    if !excluded.is_empty() {
        md.push_str(&format!(
            "\nNo verdict rests on a step flagged interrupted or generator saturated: {}\n",
            excluded_sentence(&excluded)
        ));
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
    let g = StepGroups::for_verdicts(results);
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
                None if g.is_excluded(t, s, level) => md.push_str(" excluded |"),
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
    let excluded = g.take_misses();
    if !excluded.is_empty() {
        md.push_str(&format!(
            "\n\"excluded\": no usable repeat (steps flagged interrupted or generator saturated are left out). {}\n",
            excluded_sentence(&excluded)
        ));
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
