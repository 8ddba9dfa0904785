//! Suite loading from the outside: the embedded suites parse, fit their
//! time budgets and cover every claim; each class of bad suite is reported
//! at the right `file:line:column`; filtering, shortening and repeats
//! behave as `bakeoff run` needs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bakeoff::suite::{self, LoadModel, Metric, SuiteError, SuitePlan};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suites")
        .join(name)
}

fn load_err(name: &str) -> (PathBuf, SuiteError) {
    let path = fixture(name);
    let err = suite::load(Some(&path)).expect_err(name);
    (path, err)
}

/// Asserts that the first line of the error is `path:line:col: ...` and
/// mentions `needle`.
fn assert_located(name: &str, line: usize, col: usize, needle: &str) {
    let (path, err) = load_err(name);
    let text = err.to_string();
    let prefix = format!("{}:{line}:{col}: ", path.display());
    assert!(
        text.starts_with(&prefix),
        "{name}: expected prefix {prefix:?}, got {text:?}"
    );
    assert!(text.contains(needle), "{name}: {text:?} lacks {needle:?}");
    let d = &err.diagnostics()[0];
    assert_eq!((d.line, d.column), (line, col), "{name}");
}

#[test]
fn malformed_toml() {
    assert_located("malformed.toml", 2, 15, "TOML syntax error");
}

#[test]
fn unknown_key_at_top_level() {
    assert_located(
        "unknown-top-key.toml",
        3,
        1,
        "unknown key \"target\" in the top level (expected one of: name, description, targets,",
    );
}

#[test]
fn unknown_key_in_scenario() {
    assert_located(
        "unknown-scenario-key.toml",
        8,
        1,
        "unknown key \"concurency\" in [[scenario]] (expected one of: name, description, model, concurrency,",
    );
}

#[test]
fn unknown_key_in_request() {
    assert_located(
        "unknown-request-key.toml",
        12,
        1,
        "unknown key \"wieght\" in [[scenario.request]]",
    );
}

#[test]
fn bad_duration() {
    assert_located(
        "bad-duration.toml",
        7,
        12,
        "duration: invalid duration \"fast\"",
    );
}

#[test]
fn unknown_target() {
    assert_located(
        "unknown-target.toml",
        3,
        20,
        "unknown target \"nodejs\" (valid: node, node-cluster, django-sync, django-async",
    );
}

#[test]
fn empty_levels() {
    assert_located(
        "empty-levels.toml",
        8,
        15,
        "concurrency must list at least one level",
    );
}

#[test]
fn bad_threshold() {
    assert_located(
        "bad-threshold.toml",
        13,
        9,
        "invalid threshold \"p99 < fast\"",
    );
}

#[test]
fn bad_threshold_model() {
    assert_located(
        "bad-threshold-model.toml",
        12,
        9,
        "threshold model must be \"closed\", \"open\" or \"fanout\", got \"closd\"",
    );
}

#[test]
fn bad_path() {
    assert_located("bad-path.toml", 9, 8, "path \"json\" must start with '/'");
}

#[test]
fn zero_weight() {
    assert_located("zero-weight.toml", 16, 10, "weight must be between 1 and");
}

#[test]
fn duplicate_scenario() {
    assert_located(
        "duplicate-scenario.toml",
        12,
        8,
        "duplicate scenario name \"json\" (first defined on line 6)",
    );
}

#[test]
fn bad_cpu() {
    assert_located(
        "bad-cpu.toml",
        6,
        14,
        "CPU index 4096 in cpu.generator does not exist",
    );
}

#[test]
fn negative_rate() {
    assert_located(
        "negative-rate.toml",
        8,
        15,
        "every rates level must be between 1 and",
    );
}

#[test]
fn missing_file_names_the_path() {
    let path = fixture("no-such-suite.toml");
    let err = suite::load(Some(&path)).unwrap_err();
    assert!(matches!(err, SuiteError::Read { .. }));
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

/// Several problems in one file are all reported, in file order.
#[test]
fn all_problems_are_reported_in_order() {
    let text = r#"name = "many"
targets = ["node", "node"]

[[scenario]]
name = "a b"
model = "open"
rates = [100, 100]
slo_p99 = "0ms"
path = "/x"

[[scenario.request]]
path = "/y"

[[thresholds]]
target = "django-sync"
scenario = "nope"
check = "p99 < 5ms"
"#;
    let err = suite::parse_for_cores(text, "many.toml", 2).unwrap_err();
    let lines: Vec<String> = err
        .diagnostics()
        .iter()
        .map(|d| format!("{}:{}", d.line, d.column))
        .collect();
    assert_eq!(
        lines,
        ["2:20", "5:8", "7:15", "8:11", "9:8", "15:10", "16:12"],
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("target \"node\" is listed twice"), "{text}");
    assert!(text.contains("invalid scenario name \"a b\""), "{text}");
    assert!(text.contains("strictly increasing"), "{text}");
    assert!(text.contains("slo_p99 must be greater than zero"), "{text}");
    assert!(text.contains("not both"), "{text}");
    assert!(
        text.contains("target \"django-sync\", which is not in this suite's targets"),
        "{text}"
    );
    assert!(
        text.contains("scenario \"nope\", which this suite does not define"),
        "{text}"
    );
}

#[test]
fn model_specific_keys_are_checked() {
    let closed_with_rates =
        "name = \"x\"\n[[scenario]]\nname = \"a\"\nmodel = \"closed\"\nrates = [1]\npath = \"/\"\n";
    let err = suite::parse_for_cores(closed_with_rates, "x.toml", 2).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("x.toml:4:9: model = \"closed\" needs concurrency"),
        "{text}"
    );
    assert!(
        text.contains("x.toml:5:9: rates is not allowed with model = \"closed\""),
        "{text}"
    );

    let bad_model = "name = \"x\"\n[[scenario]]\nname = \"a\"\nmodel = \"shut\"\npath = \"/\"\n";
    let err = suite::parse_for_cores(bad_model, "x.toml", 2).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "x.toml:4:9: invalid value \"shut\" (expected one of: closed, open, fanout)"
        ),
        "{err}"
    );
}

#[test]
fn fanout_scenarios_resolve_and_their_mistakes_are_located() {
    let good = "name = \"x\"\n[[scenario]]\nname = \"ws\"\nmodel = \"fanout\"\nsubscribers = [100, 1000]\nrate = 20\nslo_p99 = \"50ms\"\npath = \"/ws/fanout\"\n";
    let plan = suite::parse_for_cores(good, "x.toml", 2).unwrap();
    let s = &plan.scenarios[0];
    assert_eq!(
        s.load,
        LoadModel::Fanout {
            subscribers: vec![100, 1000],
            rate: 20.0,
            publishers: 1,
            connect_rate: 500.0,
        }
    );
    assert_eq!(s.slo_p99, Some(Duration::from_millis(50)));
    assert_eq!(s.load.model(), bakeoff::model::Model::Fanout);

    let cases = [
        // No rate: located at the model.
        (
            "model = \"fanout\"\nsubscribers = [10]\npath = \"/ws/fanout\"\n",
            (4, 9),
            "model = \"fanout\" needs rate",
        ),
        (
            "model = \"fanout\"\nrate = 5\npath = \"/ws/fanout\"\n",
            (4, 9),
            "needs subscribers = [...], e.g. subscribers = [100, 1000, 5000]",
        ),
        (
            "model = \"fanout\"\nsubscribers = [10]\nrate = -1\npath = \"/ws/fanout\"\n",
            (6, 8),
            "rate must be a number of messages per second greater than 0",
        ),
        (
            "model = \"fanout\"\nsubscribers = [10, 5]\nrate = 1\npath = \"/ws/fanout\"\n",
            (5, 20),
            "subscribers levels must be strictly increasing",
        ),
        (
            "model = \"fanout\"\nsubscribers = [4]\nrate = 1\npublishers = 5\npath = \"/ws/fanout\"\n",
            (7, 14),
            "publishers (among the fewest subscribers) must be between 1 and 4, got 5",
        ),
        (
            "model = \"fanout\"\nsubscribers = [4]\nrate = 1\nconcurrency = [2]\npath = \"/ws/fanout\"\n",
            (7, 15),
            "concurrency is not allowed with model = \"fanout\"; it belongs to model = \"closed\"",
        ),
        (
            "model = \"open\"\nrates = [4]\nsubscribers = [4]\npath = \"/\"\n",
            (6, 15),
            "subscribers is not allowed with model = \"open\"; it belongs to model = \"fanout\"",
        ),
    ];
    for (body, at, needle) in cases {
        let text = format!("name = \"x\"\n[[scenario]]\nname = \"a\"\n{body}");
        let (line, col, message) = first_diagnostic(&text);
        assert_eq!((line, col), at, "{body}: {message}");
        assert!(message.contains(needle), "{body}: {message}");
    }
}

#[test]
fn bad_headers_and_methods_are_located() {
    let text = r#"name = "x"
targets = ["node"]
[[scenario]]
name = "post"
model = "closed"
concurrency = [1]
[[scenario.request]]
method = "GE T"
path = "/json"
headers = { "Bad Name" = "v", "X-Ok" = "line\nbreak", "Content-Length" = "3" }
"#;
    let err = suite::parse_for_cores(text, "h.toml", 2).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("h.toml:8:10: invalid HTTP method \"GE T\""),
        "{text}"
    );
    assert!(
        text.contains("h.toml:10:13: invalid header name \"Bad Name\""),
        "{text}"
    );
    assert!(text.contains("invalid value for header \"X-Ok\""), "{text}");
    assert!(
        text.contains("\"Content-Length\" is set by bakeoff"),
        "{text}"
    );
}

#[test]
fn requests_resolve_their_defaults() {
    let text = r#"name = "x"
targets = ["node"]
[[scenario]]
name = "mix"
model = "closed"
concurrency = [1]
[[scenario.request]]
path = "/db"
[[scenario.request]]
method = "post"
path = "/echo"
headers = { "Content-Type" = "application/json" }
body = '{"a":1}'
expect_status = 201
weight = 3
label = "create"
"#;
    let plan = suite::parse_for_cores(text, "x.toml", 2).unwrap();
    let entries = plan.scenarios[0].mix.entries();
    assert_eq!(entries[0].label, "GET /db");
    assert_eq!(entries[0].method, http::Method::GET);
    assert_eq!((entries[0].expect_status, entries[0].weight), (200, 1));
    assert_eq!(entries[1].label, "create");
    assert_eq!(entries[1].method, http::Method::POST);
    assert_eq!(&entries[1].body[..], b"{\"a\":1}");
    assert_eq!(entries[1].headers["content-type"], "application/json");
    assert_eq!((entries[1].expect_status, entries[1].weight), (201, 3));
    // Built-in defaults when the suite has no [defaults].
    let s = &plan.scenarios[0];
    assert_eq!(
        (s.warmup, s.duration, s.repeats, s.timeout),
        (
            Duration::from_secs(1),
            Duration::from_secs(10),
            1,
            Duration::from_secs(10)
        )
    );
    assert_eq!(plan.db_connections, suite::DEFAULT_DB_CONNECTIONS);
    assert_eq!(plan.cpu, suite::CpuPlan::auto(&[0, 1]));
}

#[test]
fn external_urls_and_cpu_layout() {
    let text = r#"name = "ext"
targets = ["node", "mine"]
[urls]
node = "http://127.0.0.1:3001/"
mine = "http://localhost:8080"
[cpu]
targets = [0, 1]
[[scenario]]
name = "json"
model = "open"
rates = [10]
path = "/json"
"#;
    let plan = suite::parse_for_cores(text, "ext.toml", 4).unwrap();
    assert_eq!(plan.targets, ["node", "mine"]);
    assert_eq!(plan.urls["node"], "http://127.0.0.1:3001");
    assert_eq!(plan.urls["mine"], "http://localhost:8080");
    assert_eq!(plan.cpu.targets, [0, 1]);
    assert_eq!(plan.cpu.generator, [2, 3]);
    assert_eq!(
        plan.scenarios[0].load,
        LoadModel::Open {
            rates: vec![10],
            connections: suite::DEFAULT_OPEN_CONNECTIONS,
            arrivals: bakeoff::engine::Arrivals::Uniform,
            profile: None,
        }
    );

    let https = text.replace("http://localhost:8080", "https://localhost:8080/api");
    let err = suite::parse_for_cores(&https, "ext.toml", 4).unwrap_err();
    assert!(err.to_string().starts_with("ext.toml:5:8: URL"), "{err}");
}

/// A scenario body for the small suites below.
const ONE_SCENARIO: &str =
    "[[scenario]]\nname = \"a\"\nmodel = \"closed\"\nconcurrency = [1]\npath = \"/\"\n";

fn first_diagnostic(text: &str) -> (usize, usize, String) {
    let err = suite::parse_for_cores(text, "x.toml", 2).unwrap_err();
    let d = &err.diagnostics()[0];
    (d.line, d.column, d.message.clone())
}

#[test]
fn empty_and_comment_only_files_are_called_empty() {
    for text in ["", "\n  \n", "# a comment\n\n# another\n"] {
        let (line, column, message) = first_diagnostic(text);
        assert_eq!((line, column), (1, 1), "{text:?}");
        assert!(message.contains("the suite file is empty"), "{message}");
    }
}

#[test]
fn binary_files_are_refused_where_the_text_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.toml");
    std::fs::write(&path, b"name = \"x\"\nab\xff\xfe\x00").unwrap();
    let err = suite::load(Some(&path)).unwrap_err();
    let d = &err.diagnostics()[0];
    assert_eq!((d.line, d.column), (2, 3), "{err}");
    assert!(d.message.contains("not a text file"), "{err}");
    assert!(
        err.to_string().starts_with(&path.display().to_string()),
        "{err}"
    );

    let (line, column, message) = first_diagnostic("name = \"x\"\n\0\0\0");
    assert_eq!((line, column), (2, 1));
    assert!(message.contains("NUL byte"), "{message}");
}

#[test]
fn durations_must_be_positive_and_bounded() {
    let cases = [
        ("warmup = \"-1s\"", "\"-1s\" is negative"),
        ("duration = \"25h\"", "longer than the 24h"),
        ("timeout = \"0ms\"", "timeout must be greater than zero"),
    ];
    for (line, needle) in cases {
        let text = format!("name = \"x\"\n[defaults]\n{line}\n{ONE_SCENARIO}");
        let (l, c, message) = first_diagnostic(&text);
        let column = line.find('"').unwrap() + 1;
        assert_eq!((l, c), (3, column), "{line}: {message}");
        assert!(message.contains(needle), "{line}: {message}");
    }
    let text = format!("name = \"x\"\n[defaults]\nduration = \"24h\"\n{ONE_SCENARIO}");
    suite::parse_for_cores(&text, "x.toml", 2).unwrap();
}

#[test]
fn remote_urls_are_refused_at_their_location() {
    let text = format!(
        "name = \"x\"\ntargets = [\"near\", \"far\"]\n[urls]\nnear = \"http://localhost:3000\"\nfar = \"http://192.0.2.7:80\"\n{ONE_SCENARIO}"
    );
    let plan = suite::parse_for_cores(&text, "x.toml", 2).unwrap();
    let err = plan.refuse_remote_urls().unwrap_err();
    assert_eq!(err.diagnostics().len(), 1, "{err}");
    let text = err.to_string();
    assert!(text.starts_with("x.toml:5:7: [urls] far"), "{text}");
    assert!(
        text.contains("\"192.0.2.7\"") && text.contains("--allow-remote"),
        "{text}"
    );

    let mut near = plan.clone();
    near.urls.remove("far");
    near.refuse_remote_urls().unwrap();
}

#[test]
fn connection_cap_names_the_scenario_and_the_flag() {
    let text = "name = \"x\"\n[[scenario]]\nname = \"c\"\nmodel = \"closed\"\nconcurrency = [8, 300]\npath = \"/\"\n[[scenario]]\nname = \"o\"\nmodel = \"open\"\nrates = [10]\nconnections = 512\npath = \"/\"\n";
    let plan = suite::parse_for_cores(text, "x.toml", 2).unwrap();
    assert_eq!(plan.max_connections(), 512);
    plan.check_connection_cap(512).unwrap();
    let msg = plan.check_connection_cap(256).unwrap_err().to_string();
    assert!(msg.contains("scenario \"c\" of x.toml opens 300"), "{msg}");
    assert!(msg.contains("--max-connections 256"), "{msg}");
}

fn default_plan() -> SuitePlan {
    suite::parse_for_cores(suite::DEFAULT_SUITE, suite::DEFAULT_SUITE_NAME, 2)
        .expect("embedded default suite is valid")
}

fn quick_plan() -> SuitePlan {
    suite::parse_for_cores(suite::QUICK_SUITE, suite::QUICK_SUITE_NAME, 2)
        .expect("embedded quick suite is valid")
}

#[test]
fn embedded_suites_load_through_the_public_entry_points() {
    let default = suite::load(None).expect("default suite");
    assert_eq!(default.source, Path::new("<embedded>/suites/default.toml"));
    assert_eq!(
        default.targets,
        bakeoff::variants::Variants::embedded().names()
    );
    let quick = suite::quick().expect("quick suite");
    assert_eq!(quick.source, Path::new("<embedded>/suites/quick.toml"));
    assert_eq!(
        quick.targets,
        bakeoff::variants::Variants::embedded().names()
    );
    // The files in suites/ are the embedded ones.
    let on_disk =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/default.toml"))
            .unwrap();
    assert_eq!(on_disk, suite::DEFAULT_SUITE);
}

/// The figure after the last '=' on the first comment line containing all
/// of `needles`, e.g. "= 450 s".
fn stated_seconds(text: &str, needles: &[&str]) -> f64 {
    let line = text
        .lines()
        .take_while(|l| l.starts_with('#') || l.is_empty())
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no budget comment line with {needles:?}"));
    let after = line.rsplit('=').next().unwrap().trim();
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {line:?}"))
}

/// The runner probes at most this many extra rates per open-model scenario
/// with an `slo_p99` when it searches for capacity, each a full step.
const MAX_SLO_PROBES: u32 = bakeoff::runner::MAX_SLO_PROBES;

/// Measurement time including the worst case of the SLO search.
fn worst_case(plan: &SuitePlan) -> Duration {
    let probes: Duration = plan
        .scenarios
        .iter()
        .filter(|s| matches!(s.load, LoadModel::Open { .. }) && s.slo_p99.is_some())
        .map(|s| (s.warmup + s.duration) * MAX_SLO_PROBES * s.repeats)
        .sum();
    plan.measurement_time() + probes * plan.targets.len() as u32
}

#[test]
fn default_suite_fits_its_budget_and_the_comment_is_true() {
    let plan = default_plan();
    let measured = plan.measurement_time().as_secs_f64();
    let worst = worst_case(&plan).as_secs_f64();
    assert_eq!(
        measured,
        stated_seconds(suite::DEFAULT_SUITE, &["per target", "targets"])
    );
    assert_eq!(
        worst,
        stated_seconds(suite::DEFAULT_SUITE, &["x 4 targets ="])
    );
    assert!(worst > measured, "the default suite searches for capacity");
    // About 11.5 minutes of measurement in the worst case, start-up aside.
    assert!(worst <= 700.0, "{worst} s");
}

#[test]
fn quick_suite_fits_its_budget_and_the_comment_is_true() {
    let plan = quick_plan();
    let measured = plan.measurement_time().as_secs_f64();
    assert_eq!(
        measured,
        stated_seconds(suite::QUICK_SUITE, &["per target", "targets"])
    );
    assert_eq!(worst_case(&plan).as_secs_f64(), measured);
    assert!(measured <= 90.0, "{measured} s");
}

fn paths(plan: &SuitePlan) -> Vec<String> {
    plan.scenarios
        .iter()
        .flat_map(|s| s.mix.entries().iter().map(|e| e.path.clone()))
        .collect()
}

#[test]
fn default_suite_exercises_every_claim() {
    let plan = default_plan();
    let paths = paths(&plan);
    for p in [
        "/plaintext",
        "/json",
        "/db",
        "/queries?queries=20",
        "/fortunes",
        "/updates?queries=5",
        "/io?ms=50",
        "/cpu?n=1000",
        "/queries?queries=5",
        "/updates?queries=2",
    ] {
        assert!(paths.iter().any(|x| x == p), "default suite lacks {p}");
    }
    let shop = plan.scenarios.iter().find(|s| s.name == "shop").unwrap();
    assert_eq!(shop.mix.entries().len(), 4);
    let io = plan.scenarios.iter().find(|s| s.name == "io").unwrap();
    assert!(io.load.levels().iter().max().copied().unwrap_or(0) >= 256);
    let open: Vec<_> = plan
        .scenarios
        .iter()
        .filter(|s| matches!(s.load, LoadModel::Open { .. }))
        .collect();
    // Constant-rate open scenarios search for capacity at an SLO; the
    // spike offers one profile.
    assert!(!open.is_empty());
    for s in &open {
        assert_eq!(
            s.slo_p99.is_some(),
            s.load.profile().is_none(),
            "{}",
            s.name
        );
    }
    let spike = plan.scenarios.iter().find(|s| s.name == "spike").unwrap();
    assert_eq!(spike.mix.entries().len(), 4, "the shop mix");
    let surge = spike.load.profile().and_then(|p| p.surge()).unwrap();
    assert!(surge.peak_rate >= 4.0 * surge.baseline_rate);
    assert!(
        spike.duration.saturating_sub(surge.end) >= Duration::from_secs(3),
        "room after the surge for the 3 s the recovery rule holds"
    );
    assert!(plan.thresholds.len() >= 2);
    assert!(
        plan.thresholds
            .iter()
            .any(|t| t.metric == Metric::ErrorRate)
    );
}

#[test]
fn quick_suite_covers_the_main_claims() {
    let plan = quick_plan();
    let paths = paths(&plan);
    for p in ["/plaintext", "/json", "/db", "/io?ms=50"] {
        assert!(paths.iter().any(|x| x == p), "quick suite lacks {p}");
    }
    assert!(
        plan.scenarios
            .iter()
            .any(|s| matches!(s.load, LoadModel::Open { .. }))
    );
}

#[test]
fn filter_keeps_suite_order_and_drops_orphan_thresholds() {
    let plan = default_plan()
        .filter(
            &["django-sync".into(), "node".into()],
            &["io".into(), "json".into()],
        )
        .unwrap();
    assert_eq!(plan.targets, ["node", "django-sync"]);
    let names: Vec<&str> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["json", "io"]);
    // The json p99 gate and the global error-rate gate both survive.
    assert_eq!(plan.thresholds.len(), 2);
    let plan = default_plan().filter(&[], &["io".into()]).unwrap();
    assert_eq!(plan.targets.len(), 4);
    assert!(plan.thresholds.iter().all(|t| t.scenario.is_none()));
}

#[test]
fn filter_rejects_unknown_names_and_lists_valid_ones() {
    let err = default_plan().filter(&["nodejs".into()], &[]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("--only names unknown target \"nodejs\""),
        "{text}"
    );
    assert!(
        text.contains("node, node-cluster, django-sync, django-async"),
        "{text}"
    );
    let err = default_plan()
        .filter(&[], &["jsn".into(), "ioo".into()])
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("unknown scenarios \"jsn\", \"ioo\""),
        "{text}"
    );
    assert!(text.contains("plaintext, json, db"), "{text}");
    assert!(text.contains("<embedded>/suites/default.toml"), "{text}");
}

#[test]
fn shortened_caps_timing_and_keeps_extreme_levels() {
    let plan = default_plan().with_repeats(3).shortened();
    for s in &plan.scenarios {
        assert!(s.warmup <= Duration::from_secs(1));
        // A surge keeps its profile whole (its recovery is what it measures).
        match s.load.profile() {
            Some(p) => assert_eq!(Some(s.duration), p.duration(), "{}", s.name),
            None => assert!(s.duration <= Duration::from_secs(3), "{}", s.name),
        }
        assert_eq!(s.repeats, 1);
        assert!(s.load.levels().len() <= 2);
    }
    let io = plan.scenarios.iter().find(|s| s.name == "io").unwrap();
    assert_eq!(io.load.levels(), [8, 256]);
    let open = plan
        .scenarios
        .iter()
        .find(|s| s.name == "shop-open")
        .unwrap();
    assert_eq!(open.load.levels(), [200, 1800]);
    // Already-short settings are kept, not lengthened.
    let quick = quick_plan().shortened();
    assert_eq!(quick.scenarios[0].warmup, Duration::from_millis(500));
    assert_eq!(quick.scenarios[0].duration, Duration::from_secs(2));
}

#[test]
fn with_repeats_multiplies_the_steps() {
    let once = default_plan();
    let thrice = default_plan().with_repeats(3);
    assert_eq!(thrice.step_count(), once.step_count() * 3);
    assert_eq!(thrice.measurement_time(), once.measurement_time() * 3);
    // 33 per target, the 3 raw-SQL twins at 2 levels on the 2 Django
    // variants, and the fan-out's 3 levels on the 3 WebSocket variants.
    assert_eq!(once.step_count(), 33 * 4 + 3 * 2 * 2 + 3 * 3);
    assert!(thrice.scenarios.iter().all(|s| s.repeats == 3));
}

/// The commented example in suites/README.md is a valid suite.
#[test]
fn readme_example_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/README.md"))
            .unwrap();
    let start = readme.find("```toml\n").expect("toml block") + "```toml\n".len();
    let len = readme[start..].find("```").expect("end of toml block");
    let plan = suite::parse_for_cores(&readme[start..start + len], "README.md", 2)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.scenarios.len(), 3);
    assert_eq!(
        plan.scenarios[1].load.model(),
        bakeoff::model::Model::Fanout
    );
    assert_eq!(plan.scenarios[2].mix.entries().len(), 3);
    assert_eq!(plan.scenarios[2].repeats, 2);
    assert_eq!(plan.thresholds.len(), 2);
}

/// `bakeoff run BAD.toml` exits 2 before starting anything, and its message
/// names the file, line and column, for every bad-suite fixture.
#[test]
fn run_exits_2_on_every_bad_suite() {
    let dir = fixture("");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 12, "{fixtures:?}");
    let scratch = tempfile::tempdir().unwrap();
    for path in fixtures {
        let expected = suite::load(Some(&path)).expect_err("fixtures are invalid");
        let first = &expected.diagnostics()[0];
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .current_dir(scratch.path())
            .arg("run")
            .arg(&path)
            .arg("--out")
            .arg(scratch.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        let location = format!("{}:{}:{}: ", path.display(), first.line, first.column);
        assert!(stderr.contains(&location), "{stderr:?} lacks {location:?}");
    }
    // Nothing was started, so nothing was written.
    assert!(!scratch.path().join("out").exists());
}

// ----------------------------------------------------------- a fifth variant

fn five_targets() -> (PathBuf, String) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/targets-five/targets.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

/// A fifth variant added to a targets.toml (the fixture) is accepted by
/// the target lifecycle and by suites, named and by default, with no code
/// change; the built-in list does not know it.
#[test]
fn a_fifth_variant_in_targets_toml_is_a_suite_target() {
    use bakeoff::variants::Variants;
    let (path, text) = five_targets();
    let variants = Variants::parse(&text, "five").unwrap();
    assert_eq!(
        variants.names(),
        [
            "node",
            "node-cluster",
            "django-sync",
            "django-async",
            "node-fastify"
        ]
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("targets");
    let spec = bakeoff::targets::spec::TargetsSpec::parse(&root, &path, &text).unwrap();
    assert!(spec.variant("node-fastify").is_ok());

    let named = "name = \"five\"\ntargets = [\"node\", \"node-fastify\"]\n\n[[scenario]]\nname = \"json\"\nmodel = \"closed\"\nconcurrency = [8]\npath = \"/json\"\n";
    let plan = suite::parse_with(named, "five.toml", &[0, 1], &variants.names()).unwrap();
    assert_eq!(plan.targets, ["node", "node-fastify"]);
    let unknown = suite::parse_with(named, "five.toml", &[0, 1], &Variants::embedded().names())
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("five.toml:2:") && unknown.contains("unknown target \"node-fastify\""),
        "{unknown}"
    );
    let by_default = named.replace("targets = [\"node\", \"node-fastify\"]\n", "");
    let plan = suite::parse_with(&by_default, "five.toml", &[0, 1], &variants.names()).unwrap();
    assert_eq!(plan.targets, variants.names());
}

/// A surge scenario with the given stage tables (and extra keys).
fn surge_suite(extra: &str, stages: &[(&str, &str)]) -> String {
    let mut text = format!(
        "name = \"s\"\ntargets = [\"node\"]\n[[scenario]]\nname = \"spike\"\nmodel = \"open\"\npath = \"/\"\n{extra}"
    );
    for (d, r) in stages {
        text.push_str(&format!("[[scenario.stage]]\nduration = {d}\nrate = {r}\n"));
    }
    text
}

#[test]
fn a_surge_scenario_is_one_step_at_its_peak_lasting_its_stages() {
    let text = surge_suite(
        "arrivals = \"poisson\"\nstart_rate = 50\n",
        &[("\"3s\"", "100"), ("\"1s\"", "800.5"), ("\"2s\"", "100")],
    );
    let plan = suite::parse_for_cores(&text, "s.toml", 2).unwrap();
    let s = &plan.scenarios[0];
    assert_eq!(s.load.levels(), [801], "the level is the peak, rounded");
    assert_eq!(s.duration, Duration::from_secs(6));
    let LoadModel::Open {
        arrivals, profile, ..
    } = &s.load
    else {
        panic!("{:?}", s.load)
    };
    assert_eq!(*arrivals, bakeoff::engine::Arrivals::Poisson);
    let profile = profile.as_ref().unwrap();
    assert_eq!(profile.start_rate(), 50.0);
    assert_eq!(profile.stage_list().len(), 3);
    // Recorded as run, and kept whole by --quick.
    let record = plan.record();
    assert_eq!(record.scenarios[0].stages.len(), 3);
    assert_eq!(record.scenarios[0].arrivals.as_deref(), Some("poisson"));
    assert_eq!(
        plan.shortened().scenarios[0].duration,
        Duration::from_secs(6)
    );
}

#[test]
fn bad_stages_are_reported_where_they_are_written() {
    let at = |extra: &str, stages: &[(&str, &str)]| {
        let (line, column, message) = first_diagnostic(&surge_suite(extra, stages));
        format!("{line}:{column}: {message}")
    };
    // Stage tables start on line 7 (3 lines each: header, duration, rate).
    let m = at("", &[("\"3s\"", "-5")]);
    assert!(m.starts_with("9:8: stage rate must be a number"), "{m}");
    let m = at("", &[("\"3s\"", "nan")]);
    assert!(m.starts_with("9:8: ") && m.contains("got NaN"), "{m}");
    let m = at("", &[("\"3s\"", "inf")]);
    assert!(m.starts_with("9:8: ") && m.contains("got inf"), "{m}");
    let m = at("", &[("\"13h\"", "100"), ("\"12h\"", "100")]);
    assert!(m.contains("longer than the 24h a step may last"), "{m}");
    let m = at("", &[("\"3s\"", "0")]);
    assert!(m.contains("send no request"), "{m}");
    let m = at("rates = [100]\n", &[("\"3s\"", "100")]);
    assert!(
        m.starts_with("7:9: rates is not allowed with [[scenario.stage]]"),
        "{m}"
    );
    let m = at("duration = \"5s\"\n", &[("\"3s\"", "100")]);
    assert!(m.starts_with("7:12: duration is not allowed"), "{m}");
    let m = at("arrivals = \"bursty\"\n", &[("\"3s\"", "100")]);
    assert!(
        m.starts_with("7:12: arrivals must be \"uniform\" or \"poisson\""),
        "{m}"
    );
    let m = at("start_rate = 5\nrates = [1]\n", &[]);
    assert!(
        m.starts_with("7:14: start_rate belongs to a profile"),
        "{m}"
    );
    let m = at("", &[("\"3s\"", "100\nburst = 2")]);
    assert!(
        m.contains("[[scenario.stage]]") && m.contains("burst"),
        "{m}"
    );
}

#[test]
fn a_scenario_may_run_on_a_subset_of_the_targets() {
    let text = "name = \"x\"\ntargets = [\"node\", \"django-sync\", \"django-async\"]\n\
        [[scenario]]\nname = \"db\"\nmodel = \"closed\"\nconcurrency = [8]\npath = \"/db\"\n\
        [[scenario]]\nname = \"db-raw\"\nmodel = \"closed\"\ntargets = [\"django-async\", \"django-sync\"]\n\
        concurrency = [8, 32]\npath = \"/raw/db\"\n";
    let plan = suite::parse_for_cores(text, "subset.toml", 2).unwrap();
    let raw = &plan.scenarios[1];
    // In the suite's order, whatever the scenario's.
    assert_eq!(
        raw.targets.as_deref(),
        Some(&["django-sync".to_string(), "django-async".to_string()][..])
    );
    assert!(raw.runs_on("django-sync") && !raw.runs_on("node"));
    assert!(plan.scenarios[0].runs_on("node"));
    // 1 level x 3 targets + 2 levels x 2 targets, 4 s each (defaults).
    let step = plan.scenarios[0].warmup + plan.scenarios[0].duration;
    assert_eq!(plan.measurement_time(), step * 7);
    // Recorded in the plan of results.json.
    let record = plan.record();
    assert_eq!(record.scenarios[0].targets, None);
    assert_eq!(
        record.scenarios[1].targets.as_deref(),
        Some(&["django-sync".to_string(), "django-async".to_string()][..])
    );
    // --only narrows it; a scenario left with no target is dropped.
    let only_node = plan.clone().filter(&["node".to_string()], &[]).unwrap();
    assert_eq!(only_node.scenarios.len(), 1);
    let only_async = plan.filter(&["django-async".to_string()], &[]).unwrap();
    assert_eq!(
        only_async.scenarios[1].targets.as_deref(),
        Some(&["django-async".to_string()][..])
    );

    // Names outside the suite's targets, twice, or none: file:line:col.
    let bad = "name = \"x\"\ntargets = [\"node\", \"django-sync\"]\n\
        [[scenario]]\nname = \"a\"\nmodel = \"closed\"\nconcurrency = [8]\npath = \"/db\"\n\
        targets = [\"django-async\", \"node\", \"node\"]\n\
        [[scenario]]\nname = \"b\"\nmodel = \"closed\"\nconcurrency = [8]\npath = \"/db\"\ntargets = []\n";
    let err = suite::parse_for_cores(bad, "bad.toml", 2).unwrap_err();
    let at: Vec<String> = err
        .diagnostics()
        .iter()
        .map(|d| format!("{}:{}", d.line, d.column))
        .collect();
    assert_eq!(at, ["8:12", "8:36", "14:11"], "{err}");
    let text = err.to_string();
    assert!(
        text.contains("scenario names target \"django-async\", which is not in this suite's targets (node, django-sync)"),
        "{text}"
    );
    assert!(text.contains("target \"node\" is named twice"), "{text}");
    assert!(text.contains("must name at least one target"), "{text}");
}
