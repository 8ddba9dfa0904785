//! `bakeoff merge OUT_DIR IN...`: reads the shards' results (files or run
//! directories), merges them (`crate::merge`) and writes
//! `OUT_DIR/results.json`, which `report`, `verify` and `compare` read as
//! any run's.

use anyhow::Context;

use crate::Outcome;
use crate::cli::MergeArgs;
use crate::results::{RESULTS_FILE, RunResults};

pub fn run(args: MergeArgs) -> anyhow::Result<Outcome> {
    let inputs = args
        .inputs
        .iter()
        .map(|p| Ok((p.display().to_string(), RunResults::load(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = crate::merge::merge(&inputs, std::env::args().collect())?;
    if args.out_dir.is_file() {
        anyhow::bail!(
            "{} is a file: give a directory to write {RESULTS_FILE} into",
            args.out_dir.display()
        );
    }
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let path = args.out_dir.join(RESULTS_FILE);
    merged.save_atomic(&path)?;
    let requests: u64 = merged.steps.iter().map(|s| s.summary.requests).sum();
    crate::outln!(
        "merged {} shards ({} steps, {requests} requests) into {}",
        inputs.len(),
        merged.steps.len(),
        path.display()
    );
    Ok(Outcome::Ok)
}
