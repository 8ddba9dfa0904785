//! The runner in-process, through its two seams: a mock lab (targets on
//! made-up ports, a log of what was asked of it, a target that can die)
//! and `engine::MockEngine` (synthetic measurements built by the real
//! recorder). Nothing sleeps and nothing listens: each test runs in
//! milliseconds, and everything from the measurement on is the real code
//! (results, flags, SLO search, saving).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::engine::{Mix, MixEntry, MockAnswer, MockEngine};
use crate::results::{Provenance, StepFlag};
use crate::suite::CpuPlan;
use crate::targets::{LabFuture, ResourceSampler, TargetError};

/// What the mock lab and the mock engine share: which port is whose,
/// which target is dead, and a log of the lab's calls.
#[derive(Debug, Default)]
struct World {
    ports: BTreeMap<String, u16>,
    dead: BTreeSet<String>,
    /// (target, n): the target dies right after its n-th measured step.
    dies_after: Option<(String, usize)>,
    steps: BTreeMap<String, usize>,
    restarts: usize,
    log: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

#[derive(Debug)]
struct MockLab(Shared);

impl Lab for MockLab {
    fn start<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, RunningTarget> {
        Box::pin(async move {
            let mut w = self.0.lock().unwrap();
            if w.dead.remove(name) {
                w.restarts += 1;
            }
            w.log.push(format!("start {name}"));
            let port = *w.ports.get(name).ok_or_else(|| TargetError::MissingUrl {
                name: name.to_string(),
            })?;
            Ok(RunningTarget {
                name: name.to_string(),
                base_url: format!("http://127.0.0.1:{port}"),
                pgid: None,
            })
        })
    }
    fn alive(&mut self, name: &str) -> bool {
        !self.0.lock().unwrap().dead.contains(name)
    }
    fn stop<'a>(&'a mut self, name: &'a str) -> LabFuture<'a, ()> {
        self.0.lock().unwrap().log.push(format!("stop {name}"));
        Box::pin(async { Ok(()) })
    }
    fn sample(&self, name: &str) -> Option<ResourceSampler> {
        self.0.lock().unwrap().log.push(format!("sample {name}"));
        None
    }
    fn restore_database(&self) -> LabFuture<'_, ()> {
        self.0.lock().unwrap().log.push("restore".into());
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&mut self) -> LabFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// A lab of `targets` on ports 40001, 40002, ... and an engine whose
/// targets all have a knee at `knee_rps` with p99 2 ms below it (20 ms
/// above), and refuse connections while dead.
fn lab_and_engine(targets: &[&str], knee_rps: f64) -> (Shared, MockLab, MockEngine) {
    let world = Shared::default();
    {
        let mut w = world.lock().unwrap();
        for (i, t) in targets.iter().enumerate() {
            w.ports.insert(t.to_string(), 40001 + i as u16);
        }
    }
    let shared = world.clone();
    let engine = MockEngine::new(move |spec| {
        let mut w = shared.lock().unwrap();
        let port = spec.endpoint.addr.port();
        let name = w
            .ports
            .iter()
            .find(|(_, p)| **p == port)
            .map(|(n, _)| n.clone())
            .expect("the runner loads a target the lab started");
        let mut answer = MockAnswer::knee(spec, knee_rps, Duration::from_millis(2));
        if w.dead.contains(&name) {
            answer.refused = true;
        }
        let n = w.steps.entry(name.clone()).or_default();
        *n += 1;
        let n = *n;
        if w.dies_after.as_ref() == Some(&(name.clone(), n)) {
            w.dead.insert(name);
        }
        answer
    });
    (world.clone(), MockLab(world), engine)
}

fn scenario(name: &str, load: LoadModel, repeats: u32, slo: Option<Duration>) -> ScenarioPlan {
    ScenarioPlan {
        name: name.into(),
        description: String::new(),
        load,
        mix: Mix::single(MixEntry::get("/json")),
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(1),
        repeats,
        timeout: Duration::from_secs(1),
        slo_p99: slo,
        targets: None,
    }
}

fn plan(targets: &[&str], scenarios: Vec<ScenarioPlan>) -> SuitePlan {
    SuitePlan {
        name: "mock".into(),
        description: String::new(),
        source: PathBuf::from("<test>"),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        cpu: CpuPlan::auto(&[0]),
        db_connections: 1,
        urls: BTreeMap::new(),
        url_locations: BTreeMap::new(),
        scenarios,
        thresholds: Vec::new(),
    }
}

fn runner<'a>(plan: &'a SuitePlan, dir: &tempfile::TempDir) -> Runner<'a> {
    let mut r = Runner::new(
        plan,
        dir.path().join("results.json"),
        RunResults::new(Provenance::default()),
    );
    r.quiet = true;
    r
}

fn closed(levels: &[u64]) -> LoadModel {
    LoadModel::Closed {
        concurrency: levels.to_vec(),
    }
}

/// (target, level) of every saved step of `repeat`, in run order.
fn steps_of(results: &RunResults, repeat: u32) -> Vec<(String, u64)> {
    results
        .steps
        .iter()
        .filter(|s| s.repeat == repeat)
        .map(|s| (s.target.clone(), s.level))
        .collect()
}

#[tokio::test]
async fn the_slo_search_finds_the_knee_and_later_repeats_replay_its_rates() {
    let plan = plan(
        &["a"],
        vec![scenario(
            "open",
            LoadModel::Open {
                rates: vec![1000, 2000],
                connections: 16,
                arrivals: crate::engine::Arrivals::Uniform,
                profile: None,
            },
            3,
            Some(Duration::from_millis(10)),
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut lab, engine) = lab_and_engine(&["a"], 1300.0);
    let mut r = runner(&plan, &dir);
    r.run_all(&mut lab, &engine).await.unwrap();

    // 1000 passes, 2000 fails: bisect (1500 fails, 1250 passes, 1375
    // fails) until the gap (125) is within 10 % of the passing rate.
    let probes = vec![1500, 1250, 1375];
    assert_eq!(r.slo_probes[&("a".to_string(), "open".to_string())], probes);
    let levels: Vec<u64> = [1000, 2000].into_iter().chain(probes).collect();
    for repeat in 0..3 {
        let got: Vec<u64> = steps_of(&r.results, repeat)
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        assert_eq!(
            got, levels,
            "repeat {repeat} probes the same rates in order"
        );
    }
    // Capacity from the saved figures, through the real SLO rule: the
    // highest passing rate, just below the knee.
    let repeat0: Vec<(u64, f64)> = r
        .results
        .steps
        .iter()
        .filter(|s| s.repeat == 0)
        .map(|s| (s.level, slo_latency(s)))
        .collect();
    assert_eq!(stats::slo_capacity(&repeat0, 10_000.0), Some(1250));
    let at = |level| r.results.steps.iter().find(|s| s.level == level).unwrap();
    assert!((at(1250).summary.rps - 1250.0).abs() < 1.0);
    assert!(
        (at(2000).summary.rps - 1300.0).abs() < 1.0,
        "throughput stops at the knee"
    );
    assert_eq!(at(2000).summary.latency_us.unwrap().p99 / 1000, 20);
    // Saved after every step, and complete at the end.
    let saved = RunResults::load(&dir.path().join("results.json")).unwrap();
    assert!(saved.complete);
    assert_eq!(saved.steps.len(), 15);
    assert_eq!(engine.calls().len(), 15);
}

#[tokio::test]
async fn targets_alternate_their_order_between_repeats_one_at_a_time() {
    let plan = plan(
        &["a", "b", "c"],
        vec![scenario("json", closed(&[1, 2]), 3, None)],
    );
    let dir = tempfile::tempdir().unwrap();
    let (world, mut lab, engine) = lab_and_engine(&["a", "b", "c"], 1e6);
    let mut r = runner(&plan, &dir);
    r.run_all(&mut lab, &engine).await.unwrap();

    let order = |repeat| {
        let mut targets: Vec<String> = steps_of(&r.results, repeat)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        targets.dedup();
        targets
    };
    assert_eq!(order(0), ["a", "b", "c"]);
    assert_eq!(order(1), ["c", "b", "a"]);
    assert_eq!(order(2), ["a", "b", "c"]);
    // The engine really loaded each target's port in that order.
    let ports: Vec<u16> = engine.calls().iter().map(|c| c.addr.port()).collect();
    assert_eq!(
        ports,
        [1, 1, 2, 2, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 2, 2, 3, 3].map(|i| 40000 + i)
    );
    // One target up at a time, each from a restored database, its server
    // sampled once per step (on the window's start), stopped before the next.
    let block = |t: &str| {
        vec![
            "restore".to_string(),
            format!("start {t}"),
            format!("sample {t}"),
            format!("sample {t}"),
            format!("stop {t}"),
        ]
    };
    let expected: Vec<String> = ["a", "b", "c", "c", "b", "a", "a", "b", "c"]
        .iter()
        .flat_map(|t| block(t))
        .collect();
    assert_eq!(world.lock().unwrap().log, expected);
}

#[tokio::test]
async fn a_target_that_dies_mid_run_is_measured_dead_then_restarted_next_repeat() {
    let plan = plan(
        &["a", "b"],
        vec![scenario("json", closed(&[1, 2, 4]), 2, None)],
    );
    let dir = tempfile::tempdir().unwrap();
    let (world, mut lab, engine) = lab_and_engine(&["a", "b"], 1e6);
    world.lock().unwrap().dies_after = Some(("a".into(), 1));
    let mut r = runner(&plan, &dir);
    r.run_all(&mut lab, &engine).await.unwrap();

    let steps = |target: &str, repeat: u32| -> Vec<&StepRecord> {
        r.results
            .steps
            .iter()
            .filter(|s| s.target == target && s.repeat == repeat)
            .collect()
    };
    let a0 = steps("a", 0);
    assert_eq!(a0.len(), 3, "the run went on after the death");
    assert_eq!(a0[0].summary.errors, 0);
    for s in &a0[1..] {
        // Not hidden by a fresh process within the repeat: every request
        // of the later steps failed, counted and flagged.
        assert_eq!(s.summary.errors, s.summary.requests, "level {}", s.level);
        assert_eq!(s.summary.errors_by_kind["connect"], s.summary.requests);
        assert!(s.flags.contains(&StepFlag::Errors), "level {}", s.level);
    }
    // The next repeat started it afresh: clean again.
    assert!(steps("a", 1).iter().all(|s| s.summary.errors == 0));
    assert!(
        steps("b", 0)
            .iter()
            .chain(&steps("b", 1))
            .all(|s| s.summary.errors == 0)
    );
    let w = world.lock().unwrap();
    assert_eq!(w.restarts, 1);
    assert_eq!(w.log.iter().filter(|l| *l == "start a").count(), 2);
    let notes = &r.results.provenance.notes;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("a exited during repeat 1"),
        "{notes:?}"
    );
    assert!(r.results.complete);
}

#[tokio::test]
async fn a_stop_request_mid_run_keeps_the_completed_steps_and_marks_the_run_incomplete() {
    let plan = plan(
        &["a", "b"],
        vec![scenario("json", closed(&[1, 2, 4]), 2, None)],
    );
    let dir = tempfile::tempdir().unwrap();
    let (world, mut lab, engine) = lab_and_engine(&["a", "b"], 1e6);
    // Ctrl-C while the 5th step (b at 2 connections) runs: the command
    // cancels the runner's token, which every step's spec shares.
    let engine = engine.before_each(|spec, call| {
        if call == 4 {
            spec.cancel.cancel();
        }
    });
    let mut r = runner(&plan, &dir);
    let err = r.run_all(&mut lab, &engine).await.unwrap_err();
    assert!(err.downcast_ref::<Interrupted>().is_some(), "{err:#}");

    assert_eq!(
        engine.calls().len(),
        5,
        "no step starts after the stop request"
    );
    let saved = RunResults::load(&dir.path().join("results.json")).unwrap();
    assert!(!saved.complete);
    let got: Vec<(String, u64)> = steps_of(&saved, 0);
    let want: Vec<(String, u64)> = [("a", 1), ("a", 2), ("a", 4), ("b", 1), ("b", 2)]
        .iter()
        .map(|(t, l)| (t.to_string(), *l))
        .collect();
    assert_eq!(got, want);
    for s in &saved.steps[..4] {
        assert!(!s.flags.contains(&StepFlag::Interrupted), "{:?}", s.flags);
    }
    let last = &saved.steps[4];
    assert!(
        last.flags.contains(&StepFlag::Interrupted),
        "{:?}",
        last.flags
    );
    assert!(
        (last.summary.duration_s - 0.5).abs() < 1e-9,
        "half the window ran"
    );
    // The interrupted target is still stopped.
    assert_eq!(world.lock().unwrap().log.last().unwrap(), "stop b");
}

/// A surge scenario runs one step per target at its peak, over the whole
/// profile; the mock answers each second at its own rate, so a knee
/// between the baseline and the peak shows as a slow surge that is over
/// as soon as the rate falls (the mock keeps no backlog), and the saved
/// step carries its surge figures.
#[tokio::test]
async fn a_surge_scenario_is_one_step_at_its_peak_with_surge_figures() {
    use crate::engine::{Arrivals, RateProfile, Stage};
    let stage = |secs: u64, rate: f64| Stage {
        duration: Duration::from_secs(secs),
        rate,
    };
    let profile = RateProfile::stages(
        None,
        vec![
            stage(3, 100.0),
            stage(1, 900.0),
            stage(2, 900.0),
            stage(1, 100.0),
            stage(5, 100.0),
        ],
    )
    .unwrap();
    let mut spike = scenario(
        "spike",
        LoadModel::Open {
            rates: vec![900],
            connections: 64,
            arrivals: Arrivals::Uniform,
            profile: Some(profile),
        },
        1,
        None,
    );
    spike.duration = Duration::from_secs(12);
    let plan = plan(&["a"], vec![spike]);
    let dir = tempfile::tempdir().unwrap();
    let (_, mut lab, engine) = lab_and_engine(&["a"], 400.0);
    let mut r = runner(&plan, &dir);
    r.run_all(&mut lab, &engine).await.unwrap();
    assert_eq!(r.results.steps.len(), 1);
    let step = &r.results.steps[0];
    assert_eq!(step.level, 900);
    let surge = step.summary.surge.expect("surge figures");
    assert_eq!((surge.start_s, surge.end_s), (3.0, 7.0));
    assert_eq!(surge.outcome, crate::results::SurgeOutcome::Slower);
    assert_eq!(surge.recovery_s, Some(0.0));
    let (base, peak) = (surge.baseline_p99_us.unwrap(), surge.peak_p99_us.unwrap());
    assert!(peak >= 9 * base, "peak {peak} vs baseline {base}");
    // Each second is answered at its own rate: the baseline's 100 req/s in
    // full, the peak's 900 at the knee (the mock serves up to its knee and
    // records nothing beyond it).
    let served: Vec<u64> = step.timeline.iter().map(|p| p.requests).collect();
    assert_eq!(
        (served[0], served[4], served[8]),
        (100, 400, 100),
        "{served:?}"
    );
    // Saved as it ran.
    let saved = RunResults::load(&dir.path().join("results.json")).unwrap();
    assert_eq!(saved.steps[0].summary.surge, Some(surge));
}

#[tokio::test]
async fn a_scenario_narrowed_to_some_targets_runs_only_on_them() {
    let mut twin = scenario("db-raw", closed(&[4, 8]), 2, None);
    twin.targets = Some(vec!["b".into()]);
    let plan = plan(
        &["a", "b"],
        vec![scenario("db", closed(&[4]), 2, None), twin],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut lab, engine) = lab_and_engine(&["a", "b"], 1000.0);
    let mut r = runner(&plan, &dir);
    r.run_all(&mut lab, &engine).await.unwrap();
    let run: Vec<(String, String, u64, u32)> = r
        .results
        .steps
        .iter()
        .map(|s| (s.target.clone(), s.scenario.clone(), s.level, s.repeat))
        .collect();
    let step = |t: &str, s: &str, l: u64, rep: u32| (t.to_string(), s.to_string(), l, rep);
    // Targets alternate between repeats; the twin runs on b alone.
    assert_eq!(
        run,
        [
            step("a", "db", 4, 0),
            step("b", "db", 4, 0),
            step("b", "db-raw", 4, 0),
            step("b", "db-raw", 8, 0),
            step("b", "db", 4, 1),
            step("b", "db-raw", 4, 1),
            step("b", "db-raw", 8, 1),
            step("a", "db", 4, 1),
        ]
    );
    assert_eq!(run.len() as u64, plan.step_count());
    // The mock lab counts no queries: the steps say nothing about them.
    assert!(r.results.steps.iter().all(|s| s.database.is_none()));
}

#[tokio::test]
async fn a_fanout_scenario_searches_the_most_subscribers_within_its_slo() {
    // 10 messages/s to every subscriber: S × 10 deliveries/s offered; the
    // mock target holds 5000 deliveries/s, so 500 subscribers.
    let plan = plan(
        &["a"],
        vec![scenario(
            "fanout",
            LoadModel::Fanout {
                subscribers: vec![100, 1000],
                rate: 10.0,
                publishers: 1,
                connect_rate: 500.0,
            },
            1,
            Some(Duration::from_millis(10)),
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, mut lab, engine) = lab_and_engine(&["a"], 5000.0);
    let mut r = runner(&plan, &dir);
    r.run_all(&mut lab, &engine).await.unwrap();
    let calls = engine.calls();
    assert!(calls.len() > 2, "the SLO search probed between the levels");
    for c in &calls {
        assert!(
            matches!(c.schedule, crate::engine::Schedule::Fanout { rate, .. } if rate == 10.0),
            "{:?}",
            c.schedule
        );
    }
    assert!(
        r.results
            .steps
            .iter()
            .all(|s| s.model == crate::model::Model::Fanout)
    );
    let measured: Vec<(u64, f64)> = r
        .results
        .steps
        .iter()
        .map(|s| (s.level, slo_latency(s)))
        .collect();
    let capacity = stats::slo_capacity(&measured, 10_000.0).expect("a level passed");
    assert!(
        (450..=500).contains(&capacity),
        "capacity {capacity} subscribers, within 10 % below the knee"
    );
}
