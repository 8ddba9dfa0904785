//! Reports and charts from fixed results fixtures: Markdown and CSV
//! snapshots, every chart kind as valid SVG and PNG, a self-contained HTML
//! file, incomplete runs, and `bakeoff report` on a `load --output` file.
//!
//! The fixture (tests/fixtures/report/results.json) is synthetic but real: its
//! histograms are encoded with the crate's own functions by
//! [`generate_fixture`]. Regenerate it with
//! `BAKEOFF_WRITE_FIXTURE=1 cargo test --release --test tests -- --ignored report::regenerate_fixture`.

use crate::util::report::{image_links, regenerate_twice};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bakeoff::analysis::{Analysis, analyze};
use bakeoff::report::write_reports as write_analysis;
use bakeoff::results::{
    CpuLayout, EndpointSummary, GeneratorStats, HistogramSet, LatencySummary, Model, Provenance,
    RunResults, ServerUsage, StepFlag, StepRecord, Summary, TimelinePoint, decode_histogram,
    encode_histogram, new_histogram,
};

const TARGETS: [&str; 4] = ["node", "node-cluster", "django-sync", "django-async"];
const CHART_KINDS: [&str; 5] = ["throughput", "latency", "spectrum", "timeline", "per-core"];

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/results.json")
}

fn fixture() -> RunResults {
    RunResults::load(&fixture_path()).expect("tests/fixtures/report/results.json loads")
}

/// The reports of `results` with the embedded claims (as `bakeoff report`).
fn with_claims(results: &RunResults) -> Analysis {
    let claims = bakeoff::claims::load(None).expect("the embedded claims load");
    analyze(results, Some(&claims), &[])
}

/// The reports of `results` alone: no claims, no gates.
fn plain(results: &RunResults) -> Analysis {
    analyze(results, None, &[])
}

/// Writes the reports of `results`, from `analysis` (one of the above).
fn write_reports(
    dir: &Path,
    results: &RunResults,
    analysis: fn(&RunResults) -> Analysis,
) -> Result<Vec<PathBuf>, bakeoff::report::ReportError> {
    write_analysis(dir, results, &analysis(results))
}

// ---------------------------------------------------------------- fixture

/// xorshift64*: deterministic, dependency-free noise for the fixture.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly standard normal (Irwin–Hall with 12 uniforms).
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

/// Capacity (req/s) and unloaded latency (ms) of each target per scenario.
fn profile(target: &str, scenario: &str) -> (f64, f64) {
    match (target, scenario) {
        ("node", "json") => (9_000.0, 0.35),
        ("node-cluster", "json") => (14_000.0, 0.30),
        ("django-sync", "json") => (1_800.0, 1.2),
        ("django-async", "json") => (2_400.0, 1.6),
        ("node", _) => (3_000.0, 1.1),
        ("node-cluster", _) => (4_500.0, 1.0),
        ("django-sync", _) => (700.0, 2.8),
        _ => (900.0, 3.4),
    }
}

fn latency_histogram(rng: &mut Rng, mean_ms: f64, successes: u64) -> hdrhistogram::Histogram<u64> {
    const SAMPLES: u64 = 3_000;
    let mut h = new_histogram();
    let per = (successes / SAMPLES).max(1);
    let mut left = successes;
    for i in 0..SAMPLES {
        if left == 0 {
            break;
        }
        let sigma = 0.45;
        let mut ms = mean_ms * (sigma * rng.normal() - sigma * sigma / 2.0).exp();
        if rng.next() < 0.01 {
            ms *= 4.0 + 6.0 * rng.next(); // a tail, as real servers have
        }
        let n = if i == SAMPLES - 1 {
            left
        } else {
            per.min(left)
        };
        h.record_n(((ms * 1000.0) as u64).max(1), n).unwrap();
        left -= n;
    }
    h
}

fn make_step(
    rng: &mut Rng,
    target: &str,
    scenario: &str,
    model: Model,
    level: u64,
    repeat: u32,
) -> StepRecord {
    const DURATION_S: f64 = 10.0;
    let (cap, base_ms) = profile(target, scenario);
    let jitter = 1.0 + 0.04 * rng.normal();
    let (rps, mean_ms, errors) = match model {
        Model::Closed => {
            let mean_ms = base_ms.max(level as f64 / cap * 1000.0) * jitter;
            (level as f64 / (mean_ms / 1000.0), mean_ms, 0)
        }
        // The synthetic runs have no fan-out scenario.
        Model::Open | Model::Fanout => {
            let offered = level as f64;
            if offered < cap * 0.95 {
                (offered, base_ms / (1.0 - offered / cap) * jitter, 0)
            } else {
                (cap * 0.97 * jitter, base_ms * 80.0 * jitter, 25)
            }
        }
    };
    let successes = (rps * DURATION_S).round() as u64;
    // Schema 2: rps is successful requests over the measured window.
    let rps = successes as f64 / DURATION_S;
    let h = latency_histogram(rng, mean_ms, successes);
    let requests = successes + errors;
    let mut endpoints = BTreeMap::new();
    let mut endpoint_histograms = BTreeMap::new();
    if scenario == "db" {
        for (label, share, factor) in [("GET /db", 0.7, 0.8), ("GET /queries?queries=5", 0.3, 1.5)]
        {
            let n = (successes as f64 * share) as u64;
            let eh = latency_histogram(rng, mean_ms * factor, n);
            endpoints.insert(
                label.to_string(),
                EndpointSummary {
                    requests: n,
                    errors: 0,
                    latency_us: LatencySummary::from_histogram(&eh),
                },
            );
            endpoint_histograms.insert(label.to_string(), encode_histogram(&eh));
        }
    }
    let latency = LatencySummary::from_histogram(&h);
    // Per-second shape first (the noise drawn in the same order as ever),
    // then scaled so the buckets add up to the step's population.
    let shape: Vec<(f64, f64, f64, f64)> = (0..10u32)
        .map(|t| {
            let warm = if t == 0 { 0.8 } else { 1.0 };
            let per_s = (rps * warm * (1.0 + 0.03 * rng.normal())).max(0.0);
            let p50 = 1.0 + 0.05 * rng.normal();
            let p99 = (1.0 + 0.1 * rng.normal()) / warm;
            (warm, per_s, p50, p99)
        })
        .collect();
    let total: f64 = shape.iter().map(|p| p.1).sum();
    let mut left = successes;
    let timeline = shape
        .iter()
        .enumerate()
        .map(|(t, &(_, per_s, p50, p99))| {
            let ok = if t == shape.len() - 1 {
                left
            } else {
                ((per_s / total * successes as f64) as u64).min(left)
            };
            left -= ok;
            let failed = if t == 4 { errors } else { 0 };
            TimelinePoint {
                t_s: t as u32,
                width_s: 1,
                requests: ok + failed,
                offered: ok + failed,
                completed: ok + failed,
                backlog: 0,
                errors: failed,
                p50_us: latency
                    .filter(|_| ok > 0)
                    .map(|l| (l.p50 as f64 * p50) as u64),
                p99_us: latency
                    .filter(|_| ok > 0)
                    .map(|l| (l.p99 as f64 * p99) as u64),
            }
        })
        .collect();
    let server = (scenario == "json").then(|| {
        let per_core = match target {
            "node" => 11_000.0,
            "node-cluster" => 9_500.0,
            "django-sync" => 2_300.0,
            _ => 1_900.0,
        } * (1.0 + 0.02 * rng.normal());
        // primary + workers (node-cluster), gunicorn arbiter + workers.
        let processes = match target {
            "node" => 1,
            _ => 3,
        };
        let cpu_s = successes as f64 / per_core;
        // An idle PostgreSQL on json; rps per core counts its CPU too.
        let db_cpu_s = 0.05;
        ServerUsage {
            cpu_s,
            rss_peak_bytes: 80_000_000,
            rps_per_core: successes as f64 / (cpu_s + db_cpu_s),
            samples: 10,
            processes,
            db_cpu_s: Some(db_cpu_s),
        }
    });
    let mut status = BTreeMap::new();
    status.insert("200".to_string(), successes);
    let mut errors_by_kind = BTreeMap::new();
    if errors > 0 {
        errors_by_kind.insert("timeout".to_string(), errors);
    }
    StepRecord {
        target: target.into(),
        scenario: scenario.into(),
        model,
        level,
        repeat,
        started_at: "2026-11-24T06:00:00Z".into(),
        summary: Summary {
            requests,
            errors,
            error_rate: errors as f64 / requests as f64,
            duration_s: DURATION_S,
            rps,
            latency_us: latency,
            uncorrected_latency_us: None,
            // The failures are timeouts (2 s).
            failed_latency_us: (errors > 0).then_some(LatencySummary {
                min: 2_000_000,
                mean: 2_000_000.0,
                p50: 2_000_000,
                p90: 2_000_000,
                p99: 2_000_000,
                p999: 2_000_000,
                max: 2_000_000,
            }),
            out_of_range: 0,
            status,
            errors_by_kind,
            generator: GeneratorStats {
                cpu_s: requests as f64 / 40_000.0,
                send_lag_us: None,
                late_sends: 0,
                unsent: 0,
                ..GeneratorStats::default()
            },
            surge: None,
            connect_us: None,
            transport: None,
            fanout: None,
        },
        endpoints,
        histograms: HistogramSet {
            total: encode_histogram(&h),
            total_uncorrected: None,
            endpoints: endpoint_histograms,
            connect: None,
        },
        timeline,
        server,
        database: None,
        // As the engine flags it: failed requests.
        flags: if errors > 0 {
            vec![StepFlag::Errors]
        } else {
            Vec::new()
        },
    }
}

fn provenance() -> Provenance {
    let versions = [
        ("node", "v20.18.0"),
        ("express", "4.21.1"),
        ("python", "3.11.10"),
        ("django", "5.1.3"),
        ("postgresql", "15.9"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Provenance {
        bakeoff_version: "0.1.0".into(),
        git_commit: Some("0123456789ab".into()),
        host: "bench-1".into(),
        cores: 2,
        os: "Debian GNU/Linux 12 (bookworm) (Linux 6.1.0-26-amd64)".into(),
        started_at: "2026-11-24T06:00:00Z".into(),
        command_line: ["bakeoff", "run", "--repeat", "2", "suites/fixture.toml"]
            .map(String::from)
            .to_vec(),
        suite: "fixture".into(),
        targets_mode: "local".into(),
        cpu_layout: Some(CpuLayout {
            generator: vec![0],
            targets: vec![1],
        }),
        versions,
        notes: vec!["synthetic figures for the report tests".into()],
        variants: Vec::new(),
        ..Provenance::default()
    }
}

/// The fixture: four targets, a closed-model scenario with two repeats and
/// server samples, an open-model scenario with per-endpoint histograms.
fn generate_fixture() -> RunResults {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut run = RunResults::new(provenance());
    for repeat in 0..2 {
        for level in [1, 8, 64] {
            for t in TARGETS {
                run.steps
                    .push(make_step(&mut rng, t, "json", Model::Closed, level, repeat));
            }
        }
    }
    for level in [250, 500, 1000] {
        for t in TARGETS {
            run.steps
                .push(make_step(&mut rng, t, "db", Model::Open, level, 0));
        }
    }
    run.complete = true;
    run
}

#[test]
#[ignore = "writes tests/fixtures/report/results.json; run explicitly to regenerate it"]
fn regenerate_fixture() {
    if std::env::var_os("BAKEOFF_WRITE_FIXTURE").is_none() {
        eprintln!(
            "set BAKEOFF_WRITE_FIXTURE=1 to overwrite {}",
            fixture_path().display()
        );
        return;
    }
    generate_fixture().save_atomic(&fixture_path()).unwrap();
}

#[test]
fn fixture_holds_real_histograms_matching_its_summaries() {
    let run = fixture();
    assert!(run.complete);
    assert_eq!(run.steps.len(), 36);
    for s in &run.steps {
        let h = decode_histogram(&s.histograms.total).unwrap();
        assert_eq!(
            h.len(),
            s.summary.requests - s.summary.errors,
            "{}",
            s.target
        );
        let (a, b) = (
            LatencySummary::from_histogram(&h).unwrap(),
            s.summary.latency_us.unwrap(),
        );
        assert_eq!((a.min, a.p50, a.p99, a.max), (b.min, b.p50, b.p99, b.max));
        assert!((a.mean - b.mean).abs() <= 1e-9 * b.mean);
        // Schema 2 definitions hold in every step (JSON floats round-trip
        // to within an ulp or so).
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        let ok = s.summary.requests - s.summary.errors;
        assert!(close(s.summary.rps, ok as f64 / s.summary.duration_s));
        assert!(close(
            s.summary.error_rate,
            s.summary.errors as f64 / s.summary.requests as f64
        ));
        assert_eq!(s.has(StepFlag::Errors), s.summary.errors > 0);
        let tl_requests: u64 = s.timeline.iter().map(|p| p.requests).sum();
        let tl_errors: u64 = s.timeline.iter().map(|p| p.errors).sum();
        assert_eq!(
            (tl_requests, tl_errors),
            (s.summary.requests, s.summary.errors)
        );
        if let Some(u) = &s.server {
            let cpu = u.cpu_s + u.db_cpu_s.unwrap_or(0.0);
            assert!((u.rps_per_core - ok as f64 / cpu).abs() < 1e-6 * u.rps_per_core);
            assert!(u.processes >= 1);
        }
        for (label, enc) in &s.histograms.endpoints {
            let eh = decode_histogram(enc).unwrap();
            assert_eq!(eh.len(), s.endpoints[label].requests);
        }
    }
    // The checked-in file is what the generator makes (histograms compared
    // decoded, since the deflate bytes may differ between library versions).
    let generated = generate_fixture();
    assert_eq!(generated.steps.len(), run.steps.len());
    for (g, f) in generated.steps.iter().zip(&run.steps) {
        assert_eq!(
            (&g.target, &g.scenario, g.level, g.repeat),
            (&f.target, &f.scenario, f.level, f.repeat)
        );
        assert_eq!(
            (g.summary.requests, g.summary.errors),
            (f.summary.requests, f.summary.errors)
        );
        assert_eq!(
            g.summary.latency_us.map(|l| l.p99),
            f.summary.latency_us.map(|l| l.p99)
        );
        assert!((g.summary.rps - f.summary.rps).abs() <= 1e-6 * f.summary.rps);
    }
}

// ---------------------------------------------------------------- helpers

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The trimmed contents of every `<text>` element of an SVG.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

fn assert_valid_chart(svg_path: &Path, png_path: &Path, targets: &[&str]) {
    let svg = read(svg_path);
    assert!(
        svg.trim_start().starts_with("<svg"),
        "{}",
        svg_path.display()
    );
    assert!(svg.trim_end().ends_with("</svg>"), "{}", svg_path.display());
    let texts = svg_texts(&svg);
    for t in targets {
        assert!(
            texts
                .iter()
                .any(|x| x == t || x.starts_with(&format!("{t} @ "))),
            "{} does not name {t}: {texts:?}",
            svg_path.display()
        );
    }
    let (w, h) = png_size(png_path);
    assert!(w >= 1200 && h >= 700, "{}: {w}x{h}", png_path.display());
}

/// Every `src=` and `href=` value in an HTML document.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=", "href="] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            let after = &rest[i + attr.len()..];
            let value: String = match after.chars().next() {
                Some(q @ ('"' | '\'')) => after[1..].chars().take_while(|&c| c != q).collect(),
                _ => after
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '>')
                    .collect(),
            };
            out.push(value);
            rest = after;
        }
    }
    out
}

// ---------------------------------------------------------------- tests

#[test]
fn markdown_and_csv_match_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &fixture(), with_claims).unwrap();
    insta::assert_snapshot!("report_md", read(&dir.path().join("report.md")));
    insta::assert_snapshot!("summary_csv", read(&dir.path().join("summary.csv")));
}

#[test]
fn every_chart_kind_renders_svg_and_png_naming_every_target() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_reports(dir.path(), &fixture(), plain).unwrap();
    for scenario in ["json", "db"] {
        for kind in CHART_KINDS {
            let svg = dir.path().join(format!("charts/{scenario}-{kind}.svg"));
            let png = dir.path().join(format!("charts/{scenario}-{kind}.png"));
            if scenario == "db" && kind == "per-core" {
                // The db scenario has no server samples: no per-core chart.
                assert!(!svg.exists() && !png.exists());
                continue;
            }
            assert!(written.contains(&svg) && written.contains(&png), "{kind}");
            assert_valid_chart(&svg, &png, &TARGETS);
        }
    }
    for name in ["report.md", "report.html", "summary.csv"] {
        assert!(written.contains(&dir.path().join(name)), "{name}");
    }
    // The reference targets keep their colours in every chart.
    for kind in CHART_KINDS {
        let svg = read(&dir.path().join(format!("charts/json-{kind}.svg")));
        for (target, color) in TARGETS
            .iter()
            .zip(["#009E73", "#56B4E9", "#D55E00", "#E69F00"])
        {
            assert!(
                svg.contains(color),
                "json-{kind}: {target} is not drawn in {color}"
            );
        }
    }
    // Nothing else (no temporary files) is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn html_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_reports(dir.path(), &fixture(), with_claims).unwrap();
    let md = read(&dir.path().join("report.md"));
    let html = read(&dir.path().join("report.html"));
    for r in references(&html) {
        assert!(
            r.starts_with('#') || r.starts_with("data:"),
            "external reference {r:?}"
        );
    }
    assert!(!html.contains("<img") && !html.contains("<link") && !html.contains("<script"));
    let charts = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .count();
    // Every chart the Markdown links is inlined, once per link (headline
    // charts appear again under their scenario).
    assert_eq!(
        html.matches("<svg").count(),
        image_links(&md).len(),
        "every chart inlined"
    );
    assert!(charts > 0 && charts <= image_links(&md).len());
    assert!(html.contains("<style>"));
    // The verdict table opens the page; headings carry anchors.
    assert!(
        html.contains("<h2 id=\"claims-and-verdicts\">Claims and verdicts</h2>"),
        "verdicts heading"
    );
    assert!(
        html.contains("<td><strong>supported</strong></td>")
            || html.contains("<strong>refuted</strong>")
            || html.contains("<strong>inconclusive</strong>")
    );
    assert!(html.contains("id=\"json-closed-model\""));
}

#[test]
fn incomplete_run_reports_what_exists() {
    let mut run = fixture();
    run.complete = false;
    // django-async never reached 64 connections; node-cluster never ran db.
    run.steps.retain(|s| {
        let unreached = s.target == "django-async" && s.scenario == "json" && s.level == 64;
        let never_ran = s.target == "node-cluster" && s.scenario == "db";
        !(unreached || never_ran)
    });
    let kept = run.steps.len();
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &run, plain).unwrap();

    let md = read(&dir.path().join("report.md"));
    assert!(md.contains("Incomplete run"), "{md}");
    let csv = read(&dir.path().join("summary.csv"));
    assert_eq!(csv.lines().count(), kept + 1);
    assert!(!csv.lines().any(|l| l.starts_with("node-cluster,db,")));
    // The spectrum falls back to the highest level every target reached.
    let spectrum = read(&dir.path().join("charts/json-spectrum.svg"));
    assert!(spectrum.contains("at 8 connections"), "spectrum title");
    let db_targets = ["node", "django-sync", "django-async"];
    for kind in ["throughput", "latency", "spectrum", "timeline"] {
        let base = dir.path().join(format!("charts/db-{kind}"));
        assert_valid_chart(
            &base.with_extension("svg"),
            &base.with_extension("png"),
            &db_targets,
        );
        let svg = read(&base.with_extension("svg"));
        assert!(
            !svg.contains(">node-cluster<"),
            "db-{kind} shows a target without steps"
        );
    }
    let json = dir.path().join("charts/json-per-core");
    assert_valid_chart(
        &json.with_extension("svg"),
        &json.with_extension("png"),
        &TARGETS,
    );
    // The summary row of django-async shows the level it did reach.
    let row = row_cells(&md, "json — closed model", "django-async");
    assert_eq!(row[2], "8", "{row:?}");
}

/// What `bakeoff load --output` writes: one step, scenario "load".
fn load_style_results() -> RunResults {
    let mut run = generate_fixture();
    let mut step = run
        .steps
        .iter()
        .find(|s| s.target == "node" && s.scenario == "json" && s.level == 64)
        .cloned()
        .unwrap();
    step.target = "127.0.0.1:3000".into();
    step.scenario = "load".into();
    step.server = None;
    run.steps = vec![step];
    run.provenance.suite = "load".into();
    run.provenance.targets_mode = "adhoc".into();
    run.provenance.cpu_layout = None;
    run.provenance.versions.clear();
    run.provenance.command_line = ["bakeoff", "load", "-c", "64", "http://127.0.0.1:3000/json"]
        .map(String::from)
        .to_vec();
    run
}

#[test]
fn report_command_handles_a_load_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("load.json");
    load_style_results().save_atomic(&file).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("report")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let listed: Vec<&str> = stdout.lines().collect();
    for name in [
        "report.md",
        "report.html",
        "summary.csv",
        "charts/load-throughput.png",
    ] {
        let path = dir.path().join(name);
        assert!(path.exists(), "{name} not written");
        assert!(
            listed.contains(&path.to_str().unwrap()),
            "{name} not listed in {stdout}"
        );
    }
    for kind in ["throughput", "latency", "spectrum", "timeline"] {
        let base = dir.path().join(format!("charts/load-{kind}"));
        assert_valid_chart(
            &base.with_extension("svg"),
            &base.with_extension("png"),
            &["127.0.0.1:3000"],
        );
    }
    assert!(!dir.path().join("charts/load-per-core.svg").exists());
    let md = read(&dir.path().join("report.md"));
    assert!(md.contains("## load — closed model"));
    assert!(md.contains("| 127.0.0.1:3000 |"));
    assert!(!md.contains("Incomplete run"));
    let csv = read(&dir.path().join("summary.csv"));
    assert_eq!(csv.lines().count(), 2);
}

#[test]
fn report_command_writes_into_out_and_fails_clearly_on_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    generate_fixture()
        .save_atomic(&run_dir.join("results.json"))
        .unwrap();
    let out_dir = dir.path().join("elsewhere");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("report")
        .arg(&run_dir)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(out_dir.join("report.html").exists());
    assert!(!run_dir.join("report.md").exists());

    let missing = dir.path().join("nope.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("report")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.json"));
}

#[test]
fn empty_and_all_failing_runs_still_produce_reports() {
    // Interrupted before the first step.
    let mut empty = fixture();
    empty.steps.clear();
    empty.complete = false;
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &empty, plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(md.contains("Incomplete run") && md.contains("No steps were measured"));
    assert_eq!(read(&dir.path().join("summary.csv")).lines().count(), 1);
    assert!(dir.path().join("report.html").exists());

    // A target that answered nothing: no latency to draw, throughput zero.
    let mut failing = load_style_results();
    fail_step(&mut failing.steps[0]);
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &failing, plain).unwrap();
    let throughput = dir.path().join("charts/load-throughput");
    assert_valid_chart(
        &throughput.with_extension("svg"),
        &throughput.with_extension("png"),
        &["127.0.0.1:3000"],
    );
    assert!(!dir.path().join("charts/load-spectrum.svg").exists());
    assert!(!dir.path().join("charts/load-latency.svg").exists());
    let md = read(&dir.path().join("report.md"));
    assert!(md.contains("(100.00%)"), "{md}");
    assert!(!md.contains("## Warnings"), "{md}");
    // No percentile, never 0: n/a in the table, no "best" level.
    let row = row_cells(&md, "load — closed model", "64");
    assert!(row[1].starts_with("0.0 · n/a / n/a ("), "{row:?}");
    let summary = row_cells(&md, "load — closed model", "127.0.0.1:3000 §");
    assert_eq!((summary[1].as_str(), summary[2].as_str()), ("0.0", "n/a"));
    assert!(
        md.contains("> **No request succeeded** for 127.0.0.1:3000 on load at 64 connections."),
        "{md}"
    );
    let csv = read(&dir.path().join("summary.csv"));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row = split_csv(csv.lines().nth(1).unwrap());
    for col in ["p50_us", "p90_us", "p99_us", "p999_us", "max_us"] {
        let i = header.iter().position(|h| *h == col).unwrap();
        assert_eq!(row[i], "", "{col} of a step without successes");
    }
    let i = header.iter().position(|h| *h == "error_rate").unwrap();
    assert_eq!(row[i], "1.000000");
}

/// Turns a fixture step into one whose every request got a 500, as the
/// engine records it: no latency (`null`), rps 0, error rate 1, an empty
/// histogram, a timeline without percentiles and the errors flag.
fn fail_step(step: &mut StepRecord) {
    let s = &mut step.summary;
    s.errors = s.requests;
    s.error_rate = 1.0;
    s.rps = 0.0;
    s.latency_us = None;
    s.failed_latency_us = Some(LatencySummary {
        min: 300,
        mean: 400.0,
        p50: 400,
        p90: 450,
        p99: 500,
        p999: 550,
        max: 600,
    });
    s.status = BTreeMap::from([("500".to_string(), s.requests)]);
    s.errors_by_kind = BTreeMap::from([("http_status".to_string(), s.requests)]);
    step.histograms.total = encode_histogram(&new_histogram());
    for (label, e) in &mut step.endpoints {
        e.errors = e.requests;
        e.latency_us = None;
        step.histograms
            .endpoints
            .insert(label.clone(), encode_histogram(&new_histogram()));
    }
    for p in &mut step.timeline {
        p.errors = p.requests;
        p.p50_us = None;
        p.p99_us = None;
    }
    step.flags = vec![StepFlag::Errors];
}

// ---------------------------------------------------------------- flags

const SATURATED: &str = "a generator thread was busy 97% of the step (threshold 90%)";

/// The fixture with four flagged steps: node's json repeat 1 at 64
/// connections was generator-bound, node-cluster's json repeat 0 at 8 was
/// interrupted, and django-sync's and django-async's db steps at 1000 req/s
/// had failed requests (the fixture gives each 25 timeouts, flagged as the
/// engine flags them).
fn flagged_fixture() -> RunResults {
    let mut run = fixture();
    for s in &mut run.steps {
        match (s.target.as_str(), s.scenario.as_str(), s.level, s.repeat) {
            ("node", "json", 64, 1) => {
                s.flags = vec![StepFlag::GeneratorSaturated];
                s.summary.generator.saturated = Some(SATURATED.into());
            }
            ("node-cluster", "json", 8, 0) => {
                s.flags = vec![StepFlag::Interrupted];
                s.summary.duration_s = 3.25;
            }
            ("django-sync" | "django-async", "db", 1000, 0) => {
                assert!(
                    s.summary.errors > 0 && s.flags == [StepFlag::Errors],
                    "the fixture's overloaded step has flagged errors"
                );
            }
            _ => {}
        }
    }
    run
}

/// The cells of the Markdown table row that starts with `first` inside the
/// section headed `heading`.
fn row_cells(md: &str, heading: &str, first: &str) -> Vec<String> {
    let section = md
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("no section {heading}"));
    let line = section
        .lines()
        .find(|l| l.starts_with(&format!("| {first} |")))
        .unwrap_or_else(|| panic!("no row {first} in {heading}: {section}"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn flagged_steps_are_marked_in_markdown_csv_html_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &flagged_fixture(), plain).unwrap();
    let md = read(&dir.path().join("report.md"));

    assert!(
        md.contains("> **4 flagged steps.** Table cells that include one are marked († interrupted, ‡ generator saturated, § errors); [Caveats](#caveats) lists each. No verdict rests on a step flagged interrupted or generator saturated."),
        "{md}"
    );
    // Per level: only the cells that include a flagged repeat are marked.
    // Columns: level, node, node-cluster, django-sync, django-async.
    let at64 = row_cells(&md, "json — closed model", "64");
    assert!(at64[1].ends_with(" ‡"), "{at64:?}");
    assert!(
        at64[2..].iter().all(|c| !c.contains(['†', '‡', '§'])),
        "{at64:?}"
    );
    let at8 = row_cells(&md, "json — closed model", "8");
    assert!(at8[2].ends_with(" †"), "{at8:?}");
    assert!(!at8[1].contains('‡') && !at8[3].contains('†'), "{at8:?}");
    let at1000 = row_cells(&md, "db — open model", "1000");
    assert!(at1000[3].ends_with(" §"), "{at1000:?}");
    // The per-target summary rows carry the marks of their levels.
    assert_eq!(row_cells(&md, "json — closed model", "node ‡")[0], "node ‡");
    assert_eq!(
        row_cells(&md, "json — closed model", "node-cluster †")[0],
        "node-cluster †"
    );
    assert!(
        md.contains("| django-async |"),
        "clean targets stay unmarked"
    );

    // Legends under the tables say what each mark means and why.
    assert!(
        md.contains(&format!("- ‡ **generator saturated**: node at 64 connections, repeat 1: {SATURATED}. The load generator, not the target, set the pace; req/s understates the target and latency includes the generator's own delay, and no verdict rests on it.")),
        "{md}"
    );
    assert!(
        md.contains("- † **interrupted**: node-cluster at 8 connections, repeat 0 (stopped after 3.2 s of measurement). Stopped (Ctrl-C or SIGTERM) before its window ended; its figures cover only the part that ran, and no verdict rests on it."),
        "{md}"
    );
    assert!(
        md.contains("- § **errors**: django-sync at 1000 offered req/s, repeat 0: 25 of "),
        "{md}"
    );
    assert!(
        md.contains("requests failed (timeout 25). Some requests failed;"),
        "{md}"
    );

    // The Caveats section lists each flagged step.
    let caveats = md.split("## Caveats").nth(1).expect("a Caveats section");
    assert!(
        caveats.contains(&format!(
            "| node | json | 64 connections | 1 | ‡ generator_saturated | {SATURATED} |"
        )),
        "{caveats}"
    );
    assert!(
        caveats.contains("| node-cluster | json | 8 connections | 0 | † interrupted | stopped after 3.2 s of measurement |"),
        "{caveats}"
    );
    assert!(
        caveats.contains("| django-sync | db | 1000 offered req/s | 0 | § errors | 25 of "),
        "{caveats}"
    );
    insta::assert_snapshot!("report_md_flagged_sections", flagged_sections(&md));

    // CSV: a flags column and the generator's reason, per step.
    let csv = read(&dir.path().join("summary.csv"));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (flags, reason) = (col("flags"), col("saturated_reason"));
    let rows: Vec<Vec<String>> = csv.lines().skip(1).map(split_csv).collect();
    let flagged: Vec<(String, String, String, String, String, String)> = rows
        .iter()
        .filter(|r| !r[flags].is_empty())
        .map(|r| {
            (
                r[0].clone(),
                r[1].clone(),
                r[3].clone(),
                r[4].clone(),
                r[flags].clone(),
                r[reason].clone(),
            )
        })
        .collect();
    let own = |a: &str, b: &str, c: &str, d: &str, e: &str, f: &str| {
        (
            a.to_string(),
            b.to_string(),
            c.to_string(),
            d.to_string(),
            e.to_string(),
            f.to_string(),
        )
    };
    assert_eq!(
        flagged,
        [
            own("node", "json", "64", "1", "generator_saturated", SATURATED),
            own("node-cluster", "json", "8", "0", "interrupted", ""),
            own("django-sync", "db", "1000", "0", "errors", ""),
            own("django-async", "db", "1000", "0", "errors", ""),
        ]
    );

    // HTML: the marks, the legend and a Caveats heading the note links to.
    let html = read(&dir.path().join("report.html"));
    assert!(
        html.contains("<h2 id=\"caveats\">Caveats</h2>"),
        "caveats heading"
    );
    assert!(
        html.contains("<a href=\"#caveats\">Caveats</a>"),
        "link to caveats"
    );
    assert!(html.contains(" ‡</td>") && html.contains(" †</td>") && html.contains(" §</td>"));
    assert!(html.contains(SATURATED));

    // Charts: a ring and its legend where a level includes a step no
    // verdict rests on (json), none where only errors were flagged (db).
    for kind in ["throughput", "latency"] {
        let json = read(&dir.path().join(format!("charts/json-{kind}.svg")));
        assert!(
            svg_texts(&json).iter().any(|t| t == "flagged: no verdict"),
            "json-{kind}"
        );
        let db = read(&dir.path().join(format!("charts/db-{kind}.svg")));
        assert!(
            !svg_texts(&db).iter().any(|t| t == "flagged: no verdict"),
            "db-{kind}"
        );
    }
}

#[test]
fn clean_runs_have_no_marks_or_caveats() {
    // The fixture's overloaded open-model steps had timeouts, flagged
    // `errors` as the engine flags them: a clean run leaves them out.
    let mut clean = fixture();
    clean.steps.retain(|s| s.flags.is_empty());
    assert_eq!(clean.steps.len(), fixture().steps.len() - 2);
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &clean, plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(!md.contains("Caveats") && !md.contains("flagged"), "{md}");
    assert!(!md.contains(['†', '‡', '§', '¶']), "{md}");
    let csv = read(&dir.path().join("summary.csv"));
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",,")), "{csv}");
    let svg = read(&dir.path().join("charts/json-throughput.svg"));
    assert!(!svg.contains("flagged: no verdict"));
}

/// The json tables with their legend and the Caveats section.
fn flagged_sections(md: &str) -> String {
    let json = md
        .split("\n## ")
        .find(|s| s.starts_with("json — closed model"))
        .unwrap();
    let json = &json[..json.find("![").unwrap_or(json.len())];
    let caveats = md
        .split("\n## ")
        .find(|s| s.starts_with("Caveats"))
        .unwrap();
    format!("## {}\n## {}", json.trim_end(), caveats.trim_end())
}

/// Splits a CSV line, honouring RFC 4180 quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

// ---------------------------------------------------------------- unsent

#[test]
fn unsent_requests_count_as_errors_and_are_marked_everywhere() {
    // django-async at 1000 req/s could not take the load: 60 scheduled
    // requests of the window were never sent (besides its 25 timeouts).
    let mut run = fixture();
    let step = run
        .steps
        .iter_mut()
        .find(|s| s.target == "django-async" && s.scenario == "db" && s.level == 1000)
        .unwrap();
    let s = &mut step.summary;
    s.generator.unsent = 60;
    s.requests += 60;
    s.errors += 60;
    s.error_rate = s.errors as f64 / s.requests as f64;
    s.errors_by_kind.insert("unsent".into(), 60);
    let last = step.timeline.last_mut().unwrap();
    last.requests += 60;
    last.errors += 60;
    step.flags = vec![StepFlag::Errors, StepFlag::Unsent];
    assert_eq!((step.summary.requests, step.summary.errors), (9_416, 85));

    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &run, plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(
        md.contains(
            "> **2 flagged steps.** Table cells that include one are marked (§ errors, ¶ unsent);"
        ),
        "{md}"
    );
    // The level's cell counts them among the errors and marks them.
    let at1000 = row_cells(&md, "db — open model", "1000");
    assert!(
        at1000[4].ends_with("(85 errors, 60 of them unsent) §¶"),
        "{at1000:?}"
    );
    // The summary row's error count and rate (over all its levels: 85 of
    // 16 916 requests) include them.
    let summary = row_cells(&md, "db — open model", "django-async §¶");
    assert_eq!(summary[5], "85 (0.50%; 60 unsent)");
    // Legend, Caveats.
    assert!(
        md.contains("- ¶ **unsent**: django-async at 1000 offered req/s, repeat 0: 60 of 9 416 scheduled requests never sent. The open model's schedule could not be kept"),
        "{md}"
    );
    let caveats = md.split("## Caveats").nth(1).expect("a Caveats section");
    assert!(caveats.contains("- ¶ **unsent** (`unsent`):"), "{caveats}");
    assert!(
        caveats.contains("| django-async | db | 1000 offered req/s | 0 | ¶ unsent | 60 of 9 416 scheduled requests never sent |"),
        "{caveats}"
    );
    assert!(
        caveats.contains("| django-async | db | 1000 offered req/s | 0 | § errors | 85 of 9 416 requests failed (timeout 25, unsent 60) |"),
        "{caveats}"
    );
    // CSV: errors and error_rate include them, and they have a column.
    let csv = read(&dir.path().join("summary.csv"));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row = csv
        .lines()
        .map(split_csv)
        .find(|r| r[0] == "django-async" && r[1] == "db" && r[3] == "1000")
        .unwrap();
    assert_eq!(
        (
            row[col("errors")].as_str(),
            row[col("error_rate")].as_str(),
            row[col("unsent")].as_str(),
            row[col("flags")].as_str()
        ),
        ("85", "0.009027", "60", "errors;unsent")
    );
    // HTML, made from the Markdown, carries the same marks.
    let html = read(&dir.path().join("report.html"));
    assert!(html.contains(" §¶</td>"), "marks in the HTML tables");
    assert!(html.contains("60 of 9 416 scheduled requests never sent"));
}

// ------------------------------------------------------ variants and CPUs

#[test]
fn variants_show_processes_database_cpu_and_the_single_cpu_caveat() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &fixture(), plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    // Columns: variant, server processes, steps sampled, server CPU, PostgreSQL CPU.
    let node = row_cells(&md, "Variants", "node");
    let cluster = row_cells(&md, "Variants", "node-cluster");
    assert_eq!((node[1].as_str(), node[2].as_str()), ("1", "6"));
    assert_eq!(cluster[1], "3");
    assert_eq!(
        cluster[4], "0.3",
        "6 sampled steps × 0.05 s of PostgreSQL CPU"
    );
    // The fixture's servers were pinned to one CPU.
    assert!(
        md.contains("> **One CPU for the servers.** The targets and the database ran on CPU 1 only, so node-cluster (3 processes), django-sync (3 processes) and django-async (3 processes) could not show what running several processes buys"),
        "{md}"
    );
    let html = read(&dir.path().join("report.html"));
    assert!(html.contains("<h2 id=\"variants\">Variants</h2>"));
    assert!(html.contains("<strong>One CPU for the servers.</strong>"));
    // With two CPUs for the servers the caveat goes; without a database
    // run by bakeoff the PostgreSQL column says so.
    let mut two = fixture();
    two.provenance.cpu_layout = Some(CpuLayout {
        generator: vec![0],
        targets: vec![1, 2],
    });
    for s in &mut two.steps {
        if let Some(u) = &mut s.server {
            u.db_cpu_s = None;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &two, plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(!md.contains("One CPU for the servers"), "{md}");
    assert_eq!(row_cells(&md, "Variants", "node")[4], "not run by bakeoff");
    // CSV: processes and PostgreSQL CPU per step.
    let csv = read(&dir.path().join("summary.csv"));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let (p, d) = (
        header.iter().position(|h| *h == "processes").unwrap(),
        header.iter().position(|h| *h == "db_cpu_s").unwrap(),
    );
    let first = split_csv(csv.lines().nth(1).unwrap());
    assert_eq!((first[p].as_str(), first[d].as_str()), ("1", ""));
}

#[test]
fn a_target_failing_every_db_request_has_no_percentiles_anywhere() {
    // django-sync answers 500 to every /db request.
    let mut run = fixture();
    for s in run
        .steps
        .iter_mut()
        .filter(|s| s.target == "django-sync" && s.scenario == "db")
    {
        fail_step(s);
    }
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &run, plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(
        md.contains(
            "> **No request succeeded** for django-sync on db at 250, 500, 1000 offered req/s."
        ),
        "{md}"
    );
    for level in ["250", "500", "1000"] {
        let row = row_cells(&md, "db — open model", level);
        assert!(row[3].starts_with("0.0 · n/a / n/a ("), "{row:?}");
    }
    let summary = row_cells(&md, "db — open model", "django-sync §");
    assert_eq!((summary[1].as_str(), summary[2].as_str()), ("0.0", "n/a"));
    let caveats = md.split("## Caveats").nth(1).unwrap();
    assert!(
        caveats.contains("| django-sync | db | 250 offered req/s | 0 | § errors | all 2 500 requests failed (http_status 2 500): no request succeeded, so the step has no percentiles |"),
        "{caveats}"
    );
    // Charts: no django-sync latency point; a cross and a legend instead.
    let latency = read(&dir.path().join("charts/db-latency.svg"));
    assert!(
        svg_texts(&latency).iter().any(|t| t == "over 1% failed"),
        "db-latency legend"
    );
    let spectrum = read(&dir.path().join("charts/db-spectrum.svg"));
    assert!(
        svg_texts(&spectrum)
            .iter()
            .any(|t| t == "django-sync (n/a)"),
        "db-spectrum legend"
    );
    // The clean json scenario has no cross.
    let json = read(&dir.path().join("charts/json-latency.svg"));
    assert!(!svg_texts(&json).iter().any(|t| t == "over 1% failed"));
}

#[test]
fn contributed_sections_open_the_report_and_provenance_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &fixture(), with_claims).unwrap();
    let md = read(&dir.path().join("report.md"));
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings.first(),
        Some(&"## Claims and verdicts"),
        "{headings:?}"
    );
    let pos = |h: &str| headings.iter().position(|x| *x == h).unwrap();
    assert!(pos("## Claims and verdicts") < pos("## json — closed model"));
    assert!(pos("## db — open model") < pos("## Provenance"));
    assert!(pos("## Provenance") < pos("## Variants"), "{headings:?}");
    // Every image linked exists.
    let links = image_links(&md);
    assert!(!links.is_empty());
    for link in links {
        assert!(dir.path().join(&link).is_file(), "{link} does not exist");
    }
}

#[test]
fn a_headline_chart_that_was_not_drawn_is_left_out() {
    let results = fixture();
    let mut analysis = with_claims(&results);
    let claims = analysis.claims.as_mut().unwrap();
    let drawn = claims.headlines.clone();
    assert!(!drawn.is_empty());
    let mut nowhere = drawn[0].clone();
    nowhere.scenario = "nowhere".into();
    nowhere.claim = "claim-on-nowhere".into();
    claims.headlines.push(nowhere);
    let dir = tempfile::tempdir().unwrap();
    write_analysis(dir.path(), &results, &analysis).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(md.contains("## Headline charts"), "{md}");
    assert!(md.contains(&format!("**{}**", drawn[0].claim)), "{md}");
    assert!(!md.contains("claim-on-nowhere"), "{md}");
    // With no headline chart drawn at all, the section is left out.
    let claims = analysis.claims.as_mut().unwrap();
    claims.headlines.retain(|h| h.scenario == "nowhere");
    let dir = tempfile::tempdir().unwrap();
    write_analysis(dir.path(), &results, &analysis).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(!md.contains("## Headline charts"), "{md}");
}

#[test]
fn reports_are_byte_identical_when_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture_path(), dir.path().join("results.json")).unwrap();
    let md = regenerate_twice(dir.path());
    // The embedded claims open the regenerated report.
    let first = md.lines().find(|l| l.starts_with("## "));
    assert_eq!(first, Some("## Claims and verdicts"), "{md}");
}

#[test]
fn level_axes_spanning_more_than_a_decade_are_log_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &fixture(), plain).unwrap();
    // json: 1, 8, 64 connections (×64): log, ticks at the measured levels.
    for kind in ["throughput", "latency"] {
        let texts = svg_texts(&read(&dir.path().join(format!("charts/json-{kind}.svg"))));
        assert!(
            texts
                .iter()
                .any(|t| t == "connections (concurrent clients) (log scale)"),
            "json-{kind}: {texts:?}"
        );
        for level in ["1", "8", "64"] {
            assert!(texts.iter().any(|t| t == level), "json-{kind}: {texts:?}");
        }
    }
    // db (open): 250 to 1000 req/s (×4): linear, and not called log.
    let texts = svg_texts(&read(&dir.path().join("charts/db-throughput.svg")));
    assert!(
        texts.iter().any(|t| t == "offered load (req/s)"),
        "{texts:?}"
    );
    assert!(!texts.iter().any(|t| t.contains("log scale")), "{texts:?}");
}

// ------------------------------------------------------- one format registry

fn bakeoff(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .output()
        .unwrap()
}

/// `verify` and `compare` write every registered format, each in its own
/// shape, from the same document; `load` and `check` take the same names
/// (a bad one is refused by all four with the same list, before anything
/// runs).
#[test]
fn every_command_takes_the_same_format_names() {
    let fixture = fixture_path();
    let fixture = fixture.to_str().unwrap();
    for (command, args) in [
        ("verify", vec!["verify", fixture]),
        ("compare", vec!["compare", fixture, fixture]),
    ] {
        for name in ["text", "markdown", "md", "html", "csv", "json"] {
            let mut a = args.clone();
            a.extend(["--format", name]);
            let out = bakeoff(&a);
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{command} --format {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let ok = match name {
                "text" => {
                    !stdout.contains("|---") && !stdout.contains("<table") && !stdout.is_empty()
                }
                "markdown" | "md" => stdout.contains("\n|---"),
                "html" => stdout.starts_with("<!DOCTYPE html>") && stdout.contains("<table>"),
                "csv" => stdout.lines().next().is_some_and(|l| l.contains(',')),
                "json" => serde_json::from_str::<serde_json::Value>(&stdout).is_ok(),
                _ => unreachable!(),
            };
            assert!(ok, "{command} --format {name}:\n{stdout}");
        }
    }
    // NAME=PATH writes a file; `-` is stdout.
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("verdicts.html");
    let spec = format!("html={}", html.display());
    let out = bakeoff(&["verify", fixture, "--format", &spec, "--format", "json=-"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(read(&html).contains("Claims and verdicts"));
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok());
    // A bad name: exit 2, every accepted name listed, for all four commands.
    for args in [
        vec!["verify", fixture],
        vec!["compare", fixture, fixture],
        vec!["load", "http://127.0.0.1:9/", "-d", "1s"],
        vec!["check", "--url", "node=http://127.0.0.1:9"],
    ] {
        let mut a = args.clone();
        a.extend(["--format", "xml"]);
        let out = bakeoff(&a);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("text, markdown, html, csv, json"),
            "{args:?}: {stderr}"
        );
    }
}

/// The terminal renderings, from the fixed fixture: the table at the end
/// of `run` and `verify --format text`.
#[test]
fn terminal_renderings_match_snapshots() {
    let results = fixture();
    let table = bakeoff::report::render::text::render(&bakeoff::report::terminal::run_summary(
        &plain(&results).summary,
    ));
    insta::assert_snapshot!("run_summary_text", table);
    let out = bakeoff(&[
        "verify",
        fixture_path().to_str().unwrap(),
        "--format",
        "text",
    ]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("verify_text", String::from_utf8(out.stdout).unwrap());
}

/// A fifth variant from a targets.toml (the fixture), recorded in the run's
/// provenance, appears in the report's tables, the terminal table and the
/// charts, drawn in the colour targets.toml gives it, with no code change.
#[test]
fn a_fifth_variant_is_reported_and_drawn_in_its_colour() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/targets-five/targets.toml"),
    )
    .unwrap();
    let variants = bakeoff::variants::Variants::parse(&text, "five").unwrap();
    let mut run = fixture();
    let fifth: Vec<_> = run
        .steps
        .iter()
        .filter(|s| s.target == "node")
        .map(|s| {
            let mut s = s.clone();
            s.target = "node-fastify".into();
            s.summary.rps *= 1.1;
            s
        })
        .collect();
    run.steps.extend(fifth);
    run.provenance.variants = variants.0.clone();
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &run, plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert!(
        md.lines()
            .any(|l| l.starts_with("| connections |") && l.ends_with("| node-fastify |")),
        "{md}"
    );
    let svg = read(&dir.path().join("charts/json-throughput.svg"));
    assert!(
        svg.contains("#CC79A7"),
        "node-fastify is not drawn in its colour"
    );
    assert!(svg.contains("#009E73"), "node lost its colour");
    let table = bakeoff::report::render::text::render(&bakeoff::report::terminal::run_summary(
        &plain(&run).summary,
    ));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("json") && l.contains("node-fastify")),
        "{table}"
    );
}

/// The cells of `first`'s row in the Surge table of a report.
fn surge_row(md: &str, first: &str) -> Vec<String> {
    let section = md
        .split("\n### Surge\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Surge section: {md}"));
    let section = section.split("\n## ").next().unwrap_or_default();
    let line = section
        .lines()
        .find(|l| l.starts_with(&format!("| {first} |")))
        .unwrap_or_else(|| panic!("no row {first} in the Surge table: {section}"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn a_surge_is_charted_and_tabled_per_target() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_reports(dir.path(), &crate::util::fixtures::surge_run(), plain).unwrap();
    let svg_path = dir.path().join("charts/shop-surge-surge.svg");
    let png_path = dir.path().join("charts/shop-surge-surge.png");
    assert!(written.contains(&svg_path) && written.contains(&png_path));
    assert_valid_chart(&svg_path, &png_path, &["node", "django-sync"]);
    let svg = read(&svg_path);
    let texts = svg_texts(&svg);
    for label in [
        "shop-surge: surge at 600 req/s — offered, achieved and p99 per second (repeat 0)",
        "offered",
        "surge",
        "recovered after 2 s",
        "did not recover",
        "p99 tolerance",
    ] {
        assert!(texts.iter().any(|t| t == label), "no {label:?}: {texts:?}");
    }
    // node recovered (the legend says so), django-sync did not: one
    // "recovered after" and one "did not recover", each under its target.
    let at = |s: &str| texts.iter().position(|t| t == s).unwrap();
    assert_eq!(at("recovered after 2 s"), at("node") + 1);
    assert_eq!(at("did not recover"), at("django-sync") + 1);
    assert_eq!(
        texts.iter().filter(|t| t.starts_with("recovered")).count(),
        1
    );
    // Hover titles: achieved and offered per second, p99 per second, the
    // recovery marker at the surge's end (9 s) + 2 s.
    for title in [
        "node · 5–6 s: 590 req/s achieved, 600 offered, backlog 20",
        "django-sync · 6–7 s: p99 1 400 ms",
        "node · 5–6 s: p99 9.80 ms",
        "node: recovered after 2 s (at 11 s)",
    ] {
        assert!(svg.contains(&format!("<title>{title}</title>")), "{title}");
    }
    // django-sync had no success in 9–11 s: no p99 there, not a 0.
    assert!(!svg.contains("django-sync · 9–10 s: p99"));
    assert!(!svg.contains("django-sync · 10–11 s: p99"));
    assert!(svg.contains("django-sync · 11–12 s: p99 4 200 ms"));

    let md = read(&dir.path().join("report.md"));
    assert_eq!(
        surge_row(&md, "node"),
        [
            "node",
            "100 → 600",
            "2.40 ms",
            "9.80 ms",
            "35",
            "0",
            "2 s",
            "slower, no errors"
        ]
    );
    assert_eq!(
        surge_row(&md, "django-sync"),
        [
            "django-sync",
            "100 → 600",
            "19.0 ms",
            "4 200 ms",
            "1 250",
            "790 (23.94%)",
            "did not recover",
            "did not recover"
        ]
    );
    let section = md.split("\n### Surge\n").nth(1).unwrap();
    assert!(
        section.contains(
            "A second is back to baseline when its p99 is at most 2 × the baseline p99 (and never less than the baseline + 1.00 ms) and at most 1% of its requests failed"
        ),
        "{section}"
    );
    assert!(section.contains("the first of 3 consecutive seconds back to baseline"));
    // One repeat each: no word about medians.
    assert!(!section.contains("median"), "{section}");
    // The chart is the Surge section's, shown once.
    assert_eq!(
        image_links(section.split("\n## ").next().unwrap()),
        ["charts/shop-surge-surge.png"]
    );
    assert_eq!(md.matches("charts/shop-surge-surge.png").count(), 1);
    let html = read(&dir.path().join("report.html"));
    assert!(
        html.contains("<h3 id=\"surge\">Surge</h3>"),
        "no Surge heading"
    );
    assert!(html.contains("node: recovered after 2 s (at 11 s)"));
}

#[test]
fn the_same_run_without_surge_figures_has_no_surge_section_or_chart() {
    let mut run = crate::util::fixtures::surge_run();
    for s in &mut run.steps {
        s.summary.surge = None;
    }
    let dir = tempfile::tempdir().unwrap();
    let written = write_reports(dir.path(), &run, plain).unwrap();
    assert!(
        written
            .iter()
            .any(|p| p.ends_with("charts/shop-surge-timeline.svg"))
    );
    assert!(
        !written
            .iter()
            .any(|p| p.to_string_lossy().contains("-surge-surge."))
    );
    assert!(!dir.path().join("charts/shop-surge-surge.svg").exists());
    let md = read(&dir.path().join("report.md"));
    assert!(!md.contains("### Surge"), "{md}");
    assert!(!md.contains("back to baseline"));
}

#[test]
fn surge_figures_over_repeats_are_medians_and_each_repeats_errors() {
    let mut run = crate::util::fixtures::surge_run();
    // Repeats 1 and 2: node recovers after 4 s and 3 s; django-sync
    // recovers once (after 6 s, with fewer errors) and not the third time.
    let mut more = Vec::new();
    for s in &run.steps {
        for (repeat, node_recovery) in [(1, 4.0), (2, 3.0)] {
            let mut r = s.clone();
            r.repeat = repeat;
            let surge = r.summary.surge.as_mut().unwrap();
            if r.target == "node" {
                surge.recovery_s = Some(node_recovery);
            } else if repeat == 1 {
                surge.recovery_s = Some(6.0);
                surge.outcome = bakeoff::results::SurgeOutcome::ErrorsRecovered;
                surge.surge_errors = 330;
                surge.surge_error_rate = 0.1;
                surge.peak_backlog = 600;
            }
            more.push(r);
        }
    }
    run.steps.extend(more);
    let dir = tempfile::tempdir().unwrap();
    write_reports(dir.path(), &run, plain).unwrap();
    let md = read(&dir.path().join("report.md"));
    assert_eq!(
        surge_row(&md, "node")[5..],
        ["0 / 0 / 0", "3 s", "slower, no errors"]
    );
    assert_eq!(
        surge_row(&md, "django-sync")[4..],
        [
            "1 250",
            "790 (23.94%) / 330 (10.00%) / 790 (23.94%)",
            "did not recover (2 of 3 repeats did not)",
            "did not recover"
        ]
    );
    let section = md.split("\n### Surge\n").nth(1).unwrap();
    assert!(section.contains("each figure is the median of the repeats'"));
    // The chart shows the lowest repeat's timeline and recovery.
    let svg = read(&dir.path().join("charts/shop-surge-surge.svg"));
    assert!(svg.contains("per second (repeat 0)"));
    assert!(svg.contains("<title>node: recovered after 2 s (at 11 s)</title>"));
}

#[test]
fn a_curve_with_enough_levels_gets_a_scalability_table_and_fitted_curves() {
    let dir = tempfile::tempdir().unwrap();
    let run = crate::util::fixtures::io_five_levels(3);
    write_reports(dir.path(), &run, with_claims).unwrap();
    let md = read(&dir.path().join("report.md"));
    let section = &md[md
        .find("### Scalability model")
        .expect("a Scalability model section")..];
    assert!(section.contains("bootstrap over repeats"), "{section}");
    let row = |target: &str| {
        section
            .lines()
            .find(|l| l.starts_with(&format!("| {target} ")))
            .unwrap_or_else(|| panic!("no row for {target} in {section}"))
            .to_string()
    };
    let django = row("django-sync");
    assert!(django.contains("| 5 |"), "{django}");
    assert!(django.trim_end().ends_with("| bounded |"), "{django}");
    let node = row("node");
    assert!(node.contains("beyond 256"), "{node}");
    assert!(node.contains("not reached"), "{node}");
    // The throughput chart overlays the fitted curves and says so.
    let svg = read(&dir.path().join("charts/io-throughput.svg"));
    assert!(svg.contains("fitted model"), "no fitted-curve legend");
    // The same chart without a model has no such legend.
    let plain_dir = tempfile::tempdir().unwrap();
    let mut three = run.clone();
    three.steps.retain(|s| [8, 64, 256].contains(&s.level));
    write_reports(plain_dir.path(), &three, with_claims).unwrap();
    let svg = read(&plain_dir.path().join("charts/io-throughput.svg"));
    assert!(!svg.contains("fitted model"));
    let md = read(&plain_dir.path().join("report.md"));
    assert!(
        md.contains("Not enough levels to fit one: 3 usable, the fit needs at least 4"),
        "{md}"
    );
}
