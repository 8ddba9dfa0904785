//! The request engine against an in-process server: exact counts, mix
//! ratios, error classes, coordinated-omission correction, and the
//! `bakeoff load` command's output contracts.

use std::process::Command;
use std::time::Duration;

use crate::util::server::{Behaviour, TestServer, refused_addr};
use bakeoff::engine::{self, Mix, MixEntry, Schedule, StepSpec};
use bakeoff::measure::Measurement;

/// The engine tests' server: `/fail` answers 500, `/reset` closes the
/// connection unanswered, `/stall` never answers, `/stall-1pct` holds one
/// request in a hundred for 2 s (a slow tail), `/delay…` answers after
/// 20 ms; anything else gets 200 "Hello, World!". It counts requests
/// (`received` on arrival, `handled` and per path past a freeze).
fn server() -> TestServer {
    const HELLO: Behaviour = Behaviour::Respond(200, "Hello, World!");
    TestServer::builder()
        .route("/reset", Behaviour::Close)
        .route("/stall", Behaviour::Stall)
        .route("/fail", Behaviour::Respond(500, "boom"))
        .route(
            "/stall-1pct",
            Behaviour::SlowEvery {
                every: 100,
                delay: Duration::from_secs(2),
                then: Box::new(HELLO),
            },
        )
        .route(
            "/delay*",
            Behaviour::slow(Duration::from_millis(20), 200, "slow"),
        )
        .fallback(HELLO)
        .start()
}

fn spec(url: &str, schedule: Schedule, duration: Duration) -> StepSpec {
    let parsed = engine::parse_url(url, false).unwrap();
    StepSpec {
        endpoint: parsed.endpoint,
        transport: Default::default(),
        mix: Mix::single(MixEntry::get(&parsed.path_and_query)),
        schedule,
        warmup: Duration::ZERO,
        duration,
        timeout: Duration::from_secs(5),
        max_requests: None,
        seed: 1,
        cpus: Vec::new(),
        cancel: bakeoff::engine::Cancel::new(),
        shard: bakeoff::engine::Shard::WHOLE,
        start_at: None,
    }
}

fn run(spec: &StepSpec) -> Measurement {
    engine::run_step(spec, &mut engine::NoObserver).unwrap()
}

/// The lifecycle a step reports, in order: warm-up, then the window at
/// exactly warm-up after it, ticks, and the finished measurement last.
#[test]
fn a_step_reports_warmup_window_ticks_and_finish_in_order() {
    let _area = crate::util::area(module_path!());
    use bakeoff::engine::StepEvent;
    let server = server();
    let mut spec = spec(
        &server.url("/ok"),
        Schedule::Closed { connections: 2 },
        Duration::from_millis(300),
    );
    spec.warmup = Duration::from_millis(200);
    let mut seen: Vec<(&'static str, std::time::Instant, u64)> = Vec::new();
    let mut observer = |e: &StepEvent<'_>| {
        let now = std::time::Instant::now();
        match e {
            StepEvent::WarmupStarted { at } => seen.push(("warmup", *at, 0)),
            StepEvent::WindowStarted { at } => {
                assert!(now >= *at, "reported before the window started");
                seen.push(("window", *at, 0))
            }
            StepEvent::Tick { requests, .. } => seen.push(("tick", now, *requests)),
            StepEvent::Finished { measurement } => {
                seen.push(("finished", now, measurement.summary.requests))
            }
        }
    };
    let m = engine::run_step(&spec, &mut observer).unwrap();
    let kinds: Vec<&str> = seen.iter().map(|(k, _, _)| *k).collect();
    let first = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    assert_eq!(kinds.iter().filter(|k| **k == "warmup").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "window").count(), 1);
    assert!(first("warmup") < first("window"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"finished"), "{kinds:?}");
    assert!(
        kinds.iter().filter(|k| **k == "tick").count() >= 5,
        "{kinds:?}"
    );
    let (warmup_at, window_at) = (seen[first("warmup")].1, seen[first("window")].1);
    assert_eq!(window_at - warmup_at, spec.warmup);
    assert_eq!(seen.last().unwrap().2, m.summary.requests);
    // Ticks count warm-up requests too, so they end above the measured count.
    let last_tick = seen.iter().rev().find(|(k, _, _)| *k == "tick").unwrap().2;
    assert!(last_tick >= server.handled().min(1), "{last_tick}");
    // The step's own count of completed requests, warm-up included, is
    // exactly what the server answered (what the runner divides a step's
    // database queries by).
    assert_eq!(m.completed_in_step, server.handled());
    assert!(
        m.completed_in_step > m.summary.requests,
        "the warm-up's count too"
    );
}

#[test]
fn closed_model_count_matches_the_server_exactly() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let connections = 8;
    let m = run(&spec(
        &server.url("/ok"),
        Schedule::Closed { connections },
        Duration::from_millis(800),
    ));
    let s = &m.summary;
    assert!(s.requests > 100, "only {} requests", s.requests);
    assert_eq!(s.errors, 0);
    // Requests in flight at the end are completed and counted, not lost.
    assert_eq!(
        s.requests,
        server.handled(),
        "reported vs server-side count"
    );
    assert_eq!(s.status["200"], s.requests);
    let lat = s.latency_us.expect("requests succeeded");
    assert!(lat.p50 > 0 && lat.p50 <= lat.p99);
    assert!(s.generator.cpu_s > 0.0);
    assert!(!m.timeline.is_empty());
    assert_eq!(
        m.timeline.iter().map(|p| p.requests).sum::<u64>(),
        s.requests
    );
}

#[test]
fn each_generator_cpu_gets_one_thread_that_runs_only_there() {
    let _area = crate::util::area(module_path!());
    let cpus: Vec<usize> =
        (0..std::thread::available_parallelism().unwrap().get().min(2)).collect();
    let server = server();
    let mut spec = spec(
        &server.url("/ok"),
        Schedule::Closed { connections: 8 },
        Duration::from_millis(500),
    );
    spec.cpus = cpus.clone();
    let m = run(&spec);
    let g = &m.summary.generator;
    assert_eq!(g.threads as usize, cpus.len());
    assert_eq!(g.thread_cpus, cpus, "thread t is pinned to the t-th CPU");
    assert!(g.busiest_thread_utilization > 0.0 && g.busiest_thread_utilization <= 1.05);
    assert_eq!(m.summary.requests, server.handled());
}

#[test]
fn warmup_requests_are_sent_but_not_reported() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let mut sp = spec(
        &server.url("/ok"),
        Schedule::Closed { connections: 4 },
        Duration::from_millis(500),
    );
    sp.warmup = Duration::from_millis(300);
    let m = run(&sp);
    let warmup_requests = server.handled() - m.summary.requests;
    assert!(
        warmup_requests > 10,
        "warm-up sent {warmup_requests} requests"
    );
    assert!(
        m.summary.duration_s >= 0.5 && m.summary.duration_s < 1.0,
        "{}",
        m.summary.duration_s
    );
}

#[test]
fn max_requests_bounds_the_step() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let mut sp = spec(
        &server.url("/ok"),
        Schedule::Closed { connections: 4 },
        Duration::from_secs(30),
    );
    sp.max_requests = Some(500);
    let m = run(&sp);
    assert_eq!(m.summary.requests, 500);
    assert_eq!(server.handled(), 500);
}

#[test]
fn mix_follows_weights_and_endpoints_are_counted() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let mut a = MixEntry::get("/a");
    a.weight = 3;
    let b = MixEntry::get("/b");
    let mut sp = spec(
        &server.url("/"),
        Schedule::Closed { connections: 4 },
        Duration::from_millis(800),
    );
    sp.mix = Mix::new(vec![a, b]).unwrap();
    let m = run(&sp);
    let (na, nb) = (server.count("/a"), server.count("/b"));
    assert_eq!(m.endpoints["GET /a"].requests, na);
    assert_eq!(m.endpoints["GET /b"].requests, nb);
    let share = na as f64 / (na + nb) as f64;
    assert!(
        (share - 0.75).abs() < 0.03,
        "share of /a = {share} over {} requests",
        na + nb
    );
}

#[test]
fn errors_are_classified() {
    let _area = crate::util::area(module_path!());
    // Connection refused.
    let url = format!("http://{}/x", refused_addr());
    let m = run(&spec(
        &url,
        Schedule::Closed { connections: 2 },
        Duration::from_millis(200),
    ));
    assert!(m.summary.errors > 0);
    assert_eq!(m.summary.errors, m.summary.requests);
    assert_eq!(
        m.summary.errors_by_kind.get("connect"),
        Some(&m.summary.errors)
    );

    let server = server();
    // Server answers 500.
    let m = run(&spec(
        &server.url("/fail"),
        Schedule::Closed { connections: 2 },
        Duration::from_millis(200),
    ));
    assert_eq!(
        m.summary.errors_by_kind.get("http_status"),
        Some(&m.summary.requests)
    );
    assert_eq!(m.summary.status.get("500"), Some(&m.summary.requests));
    assert_eq!(m.summary.rps, 0.0);

    // Server drops the connection without answering.
    let m = run(&spec(
        &server.url("/reset"),
        Schedule::Closed { connections: 2 },
        Duration::from_millis(200),
    ));
    assert!(m.summary.requests > 0);
    assert_eq!(
        m.summary.errors_by_kind.get("reset"),
        Some(&m.summary.requests),
        "{:?}",
        m.summary.errors_by_kind
    );

    // Server never answers.
    let mut sp = spec(
        &server.url("/stall"),
        Schedule::Closed { connections: 2 },
        Duration::from_millis(300),
    );
    sp.timeout = Duration::from_millis(200);
    let m = run(&sp);
    assert!(m.summary.requests >= 2);
    assert_eq!(
        m.summary.errors_by_kind.get("timeout"),
        Some(&m.summary.requests)
    );
}

/// wrk2's coordinated-omission check: a server frozen for 1 s in an 8 s
/// run at 2000/s. Corrected latency (from intended send time) sees the
/// backlog: p99 ≈ 0.92 s, p90 ≈ 0.2 s. Uncorrected latency does not.
#[test]
fn open_model_corrects_for_coordinated_omission() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let sp = spec(
        &server.url("/ok"),
        Schedule::open(2000.0, 64),
        Duration::from_secs(8),
    );
    // Freeze 3 s into the measured window (origin + 20 ms start delay).
    let handle = std::thread::spawn({
        let sp = sp.clone();
        move || run(&sp)
    });
    std::thread::sleep(Duration::from_secs(3));
    server.freeze_for(Duration::from_secs(1));
    let m = handle.join().unwrap();
    let s = &m.summary;
    let lat = s.latency_us.expect("requests succeeded");
    let p99 = lat.p99 as f64 / 1e6;
    let p90 = lat.p90 as f64 / 1e6;
    assert!((0.85..=1.0).contains(&p99), "corrected p99 {p99} s");
    assert!((0.12..=0.28).contains(&p90), "corrected p90 {p90} s");
    let raw = s
        .uncorrected_latency_us
        .expect("open model records uncorrected latency");
    assert!(
        raw.p99 < 100_000,
        "uncorrected p99 {} µs should stay in milliseconds",
        raw.p99
    );
    assert!(
        raw.max >= 900_000,
        "requests in flight during the freeze waited ~1 s"
    );
    let offered = 2000 * 8;
    assert!(
        s.requests.abs_diff(offered) <= 2,
        "{} requests of {offered} scheduled",
        s.requests
    );
    assert_eq!(s.requests, server.handled());
    let lag = s
        .generator
        .send_lag_us
        .expect("open model records send lag");
    assert!(
        lag.max >= 900_000,
        "sends during the freeze were late: {lag:?}"
    );
    assert!(
        s.generator.late_sends >= 1000,
        "{} late sends",
        s.generator.late_sends
    );
}

fn bakeoff(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .output()
        .unwrap()
}

/// `bakeoff load URL ARGS... --quiet --output F`, which must exit 0: its
/// table and the results file it wrote.
fn load_to_json(url: &str, args: &[&str]) -> (String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.json");
    let mut all = vec!["load", url];
    all.extend_from_slice(args);
    all.extend(["--quiet", "--output", results.to_str().unwrap()]);
    let out = bakeoff(&all);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    (text, file)
}

#[test]
fn load_refuses_remote_hosts_before_connecting() {
    let _area = crate::util::area(module_path!());
    let out = bakeoff(&["load", "http://example.invalid/", "-d", "1s"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-remote"), "{err}");
}

/// Test-local view of the JSON contract of `load --format json`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct LoadJson {
    requests: u64,
    errors: u64,
    error_rate: f64,
    duration_s: f64,
    rps: f64,
    latency_us: Option<Lat>,
    uncorrected_latency_us: Option<Lat>,
    failed_latency_us: Option<Lat>,
    out_of_range: u64,
    status: std::collections::BTreeMap<String, u64>,
    errors_by_kind: std::collections::BTreeMap<String, u64>,
    /// Connections opened and their set-up time (absent when none opened).
    connect_us: Option<Connect>,
    generator: Gen,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Connect {
    count: u64,
    p50: u64,
    p99: u64,
    max: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Lat {
    min: u64,
    mean: f64,
    p50: u64,
    p90: u64,
    p99: u64,
    p999: u64,
    max: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Gen {
    cpu_s: f64,
    send_lag_us: Option<Lat>,
    late_sends: u64,
    unsent: u64,
    threads: u32,
    thread_cpus: Vec<usize>,
    busiest_thread_utilization: f64,
    busiest_thread_runnable: f64,
    wake_lag_us: Option<Lat>,
    saturated: Option<String>,
}

#[test]
fn load_json_output_results_file_and_hgrm() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.json");
    let hgrm = dir.path().join("lat.hgrm");
    let out = bakeoff(&[
        "load",
        &server.url("/ok"),
        "-c",
        "4",
        "-d",
        "500ms",
        "--warmup",
        "0s",
        "--rate",
        "400",
        "--format",
        "json",
        "--name",
        "fake",
        "--output",
        results.to_str().unwrap(),
        "--hgrm",
        hgrm.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: LoadJson = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j.requests, server.handled());
    // At most the pool of 4, each timed apart from the requests.
    let opened = j.connect_us.as_ref().map_or(0, |c| c.count);
    assert!((1..=4).contains(&opened), "{opened} connections");
    assert!(
        j.requests.abs_diff(200) <= 2,
        "{} requests at 400/s for 0.5 s",
        j.requests
    );
    assert!(j.uncorrected_latency_us.is_some() && j.generator.send_lag_us.is_some());
    assert_eq!(j.generator.threads, 1, "no --cpus: one generator thread");
    assert!(
        j.generator.wake_lag_us.is_some(),
        "the open model records the generator's own send delay"
    );
    assert_eq!(j.status["200"], j.requests);

    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    assert_eq!(file["schema_version"], 2);
    assert_eq!(file["complete"], true);
    assert_eq!(file["provenance"]["suite"], "load");
    let step = &file["steps"][0];
    assert_eq!(step["target"], "fake");
    assert_eq!(step["scenario"], "load");
    assert_eq!(step["model"], "open");
    assert_eq!(step["level"], 400);
    assert_eq!(step["summary"]["requests"], j.requests);
    let h =
        bakeoff::results::decode_histogram(step["histograms"]["total"].as_str().unwrap()).unwrap();
    assert_eq!(h.len(), j.requests);

    let text = std::fs::read_to_string(&hgrm).unwrap();
    assert!(
        text.contains("Percentile")
            && text.contains(&format!("Total count    = {:>12}", j.requests))
    );
}

#[test]
fn ctrl_c_stops_load_at_once_even_with_requests_stuck_and_keeps_the_part_measured() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.json");
    let child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["load", &server.url("/ok"), "-c", "4", "-d", "30s"])
        .args([
            "--warmup", "0s", "--rate", "200", "--format", "json", "--quiet",
        ])
        .arg("--output")
        .arg(&results)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    // Every connection is now stuck waiting for a response.
    server.freeze_for(Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    let signalled = std::time::Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    let j: LoadJson = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        (1.2..3.0).contains(&j.duration_s),
        "the window is cut at the signal: {} s",
        j.duration_s
    );
    assert!(
        (150..=260).contains(&j.requests),
        "about 1 s at 200/s completed before the freeze: {}",
        j.requests
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    assert_eq!(saved["complete"], false);
    assert_eq!(saved["steps"][0]["flags"][0], "interrupted");
}

/// Measurement truth, point 1: a slow tail (1% of requests stall 2 s) must
/// not lengthen the divisor of throughput. The population is the requests
/// started in the window, so the server's own count over the window is
/// the reference.
#[test]
fn a_slow_tail_does_not_shrink_throughput() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let window = Duration::from_secs(3);
    let m = run(&spec(
        &server.url("/stall-1pct"),
        Schedule::Closed { connections: 16 },
        window,
    ));
    let s = &m.summary;
    assert_eq!(s.errors, 0, "{:?}", s.errors_by_kind);
    assert_eq!(
        s.requests,
        server.received(),
        "every request started is counted"
    );
    assert_eq!(s.duration_s, window.as_secs_f64());
    let reference = server.received() as f64 / window.as_secs_f64();
    assert!(
        (s.rps / reference - 1.0).abs() < 0.05,
        "rps {} vs server count / window {reference}",
        s.rps
    );
    // The stalled requests show in the latency of the buckets where they
    // started, not as completions after the window.
    assert!(m.timeline.len() <= 3, "{} buckets", m.timeline.len());
    assert!(s.latency_us.unwrap().max >= 2_000_000);
}

/// The closed model starts at the shared origin: without warm-up, no
/// request is timed from before the clock started (those read as 1 µs).
#[test]
fn the_closed_model_starts_at_the_origin() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let m = run(&spec(
        &server.url("/delay"),
        Schedule::Closed { connections: 8 },
        Duration::from_millis(300),
    ));
    let lat = m.summary.latency_us.unwrap();
    assert!(
        lat.min >= 20_000,
        "every /delay request takes 20 ms: {lat:?}"
    );
}

/// A target that fails every request has no percentiles, zero throughput
/// and an error rate of 1 (and the JSON says `null`, not 0).
#[test]
fn a_failing_target_has_no_percentiles() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let out = bakeoff(&[
        "load",
        &server.url("/fail"),
        "-c",
        "2",
        "-d",
        "300ms",
        "--warmup",
        "0s",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["latency_us"].is_null(), "{v}");
    let j: LoadJson = serde_json::from_value(v).unwrap();
    assert!(j.requests > 0);
    assert_eq!((j.errors, j.error_rate, j.rps), (j.requests, 1.0, 0.0));
    assert!(j.failed_latency_us.is_some());
}

/// `-n` ends the step before `-d`: the duration is the time it took.
#[test]
fn a_count_bound_run_reports_the_time_it_took() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let started = std::time::Instant::now();
    let out = bakeoff(&[
        "load",
        &server.url("/ok"),
        "-c",
        "4",
        "-n",
        "2000",
        "-d",
        "30s",
        "--warmup",
        "0s",
        "--format",
        "json",
        "--quiet",
    ]);
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(out.status.code(), Some(0));
    let j: LoadJson = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j.requests, 2000);
    assert!(
        j.duration_s > 0.0 && j.duration_s < wall,
        "duration {} s, the whole command took {wall} s",
        j.duration_s
    );
    assert!((j.rps * j.duration_s - 2000.0).abs() < 1e-6);
}

/// Open model at ten times what a slow server can take: the requests that
/// could not be sent are counted, carried in the errors and flagged.
#[test]
fn unsent_requests_are_errors_and_flag_the_step() {
    let _area = crate::util::area(module_path!());
    let server = server();
    // 4 connections × 20 ms per request: 200 req/s at most.
    let mut sp = spec(
        &server.url("/delay"),
        Schedule::open(2000.0, 4),
        Duration::from_secs(1),
    );
    sp.timeout = Duration::from_millis(500);
    let m = run(&sp);
    let s = m.summary.clone();
    let unsent = s.generator.unsent;
    assert!(unsent > 1000, "{unsent} of 2000 unsent");
    assert_eq!(s.errors_by_kind.get("unsent"), Some(&unsent));
    assert_eq!(s.requests, 2000, "the population is the schedule");
    assert!(s.errors >= unsent);
    assert!(s.error_rate >= unsent as f64 / 2000.0);
    let step = m.into_step(
        bakeoff::measure::StepMeta {
            target: "slow".into(),
            scenario: "open".into(),
            model: bakeoff::results::Model::Open,
            level: 2000,
            repeat: 0,
            started_at: String::new(),
        },
        None,
        None,
    );
    assert!(
        step.has(bakeoff::results::StepFlag::Unsent),
        "{:?}",
        step.flags
    );
}

/// A generator asked for far more than one thread can send is flagged
/// saturated (the step's window is measured, not the warm-up). The pool
/// is large enough that a response is nearly always waiting: with 64
/// connections against a server on the other core the thread idled ~10%
/// of the window waiting for responses, and read 90% busy on CI.
#[test]
fn a_generator_pushed_past_its_limit_is_flagged() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let mut sp = spec(
        &server.url("/ok"),
        Schedule::open(2_000_000.0, 512),
        Duration::from_millis(800),
    );
    sp.warmup = Duration::from_millis(200);
    sp.timeout = Duration::from_millis(300);
    let m = run(&sp);
    let g = &m.summary.generator;
    assert!(
        g.saturated.is_some(),
        "busiest thread {:.0}% busy, {:.0}% runnable, own delay {:?}",
        g.busiest_thread_utilization * 100.0,
        g.busiest_thread_runnable * 100.0,
        g.wake_lag_us
    );
}

/// A surge profile through `load --stages`: the server receives the
/// profile's integral and every second of the timeline offers the
/// profile's rate for that second (the ramps included), each request on
/// its intended time.
#[test]
fn load_stages_offers_the_profile_second_by_second() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let (text, file) = load_to_json(
        &server.url("/ok"),
        &[
            "--stages",
            "2s:500,2s:500,1s:2000,2s:2000,1s:500,2s:500",
            "-c",
            "64",
        ],
    );
    assert!(
        text.contains("open model, stages 2s:500 → 2s:500 → 1s:2000 → 2s:2000 → 1s:500 → 2s:500"),
        "{text}"
    );
    assert!(text.contains("64 connections"), "{text}");
    // No warm-up with --stages: the server sees exactly the profile.
    let received = server.received() as f64;
    assert!(
        (received - 9500.0).abs() <= 9500.0 * 0.02,
        "{received} requests of the profile's 9500"
    );
    let step = &file["steps"][0];
    assert_eq!(step["model"], "open");
    assert_eq!(step["level"], 2000, "the level is the peak rate");
    assert_eq!(step["summary"]["requests"], 9500);
    // Whole seconds: 500/s, the ramps 500 → 2000 and back average 1250.
    let expected = [500, 500, 500, 500, 1250, 2000, 2000, 1250, 500, 500];
    let timeline = step["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), expected.len(), "{timeline:?}");
    for (second, (point, want)) in timeline.iter().zip(expected).enumerate() {
        assert_eq!(point["t_s"], second as u64);
        let offered = point["offered"].as_u64().unwrap() as f64;
        let want = f64::from(want);
        assert!(
            (offered - want).abs() <= want * 0.05,
            "second {second}: offered {offered}, profile {want}"
        );
    }
}

/// Poisson arrivals on a ramp, striped over the generator threads: the
/// count is the profile's within noise, and the same seed sends the same
/// schedule (the same count) again, whichever thread takes which ticket.
#[test]
fn poisson_arrivals_repeat_with_the_seed() {
    let _area = crate::util::area(module_path!());
    let server = server();
    let profile = bakeoff::engine::RateProfile::stages(
        Some(500.0),
        vec![bakeoff::engine::Stage {
            duration: Duration::from_millis(1500),
            rate: 1500.0,
        }],
    )
    .unwrap();
    let mut sp = spec(
        &server.url("/ok"),
        Schedule::Open {
            profile,
            connections: 16,
            arrivals: bakeoff::engine::Arrivals::Poisson,
        },
        Duration::from_millis(1500),
    );
    sp.cpus = (0..std::thread::available_parallelism().unwrap().get().min(2)).collect();
    let first = run(&sp).summary.requests;
    // 1500 expected; 4 standard deviations of a Poisson count is 155.
    assert!(
        first.abs_diff(1500) <= 155,
        "{first} arrivals of 1500 expected"
    );
    assert_eq!(run(&sp).summary.requests, first, "same seed, same schedule");
    sp.seed += 1;
    assert_ne!(
        run(&sp).summary.requests,
        first,
        "another seed, another schedule"
    );
    assert_eq!(server.handled(), server.received());
}

/// A spike above a server's fixed capacity (one request per millisecond):
/// the spike leaves a backlog, the per-second p99 climbs far above the
/// baseline, and once the queue drains after the surge the step is back
/// to baseline, so the recovery time is finite.
#[test]
fn a_spike_above_capacity_leaves_a_backlog_then_recovers() {
    let _area = crate::util::alone();
    let server = TestServer::start(Behaviour::capacity(Duration::from_millis(1)));
    let stage = |ms: u64, rate: f64| bakeoff::engine::Stage {
        duration: Duration::from_millis(ms),
        rate,
    };
    // 300 req/s, a jump to 2000 req/s for a second, back to 300 for 7 s:
    // about 1100 requests more than the server can take, which drain at
    // 700 req/s in under 2 s.
    let profile = bakeoff::engine::RateProfile::stages(
        None,
        vec![
            stage(2000, 300.0),
            stage(100, 2000.0),
            stage(1000, 2000.0),
            stage(100, 300.0),
            stage(7000, 300.0),
        ],
    )
    .unwrap();
    let duration = profile.duration().unwrap();
    let sp = spec(
        &server.url("/"),
        Schedule::Open {
            profile,
            connections: 64,
            arrivals: bakeoff::engine::Arrivals::Uniform,
        },
        duration,
    );
    let m = run(&sp);
    let s = m.summary.surge.expect("a spike has surge figures");
    assert_eq!((s.start_s, s.end_s), (2.0, 3.2));
    assert_eq!((s.baseline_rate, s.peak_rate), (300.0, 2000.0));
    assert!(s.peak_backlog > 500, "backlog {}", s.peak_backlog);
    let (base, peak) = (s.baseline_p99_us.unwrap(), s.peak_p99_us.unwrap());
    assert!(peak > 10 * base, "peak p99 {peak} µs vs baseline {base} µs");
    let recovery = s.recovery_s.expect("the queue drains within the step");
    assert!(
        recovery > 0.0 && recovery <= 4.0,
        "recovered after {recovery} s"
    );
    assert_eq!(s.surge_errors, 0);
    assert_eq!(s.outcome, bakeoff::results::SurgeOutcome::Slower);
    // The timeline carries the achieved rate and the backlog it came from.
    let achieved: u64 = m.timeline.iter().map(|p| p.completed).sum();
    assert!(
        achieved >= m.summary.requests - 64,
        "{achieved} completions in the window"
    );
    let worst = m.timeline.iter().map(|p| p.backlog).max().unwrap();
    assert_eq!(worst, s.peak_backlog);
}

/// A server whose capacity is barely above the baseline cannot drain a
/// spike's backlog: `load` reports "did not recover", in its JSON and its
/// table.
#[test]
fn load_reports_a_server_that_never_recovers() {
    let _area = crate::util::alone();
    // 400 req/s at most, against 300 req/s after the spike.
    let server = TestServer::start(Behaviour::capacity(Duration::from_micros(2500)));
    let (text, file) = load_to_json(
        &server.url("/"),
        &[
            "--stages",
            "2s:300,100ms:2000,1s:2000,100ms:300,4s:300",
            "-c",
            "64",
            "--timeout",
            "3s",
        ],
    );
    assert!(
        text.contains("Surge      did not recover: baseline p99"),
        "{text}"
    );
    assert!(text.contains("before the window ended"), "{text}");
    let surge = &file["steps"][0]["summary"]["surge"];
    assert_eq!(surge["outcome"], "not_recovered", "{surge}");
    assert!(surge["recovery_s"].is_null(), "{surge}");
    assert!(surge["peak_backlog"].as_u64().unwrap() > 1000, "{surge}");
}
