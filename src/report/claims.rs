//! The claims' sections of a document, laid out from the
//! [`ClaimsAnalysis`]: the verdict table (and how noise was handled), one
//! headline chart per claim, the throughput-ratio table and the
//! capacity/knee table. `report.md`/`report.html` open with them, and
//! `verify` prints them; the figures and verdicts are the analysis', the
//! wording of excluded and failing steps is `claims`'.

use super::Charts;
use super::doc::{Column, Document, Figure, Rich, Table};
use crate::analysis::{Analysis, ClaimsAnalysis};
use crate::claims::capacity::{Capacity, CapacityTable, Knee, Miss, SloBracket};
use crate::claims::orm::{OrmCell, OrmTable};
use crate::claims::ratio::{RatioTable, RpsCell};
use crate::claims::{HeadlineKind, excluded_sentence};
use crate::plot::ChartKind;
use crate::stats::{MIN_REPEATS_FOR_INTERVAL, SLO_MAX_ERROR_RATE, intervals_phrase};
use crate::units;

/// "Claims and verdicts": the table, then how noise and failures were
/// handled in this run.
pub fn verdicts(doc: &mut Document, a: &Analysis, c: &ClaimsAnalysis) {
    doc.heading(2, "Claims and verdicts");
    let mut t = Table::new(vec![
        Column::left("Claim"),
        Column::left("Text"),
        Column::left("Verdict"),
        Column::left("Evidence"),
        Column::left("Predicate"),
    ]);
    for v in &c.verdicts {
        let text = if v.quoted {
            format!("“{}”", v.text)
        } else {
            v.text.clone()
        };
        t.row([
            Rich::text(v.id.clone()),
            Rich::text(text),
            Rich::strong(v.verdict.as_str()),
            Rich::text(v.evidence.clone()),
            Rich::text(v.predicate.clone()),
        ]);
    }
    doc.table(t);
    if !a.repeats.has_spread() {
        doc.paragraph(
            Rich::text(format!(
                "This run has fewer than {MIN_REPEATS_FOR_INTERVAL} repeats per step, so no spread could be measured: differences had to reach the larger margin to count. Run with "
            ))
            .and_code(format!("--repeat {MIN_REPEATS_FOR_INTERVAL}"))
            .and(" or more for verdicts that account for run-to-run noise."),
        );
    } else {
        doc.paragraph(format!(
            "Differences count only when the ratio clears the threshold and {} do not overlap.",
            intervals_phrase(a.repeats.fewest_with_spread, a.repeats.most)
        ));
    }
    doc.paragraph(format!(
        "A step without a successful request, or with more than {}% of its requests failed (unsent ones included), has no latency a verdict may use: it counts as infinitely slow, against its own target, and its throughput counts successful requests only.",
        SLO_MAX_ERROR_RATE * 100.0
    ));
    if !a.complete {
        doc.paragraph("The run is incomplete: verdicts use only the steps that were measured.");
    }
    let excluded = a.usable.all_excluded();
    if !excluded.is_empty() {
        doc.paragraph(format!(
            "No verdict rests on a step flagged interrupted or generator saturated: {}",
            excluded_sentence(&excluded)
        ));
    }
}

/// "Headline charts": one drawn chart per claim that rests on one
/// scenario's curve, captioned with the claim and its verdict. Left out
/// when none was drawn.
pub fn headlines(doc: &mut Document, c: &ClaimsAnalysis, charts: &Charts) {
    let figures: Vec<Figure> = c
        .headlines
        .iter()
        .filter_map(|h| {
            let kind = match h.kind {
                HeadlineKind::Throughput => ChartKind::Throughput,
                HeadlineKind::Latency => ChartKind::Latency,
                HeadlineKind::Surge => ChartKind::Surge,
            };
            let chart = charts.of(&h.scenario, kind)?;
            let what = match h.kind {
                HeadlineKind::Latency => "latency",
                HeadlineKind::Throughput => "throughput",
                HeadlineKind::Surge => "offered, achieved and p99 per second through the surge",
            };
            Some(Figure {
                caption: Rich::strong(h.claim.clone())
                    .and(" (")
                    .and_strong(h.verdict.as_str())
                    .and(format!("): {what} on {}.", h.scenario)),
                ..charts.figure(chart)
            })
        })
        .collect();
    if figures.is_empty() {
        return;
    }
    doc.heading(2, "Headline charts");
    doc.paragraph("One chart per claim that rests on a scenario's curve: the scenario it was judged on (for a claim on several, the first the run measured). Each scenario's tables and all its charts follow below.");
    for f in figures {
        doc.figure(f);
    }
}

/// "Throughput ratios across scenarios".
pub fn ratio_table(doc: &mut Document, t: &RatioTable) {
    doc.heading(2, "Throughput ratios across scenarios");
    doc.paragraph(format!(
        "Median rps at the highest level every measured target reached, and each target's ratio to {} (above ×1 = faster).",
        t.versus
    ));
    let mut columns = vec![Column::left("Scenario"), Column::right("Level")];
    columns.extend(t.targets.iter().map(|x| Column::right(format!("{x} rps"))));
    columns.extend(
        t.subjects
            .iter()
            .map(|x| Column::right(format!("{x} ÷ {}", t.versus))),
    );
    let mut table = Table::new(columns);
    for r in &t.rows {
        let mut row = vec![
            Rich::text(r.scenario.clone()),
            Rich::text(r.level.to_string()),
        ];
        row.extend(r.rps.iter().map(|c| {
            Rich::text(match c {
                RpsCell::Rps(v) => format!("{v:.0}"),
                RpsCell::NoneSucceeded => "0 (none succeeded)".to_string(),
                RpsCell::Excluded => "excluded".to_string(),
                RpsCell::Missing => "—".to_string(),
            })
        }));
        row.extend(
            r.ratios
                .iter()
                .map(|x| Rich::text(x.map_or_else(|| "—".to_string(), units::ratio))),
        );
        table.row(row);
    }
    doc.table(table);
    if t.any_none_succeeded() {
        doc.paragraph("\"none succeeded\": no request of that target succeeded there, so it served 0 successful req/s.");
    }
    if !t.excluded.is_empty() {
        doc.paragraph(format!(
            "\"excluded\": no usable repeat (steps flagged interrupted or generator saturated are left out). {}",
            excluded_sentence(&t.excluded)
        ));
    }
}

/// "ORM against raw SQL": the figures behind the ORM claim.
pub fn orm_table(doc: &mut Document, t: &OrmTable) {
    doc.heading(2, "ORM against raw SQL");
    doc.paragraph(format!(
        "Per database scenario and level: {} (no ORM), then each variant's raw-SQL twin (/raw/...: the same Django, connection and pool) and its ORM endpoint. Each cell: median p50 / p99 · queries per request (statements on world and fortune counted by pg_stat_statements over the step; results/README.md).",
        t.versus
    ));
    let mut columns = vec![
        Column::left("Scenario"),
        Column::right("Level"),
        Column::right(t.versus.clone()),
    ];
    for s in &t.subjects {
        columns.push(Column::right(format!("{s} raw")));
        columns.push(Column::right(format!("{s} ORM")));
    }
    let mut table = Table::new(columns);
    for r in &t.rows {
        let mut row = vec![
            Rich::text(r.scenario.clone()),
            Rich::text(r.level.to_string()),
            Rich::text(orm_cell(&r.versus)),
        ];
        for (raw, orm) in &r.subjects {
            row.push(Rich::text(orm_cell(raw)));
            row.push(Rich::text(orm_cell(orm)));
        }
        table.row(row);
    }
    doc.table(table);
}

fn orm_cell(c: &OrmCell) -> String {
    match c {
        OrmCell::Measured {
            p50_us,
            p99_us,
            queries_per_request,
        } => format!(
            "{} / {} · {}",
            units::latency(*p50_us),
            units::latency(*p99_us),
            queries_per_request.map_or_else(|| "— q/req".to_string(), |q| format!("{q:.1} q/req"))
        ),
        OrmCell::Excluded => "excluded".to_string(),
        OrmCell::Missing => "—".to_string(),
    }
}

/// "Capacity and knee".
pub fn capacity(doc: &mut Document, t: &CapacityTable) {
    doc.heading(2, "Capacity and knee");
    if t.rows.is_empty() {
        doc.paragraph("No steps were measured.");
        return;
    }
    doc.paragraph(format!(
        "The knee is the level past which throughput never again grows by more than {:.0}% while p99 climbs. \
         Capacity at the SLO is the highest offered rate whose p99 (median over the repeats of that rate) stayed within the scenario's objective, below the lowest rate that missed it; \
         a repeat without a successful request, or with more than {}% of its requests failed, misses the objective whatever its latency.",
        t.growth_fraction * 100.0,
        SLO_MAX_ERROR_RATE * 100.0
    ));
    let mut table = Table::new(vec![
        Column::left("Target"),
        Column::left("Scenario"),
        Column::left("Model"),
        Column::right("Knee"),
        Column::right("rps at knee"),
        Column::right("Peak rps"),
        Column::left("Capacity at SLO"),
    ]);
    for r in &t.rows {
        let unit = r.model.level_label();
        let (knee, knee_rps) = match r.knee {
            Knee::NoSuccess => ("— (no request succeeded)".to_string(), "—".to_string()),
            Knee::At { level, rps } => (format!("{level} {unit}"), format!("{rps:.0}")),
            Knee::OneLevel => ("— (one level)".to_string(), "—".to_string()),
            Knee::NotReached { growing_at } => (
                format!("not reached (growing at {growing_at})"),
                "—".to_string(),
            ),
        };
        let peak = r
            .peak
            .map(|(level, rps)| format!("{rps:.0} at {level}"))
            .unwrap_or_else(|| "—".into());
        table.row([
            Rich::text(r.target.clone()),
            Rich::text(r.scenario.clone()),
            Rich::text(r.model.as_str()),
            Rich::text(knee),
            Rich::text(knee_rps),
            Rich::text(peak),
            Rich::text(capacity_cell(&r.capacity, r.model)),
        ]);
    }
    doc.table(table);
    if !t.excluded.is_empty() {
        doc.paragraph(format!(
            "Left out of these figures: {}",
            excluded_sentence(&t.excluded)
        ));
    }
}

fn capacity_cell(c: &Capacity, model: crate::model::Model) -> String {
    // A fan-out scenario's levels are subscribers, an open one's rates.
    let (unit, each) = match model {
        crate::model::Model::Fanout => ("subscribers", "level"),
        _ => ("req/s", "rate"),
    };
    let s = match c {
        Capacity::ClosedModel => return "—".to_string(),
        Capacity::NoSlo => return "no SLO set (slo_p99)".to_string(),
        Capacity::Slo(s) => s,
    };
    let slo = units::latency(s.slo_us);
    let why = |m: Miss| match m {
        Miss::SlowP99 => format!("p99 > {slo}"),
        Miss::NoSuccess => "no request succeeded".to_string(),
        Miss::Errors => format!("more than {}% errors", SLO_MAX_ERROR_RATE * 100.0),
    };
    let mut cell = match s.bracket {
        SloBracket::AtLeast { rate } => {
            format!("≥ {rate} {unit} (p99 ≤ {slo} at every {each} measured)")
        }
        SloBracket::Between {
            rate,
            missed_at,
            why: m,
        } => format!("{rate} {unit} ({} from {missed_at} {unit})", why(m)),
        SloBracket::Below {
            lowest,
            why: Miss::SlowP99,
        } => format!(
            "below {lowest} {unit} ({} at every {each} measured)",
            why(Miss::SlowP99)
        ),
        SloBracket::Below { lowest, why: m } => format!(
            "below {lowest} {unit} (missed at every {each} measured; {} at {lowest} {unit})",
            why(m)
        ),
        SloBracket::Unknown => "—".to_string(),
    };
    if !s.fewer_repeats.is_empty() {
        let fewer: Vec<String> = s
            .fewer_repeats
            .iter()
            .map(|(rate, n, most)| format!("{rate} ({n} of {most})"))
            .collect();
        cell.push_str(&format!(
            "; rates measured in fewer repeats: {}",
            fewer.join(", ")
        ));
    }
    cell
}
