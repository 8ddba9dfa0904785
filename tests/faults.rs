//! Faults during a run are measured and reported, never fatal: against a
//! server that misbehaves on cue (refuses, resets mid-response, stalls,
//! truncates bodies, answers 5xx, answers slowly, or whose process dies
//! mid-step), `bakeoff load` completes with each fault counted in
//! `errors_by_kind`, and `bakeoff run` completes every planned step, flags
//! the faulty target's steps `errors` and goes on to measure the healthy
//! target cleanly.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::server::child::{ChildServer, child_mode, run_child};
use crate::util::server::{Behaviour, TestServer, get_status, refused_addr};
use serde::Deserialize;

/// Test-local view of a summary (`bakeoff load --format json`, and each
/// step's `summary` in results.json).
#[derive(Debug, Deserialize)]
struct Summary {
    requests: u64,
    errors: u64,
    error_rate: f64,
    /// `null` when no request succeeded.
    latency_us: Option<Latency>,
    status: BTreeMap<String, u64>,
    errors_by_kind: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
struct Latency {
    p50: u64,
    max: u64,
}

#[derive(Debug, Deserialize)]
struct Results {
    complete: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    target: String,
    level: u64,
    repeat: u32,
    summary: Summary,
    #[serde(default)]
    flags: Vec<String>,
}

/// No step here should take long; a hung run fails the test instead of
/// hanging it.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Runs the bakeoff binary, killing it if it has not ended by HANG_LIMIT.
fn bakeoff(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // Drained while it runs, so a chatty child never blocks on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + HANG_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            // Our own child, by its pid.
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "bakeoff {args:?} hung; stderr:\n{}",
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// `bakeoff load URL --format json` for 1 s on 4 connections, no warm-up;
/// asserts exit 0 and returns the summary.
fn load(url: &str, timeout: &str) -> Summary {
    load_for(url, timeout, "1s")
}

fn load_for(url: &str, timeout: &str, duration: &str) -> Summary {
    let out = bakeoff(
        &[
            "load",
            url,
            "-c",
            "4",
            "-d",
            duration,
            "--warmup",
            "0s",
            "--timeout",
            timeout,
            "--format",
            "json",
            "--quiet",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "bakeoff load {url}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "load output is not a summary ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Asserts every request failed, all of one kind.
fn all_failed_as(s: &Summary, kind: &str) {
    assert!(s.requests > 0, "{s:?}");
    assert_eq!(s.errors, s.requests, "{s:?}");
    assert_eq!(s.error_rate, 1.0, "{s:?}");
    assert!(s.latency_us.is_none(), "no success, no percentiles: {s:?}");
    assert_eq!(
        s.errors_by_kind,
        BTreeMap::from([(kind.to_string(), s.requests)]),
        "{s:?}"
    );
}

#[test]
fn load_against_refused_connections_counts_connect_errors() {
    let _area = crate::util::area(module_path!());
    let url = format!("http://{}/", refused_addr());
    let s = load(&url, "300ms");
    all_failed_as(&s, "connect");
    assert!(s.status.is_empty(), "{s:?}");
}

#[test]
fn load_against_resets_mid_response_counts_reset_errors() {
    let _area = crate::util::area(module_path!());
    let server = TestServer::start(Behaviour::ResetMidResponse);
    let s = load(&server.base_url(), "300ms");
    all_failed_as(&s, "reset");
    // Every request the server read was reset, and every one is counted.
    assert_eq!(s.requests, server.received());
    // Each reset costs a connection; the engine's backoff bounds how many
    // a worker opens (without it: thousands in a second).
    let bound = 4 * max_attempts(Duration::from_secs(1));
    assert!(
        s.requests <= bound,
        "{} reconnects from 4 workers in 1 s, more than the backoff allows ({bound})",
        s.requests
    );
}

/// The most connection attempts one worker makes in `window` when every
/// attempt fails: it waits FIRST_BACKOFF, doubling up to MAX_BACKOFF.
fn max_attempts(window: Duration) -> u64 {
    use bakeoff::engine::{FIRST_BACKOFF, MAX_BACKOFF};
    let (mut elapsed, mut wait, mut attempts) = (Duration::ZERO, FIRST_BACKOFF, 1);
    while elapsed + wait < window {
        elapsed += wait;
        wait = (wait * 2).min(MAX_BACKOFF);
        attempts += 1;
    }
    attempts
}

#[test]
fn load_against_a_stalled_server_counts_timeouts() {
    let _area = crate::util::area(module_path!());
    let server = TestServer::start(Behaviour::Stall);
    let s = load(&server.base_url(), "300ms");
    all_failed_as(&s, "timeout");
    assert_eq!(s.requests, server.received());
}

#[test]
fn load_against_truncated_bodies_counts_truncated_responses() {
    let _area = crate::util::area(module_path!());
    let server = TestServer::start(Behaviour::TruncatedBody);
    let s = load(&server.base_url(), "300ms");
    all_failed_as(&s, "truncated");
    assert_eq!(s.requests, server.received());
}

#[test]
fn load_against_5xx_answers_counts_http_status_errors() {
    let _area = crate::util::area(module_path!());
    for code in [500u16, 503] {
        let server = TestServer::start(Behaviour::Respond(code, "fault"));
        let s = load_for(&server.base_url(), "300ms", "500ms");
        all_failed_as(&s, "http_status");
        assert_eq!(
            s.status,
            BTreeMap::from([(code.to_string(), s.requests)]),
            "{s:?}"
        );
        assert_eq!(s.requests, server.received());
    }
}

#[test]
fn load_against_slow_answers_measures_the_delay_without_errors() {
    let _area = crate::util::area(module_path!());
    let delay = Duration::from_millis(100);
    let server = TestServer::start(Behaviour::slow(delay, 200, "ok"));
    // A timeout far above the delay: slowness is latency, not failure.
    let s = load(&server.base_url(), "5s");
    assert!(s.requests > 0, "{s:?}");
    assert_eq!(s.errors, 0, "{s:?}");
    assert!(s.errors_by_kind.is_empty(), "{s:?}");
    assert_eq!(s.requests, server.received());
    assert_eq!(s.status.get("200"), Some(&s.requests));
    // Latency cannot be shorter than the server's delay.
    let delay_us = delay.as_micros() as u64;
    let lat = s.latency_us.as_ref().expect("every request succeeded");
    assert!(lat.p50 >= delay_us && lat.max >= delay_us, "{lat:?}");
}

/// Requests the dying child server answers before it exits.
const ANSWERED_BEFORE_DYING: u64 = 300;

#[test]
fn load_against_a_server_dying_mid_step_counts_its_failures() {
    let _area = crate::util::area(module_path!());
    let mut child = ChildServer::spawn(CHILD_TEST, ANSWERED_BEFORE_DYING);
    let s = load(&child.base_url(), "300ms");
    assert!(
        child.wait_exit(Duration::from_secs(5)).is_some(),
        "the child server did not die"
    );
    // Without warm-up every answer it gave is in the measured window.
    assert_eq!(s.status.get("200"), Some(&ANSWERED_BEFORE_DYING), "{s:?}");
    assert_eq!(s.errors, s.requests - ANSWERED_BEFORE_DYING, "{s:?}");
    // The request it died on lost its connection; the ones after it found
    // nothing listening.
    assert!(s.errors_by_kind.get("reset") >= Some(&1), "{s:?}");
    assert!(s.errors_by_kind.get("connect") > Some(&0), "{s:?}");
    let counted: u64 = s.errors_by_kind.values().sum();
    assert_eq!(counted, s.errors, "{s:?}");
}

/// This test's name (its path in the one test binary): [`ChildServer`]
/// re-invokes the test binary on it.
const CHILD_TEST: &str = "faults::child_server_answers_n_requests_then_exits";

/// The child-process server of the dying-server tests, and its own test.
/// Started with `BAKEOFF_FAULT_CHILD_EXIT_AFTER` set (by [`ChildServer`],
/// or by bakeoff from a targets.toml), this test *is* the server and never
/// returns; otherwise it checks that such a child answers N requests, dies
/// on the next and then refuses connections.
#[test]
fn child_server_answers_n_requests_then_exits() {
    let _area = crate::util::area(module_path!());
    if let Some(server) = child_mode() {
        run_child(server);
    }
    let mut child = ChildServer::spawn(CHILD_TEST, 3);
    for i in 0..3 {
        assert_eq!(get_status(child.addr), Some(200), "request {i}");
    }
    assert_eq!(
        get_status(child.addr),
        None,
        "the 4th request is not answered"
    );
    assert!(child.wait_exit(Duration::from_secs(5)).is_some());
    assert!(std::net::TcpStream::connect(child.addr).is_err());
}

/// A suite of two 1-second steps (1 and 2 connections, GET /) per target
/// and repeat, no warm-up, 300 ms timeout. External names are declared in
/// [urls] with a placeholder (nothing listens on port 9): `--url` gives the
/// real URLs.
fn two_step_suite(dir: &Path, targets: &[&str], repeats: u32, external: bool) -> PathBuf {
    let path = dir.join("two-steps.toml");
    let quoted: Vec<String> = targets.iter().map(|t| format!("{t:?}")).collect();
    let mut text = format!(
        "name = \"faults\"\ntargets = [{}]\n[defaults]\nwarmup = \"0s\"\nduration = \"1s\"\ntimeout = \"300ms\"\nrepeats = {repeats}\n",
        quoted.join(", ")
    );
    if external {
        text.push_str("[urls]\n");
        for t in targets {
            text.push_str(&format!("{t} = \"http://127.0.0.1:9\"\n"));
        }
    }
    text.push_str(
        "[[scenario]]\nname = \"root\"\nmodel = \"closed\"\nconcurrency = [1, 2]\npath = \"/\"\n",
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn run_external(suite: &Path, out: &Path, urls: &[(&str, String)]) -> Output {
    let mut args: Vec<String> = vec![
        "run".into(),
        suite.display().to_string(),
        "--targets".into(),
        "external".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    for (name, url) in urls {
        args.push("--url".into());
        args.push(format!("{name}={url}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    bakeoff(&args, &[])
}

/// Asserts a completed run of `faulty` then `healthy`, two levels each,
/// `repeats` times, and returns the faulty target's steps by (repeat, level).
fn check_run(
    out: &Path,
    output: &Output,
    faulty: &str,
    healthy: &str,
    repeats: u32,
) -> BTreeMap<(u32, u64), Step> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let results: Results =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert!(results.complete, "{stderr}");
    // Targets alternate their order: A B on even repeats, B A on odd ones.
    let planned: Vec<(u32, &str, u64)> = (0..repeats)
        .flat_map(|r| {
            let (first, second) = if r % 2 == 0 {
                (faulty, healthy)
            } else {
                (healthy, faulty)
            };
            [(r, first, 1), (r, first, 2), (r, second, 1), (r, second, 2)]
        })
        .collect();
    let measured: Vec<(u32, &str, u64)> = results
        .steps
        .iter()
        .map(|s| (s.repeat, s.target.as_str(), s.level))
        .collect();
    assert_eq!(measured, planned, "every planned step, in order");
    let mut faulty_steps = BTreeMap::new();
    for step in results.steps {
        if step.target == healthy {
            assert!(step.summary.requests > 0, "{step:?}");
            assert_eq!(step.summary.errors, 0, "{step:?}");
            assert!(!step.flags.iter().any(|f| f == "errors"), "{step:?}");
        } else {
            assert!(step.summary.errors > 0, "{step:?}");
            assert!(step.flags.iter().any(|f| f == "errors"), "{step:?}");
            faulty_steps.insert((step.repeat, step.level), step);
        }
    }
    faulty_steps
}

#[test]
fn run_goes_on_after_an_external_target_dies_mid_step() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let dying = ChildServer::spawn(CHILD_TEST, ANSWERED_BEFORE_DYING);
    let healthy = TestServer::start(Behaviour::ok());
    let suite = two_step_suite(tmp.path(), &["dying", "healthy"], 1, true);
    let out = tmp.path().join("run");
    let output = run_external(
        &suite,
        &out,
        &[("dying", dying.base_url()), ("healthy", healthy.base_url())],
    );
    let steps = check_run(&out, &output, "dying", "healthy", 1);
    // Step 1: answers until it died (run's reachability check took one),
    // then the request it died on and refused connects.
    let first = &steps[&(0, 1)].summary;
    assert_eq!(
        first.status.get("200"),
        Some(&(ANSWERED_BEFORE_DYING - 1)),
        "{first:?}"
    );
    assert!(first.errors_by_kind.get("connect") > Some(&0), "{first:?}");
    // Step 2 still ran, against nothing.
    all_failed_as(&steps[&(0, 2)].summary, "connect");
}

#[test]
fn run_goes_on_after_an_external_target_stalls() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    // Healthy for run's reachability check, stalled from the first step on.
    let stalled = TestServer::builder()
        .healthy_first(1)
        .fallback(Behaviour::Stall)
        .start();
    let healthy = TestServer::start(Behaviour::ok());
    let suite = two_step_suite(tmp.path(), &["stalled", "healthy"], 1, true);
    let out = tmp.path().join("run");
    let output = run_external(
        &suite,
        &out,
        &[
            ("stalled", stalled.base_url()),
            ("healthy", healthy.base_url()),
        ],
    );
    let steps = check_run(&out, &output, "stalled", "healthy", 1);
    for step in steps.values() {
        all_failed_as(&step.summary, "timeout");
    }
}

/// Local mode: bakeoff starts the targets itself (this test binary as the
/// child server). The first dies mid-step; its second step is measured
/// against nothing; stopping the dead process does not fail the run, which
/// goes on to start and measure the second target. The next repeat starts
/// the dead target afresh (and it dies again).
#[test]
fn run_goes_on_after_a_local_target_dies_mid_step() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("targets");
    std::fs::create_dir_all(&root).unwrap();
    let exe = std::env::current_exe().unwrap();
    let variant = |name: &str, exit_after: &str| {
        format!(
            "[[variant]]\nname = {name:?}\ndir = \".\"\ncommand = [{:?}, {CHILD_TEST:?}, \"--exact\", \"--nocapture\", \"--test-threads=1\"]\nreadiness = \"/\"\nenv = {{ {} = {exit_after:?} }}\n",
            exe.display().to_string(),
            crate::util::server::child::CHILD_EXIT_AFTER_ENV,
        )
    };
    std::fs::write(
        root.join("targets.toml"),
        variant("node", &ANSWERED_BEFORE_DYING.to_string()) + &variant("django-sync", "never"),
    )
    .unwrap();
    let suite = two_step_suite(tmp.path(), &["node", "django-sync"], 2, false);
    let out = tmp.path().join("run");
    let output = bakeoff(
        &[
            "run",
            &suite.display().to_string(),
            "--out",
            &out.display().to_string(),
        ],
        &[("BAKEOFF_TARGETS", &root)],
    );
    let steps = check_run(&out, &output, "node", "django-sync", 2);
    for repeat in 0..2 {
        let first = &steps[&(repeat, 1)].summary;
        // The readiness probe took at least one of its answers.
        let answered = first.status.get("200").copied().unwrap_or(0);
        assert!(
            answered > 0 && answered < ANSWERED_BEFORE_DYING,
            "repeat {repeat}: {first:?}"
        );
        assert!(
            first.errors_by_kind.get("connect") > Some(&0),
            "repeat {repeat}: {first:?}"
        );
        all_failed_as(&steps[&(repeat, 2)].summary, "connect");
    }
}

/// The SLO search of an open-model scenario runs in the first repeat; later
/// repeats measure exactly the same rates, in the same order, so every
/// probed rate has all its repeats. The slow server (10 ms per request over
/// 2 connections: about 200 req/s) puts the SLO edge between the rates.
#[test]
fn the_slo_search_probes_the_same_rates_in_every_repeat() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let slow = TestServer::start(Behaviour::slow(Duration::from_millis(10), 200, "ok"));
    let suite = tmp.path().join("slo.toml");
    std::fs::write(
        &suite,
        "name = \"slo\"\ntargets = [\"slow\"]\n[defaults]\nwarmup = \"0s\"\nduration = \"400ms\"\ntimeout = \"300ms\"\nrepeats = 2\n[urls]\nslow = \"http://127.0.0.1:9\"\n[[scenario]]\nname = \"open\"\nmodel = \"open\"\nrates = [50, 800]\nconnections = 2\nslo_p99 = \"60ms\"\npath = \"/\"\n",
    )
    .unwrap();
    let out = tmp.path().join("run");
    let output = run_external(&suite, &out, &[("slow", slow.base_url())]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let results: Results =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    let rates = |repeat: u32| -> Vec<u64> {
        results
            .steps
            .iter()
            .filter(|s| s.repeat == repeat)
            .map(|s| s.level)
            .collect()
    };
    assert!(
        rates(0).len() > 2,
        "the search probed extra rates: {:?}",
        rates(0)
    );
    assert_eq!(rates(1), rates(0), "repeat 1 replays repeat 0's rates");
}

/// A target that answers 500 to everything fails a latency gate: its steps
/// have no percentiles, and "no successful request" is not "fast".
#[test]
fn a_latency_gate_fails_on_a_target_that_answers_500_to_everything() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    // 500 after 5 ms: an instant 500 lets two connections spin the
    // generator flat out, which (rightly) flags it saturated on a busy
    // machine and leaves the gate "not judged" instead.
    let failing = TestServer::builder()
        .healthy_first(1)
        .fallback(Behaviour::slow(Duration::from_millis(5), 500, "fault"))
        .start();
    let suite = tmp.path().join("gate.toml");
    std::fs::write(
        &suite,
        "name = \"gate\"\ntargets = [\"failing\"]\n[defaults]\nwarmup = \"0s\"\nduration = \"300ms\"\ntimeout = \"300ms\"\n[urls]\nfailing = \"http://127.0.0.1:9\"\n[[scenario]]\nname = \"root\"\nmodel = \"closed\"\nconcurrency = [2]\npath = \"/\"\n[[thresholds]]\ncheck = \"p99 < 50ms\"\n",
    )
    .unwrap();
    let out = tmp.path().join("run");
    let output = run_external(&suite, &out, &[("failing", failing.base_url())]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{all}");
    let gate = all
        .lines()
        .find(|l| l.contains("FAIL") && l.contains("p99 < 50ms"))
        .unwrap_or_else(|| panic!("no failed gate in: {all}"));
    assert!(gate.contains("no request succeeded"), "{gate}");
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert!(results["steps"][0]["summary"]["latency_us"].is_null());
}
