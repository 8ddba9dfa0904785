//! Bad input from the outside: the real binary, once per class of bad
//! suite file or bad command line. Every class must exit 2, say what is
//! wrong (file:line:column, key, value or flag), never panic, and leave
//! nothing behind: each runs in a fresh directory, with and without
//! `--out` pointing into it, and that directory must hold exactly the
//! files the test wrote.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

/// A port nothing listens on: no case may get as far as sending load.
const DEAD_URL: &str = "http://127.0.0.1:1/";

/// A minimal valid suite around one scenario body.
fn suite(scenario: &str) -> String {
    format!("name = \"bad\"\n\n[[scenario]]\nname = \"s\"\n{scenario}")
}

/// A closed scenario with `extra` appended.
fn closed(extra: &str) -> String {
    suite(&format!(
        "model = \"closed\"\nconcurrency = [1]\npath = \"/\"\n{extra}"
    ))
}

/// A suite whose targets come from `[urls]`; the `[urls]` entry is on
/// line 5.
fn with_urls(target: &str, url: &str) -> String {
    format!(
        "name = \"bad\"\ntargets = [\"{target}\"]\n\n[urls]\n{target} = \"{url}\"\n\n[[scenario]]\nname = \"s\"\nmodel = \"closed\"\nconcurrency = [1]\npath = \"/\"\n"
    )
}

/// One class of bad input.
struct Case {
    name: &'static str,
    /// Files to create in the scratch directory first.
    files: Vec<(String, Vec<u8>)>,
    /// Arguments after the binary; a leading `run` also gets a second try
    /// with `--out out`.
    args: Vec<String>,
    /// Every one must appear in stderr.
    needles: Vec<String>,
}

fn case(name: &'static str, args: &[&str], needles: &[&str]) -> Case {
    Case {
        name,
        files: Vec::new(),
        args: args.iter().map(|s| s.to_string()).collect(),
        needles: needles.iter().map(|s| s.to_string()).collect(),
    }
}

/// `bakeoff run FILE` on a suite with `text`, expecting `needles`.
fn suite_case(name: &'static str, text: impl Into<Vec<u8>>, needles: &[&str]) -> Case {
    let file = format!("{name}.toml");
    let mut c = case(name, &["run", &file], needles);
    c.files.push((file, text.into()));
    c
}

fn load(args: &[&str]) -> Vec<String> {
    let mut all = vec!["load".to_string(), DEAD_URL.to_string(), "--quiet".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    all
}

fn load_case(name: &'static str, args: &[&str], needles: &[&str]) -> Case {
    Case {
        args: load(args),
        ..case(name, &[], needles)
    }
}

fn suite_cases() -> Vec<Case> {
    vec![
        suite_case(
            "syntax",
            "name = \"bad\"\n[[scenario]\nname = \"s\"\n",
            &["syntax.toml:2:11: ", "TOML syntax error"],
        ),
        suite_case(
            "unknown-key",
            closed("concurency = [8]\n"),
            &[
                "unknown-key.toml:8:1: ",
                "unknown key \"concurency\" in [[scenario]]",
            ],
        ),
        suite_case(
            "zero-concurrency",
            suite("model = \"closed\"\nconcurrency = [0]\npath = \"/\"\n"),
            &["zero-concurrency.toml:6:16: ", "concurrency", "got 0"],
        ),
        suite_case(
            "negative-concurrency",
            suite("model = \"closed\"\nconcurrency = [4, -8]\npath = \"/\"\n"),
            &["negative-concurrency.toml:6:19: ", "concurrency", "got -8"],
        ),
        suite_case(
            "zero-rate",
            suite("model = \"open\"\nrates = [0]\npath = \"/\"\n"),
            &["zero-rate.toml:6:10: ", "rates", "got 0"],
        ),
        suite_case(
            "negative-rate",
            suite("model = \"open\"\nrates = [-100]\npath = \"/\"\n"),
            &["negative-rate.toml:6:10: ", "rates", "got -100"],
        ),
        suite_case(
            "zero-connections",
            suite("model = \"open\"\nrates = [10]\nconnections = 0\npath = \"/\"\n"),
            &["zero-connections.toml:7:15: ", "connections", "got 0"],
        ),
        suite_case(
            "zero-duration",
            closed("duration = \"0s\"\n"),
            &[
                "zero-duration.toml:8:12: ",
                "duration must be greater than zero",
            ],
        ),
        suite_case(
            "unparsable-duration",
            closed("duration = \"fast\"\n"),
            &["unparsable-duration.toml:8:12: ", "\"fast\"", "\"10s\""],
        ),
        suite_case(
            "negative-duration",
            closed("warmup = \"-1s\"\n"),
            &["negative-duration.toml:8:10: ", "\"-1s\" is negative"],
        ),
        suite_case(
            "endless-duration",
            closed("duration = \"48h\"\n"),
            &["endless-duration.toml:8:12: ", "\"48h\"", "24h"],
        ),
        suite_case(
            "unitless-duration",
            closed("timeout = 10\n"),
            &["unitless-duration.toml:8:11: ", "\"10s\""],
        ),
        suite_case(
            "unknown-target",
            format!("targets = [\"nodejs\"]\n{}", closed("")),
            &[
                "unknown-target.toml:1:12: ",
                "unknown target \"nodejs\"",
                "node, node-cluster, django-sync, django-async",
            ],
        ),
        suite_case(
            "open-without-rates",
            suite("model = \"open\"\npath = \"/\"\n"),
            &[
                "open-without-rates.toml:5:9: ",
                "model = \"open\" needs rates",
            ],
        ),
        suite_case(
            "zero-weight",
            suite(
                "model = \"closed\"\nconcurrency = [1]\n[[scenario.request]]\npath = \"/a\"\nweight = 0\n",
            ),
            &["zero-weight.toml:9:10: ", "weight", "got 0"],
        ),
        suite_case(
            "relative-path",
            suite("model = \"closed\"\nconcurrency = [1]\npath = \"json\"\n"),
            &["relative-path.toml:7:8: ", "\"json\" must start with '/'"],
        ),
        suite_case(
            "duplicate-scenario",
            format!(
                "{}\n[[scenario]]\nname = \"s\"\nmodel = \"closed\"\nconcurrency = [1]\npath = \"/\"\n",
                closed("")
            ),
            &[
                "duplicate-scenario.toml:10:8: ",
                "duplicate scenario name \"s\" (first defined on line 4)",
            ],
        ),
        suite_case(
            "empty",
            "\n# nothing here\n",
            &["empty.toml:1:1: ", "the suite file is empty"],
        ),
        suite_case(
            "binary",
            b"name = \"bad\"\n\x7fELF\x02\x01\x01\x00\xff\xfe".to_vec(),
            &["binary.toml:2:", "not a text file"],
        ),
        case(
            "missing-file",
            &["run", "no-such-suite.toml"],
            &["cannot read suite file no-such-suite.toml", "No such file"],
        ),
        suite_case(
            "remote-url",
            with_urls("far", "http://10.1.2.3:8080"),
            &["remote-url.toml:5:7: ", "\"10.1.2.3\"", "--allow-remote"],
        ),
        {
            let mut c = suite_case(
                "remote-url-external",
                with_urls("node", "http://example.invalid:3000"),
                &[
                    "remote-url-external.toml:5:8: ",
                    "\"example.invalid\"",
                    "--allow-remote",
                ],
            );
            c.args.extend(["--targets".into(), "external".into()]);
            c
        },
        suite_case(
            "url-only-target-local",
            with_urls("mine", "http://127.0.0.1:3000"),
            &[
                "target \"mine\"",
                "url-only-target-local.toml",
                "--targets external",
            ],
        ),
        suite_case(
            "connection-cap",
            suite("model = \"closed\"\nconcurrency = [8, 5000]\npath = \"/\"\n"),
            &[
                "scenario \"s\" of connection-cap.toml",
                "5000",
                "--max-connections 4096",
            ],
        ),
        {
            let mut c = suite_case(
                "connection-cap-flag",
                suite("model = \"open\"\nrates = [10]\nconnections = 9\npath = \"/\"\n"),
                &["opens 9 connections", "--max-connections 8"],
            );
            c.args.extend(["--max-connections".into(), "8".into()]);
            c
        },
    ]
}

fn run_flag_cases() -> Vec<Case> {
    vec![
        case(
            "run-repeat-zero",
            &["run", "--repeat", "0"],
            &["'0'", "--repeat", "at least 1"],
        ),
        case(
            "run-max-connections-zero",
            &["run", "--max-connections", "0"],
            &["'0'", "--max-connections", "at least 1"],
        ),
        case(
            "run-url-without-name",
            &["run", "--url", "http://127.0.0.1:3000"],
            &["--url \"http://127.0.0.1:3000\"", "NAME=URL"],
        ),
        case(
            "run-url-remote",
            &["run", "--url", "node=http://10.9.9.9:80"],
            &["--url \"node=http://10.9.9.9:80\"", "--allow-remote"],
        ),
        case(
            "run-url-unparsable",
            &["run", "--url", "node=nonsense"],
            &["--url \"node=nonsense\"", "invalid URL"],
        ),
        case(
            "run-unknown-only",
            &["run", "--only", "nodejs"],
            &["--only", "\"nodejs\"", "node, node-cluster"],
        ),
    ]
}

fn load_cases() -> Vec<Case> {
    vec![
        case(
            "load-unparsable-url",
            &["load", "not a url", "--quiet"],
            &["invalid URL \"not a url\""],
        ),
        case(
            "load-remote-url",
            &["load", "http://10.1.2.3/", "--quiet"],
            &["\"10.1.2.3\"", "--allow-remote"],
        ),
        load_case(
            "load-connections-zero",
            &["-c", "0"],
            &["'0'", "--connections", "at least 1"],
        ),
        load_case(
            "load-connections-negative",
            &["-c", "-4"],
            &["'-4'", "--connections", "at least 1"],
        ),
        load_case(
            "load-connections-over-cap",
            &["-c", "5000"],
            &["-c/--connections opens 5000", "--max-connections 4096"],
        ),
        load_case(
            "load-connections-over-given-cap",
            &["-c", "9", "--max-connections", "8"],
            &["opens 9 connections", "--max-connections 8"],
        ),
        load_case(
            "load-duration-negative",
            &["-d", "-1s"],
            &["'-1s'", "--duration", "negative"],
        ),
        load_case(
            "load-duration-zero",
            &["-d", "0s"],
            &["'0s'", "--duration", "zero"],
        ),
        load_case(
            "load-duration-endless",
            &["-d", "48h"],
            &["'48h'", "--duration", "24h"],
        ),
        load_case(
            "load-duration-unparsable",
            &["--duration", "soon"],
            &["'soon'", "--duration", "invalid duration"],
        ),
        load_case(
            "load-warmup-negative",
            &["--warmup", "-2s"],
            &["'-2s'", "--warmup", "negative"],
        ),
        load_case(
            "load-timeout-zero",
            &["--timeout", "0"],
            &["'0'", "--timeout", "zero"],
        ),
        load_case(
            "load-rate-zero",
            &["--rate", "0"],
            &["'0'", "--rate", "greater than 0"],
        ),
        load_case(
            "load-rate-negative",
            &["--rate", "-50"],
            &["'-50'", "--rate", "greater than 0"],
        ),
        load_case(
            "load-stages-endless",
            &["--stages", "20h:10,5h:10"],
            &["'20h:10,5h:10'", "--stages", "24h"],
        ),
        load_case(
            "load-stages-negative-rate",
            &["--stages", "10s:200,10s:-5"],
            &["'10s:200,10s:-5'", "--stages", "stage 2", "not a rate"],
        ),
        load_case(
            "load-stages-negative-duration",
            &["--stages", "-10s:200"],
            &["'-10s:200'", "--stages", "negative"],
        ),
        load_case(
            "load-stages-nan",
            &["--stages", "10s:NaN"],
            &["'10s:NaN'", "--stages", "not a rate"],
        ),
        load_case(
            "load-stages-empty",
            &["--stages", ""],
            &["--stages", "no stage"],
        ),
        load_case(
            "load-stages-not-a-pair",
            &["--stages", "10s"],
            &["'10s'", "--stages", "DURATION:RATE"],
        ),
        load_case(
            "load-stages-send-nothing",
            &["--stages", "5s:0,5s:0"],
            &["'5s:0,5s:0'", "--stages", "send no request"],
        ),
        load_case(
            "load-stages-with-rate",
            &["--stages", "1s:10", "--rate", "5"],
            &["--stages", "--rate", "cannot be used with"],
        ),
        load_case(
            "load-stages-with-duration",
            &["--stages", "1s:10", "-d", "2s"],
            &["--stages", "--duration", "cannot be used with"],
        ),
        load_case(
            "load-start-rate-without-stages",
            &["--start-rate", "5"],
            &["--stages", "required"],
        ),
        load_case(
            "load-start-rate-negative",
            &["--stages", "1s:10", "--start-rate", "-1"],
            &["'-1'", "--start-rate", "not a rate"],
        ),
        load_case(
            "load-arrivals-unknown",
            &["--rate", "10", "--arrivals", "bursty"],
            &["'bursty'", "--arrivals", "poisson"],
        ),
        load_case(
            "load-arrivals-closed-model",
            &["--arrivals", "poisson"],
            &["--arrivals", "open model"],
        ),
        load_case(
            "load-header-without-colon",
            &["-H", "Accept application/json"],
            &["'Accept application/json'", "--header", "no colon"],
        ),
        load_case(
            "load-max-requests-zero",
            &["-n", "0"],
            &["'0'", "--max-requests", "at least 1"],
        ),
        load_case(
            "load-method",
            &["-m", "GE T"],
            &["'GE T'", "--method", "not an HTTP method"],
        ),
        load_case(
            "load-cpu-missing",
            &["--cpus", "0,4096"],
            &["'4096'", "--cpus", "not a CPU of this machine"],
        ),
        load_case(
            "load-output-in-missing-dir",
            &["--output", "missing/results.json"],
            &[
                "cannot write missing/results.json",
                "missing does not exist",
            ],
        ),
        load_case(
            "load-hgrm-in-missing-dir",
            &["--hgrm", "nowhere/latency.hgrm"],
            &[
                "cannot write nowhere/latency.hgrm",
                "nowhere does not exist",
            ],
        ),
    ]
}

fn listing(dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            names.insert(path.strip_prefix(dir).unwrap().display().to_string());
        }
    }
    names
}

fn bakeoff(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Runs one case in a fresh directory; returns what went wrong, if anything.
fn check(c: &Case, args: &[String]) -> Option<String> {
    let scratch = tempfile::tempdir().unwrap();
    for (name, bytes) in &c.files {
        std::fs::write(scratch.path().join(name), bytes).unwrap();
    }
    let before = listing(scratch.path());
    let out = bakeoff(scratch.path(), args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit {:?}, expected 2", out.status.code()));
    }
    if stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    for needle in &c.needles {
        if !stderr.contains(needle.as_str()) {
            problems.push(format!("stderr lacks {needle:?}"));
        }
    }
    let after = listing(scratch.path());
    let created: Vec<&String> = after.difference(&before).collect();
    if !created.is_empty() {
        problems.push(format!("created {created:?}"));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({}): {}\n  stderr: {stderr}",
            c.name,
            args.join(" "),
            problems.join("; ")
        )
    })
}

/// Runs every case (a `run` case also with `--out out`) and reports every
/// failing class at once.
fn check_all(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        failures.extend(check(c, &c.args));
        if c.args.first().is_some_and(|a| a == "run") {
            let mut with_out = c.args.clone();
            with_out.extend(["--out".into(), "out".into()]);
            failures.extend(check(c, &with_out));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} classes failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_suites_exit_2_located_and_create_nothing() {
    check_all(suite_cases());
}

#[test]
fn bad_run_flags_exit_2_and_create_nothing() {
    check_all(run_flag_cases());
}

#[test]
fn bad_load_flags_exit_2_before_any_load() {
    check_all(load_cases());
}

/// When the hard open-file limit cannot hold the connections, `load` says
/// so, naming the limit, instead of failing connection by connection.
#[test]
fn open_file_limit_too_low_for_the_connections() {
    use std::os::unix::process::CommandExt;
    let scratch = tempfile::tempdir().unwrap();
    let limit = libc::rlimit {
        rlim_cur: 300,
        rlim_max: 300,
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.current_dir(scratch.path())
        .args(load(&["-c", "1000", "--output", "r.json"]));
    // SAFETY: setrlimit is async-signal-safe and only touches the child.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("1000 connections") && stderr.contains("RLIMIT_NOFILE"),
        "{stderr}"
    );
    assert!(stderr.contains("at most 300"), "{stderr}");
    assert!(listing(scratch.path()).is_empty());
}

/// The checks are not over-eager: a good suite passes every one of them
/// and only then fails on what the test withholds (here, external targets
/// that are not running), so the classes above fail for their own reason.
#[test]
fn a_valid_suite_passes_validation() {
    let scratch = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = with_urls("mine", &format!("http://127.0.0.1:{port}"));
    std::fs::write(scratch.path().join("ok.toml"), text).unwrap();
    let args: Vec<String> = ["run", "ok.toml", "--targets", "external", "--out", "out"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = bakeoff(scratch.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not reachable") && stderr.contains(&port.to_string()),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
