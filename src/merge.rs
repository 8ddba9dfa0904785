//! `bakeoff merge`: the shards of one load (`--shard K/N`) → one run, as
//! if one process had sent it. HDR histograms are added, so every
//! percentile of the merged run is read from the merged histogram by the
//! same code that reads one run's (`LatencySummary::from_histogram`, as in
//! `Recorder::finish`) and never averaged; counts are summed, rates are
//! over the common window, timelines are joined second by second (the
//! shards' windows start at one absolute time, the shared `--start-at`
//! and time-table), flags are OR-ed. The definitions are in
//! results/README.md, "Shards and merged runs". This module refuses
//! inputs that are not the shards of one plan; it measures nothing.

use std::collections::{BTreeMap, BTreeSet};

use hdrhistogram::Histogram;

use crate::measure::error_rate;
use crate::results::{
    ConnectSummary, EndpointSummary, GeneratorStats, HistogramSet, LatencySummary, MergedInput,
    ResultsError, RunResults, StepRecord, Summary, TimelinePoint, decode_histogram,
    encode_histogram,
};

/// Why inputs cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give the shards' results files or run directories")]
    NoInput,
    #[error(
        "{0} is not a shard's results (no provenance.shard): run it with --shard K/N --start-at T"
    )]
    NotAShard(String),
    #[error("{a} and {b} are not shards of one plan: {difference}")]
    OtherPlan {
        a: String,
        b: String,
        difference: String,
    },
    #[error("shard {index}/{count} is given twice: {a} and {b}")]
    Duplicate {
        index: u32,
        count: u32,
        a: String,
        b: String,
    },
    #[error("missing shard{}: {} (given: {given})", if missing.len() == 1 { "" } else { "s" }, missing.iter().map(|k| format!("{k}/{count}")).collect::<Vec<_>>().join(", "))]
    Missing {
        missing: Vec<u32>,
        count: u32,
        given: String,
    },
    #[error("{path} has no step {step} that {other} has: the shards did not all finish the plan")]
    MissingStep {
        path: String,
        step: String,
        other: String,
    },
    #[error("{path}, step {step}: {source}")]
    Histogram {
        path: String,
        step: String,
        source: ResultsError,
    },
}

/// One input: the name it was given by, and its results.
pub type Input = (String, RunResults);

/// Merges the shards `inputs` into one run, with `command_line` as the
/// merged run's.
pub fn merge(inputs: &[Input], command_line: Vec<String>) -> Result<RunResults, MergeError> {
    let (first_name, first) = inputs.first().ok_or(MergeError::NoInput)?;
    let shard_of = |(name, r): &Input| {
        r.provenance
            .shard
            .clone()
            .ok_or_else(|| MergeError::NotAShard(name.clone()))
    };
    let base = shard_of(&inputs[0])?;
    let mut by_index: BTreeMap<u32, &str> = BTreeMap::new();
    for input in inputs {
        let s = shard_of(input)?;
        let name = &input.0;
        let difference = if s.count != base.count {
            Some(format!("shard count {} ≠ {}", base.count, s.count))
        } else if s.start_at != base.start_at {
            Some(format!("start time {} ≠ {}", base.start_at, s.start_at))
        } else if s.plan_hash != base.plan_hash {
            Some(format!(
                "plan hash {} ≠ {} (another load, suite or flags)",
                short(&base.plan_hash),
                short(&s.plan_hash)
            ))
        } else {
            None
        };
        if let Some(difference) = difference {
            return Err(MergeError::OtherPlan {
                a: first_name.clone(),
                b: name.clone(),
                difference,
            });
        }
        if let Some(a) = by_index.insert(s.index, name) {
            return Err(MergeError::Duplicate {
                index: s.index,
                count: s.count,
                a: a.to_string(),
                b: name.clone(),
            });
        }
    }
    let missing: Vec<u32> = (0..base.count)
        .filter(|k| !by_index.contains_key(k))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            count: base.count,
            given: by_index
                .keys()
                .map(|k| format!("{k}/{}", base.count))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }

    let mut steps = Vec::with_capacity(first.steps.len());
    for step in &first.steps {
        let mut parts = Vec::with_capacity(inputs.len());
        for (name, r) in inputs {
            let same = r
                .steps
                .iter()
                .find(|s| key(s) == key(step))
                .ok_or_else(|| MergeError::MissingStep {
                    path: name.clone(),
                    step: key(step),
                    other: first_name.clone(),
                })?;
            parts.push((name.as_str(), same));
        }
        steps.push(merge_step(&parts)?);
    }
    // A step another shard has and the first lacks is missing from the first.
    for (name, r) in inputs {
        if let Some(extra) = r
            .steps
            .iter()
            .find(|s| !first.steps.iter().any(|f| key(f) == key(s)))
        {
            return Err(MergeError::MissingStep {
                path: first_name.clone(),
                step: key(extra),
                other: name.clone(),
            });
        }
    }

    let mut provenance = first.provenance.clone();
    provenance.shard = None;
    provenance.command_line = command_line;
    provenance.cores = inputs.iter().map(|(_, r)| r.provenance.cores).sum();
    provenance.merged_from = inputs
        .iter()
        .map(|(name, r)| MergedInput {
            path: name.clone(),
            host: r.provenance.host.clone(),
            shard: r.provenance.shard.as_ref().map_or(0, |s| s.index),
        })
        .collect();
    provenance.notes.push(format!(
        "merged from {} shards started at {} (bakeoff merge); cores is the shards' sum",
        base.count, base.start_at
    ));
    let mut merged = RunResults::new(provenance);
    merged.plan = first.plan.clone();
    merged.complete = inputs.iter().all(|(_, r)| r.complete);
    merged.steps = steps;
    Ok(merged)
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// A step's identity in a run (target, scenario, model, level, repeat).
fn key(s: &StepRecord) -> String {
    format!(
        "{} · {} · {} {} · repeat {}",
        s.target,
        s.scenario,
        s.model.as_str(),
        s.level,
        s.repeat
    )
}

/// The sum of the histograms `encoded` (an absent one is empty).
fn add_histograms<'a>(
    encoded: impl Iterator<Item = (&'a str, &'a str)>,
    step: &StepRecord,
) -> Result<Histogram<u64>, MergeError> {
    let mut sum = crate::results::new_histogram();
    for (path, text) in encoded {
        let h = decode_histogram(text).map_err(|source| MergeError::Histogram {
            path: path.to_string(),
            step: key(step),
            source,
        })?;
        // Results' histograms share fixed bounds (1 µs to 1 h): a
        // histogram that does not fit them was not written by bakeoff.
        sum.add(&h).map_err(|e| MergeError::Histogram {
            path: path.to_string(),
            step: key(step),
            source: ResultsError::Histogram(format!("{e:?}")),
        })?;
    }
    Ok(sum)
}

/// One step of every shard → the step of the merged run.
fn merge_step(parts: &[(&str, &StepRecord)]) -> Result<StepRecord, MergeError> {
    let first = parts[0].1;
    let total = add_histograms(
        parts.iter().map(|(p, s)| (*p, s.histograms.total.as_str())),
        first,
    )?;
    let uncorrected = if parts
        .iter()
        .all(|(_, s)| s.histograms.total_uncorrected.is_some())
    {
        Some(add_histograms(
            parts
                .iter()
                .filter_map(|(p, s)| Some((*p, s.histograms.total_uncorrected.as_deref()?))),
            first,
        )?)
    } else {
        None
    };
    let connect = if parts.iter().any(|(_, s)| s.histograms.connect.is_some()) {
        Some(add_histograms(
            parts
                .iter()
                .filter_map(|(p, s)| Some((*p, s.histograms.connect.as_deref()?))),
            first,
        )?)
    } else {
        None
    };
    let labels: BTreeSet<&String> = parts
        .iter()
        .flat_map(|(_, s)| s.histograms.endpoints.keys().chain(s.endpoints.keys()))
        .collect();
    let mut endpoint_histograms = BTreeMap::new();
    let mut endpoints = BTreeMap::new();
    for label in labels {
        let h = add_histograms(
            parts
                .iter()
                .filter_map(|(p, s)| Some((*p, s.histograms.endpoints.get(label)?.as_str()))),
            first,
        )?;
        let sum = |f: fn(&EndpointSummary) -> u64| {
            parts
                .iter()
                .filter_map(|(_, s)| s.endpoints.get(label))
                .map(f)
                .sum()
        };
        endpoints.insert(
            label.clone(),
            EndpointSummary {
                requests: sum(|e| e.requests),
                errors: sum(|e| e.errors),
                latency_us: LatencySummary::from_histogram(&h),
            },
        );
        endpoint_histograms.insert(label.clone(), encode_histogram(&h));
    }

    let summaries: Vec<&Summary> = parts.iter().map(|(_, s)| &s.summary).collect();
    let sum = |f: fn(&Summary) -> u64| summaries.iter().map(|s| f(s)).sum::<u64>();
    let add_maps = |f: fn(&Summary) -> &BTreeMap<String, u64>| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for s in &summaries {
            for (k, v) in f(s) {
                *m.entry(k.clone()).or_default() += v;
            }
        }
        m
    };
    let (requests, errors) = (sum(|s| s.requests), sum(|s| s.errors));
    // The common window: the shortest of the shards' (they share a start).
    let duration_s = summaries
        .iter()
        .map(|s| s.duration_s)
        .fold(f64::INFINITY, f64::min);
    let generators: Vec<&GeneratorStats> = summaries.iter().map(|s| &s.generator).collect();
    let saturated: Vec<String> = parts
        .iter()
        .filter_map(|(p, s)| Some(format!("{p}: {}", s.summary.generator.saturated.as_ref()?)))
        .collect();
    let summary = Summary {
        requests,
        errors,
        error_rate: error_rate(errors, requests),
        duration_s,
        rps: if duration_s > 0.0 {
            requests.saturating_sub(errors) as f64 / duration_s
        } else {
            0.0
        },
        latency_us: LatencySummary::from_histogram(&total),
        uncorrected_latency_us: uncorrected
            .as_ref()
            .and_then(LatencySummary::from_histogram),
        // Results files keep no histogram of failed requests' latency, so
        // it cannot be merged exactly: absent rather than approximated.
        failed_latency_us: None,
        out_of_range: sum(|s| s.out_of_range),
        status: add_maps(|s| &s.status),
        errors_by_kind: add_maps(|s| &s.errors_by_kind),
        generator: GeneratorStats {
            cpu_s: generators.iter().map(|g| g.cpu_s).sum(),
            // Send and wake lags have no histogram in the file either.
            send_lag_us: None,
            late_sends: generators.iter().map(|g| g.late_sends).sum(),
            unsent: generators.iter().map(|g| g.unsent).sum(),
            threads: generators.iter().map(|g| g.threads).sum(),
            thread_cpus: generators
                .iter()
                .flat_map(|g| g.thread_cpus.iter().copied())
                .collect(),
            busiest_thread_utilization: generators
                .iter()
                .map(|g| g.busiest_thread_utilization)
                .fold(0.0, f64::max),
            busiest_thread_runnable: generators
                .iter()
                .map(|g| g.busiest_thread_runnable)
                .fold(0.0, f64::max),
            wake_lag_us: None,
            saturated: (!saturated.is_empty()).then(|| saturated.join("; ")),
        },
        // Surge figures need each second's histogram, which files do not
        // keep: a merged surge step has none.
        surge: None,
        connect_us: connect.as_ref().and_then(ConnectSummary::from_histogram),
        // Shards of one plan share their transport flags.
        transport: first.summary.transport.clone(),
        // `fanout` has no --shard: nothing to merge.
        fanout: None,
    };
    let mut flags: Vec<_> = parts
        .iter()
        .flat_map(|(_, s)| s.flags.iter().copied())
        .collect();
    flags.sort();
    flags.dedup();
    Ok(StepRecord {
        target: first.target.clone(),
        scenario: first.scenario.clone(),
        model: first.model,
        level: first.level,
        repeat: first.repeat,
        started_at: first.started_at.clone(),
        summary,
        endpoints,
        histograms: HistogramSet {
            total: encode_histogram(&total),
            total_uncorrected: uncorrected.as_ref().map(encode_histogram),
            endpoints: endpoint_histograms,
            connect: connect.as_ref().map(encode_histogram),
        },
        timeline: join_timelines(parts.iter().map(|(_, s)| s.timeline.as_slice())),
        server: None,
        database: None,
        flags,
    })
}

/// The shards' timelines, second by second: counts summed; a second's
/// p50 and p99 are the highest of the shards' (an upper bound: files keep
/// no per-second histogram).
fn join_timelines<'a>(timelines: impl Iterator<Item = &'a [TimelinePoint]>) -> Vec<TimelinePoint> {
    let mut by_second: BTreeMap<u32, TimelinePoint> = BTreeMap::new();
    for timeline in timelines {
        for p in timeline {
            let m = by_second.entry(p.t_s).or_insert_with(|| TimelinePoint {
                t_s: p.t_s,
                width_s: p.width_s,
                ..TimelinePoint::default()
            });
            m.requests += p.requests;
            m.offered += p.offered;
            m.completed += p.completed;
            m.backlog += p.backlog;
            m.errors += p.errors;
            m.p50_us = m.p50_us.max(p.p50_us);
            m.p99_us = m.p99_us.max(p.p99_us);
        }
    }
    by_second.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Model, Provenance, ShardRecord, StepFlag, new_histogram};

    /// Shard `k` of `n` of plan `hash`, one open step whose successes took
    /// `latencies` µs, with a timeline of one point per second.
    fn shard(k: u32, n: u32, hash: &str, latencies: &[u64], flags: Vec<StepFlag>) -> Input {
        let mut h = new_histogram();
        for &v in latencies {
            h.record(v).unwrap();
        }
        let mut step = StepRecord::new("t", "load", Model::Open, 300, 0);
        step.summary.requests = latencies.len() as u64 + 1;
        step.summary.errors = 1;
        step.summary.duration_s = 2.0 - f64::from(k) * 0.01;
        step.summary
            .status
            .insert("200".into(), latencies.len() as u64);
        step.histograms.total = encode_histogram(&h);
        step.timeline = (0..2)
            .map(|t| TimelinePoint {
                t_s: t,
                width_s: 1,
                requests: 5 + u64::from(k),
                p99_us: Some(100 * u64::from(k + 1)),
                ..TimelinePoint::default()
            })
            .collect();
        step.flags = flags;
        let provenance = Provenance {
            shard: Some(ShardRecord {
                index: k,
                count: n,
                start_at: "2026-12-01T22:00:00.000Z".into(),
                clock: "test".into(),
                plan_hash: hash.into(),
            }),
            ..Provenance::default()
        };
        let mut r = RunResults::new(provenance);
        r.complete = true;
        r.steps.push(step);
        (format!("shard{k}.json"), r)
    }

    #[test]
    fn histograms_add_and_percentiles_come_from_the_sum() {
        let a: Vec<u64> = (1..=900).collect();
        let b: Vec<u64> = (5_000..5_100).collect();
        let inputs = vec![
            shard(0, 2, "h", &a, vec![]),
            shard(1, 2, "h", &b, vec![StepFlag::Errors]),
        ];
        let m = merge(&inputs, vec!["bakeoff".into(), "merge".into()]).unwrap();
        let s = &m.steps[0].summary;
        let mut all = new_histogram();
        for v in a.iter().chain(&b) {
            all.record(*v).unwrap();
        }
        assert_eq!(s.latency_us, LatencySummary::from_histogram(&all));
        // The mean of two shards' p99s would be about 2 600 µs; the merged
        // p99 sits in the second shard's tail.
        assert!(s.latency_us.unwrap().p99 >= 5_000);
        assert_eq!((s.requests, s.errors), (1002, 2));
        assert_eq!(s.status["200"], 1000);
        assert_eq!(s.duration_s, 1.99);
        assert_eq!(s.rps, 1000.0 / 1.99);
        assert_eq!(m.steps[0].flags, vec![StepFlag::Errors]);
        let t = &m.steps[0].timeline;
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].requests, t[0].p99_us), (11, Some(200)));
        assert_eq!(m.provenance.merged_from.len(), 2);
        assert!(m.provenance.shard.is_none() && m.complete);
    }

    #[test]
    fn inputs_that_are_not_one_plans_shards_are_refused() {
        let one = |k, n, hash: &str| shard(k, n, hash, &[10], vec![]);
        let err = |inputs: Vec<Input>| merge(&inputs, vec![]).unwrap_err().to_string();
        let other = err(vec![one(0, 2, "aaaa"), one(1, 2, "bbbb")]);
        assert!(
            other.contains("shard0.json and shard1.json")
                && other.contains("plan hash aaaa ≠ bbbb"),
            "{other}"
        );
        let count = err(vec![one(0, 2, "h"), one(1, 3, "h")]);
        assert!(count.contains("shard count 2 ≠ 3"), "{count}");
        let twice = err(vec![one(0, 2, "h"), one(0, 2, "h")]);
        assert!(twice.contains("shard 0/2 is given twice"), "{twice}");
        let missing = err(vec![one(0, 3, "h"), one(2, 3, "h")]);
        assert!(
            missing.contains("missing shard: 1/3 (given: 0/3, 2/3)"),
            "{missing}"
        );
        let mut plain = one(0, 1, "h");
        plain.1.provenance.shard = None;
        assert!(err(vec![plain]).contains("is not a shard's results"));
    }
}
