//! Sharded generation and `bakeoff merge`: three `bakeoff load` processes
//! on one shared start time send, together, exactly the single-process
//! schedule to a counting server; their merge adds histograms and counts;
//! `report` and `verify` read the merged run; inputs that are not the
//! shards of one plan are refused with exit 2.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::util::server::{Behaviour, TestServer};
use bakeoff::results::{LatencySummary, RunResults, decode_histogram, new_histogram};

fn bakeoff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
}

/// Unix seconds `ahead` from now, with milliseconds.
fn unix_in(ahead: Duration) -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + ahead;
    format!("{:.3}", t.as_secs_f64())
}

/// Waits for `child` at most `limit`, killing it (by its own handle) past it.
fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a shard did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// One `bakeoff load` shard of `rate` req/s for `secs` s on `url`.
fn shard(url: &str, rate: u32, secs: u32, k: u32, start: &str, out: &Path) -> Child {
    bakeoff()
        .args([
            "load",
            url,
            "--rate",
            &rate.to_string(),
            "-d",
            &format!("{secs}s"),
        ])
        .args(["--warmup", "0s", "-c", "32", "--quiet", "--format", "json"])
        .args(["--shard", &format!("{k}/3"), "--start-at", start])
        .arg("--output")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn merge(out: &Path, inputs: &[&Path]) -> Output {
    bakeoff()
        .arg("merge")
        .arg(out)
        .args(inputs)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn three_shards_send_the_single_process_schedule_and_merge_exactly() {
    let _gate = crate::util::area(module_path!());
    let server = TestServer::start(Behaviour::Respond(200, "Hello, World!"));
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..3)
        .map(|k| dir.path().join(format!("shard{k}.json")))
        .collect();
    // The same start for all, a couple of seconds ahead (process start-up
    // of a debug binary included).
    let start = unix_in(Duration::from_secs(3));
    let children: Vec<Child> = (0..3)
        .map(|k| shard(&server.url("/a"), 3000, 3, k, &start, &files[k as usize]))
        // A shard of another plan (2 s, not 3 s), on its own path.
        .chain([shard(
            &server.url("/b"),
            3000,
            2,
            1,
            &start,
            &dir.path().join("other.json"),
        )])
        .collect();
    for child in children {
        let out = wait_bounded(child, Duration::from_secs(60));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // The single-process schedule: 3000 req/s × 3 s, uniform arrivals.
    let single = 9000.0;
    let got = server.count("/a") as f64;
    assert!(
        (got - single).abs() <= single * 0.01,
        "server received {got}, schedule {single}"
    );

    let shards: Vec<RunResults> = files.iter().map(|f| RunResults::load(f).unwrap()).collect();
    for (k, r) in shards.iter().enumerate() {
        let s = r.provenance.shard.as_ref().expect("shard provenance");
        assert_eq!((s.index, s.count), (k as u32, 3));
        assert_eq!(
            s.plan_hash,
            shards[0].provenance.shard.as_ref().unwrap().plan_hash
        );
        // Each shard sent its third of the schedule.
        assert_eq!(r.steps[0].summary.requests, 3000, "shard {k}");
    }
    let merged_dir = dir.path().join("merged");
    let out = merge(
        &merged_dir,
        &files.iter().map(|f| f.as_path()).collect::<Vec<_>>(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = RunResults::load(&merged_dir).unwrap();
    let step = &merged.steps[0];
    let sum: u64 = shards.iter().map(|r| r.steps[0].summary.requests).sum();
    assert_eq!(step.summary.requests, sum);
    assert_eq!(step.summary.requests as f64, got);
    // One histogram of every shard's samples, read by the one summary code.
    let mut all = new_histogram();
    for r in &shards {
        all.add(decode_histogram(&r.steps[0].histograms.total).unwrap())
            .unwrap();
    }
    assert_eq!(all.len(), step.summary.requests - step.summary.errors);
    assert_eq!(
        step.summary.latency_us,
        LatencySummary::from_histogram(&all)
    );
    assert_eq!(merged.provenance.merged_from.len(), 3);
    let timeline_requests: u64 = step.timeline.iter().map(|p| p.requests).sum();
    assert_eq!(timeline_requests, sum);

    // Reports and verdicts read the merged directory as any run.
    for cmd in ["report", "verify"] {
        let out = bakeoff().arg(cmd).arg(&merged_dir).output().unwrap();
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
    }
    assert!(merged_dir.join("report.md").is_file());

    // Not the shards of one plan: named, exit 2.
    let other = dir.path().join("other.json");
    let bad = merge(&dir.path().join("bad"), &[&files[0], &other, &files[2]]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("plan hash"), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("other.json"), "{}", stderr(&bad));
    let twice = merge(&dir.path().join("bad"), &[&files[0], &files[1], &files[1]]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains("shard 1/3 is given twice"),
        "{}",
        stderr(&twice)
    );
    let missing = merge(&dir.path().join("bad"), &[&files[0], &files[2]]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("missing shard: 1/3 (given: 0/3, 2/3)"),
        "{}",
        stderr(&missing)
    );
    assert!(
        !dir.path().join("bad").exists(),
        "a refused merge writes nothing"
    );
}

#[test]
fn shard_flags_are_checked_before_any_load() {
    let future = unix_in(Duration::from_secs(600));
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "load",
                "http://127.0.0.1:9/",
                "--shard",
                "3/3",
                "--start-at",
                &future,
            ],
            "below N",
        ),
        (
            &[
                "load",
                "http://127.0.0.1:9/",
                "--shard",
                "0/0",
                "--start-at",
                &future,
            ],
            "at least 1",
        ),
        (
            &[
                "load",
                "http://127.0.0.1:9/",
                "--shard",
                "x",
                "--start-at",
                &future,
            ],
            "'x' is not K/N",
        ),
        (
            &[
                "load",
                "http://127.0.0.1:9/",
                "--shard",
                "0/2",
                "--start-at",
                "1000",
            ],
            "in the past",
        ),
        (
            &[
                "load",
                "http://127.0.0.1:9/",
                "--shard",
                "0/2",
                "--start-at",
                "soon",
            ],
            "neither RFC 3339",
        ),
        (
            &["run", "--quick", "--shard", "0/2", "--start-at", &future],
            "needs --targets external",
        ),
    ];
    for (args, says) in cases {
        let out = bakeoff().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // --shard without --start-at is a usage error too.
    let out = bakeoff()
        .args(["load", "http://127.0.0.1:9/", "--shard", "0/2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `run --targets external` split in two shards on one time-table: the
/// open step's schedule is sent once in all, each shard sends its half,
/// and the merged run directory is read by `report` and `verify`.
#[test]
fn a_run_split_in_shards_merges_into_one_run() {
    let _gate = crate::util::area(module_path!());
    let server = TestServer::start(Behaviour::Respond(200, "Hello, World!"));
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("tiny.toml");
    std::fs::write(
        &suite,
        "name = \"tiny\"\ntargets = [\"node\"]\n[defaults]\nwarmup = \"0s\"\nduration = \"1s\"\ntimeout = \"1s\"\n\
         [[scenario]]\nname = \"closed\"\nmodel = \"closed\"\nconcurrency = [3]\npath = \"/c\"\n\
         [[scenario]]\nname = \"open\"\nmodel = \"open\"\nrates = [400]\nconnections = 8\npath = \"/o\"\n",
    )
    .unwrap();
    let start = unix_in(Duration::from_secs(3));
    let outs: Vec<_> = (0..2)
        .map(|k| dir.path().join(format!("shard-{k}")))
        .collect();
    let children: Vec<Child> = (0..2)
        .map(|k| {
            bakeoff()
                .arg("run")
                .arg(&suite)
                .args([
                    "--targets",
                    "external",
                    "--url",
                    &format!("node={}", server.base_url()),
                ])
                .args(["--shard", &format!("{k}/2"), "--start-at", &start, "--out"])
                .arg(&outs[k])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = wait_bounded(child, Duration::from_secs(90));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        server.count("/o"),
        400,
        "one open schedule of 400 req/s for 1 s"
    );
    for out in &outs {
        let r = RunResults::load(out).unwrap();
        let open = r.steps.iter().find(|s| s.scenario == "open").unwrap();
        assert_eq!(open.summary.requests, 200);
    }
    let merged = dir.path().join("merged");
    let out = merge(&merged, &[&outs[0], &outs[1]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = RunResults::load(&merged).unwrap();
    assert_eq!(m.steps.len(), 2);
    assert!(m.plan.is_some() && m.complete);
    let open = m.steps.iter().find(|s| s.scenario == "open").unwrap();
    assert_eq!(open.summary.requests, 400);
    let closed = m.steps.iter().find(|s| s.scenario == "closed").unwrap();
    assert_eq!(closed.summary.requests, server.count("/c"));
    for cmd in ["report", "verify"] {
        let out = bakeoff().arg(cmd).arg(&merged).output().unwrap();
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
    }
    // A merged run compares with itself without a regression.
    let out = bakeoff()
        .arg("compare")
        .arg(&merged)
        .arg(&merged)
        .output()
        .unwrap();
    assert!(out.status.success(), "compare: {}", stderr(&out));
}
