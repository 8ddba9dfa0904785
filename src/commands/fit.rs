//! `bakeoff fit FILE.csv [--format FORMAT[=PATH]]...`: the scalability
//! model of any throughput table (from bakeoff or another tool): a CSV
//! with a header naming the columns `concurrency` and `throughput` (ASCII
//! case ignored, other columns ignored); rows with the same concurrency
//! are repeats of one level. Prints the USL's λ, σ, κ, N*, X_max, R² with
//! bootstrap intervals, the bounded model's fit and the preferred model.
//!
//! Exit code: 0 when the model was fitted; 2 when the file cannot be read,
//! a value is not a number in range (the message names the file, line and
//! value), or there are fewer than four distinct levels.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};

use crate::Outcome;
use crate::cli::FitArgs;
use crate::report::format::{self, Format};
use crate::report::scalability::{fit_document, fit_json};
use crate::scalability::{Level, model};

pub fn run(args: FitArgs) -> anyhow::Result<Outcome> {
    let levels = read_levels(&args.file)?;
    let fitted = model(&levels).with_context(|| format!("{}", args.file.display()))?;
    let doc = fit_document(&args.file.display().to_string(), &fitted);
    let outputs = format::or_default(&args.format, Format::Text);
    format::emit(&outputs, &doc, &fit_json(&fitted))?;
    Ok(Outcome::Ok)
}

/// The levels of a CSV file, ascending by concurrency.
fn read_levels(path: &Path) -> anyhow::Result<Vec<Level>> {
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("reading {shown}"))?;
    let header = reader
        .headers()
        .with_context(|| format!("reading the header of {shown}"))?
        .clone();
    let column = |name: &str| -> anyhow::Result<usize> {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .with_context(|| {
                let found: Vec<&str> = header.iter().collect();
                format!(
                    "{shown}: the header has no `{name}` column (it has: {}); the file needs `concurrency,throughput`",
                    found.join(", ")
                )
            })
    };
    let (nc, xc) = (column("concurrency")?, column("throughput")?);
    // Keyed by the bits of a finite, positive f64: their order is the
    // numbers' order.
    let mut levels: BTreeMap<u64, Level> = BTreeMap::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {shown}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let value = |col: usize, name: &str| -> anyhow::Result<f64> {
            let raw = record.get(col).unwrap_or("");
            raw.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| format!("{shown}:{line}: {name} {raw:?} is not a number"))
        };
        let n = value(nc, "concurrency")?;
        let x = value(xc, "throughput")?;
        if n < 1.0 {
            bail!("{shown}:{line}: concurrency {n} is below 1");
        }
        if x < 0.0 {
            bail!("{shown}:{line}: throughput {x} is negative");
        }
        levels
            .entry(n.to_bits())
            .or_insert_with(|| Level { n, x: Vec::new() })
            .x
            .push(x);
    }
    Ok(levels.into_values().collect())
}
