//! `bakeoff fit`: the scalability model of a CSV, against published fits
//! of the R `usl` package (github.com/smoeding/usl), and its bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/usl")
        .join(name)
}

fn fit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("fit")
        .args(args)
        .output()
        .expect("bakeoff runs")
}

fn json_of(file: &Path) -> serde_json::Value {
    let out = fit(&[file.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// `x` to three significant figures.
fn sig3(x: f64) -> f64 {
    let scale = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn figure(v: &serde_json::Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Gunther, *Guerrilla Capacity Planning* (Springer, 2007), SPEC SDM91 on
/// a 16-CPU Sun SPARCcenter 2000 (`data(specsdm91)` of the R `usl`
/// package). Published fit, tests/summary.Rout.save and
/// tests/peak-scalability.Rout.save of smoeding/usl: alpha (σ) 2.773e-02,
/// beta (κ) 1.044e-04, gamma (λ) 9.000e+01, peak 1884 at load 96.52.
#[test]
fn reproduces_the_published_fit_of_specsdm91() {
    let v = json_of(&fixture("specsdm91.csv"));
    assert_eq!(sig3(figure(&v, "sigma")), 0.0277, "{v}");
    assert_eq!(sig3(figure(&v, "kappa")), 1.04e-4, "{v}");
    assert_eq!(sig3(figure(&v, "lambda")), 90.0, "{v}");
    assert_eq!(sig3(figure(&v, "n_star")), 96.5, "{v}");
    assert_eq!(sig3(figure(&v, "x_max")), 1880.0, "{v}");
    assert_eq!(v["peak_within_measured_range"], true);
    assert!(figure(&v, "r_squared") > 0.98, "{v}");
    assert_eq!(v["levels"], 7);
    assert_eq!(v["intervals"]["resampling"], "residuals");
    let [lo, hi] = [0, 1].map(|i| v["intervals"]["sigma"][i].as_f64().unwrap());
    assert!(lo < 0.0277 && 0.0277 < hi, "{v}");
}

/// The first six rows of the R `usl` package's `raytracer` dataset (an
/// extra `source` column, ignored), as fitted in tests/confint.Rout.save of
/// smoeding/usl: alpha 0.02444, beta 0.00163, gamma 20.85605.
#[test]
fn reproduces_the_published_fit_of_the_raytracer_head() {
    let v = json_of(&fixture("raytracer-head.csv"));
    assert_eq!(sig3(figure(&v, "sigma")), 0.0244, "{v}");
    assert_eq!(sig3(figure(&v, "kappa")), 0.00163, "{v}");
    assert_eq!(sig3(figure(&v, "lambda")), 20.9, "{v}");
    assert_eq!(v["preferred"], "usl");
}

#[test]
fn text_output_names_every_figure() {
    let out = fit(&[fixture("specsdm91.csv").to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "lambda",
        "sigma",
        "kappa",
        "n_star",
        "x_max",
        "r_squared",
        "Preferred model",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(text.contains("0.0277"), "{text}");
}

#[test]
fn a_hard_cap_prefers_the_bounded_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capped.csv");
    // Two repeats per level: the intervals resample them.
    std::fs::write(
        &path,
        "concurrency,throughput\n4,80\n4,81\n8,160\n8,158\n16,299\n16,301\n64,300\n64,302\n128,298\n128,300\n256,301\n256,299\n",
    )
    .unwrap();
    let v = json_of(&path);
    assert_eq!(v["preferred"], "bounded", "{v}");
    assert_eq!(v["intervals"]["resampling"], "repeats");
    assert!((figure(&v["bounded"], "x_max") - 300.0).abs() < 2.0, "{v}");
}

fn fails_with(content: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, content).unwrap();
    let out = fit(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{content}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv"), "{err}");
    for e in expected {
        assert!(err.contains(e), "{e:?} missing from {err}");
    }
}

#[test]
fn bad_input_is_named_with_exit_code_2() {
    fails_with(
        "load,tput\n1,2\n",
        &["no `concurrency` column", "load, tput"],
    );
    fails_with(
        "concurrency,throughput\n1,10\n2,abc\n",
        &["bad.csv:3", "throughput \"abc\" is not a number"],
    );
    fails_with(
        "concurrency,throughput\n0,10\n",
        &["bad.csv:2", "concurrency 0 is below 1"],
    );
    fails_with(
        "concurrency,throughput\n1,-3\n",
        &["throughput -3 is negative"],
    );
    fails_with(
        "concurrency,throughput\n1,10\n2,19\n4,35\n4,36\n",
        &["not enough levels to fit", "3 distinct"],
    );
    let out = fit(&["/nonexistent/levels.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/levels.csv"));
}
