//! The scalability model laid out: the "Scalability model" section of a
//! closed-model scenario in the run report (one row per target), and the
//! document and JSON of `bakeoff fit`. The figures are
//! [`crate::scalability`]'s, fitted once by `analysis` (or by `fit` for a
//! CSV); this module only formats them.

use serde_json::{Value, json};

use super::doc::{Column, Document, Rich, Table};
use crate::analysis::scalability::{LITTLE_TOLERANCE, ScenarioScalability, TargetScalability};
use crate::scalability::{AIC_MARGIN, FitError, MIN_LEVELS, Model};
use crate::units::{coefficient, coefficient_interval};

/// The report's section for one closed-model scenario: the table when
/// some target was fitted, else one line saying why not.
pub fn section(doc: &mut Document, sc: &ScenarioScalability) {
    doc.heading(3, "Scalability model");
    if !sc.any_fitted() {
        let most = sc
            .targets
            .iter()
            .filter_map(|t| match &t.model {
                Err(FitError::TooFewLevels { distinct }) => Some(*distinct),
                Ok(_) => None,
            })
            .max()
            .unwrap_or(0);
        doc.paragraph(
            Rich::text(format!(
                "Not enough levels to fit one: {most} usable, the fit needs at least {MIN_LEVELS} (list more in the scenario's "
            ))
            .and_code("concurrency")
            .and(")."),
        );
        return;
    }
    doc.paragraph(method_words(sc));
    let mut t = Table::new(
        std::iter::once(Column::left("target"))
            .chain(FIGURES.iter().map(|&name| Column::right(name)))
            .chain([Column::left("preferred")])
            .collect(),
    );
    for target in &sc.targets {
        t.row(row(target));
    }
    doc.table(t);
    let off: Vec<String> = sc
        .targets
        .iter()
        .flat_map(|t| {
            t.left_out.iter().map(move |l| {
                format!(
                    "{} at {} (repeat {}): {}",
                    t.target,
                    l.level,
                    l.repeat,
                    l.why.words()
                )
            })
        })
        .collect();
    if !off.is_empty() {
        doc.paragraph(format!("Left out of the fit: {}.", off.join("; ")));
    }
}

fn method_words(sc: &ScenarioScalability) -> String {
    let resampling: Vec<String> = {
        let mut v: Vec<String> = sc
            .targets
            .iter()
            .filter_map(|t| t.model.as_ref().ok())
            .map(|m| m.intervals.resampling.words())
            .collect();
        v.dedup();
        v
    };
    format!(
        "The Universal Scalability Law X(N) = λN / (1 + σ(N − 1) + κN(N − 1)) and the bounded model min(λN, X_max) fitted by least squares to each target's usable levels (the median throughput of the repeats whose latency counts and whose requests in flight, throughput × mean latency, are within {:.0}% of the connections: Little's law); N* = √((1 − σ)/κ) is where the USL's throughput peaks, X_max its throughput there. Brackets: {}. \"Preferred\" is the model with the lower AIC by more than {AIC_MARGIN}; beyond the measured range a figure is an extrapolation.",
        LITTLE_TOLERANCE * 100.0,
        resampling.join("; ")
    )
}

/// The figure columns of the section's table, between "target" and
/// "preferred".
const FIGURES: [&str; 8] = [
    "levels",
    "λ (req/s per client)",
    "σ (contention)",
    "κ (coherency)",
    "N* (peak)",
    "X_max (req/s)",
    "cap min(λN, X_max)",
    "R² USL / bounded",
];

fn row(t: &TargetScalability) -> Vec<Rich> {
    let m = match &t.model {
        Ok(m) => m,
        Err(FitError::TooFewLevels { distinct }) => {
            let mut cells = vec![
                Rich::text(t.target.clone()),
                Rich::text(distinct.to_string()),
            ];
            // The figure columns after "levels".
            cells.extend(FIGURES[1..].iter().map(|_| Rich::text("–")));
            cells.push(Rich::text("not enough levels to fit"));
            return cells;
        }
    };
    let (f, i) = (&m.fit, &m.intervals);
    let with = |v: f64, iv: (f64, f64)| format!("{} {}", coefficient(v), coefficient_interval(iv));
    let n_star = if f.peak_in_range() {
        with(f.usl.n_star(), i.n_star)
    } else {
        format!(
            "beyond {}: {}",
            coefficient(f.max_level),
            with(f.usl.n_star(), i.n_star)
        )
    };
    let cap = if f.capped() {
        with(f.bounded.cap, i.cap)
    } else {
        "not reached".to_string()
    };
    vec![
        Rich::text(t.target.clone()),
        Rich::text(f.levels.to_string()),
        Rich::text(with(f.usl.lambda, i.lambda)),
        Rich::text(with(f.usl.sigma, i.sigma)),
        Rich::text(with(f.usl.kappa, i.kappa)),
        Rich::text(n_star),
        Rich::text(with(f.usl.x_max(), i.x_max)),
        Rich::text(cap),
        Rich::text(format!(
            "{} / {}",
            r_squared(f.usl_r_squared),
            r_squared(f.bounded_r_squared)
        )),
        Rich::text(f.preferred.as_str()),
    ]
}

fn r_squared(r: f64) -> String {
    if r.is_nan() {
        "n/a".to_string()
    } else {
        format!("{r:.4}")
    }
}

/// `bakeoff fit`'s document: one row per figure, estimate and interval.
pub fn fit_document(source: &str, m: &Model) -> Document {
    let (f, i) = (&m.fit, &m.intervals);
    let mut doc = Document::new(format!("Scalability model of {source}"));
    doc.paragraph(format!(
        "{} levels ({}–{}); least squares; brackets: {}.",
        f.levels,
        crate::units::number(f.min_level),
        crate::units::number(f.max_level),
        i.resampling.words()
    ));
    let mut t = Table::new(vec![
        Column::left("figure"),
        Column::right("estimate"),
        Column::right("interval"),
    ]);
    let mut add = |name: &str, v: f64, iv: Option<(f64, f64)>| {
        t.row([
            Rich::text(name),
            Rich::text(coefficient(v)),
            Rich::text(iv.map_or_else(String::new, coefficient_interval)),
        ]);
    };
    add("lambda", f.usl.lambda, Some(i.lambda));
    add("sigma", f.usl.sigma, Some(i.sigma));
    add("kappa", f.usl.kappa, Some(i.kappa));
    add("n_star", f.usl.n_star(), Some(i.n_star));
    add("x_max", f.usl.x_max(), Some(i.x_max));
    add("r_squared", f.usl_r_squared, None);
    add("bounded lambda", f.bounded.lambda, None);
    add("bounded x_max (cap)", f.bounded.cap, Some(i.cap));
    add("bounded r_squared", f.bounded_r_squared, None);
    doc.table(t);
    let peak = if f.peak_in_range() {
        "N* lies within the measured range."
    } else {
        "N* lies beyond the measured range: an extrapolation."
    };
    doc.paragraph(format!(
        "{peak} Preferred model: {} (AIC {:.2} for the USL, {:.2} for the bounded model; a difference under {AIC_MARGIN} prefers neither).",
        f.preferred.as_str(),
        f.usl_aic,
        f.bounded_aic
    ));
    doc
}

/// `bakeoff fit --format json`: `null` for an infinite figure (no peak,
/// no ceiling, no cap) or interval end.
pub fn fit_json(m: &Model) -> Value {
    let (f, i) = (&m.fit, &m.intervals);
    let v = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
    let iv = |(lo, hi): (f64, f64)| json!([v(lo), v(hi)]);
    json!({
        "lambda": v(f.usl.lambda),
        "sigma": v(f.usl.sigma),
        "kappa": v(f.usl.kappa),
        "n_star": v(f.usl.n_star()),
        "x_max": v(f.usl.x_max()),
        "r_squared": v(f.usl_r_squared),
        "peak_within_measured_range": f.peak_in_range(),
        "preferred": f.preferred.as_str(),
        "aic": { "usl": v(f.usl_aic), "bounded": v(f.bounded_aic) },
        "bounded": {
            "lambda": v(f.bounded.lambda),
            "x_max": v(f.bounded.cap),
            "r_squared": v(f.bounded_r_squared),
        },
        "levels": f.levels,
        "min_level": f.min_level,
        "max_level": f.max_level,
        "intervals": {
            "resampling": i.resampling.as_str(),
            "confidence": crate::stats::BOOTSTRAP_CONFIDENCE,
            "resamples": crate::scalability::RESAMPLES,
            "lambda": iv(i.lambda),
            "sigma": iv(i.sigma),
            "kappa": iv(i.kappa),
            "n_star": iv(i.n_star),
            "x_max": iv(i.x_max),
            "bounded_x_max": iv(i.cap),
        },
    })
}
