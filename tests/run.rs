//! End-to-end `bakeoff run` against the real reference targets: a quick run
//! of two targets, and Ctrl-C in the middle of a run. Both check that the
//! results are valid and that no process bakeoff started is left behind.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::util::procs::{assert_none_left, leftovers};

/// Test-local view of results.json: what a consumer relies on.
#[derive(Deserialize)]
struct Results {
    schema_version: u32,
    complete: bool,
    provenance: Provenance,
    plan: Option<bakeoff::results::PlanRecord>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Provenance {
    cpu_layout: Option<CpuLayout>,
    versions: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    variants: Vec<bakeoff::variants::Variant>,
}

#[derive(Deserialize)]
struct CpuLayout {
    generator: Vec<usize>,
    targets: Vec<usize>,
}

#[derive(Deserialize)]
struct Step {
    target: String,
    scenario: String,
    level: u64,
    summary: Summary,
    server: Option<Server>,
    database: Option<Database>,
    #[serde(default)]
    flags: Vec<String>,
}

#[derive(Deserialize)]
struct Database {
    queries: u64,
    queries_per_request: f64,
    rows_per_request: f64,
}

#[derive(Deserialize)]
struct Summary {
    requests: u64,
    errors: u64,
    duration_s: f64,
    #[serde(default)]
    fanout: Option<Fanout>,
}

#[derive(Deserialize)]
struct Fanout {
    bus: Option<String>,
}

#[derive(Deserialize)]
struct Server {
    cpu_s: f64,
    rss_peak_bytes: u64,
    processes: u32,
    db_cpu_s: Option<f64>,
}

fn read_results(path: &Path) -> Results {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A suite of one 1-second step per target: GET / on 2 connections.
fn one_step_suite(dir: &Path, targets: &[&str]) -> std::path::PathBuf {
    let path = dir.join("one-step.toml");
    let targets: Vec<String> = targets.iter().map(|t| format!("{t:?}")).collect();
    let text = format!(
        "name = \"one-step\"\ntargets = [{}]\n[defaults]\nwarmup = \"0s\"\nduration = \"1s\"\n\
         [[scenario]]\nname = \"files\"\nmodel = \"closed\"\nconcurrency = [2]\npath = \"/\"\n",
        targets.join(", ")
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn quick_run_of_two_targets_measures_everything_and_leaves_nothing() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["run", "--quick", "--only", "node,django-sync", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "run failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        leftovers(&out, pid),
        Vec::<String>::new(),
        "processes left behind"
    );

    let results = read_results(&out.join("results.json"));
    assert_eq!(results.schema_version, 2);
    assert!(results.complete);
    let layout = results.provenance.cpu_layout.expect("CPU layout recorded");
    assert!(!layout.generator.is_empty() && !layout.targets.is_empty());
    assert!(
        results.provenance.versions.contains_key("node"),
        "{:?}",
        results.provenance.versions
    );
    // The variants of targets.toml and the resolved plan (quick, narrowed
    // by --only) are recorded.
    assert_eq!(
        results.provenance.variants,
        bakeoff::variants::Variants::embedded().0
    );
    let quick = bakeoff::suite::quick().unwrap();
    let plan = results
        .plan
        .as_ref()
        .expect("the resolved plan is recorded");
    assert_eq!(
        (plan.suite.as_str(), plan.targets.clone()),
        ("quick", vec!["node".to_string(), "django-sync".to_string()])
    );
    assert_eq!(
        plan.scenarios
            .iter()
            .map(|s| (s.name.clone(), s.levels.clone()))
            .collect::<Vec<_>>(),
        quick
            .scenarios
            .iter()
            .map(|s| (s.name.clone(), s.load.levels()))
            .collect::<Vec<_>>()
    );
    for target in ["node", "django-sync"] {
        for scenario in quick.scenarios.iter().filter(|s| s.runs_on(target)) {
            let levels: BTreeSet<u64> = results
                .steps
                .iter()
                .filter(|s| s.target == target && s.scenario == scenario.name)
                .map(|s| s.level)
                .collect();
            for level in scenario.load.levels() {
                assert!(
                    levels.contains(&level),
                    "{target} / {} missing level {level}",
                    scenario.name
                );
            }
        }
    }
    for step in &results.steps {
        assert!(
            step.summary.requests > 0,
            "{} / {} sent nothing",
            step.target,
            step.scenario
        );
        assert!(
            step.summary.errors * 100 <= step.summary.requests,
            "{} / {}: errors",
            step.target,
            step.scenario
        );
        let server = step.server.as_ref().expect("local targets are sampled");
        assert!(server.cpu_s > 0.0 && server.rss_peak_bytes > 0);
        // node is one process; gunicorn is an arbiter plus its workers.
        match step.target.as_str() {
            "node" => assert_eq!(server.processes, 1, "{}", step.scenario),
            _ => assert!(
                server.processes >= 2,
                "{}: {}",
                step.scenario,
                server.processes
            ),
        }
        let db = server
            .db_cpu_s
            .expect("bakeoff runs the database: its CPU is counted");
        if step.scenario == "db" {
            assert!(db > 0.0, "{} / db used no database CPU", step.target);
        }
        // Queries counted by PostgreSQL over the step: one per /db request
        // (ORM or raw SQL), exactly unless a request failed before its query.
        let q = step
            .database
            .as_ref()
            .expect("the private PostgreSQL counts queries");
        let (who, what) = (&step.target, &step.scenario);
        match what.as_str() {
            "db" | "db-raw" => {
                assert!(
                    (0.99..=1.0).contains(&q.queries_per_request),
                    "{who} / {what}: {} queries per request",
                    q.queries_per_request
                );
                assert!((0.99..=1.0).contains(&q.rows_per_request));
            }
            "plaintext" | "json" | "io" => assert_eq!(q.queries, 0, "{who} / {what}"),
            // Of the two targets here only node runs fan-out (django-sync,
            // WSGI, does not offer it), and one node process broadcasts in
            // memory: no query (targets/API.md, /ws/info).
            "fanout" => {
                assert_eq!(who, "node", "fan-out ran on {who}");
                assert_eq!(
                    q.queries, 0,
                    "node / fanout: the memory bus queried the database"
                );
                let bus = step.summary.fanout.as_ref().and_then(|f| f.bus.as_deref());
                assert_eq!(bus, Some("memory"), "node / fanout: the bus /ws/info named");
            }
            _ => assert!(q.queries > 0, "{who} / {what}"),
        }
    }
    // The raw-SQL twin ran on django-sync only, as its `targets` says.
    let raw: Vec<&str> = results
        .steps
        .iter()
        .filter(|s| s.scenario == "db-raw")
        .map(|s| s.target.as_str())
        .collect();
    assert_eq!(raw, ["django-sync"]);
    let recorded = plan.scenarios.iter().find(|s| s.name == "db-raw").unwrap();
    assert_eq!(
        recorded.targets.as_deref(),
        Some(&["django-sync".to_string()][..])
    );
    assert!(
        stdout.contains("best rps"),
        "summary table printed: {stdout}"
    );
    for file in [
        "report.md",
        "report.html",
        "summary.csv",
        "logs/node.log",
        "logs/django-sync.log",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
}

/// A suite of six 2-second steps of node, long enough to interrupt.
fn long_suite(dir: &Path) -> std::path::PathBuf {
    let suite = dir.join("long.toml");
    std::fs::write(
        &suite,
        r#"
name = "interrupt-me"
targets = ["node"]
[defaults]
warmup = "0s"
duration = "2s"
[[scenario]]
name = "json"
model = "closed"
concurrency = [2, 4, 8, 16, 32, 64]
path = "/json"
"#,
    )
    .unwrap();
    suite
}

/// Starts `bakeoff run` of [`long_suite`] with `env`, and returns once the
/// first step is saved and the second one is under way, with the target
/// and PostgreSQL seen running.
fn run_until_second_step(
    dir: &Path,
    env: &[(&str, &str)],
) -> (std::process::Child, std::path::PathBuf) {
    let suite = long_suite(dir);
    let out = dir.join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("run")
        .arg(&suite)
        .arg("--out")
        .arg(&out)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let results_path = out.join("results.json");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        assert!(Instant::now() < deadline, "no step finished in time");
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("run ended before the first step was saved: {status}\n{stderr}");
        }
        if results_path.exists() && !read_results(&results_path).steps.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The next 2-second step starts at once: land inside it.
    std::thread::sleep(Duration::from_millis(700));
    let live = leftovers(&out, child.id());
    assert!(
        live.len() >= 2,
        "expected the target and PostgreSQL to be running: {live:?}"
    );
    (child, out)
}

fn signal(child: &std::process::Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, sig) };
}

#[test]
fn ctrl_c_saves_the_partial_step_stops_everything_and_exits_130() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let (child, out) = run_until_second_step(tmp.path(), &[]);
    let pid = child.id();
    let signalled = Instant::now();
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // The issue's bound: exit within 3 s of the signal.
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    assert_eq!(
        leftovers(&out, pid),
        Vec::<String>::new(),
        "processes left behind"
    );
    let results = read_results(&out.join("results.json"));
    assert!(!results.complete, "an interrupted run is marked incomplete");
    assert_eq!(results.steps.len(), 2, "one full step and the partial one");
    assert!(results.steps[0].flags.iter().all(|f| f != "interrupted"));
    let partial = &results.steps[1];
    assert!(
        partial.flags.iter().any(|f| f == "interrupted"),
        "{:?}",
        partial.flags
    );
    assert!(
        partial.summary.duration_s < 1.9 && partial.summary.requests > 0,
        "the partial step covers only what ran: {} s, {} requests",
        partial.summary.duration_s,
        partial.summary.requests
    );
    assert!(
        out.join("report.md").is_file(),
        "reports cover the partial run"
    );
}

#[test]
fn sigterm_then_a_second_ctrl_c_still_stops_everything() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let (child, out) = run_until_second_step(tmp.path(), &[]);
    let pid = child.id();
    signal(&child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(20));
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert_eq!(
        leftovers(&out, pid),
        Vec::<String>::new(),
        "processes left behind"
    );
    let results = read_results(&out.join("results.json"));
    assert!(!results.complete && !results.steps.is_empty());
}

#[test]
fn a_panic_mid_run_stops_everything_and_keeps_saved_steps() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let (child, out) =
        run_until_second_step(tmp.path(), &[("BAKEOFF_DEBUG_PANIC_AFTER_STEPS", "2")]);
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("deliberate panic"), "{stderr}");
    assert_eq!(
        output.status.code(),
        Some(101),
        "a panic exits 101: {stderr}"
    );
    assert_eq!(
        leftovers(&out, pid),
        Vec::<String>::new(),
        "processes left behind"
    );
    let results = read_results(&out.join("results.json"));
    assert_eq!(results.steps.len(), 2, "both saved steps survive the panic");
}

#[test]
fn sigkill_mid_run_leaves_readable_results_and_no_children() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, out) = run_until_second_step(tmp.path(), &[]);
    let pid = child.id();
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    // PR_SET_PDEATHSIG kills the children; give the kernel a moment.
    assert_none_left(&out, pid, Duration::from_secs(10));
    let results = read_results(&out.join("results.json"));
    assert!(!results.complete);
    assert!(!results.steps.is_empty(), "the saved step is still there");
}

#[test]
fn a_target_failing_mid_run_keeps_results_and_stops_everything() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    // A targets root whose first variant serves files and whose second
    // dies at start-up: the run fails after measuring the first.
    let root = tmp.path().join("targets");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("targets.toml"),
        r#"
[[variant]]
name = "node"
dir = "."
command = ["sh", "-c", "(sleep 300 &) ; exec python3 -m http.server \"$PORT\" --bind \"$HOST\""]
readiness = "/"

[[variant]]
name = "django-sync"
dir = "."
command = ["sh", "-c", "echo 'cannot start on purpose'; exit 3"]
readiness = "/"
"#,
    )
    .unwrap();
    let suite = one_step_suite(tmp.path(), &["node", "django-sync"]);
    let out = tmp.path().join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("run")
        .arg(&suite)
        .arg("--out")
        .arg(&out)
        .env("BAKEOFF_TARGETS", &root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("django-sync") && stderr.contains("cannot start on purpose"),
        "{stderr}"
    );
    assert_eq!(
        leftovers(&out, pid),
        Vec::<String>::new(),
        "processes left behind"
    );
    let results = read_results(&out.join("results.json"));
    assert!(!results.complete);
    assert_eq!(results.steps.len(), 1);
    assert_eq!(results.steps[0].target, "node");
    assert!(results.steps[0].summary.requests > 0);
}

#[test]
fn external_targets_are_loaded_and_remote_ones_refused_up_front() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "python http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let suite = one_step_suite(tmp.path(), &["node"]);
    let run = |url: &str, out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .arg("run")
            .arg(&suite)
            .args([
                "--targets",
                "external",
                "--url",
                &format!("node={url}"),
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap()
    };
    let out = tmp.path().join("ok");
    let ok = run(&url, &out);
    let remote_out = tmp.path().join("remote");
    let remote = run("http://192.0.2.1:80", &remote_out);
    let _ = server.kill();
    let _ = server.wait();

    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let results = read_results(&out.join("results.json"));
    assert!(results.complete);
    assert_eq!(results.steps.len(), 1);
    assert!(results.steps[0].summary.requests > 0);
    assert!(
        results.steps[0].server.is_none(),
        "external targets are not sampled"
    );

    assert_eq!(remote.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&remote.stderr).contains("--allow-remote"));
    assert!(
        !remote_out.exists(),
        "nothing is created before the input is validated"
    );
}
