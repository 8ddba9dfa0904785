//! `--junit FILE` of `run` and `compare`: the XML parses (quick-xml) with
//! one test case per threshold gate (per compared step), the failing ones
//! carry the terminal's message, the suite's counts add up, and the file
//! validates against the Jenkins xUnit plugin's `junit-10.xsd`
//! (`tests/fixtures/junit/`) with `xmllint --schema`, which must be
//! installed (Debian's `libxml2-utils`): the test fails without it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::util::fixtures::{curve, run, step};
use crate::util::server::{Behaviour, TestServer};
use bakeoff::results::Model::Closed;

/// One `<testcase>` as read back.
#[derive(Debug)]
struct Case {
    classname: String,
    name: String,
    /// (element, its message): failure, error or skipped.
    outcome: Option<(String, String)>,
}

/// The one `<testsuite>`'s attributes and its cases.
#[derive(Debug)]
struct Suite {
    attrs: BTreeMap<String, String>,
    cases: Vec<Case>,
}

impl Suite {
    fn count(&self, attr: &str) -> usize {
        self.attrs[attr].parse().unwrap()
    }
    fn with(&self, kind: &str) -> Vec<&Case> {
        self.cases
            .iter()
            .filter(|c| c.outcome.as_ref().is_some_and(|(k, _)| k == kind))
            .collect()
    }
}

fn attrs(e: &BytesStart) -> BTreeMap<String, String> {
    e.attributes()
        .map(|a| {
            let a = a.unwrap();
            (
                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned(),
            )
        })
        .collect()
}

/// Parses a JUnit file: exactly one `<testsuite>` under `<testsuites>`.
fn parse(path: &Path) -> Suite {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = Reader::from_str(&text);
    let mut suites = Vec::new();
    let mut root = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuites" => root = true,
                b"testsuite" => suites.push(Suite {
                    attrs: attrs(&e),
                    cases: Vec::new(),
                }),
                b"testcase" => {
                    let a = attrs(&e);
                    let suite: &mut Suite = suites.last_mut().expect("testcase outside a suite");
                    suite.cases.push(Case {
                        classname: a["classname"].clone(),
                        name: a["name"].clone(),
                        outcome: None,
                    });
                }
                kind @ (b"failure" | b"error" | b"skipped") => {
                    let kind = String::from_utf8(kind.to_vec()).unwrap();
                    let a = attrs(&e);
                    let case = suites
                        .last_mut()
                        .and_then(|s| s.cases.last_mut())
                        .expect("outcome outside a testcase");
                    assert!(case.outcome.is_none(), "two outcomes in {case:?}");
                    case.outcome = Some((kind, a["message"].clone()));
                }
                _ => {}
            },
            _ => {}
        }
    }
    assert!(root, "no <testsuites> root in {text}");
    assert_eq!(suites.len(), 1, "{text}");
    suites.pop().unwrap()
}

/// `xmllint --schema junit-10.xsd FILE` must pass.
fn assert_valid_junit(path: &Path) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit/junit-10.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint is needed to validate JUnit XML (Debian: apt-get install libxml2-utils): {e}")
        });
    assert!(
        out.status.success(),
        "{} does not validate against junit-10.xsd:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn bakeoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// One target on one closed scenario at 1 and 2 connections, 300 ms each,
/// and two thresholds: one every level passes, one none can.
fn gate_suite(dir: &Path) -> PathBuf {
    let suite = dir.join("gates.toml");
    std::fs::write(
        &suite,
        "name = \"gates\"\ntargets = [\"slow\"]\n[defaults]\nwarmup = \"0s\"\nduration = \"300ms\"\ntimeout = \"1s\"\n[urls]\nslow = \"http://127.0.0.1:9\"\n[[scenario]]\nname = \"root\"\nmodel = \"closed\"\nconcurrency = [1, 2]\npath = \"/\"\n[[thresholds]]\ncheck = \"error_rate < 50%\"\n[[thresholds]]\ncheck = \"rps > 1000000000\"\n",
    )
    .unwrap();
    suite
}

#[test]
fn run_junit_has_one_case_per_gate_and_the_failing_ones_carry_the_terminal_message() {
    let _area = crate::util::area(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    // 5 ms per answer: an instant one lets the generator spin flat out,
    // which may flag it saturated and leave a gate "not judged".
    let slow = TestServer::start(Behaviour::slow(Duration::from_millis(5), 200, "ok"));
    let suite = gate_suite(tmp.path());
    let out = tmp.path().join("run");
    let junit = tmp.path().join("ci/junit.xml");
    let o = bakeoff(&[
        "run",
        suite.to_str().unwrap(),
        "--targets",
        "external",
        "--url",
        &format!("slow={}", slow.base_url()),
        "--out",
        out.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );

    assert_valid_junit(&junit);
    let s = parse(&junit);
    // 2 thresholds × 2 levels.
    assert_eq!(s.cases.len(), 4, "{s:?}");
    assert_eq!(
        (s.count("tests"), s.count("failures"), s.count("errors")),
        (4, 2, 0)
    );
    assert_eq!(s.attrs["name"], "bakeoff run gates: thresholds");
    let failed = s.with("failure");
    assert_eq!(failed.len(), 2, "{s:?}");
    // The terminal prints "gate <message>" for each failed gate, and only those.
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("gate "))
        .collect();
    let messages: Vec<&str> = failed
        .iter()
        .map(|c| c.outcome.as_ref().unwrap().1.as_str())
        .collect();
    assert_eq!(messages, printed, "{stdout}");
    for c in &failed {
        assert!(c.name.ends_with(": rps > 1000000000"), "{c:?}");
        assert!(
            c.outcome
                .as_ref()
                .unwrap()
                .1
                .starts_with("FAIL slow/root at ")
        );
    }
    for c in s.cases.iter().filter(|c| c.outcome.is_none()) {
        assert!(c.name.ends_with(": error_rate < 50%"), "{c:?}");
        assert_eq!(c.classname, "slow");
    }
    let names: Vec<&str> = s.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "root at 1: error_rate < 50%",
            "root at 2: error_rate < 50%",
            "root at 1: rps > 1000000000",
            "root at 2: rps > 1000000000",
        ]
    );
}

#[test]
fn run_junit_to_an_unwritable_path_fails_before_any_load() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = gate_suite(tmp.path());
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let junit = blocker.join("junit.xml");
    let o = bakeoff(&[
        "run",
        suite.to_str().unwrap(),
        "--targets",
        "external",
        // Nothing listens here: a run that got as far as loading would
        // count connection errors, not stop with exit 2.
        "--url",
        "slow=http://127.0.0.1:9",
        "--out",
        tmp.path().join("run").to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&junit.display().to_string()), "{stderr}");
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("run/results.json")).unwrap())
            .unwrap();
    assert_eq!(results["steps"].as_array().unwrap().len(), 0);
}

#[test]
fn compare_junit_has_one_case_per_step_and_a_regression_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let side = |scale: f64| {
        curve(
            "node",
            "json",
            Closed,
            &[
                (8, 4_000.0, 1_500, 3_000),
                (64, 9_000.0 * scale, 6_000, 12_000),
            ],
            1,
            0.0,
        )
    };
    let base = run(side(1.0));
    let mut steps = side(0.7);
    // A step the baseline lacks: listed, skipped, not failed.
    steps.push(step(
        "node", "json", Closed, 256, 0, 9_500.0, 9_000, 20_000, 0,
    ));
    let cur = run(steps);
    let (b, c) = (tmp.path().join("b.json"), tmp.path().join("c.json"));
    base.save_atomic(&b).unwrap();
    cur.save_atomic(&c).unwrap();
    let junit = tmp.path().join("compare.xml");
    let o = bakeoff(&[
        "compare",
        b.to_str().unwrap(),
        c.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let md = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{md}");
    assert!(md.contains("**regressed** (rps -30.0%)"), "{md}");

    assert_valid_junit(&junit);
    let s = parse(&junit);
    assert_eq!(s.cases.len(), 3, "{s:?}");
    assert_eq!(
        (
            s.count("tests"),
            s.count("failures"),
            s.count("errors"),
            s.count("skipped")
        ),
        (3, 1, 0, 1)
    );
    let failed = s.with("failure");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].name, "json at 64 conn");
    assert_eq!(
        failed[0].outcome.as_ref().unwrap().1,
        "node/json at 64 conn: regressed (rps -30.0%)"
    );
    let skipped = s.with("skipped");
    assert_eq!(skipped[0].name, "json at 256 conn");
    assert_eq!(
        skipped[0].outcome.as_ref().unwrap().1,
        "only in the current run"
    );
    let passed: Vec<&str> = s
        .cases
        .iter()
        .filter(|c| c.outcome.is_none())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(passed, ["json at 8 conn"]);

    // No regression: every case passes, and the exit code says so too.
    let junit2 = tmp.path().join("same.xml");
    let o = bakeoff(&[
        "compare",
        b.to_str().unwrap(),
        b.to_str().unwrap(),
        "--junit",
        junit2.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_valid_junit(&junit2);
    let s = parse(&junit2);
    assert_eq!((s.count("tests"), s.count("failures")), (2, 0));
}
