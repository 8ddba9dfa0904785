use super::*;

const LEVELS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

fn curve(u: Usl, levels: &[f64]) -> Vec<(f64, f64)> {
    levels.iter().map(|&n| (n, u.throughput(n))).collect()
}

/// `x` rounded to three significant figures.
fn sig3(x: f64) -> f64 {
    let digits = 2 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn exact_usl_data_is_recovered() {
    let truth = Usl {
        lambda: 100.0,
        sigma: 0.05,
        kappa: 2e-4,
    };
    let f = fit(&curve(truth, &LEVELS)).unwrap();
    assert!(close(f.usl.lambda, 100.0, 1e-6), "{:?}", f.usl);
    assert!(close(f.usl.sigma, 0.05, 1e-6), "{:?}", f.usl);
    assert!(close(f.usl.kappa, 2e-4, 1e-6), "{:?}", f.usl);
    assert!(f.usl_r_squared > 0.999_999);
    // N* = √(0.95 / 2e-4) ≈ 68.9, inside 1..256.
    assert!(close(f.usl.n_star(), (0.95f64 / 2e-4).sqrt(), 1e-6));
    assert!(f.peak_in_range());
    assert_eq!(f.preferred, Preferred::Usl, "{f:?}");
}

#[test]
fn noisy_usl_data_is_recovered_within_tolerance_and_its_intervals_hold_the_truth() {
    let truth = Usl {
        lambda: 100.0,
        sigma: 0.05,
        kappa: 2e-4,
    };
    // Three repeats per level with ±3 % multiplicative noise (seeded).
    let mut state = 7u64;
    let levels: Vec<Level> = LEVELS
        .iter()
        .map(|&n| Level {
            n,
            x: (0..3)
                .map(|_| {
                    let u = (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
                    truth.throughput(n) * (1.0 + 0.06 * (u - 0.5))
                })
                .collect(),
        })
        .collect();
    let m = model(&levels).unwrap();
    let u = m.fit.usl;
    assert!(close(u.lambda, 100.0, 0.05), "{u:?}");
    assert!((u.sigma - 0.05).abs() < 0.02, "{u:?}");
    assert!(close(u.kappa, 2e-4, 0.5), "{u:?}");
    assert!(close(u.n_star(), truth.n_star(), 0.25), "{u:?}");
    assert_eq!(m.intervals.resampling, Resampling::Repeats);
    let holds = |(lo, hi): (f64, f64), v: f64| lo <= v && v <= hi;
    assert!(holds(m.intervals.lambda, 100.0), "{:?}", m.intervals);
    assert!(holds(m.intervals.sigma, 0.05), "{:?}", m.intervals);
    assert!(holds(m.intervals.kappa, 2e-4), "{:?}", m.intervals);
    assert!(holds(m.intervals.x_max, truth.x_max()), "{:?}", m.intervals);
    // The intervals are not degenerate.
    assert!(m.intervals.sigma.0 < m.intervals.sigma.1);
}

#[test]
fn linear_data_has_no_contention_no_crosstalk_and_no_peak_in_range() {
    let points: Vec<(f64, f64)> = [4.0, 16.0, 64.0, 128.0, 256.0]
        .iter()
        .map(|&n| (n, 19.8 * n))
        .collect();
    let m = model(
        &points
            .iter()
            .map(|&(n, x)| Level { n, x: vec![x] })
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let f = m.fit;
    assert!(f.usl.sigma < 1e-9, "{:?}", f.usl);
    assert!(f.usl.kappa < 1e-12, "{:?}", f.usl);
    assert!(close(f.usl.lambda, 19.8, 1e-9), "{:?}", f.usl);
    assert!(!f.peak_in_range());
    assert!(!f.capped(), "{:?}", f.bounded);
    assert_eq!(m.intervals.resampling, Resampling::Residuals);
}

#[test]
fn a_hard_cap_prefers_the_bounded_model() {
    // A pool of 15 threads serving 50 ms requests: 20 req/s per client up
    // to 300 req/s, with a little measurement noise.
    let noise = [1.01, 0.99, 1.005, 0.995, 1.0, 1.002];
    let points: Vec<(f64, f64)> = [4.0f64, 8.0, 16.0, 64.0, 128.0, 256.0]
        .iter()
        .zip(noise)
        .map(|(&n, e)| (n, (20.0 * n).min(300.0) * e))
        .collect();
    let f = fit(&points).unwrap();
    assert_eq!(f.preferred, Preferred::Bounded, "{f:?}");
    assert!(f.capped());
    assert!(close(f.bounded.cap, 300.0, 0.01), "{:?}", f.bounded);
    assert!(close(f.bounded.lambda, 20.0, 0.01), "{:?}", f.bounded);
    assert!(f.bounded_aic + AIC_MARGIN < f.usl_aic);
}

#[test]
fn fewer_than_four_levels_is_no_fit() {
    let points = [(1.0, 10.0), (2.0, 19.0), (4.0, 35.0)];
    assert_eq!(fit(&points), Err(FitError::TooFewLevels { distinct: 3 }));
    let repeated = [(1.0, 10.0), (1.0, 11.0), (2.0, 19.0), (4.0, 35.0)];
    assert_eq!(fit(&repeated), Err(FitError::TooFewLevels { distinct: 3 }));
    assert!(
        FitError::TooFewLevels { distinct: 3 }
            .to_string()
            .starts_with("not enough levels to fit")
    );
}

/// Gunther, *Guerrilla Capacity Planning* (Springer, 2007): the SPEC SDM91
/// benchmark of a 16-CPU Sun SPARCcenter 2000, as the R `usl` package
/// ships it (`data(specsdm91)`) and fits it (tests/summary.Rout.save and
/// tests/peak-scalability.Rout.save of github.com/smoeding/usl): alpha
/// 2.773e-02, beta 1.044e-04, gamma 9.000e+01, peak throughput 1884 at load
/// 96.52, residual standard error 82.85 on 4 degrees of freedom.
#[test]
fn reproduces_the_r_usl_fit_of_specsdm91() {
    let load = [1.0, 18.0, 36.0, 72.0, 108.0, 144.0, 216.0];
    let tput = [64.9, 995.9, 1652.4, 1853.2, 1828.9, 1775.0, 1702.2];
    let points: Vec<(f64, f64)> = load.into_iter().zip(tput).collect();
    let f = fit(&points).unwrap();
    assert_eq!(sig3(f.usl.sigma), 0.0277, "{:?}", f.usl);
    assert_eq!(sig3(f.usl.kappa), 1.04e-4, "{:?}", f.usl);
    assert_eq!(sig3(f.usl.lambda), 90.0, "{:?}", f.usl);
    assert_eq!(sig3(f.usl.n_star()), 96.5, "{:?}", f.usl);
    assert_eq!(sig3(f.usl.x_max()), 1880.0, "{:?}", f.usl);
    let rse = (f.usl.sse(&points) / 4.0).sqrt();
    assert_eq!(sig3(rse), 82.8, "{rse}");
}

/// The first six points of the R `usl` package's `raytracer` dataset
/// (Gunther's ray-tracer benchmark), fitted in its tests/confint.Rout.save:
/// alpha 0.02444, beta 0.00163, gamma 20.85605.
#[test]
fn reproduces_the_r_usl_fit_of_the_raytracer_head() {
    let processors = [1.0, 4.0, 8.0, 12.0, 16.0, 20.0];
    let throughput = [20.0, 78.0, 130.0, 170.0, 190.0, 200.0];
    let points: Vec<(f64, f64)> = processors.into_iter().zip(throughput).collect();
    let f = fit(&points).unwrap();
    assert_eq!(sig3(f.usl.sigma), 0.0244, "{:?}", f.usl);
    assert_eq!(sig3(f.usl.kappa), 0.00163, "{:?}", f.usl);
    assert_eq!(sig3(f.usl.lambda), 20.9, "{:?}", f.usl);
}

#[test]
fn the_bootstrap_is_deterministic() {
    let levels: Vec<Level> = [4.0, 16.0, 64.0, 128.0, 256.0]
        .iter()
        .zip([80.0, 290.0, 302.0, 297.0, 305.0])
        .map(|(&n, x)| Level { n, x: vec![x] })
        .collect();
    assert_eq!(model(&levels).unwrap(), model(&levels).unwrap());
}

#[test]
fn bounded_fit_handles_all_capped_and_all_linear_curves() {
    let flat = [(4.0, 300.0), (8.0, 300.0), (16.0, 300.0), (32.0, 300.0)];
    let b = bounded::fit(&flat);
    assert_eq!(b.cap, 300.0);
    assert_eq!(b.parameters(&flat), 1);
    let line = [(4.0, 40.0), (8.0, 80.0), (16.0, 160.0), (32.0, 320.0)];
    let b = bounded::fit(&line);
    assert!(b.cap.is_infinite());
    assert_eq!(b.lambda, 10.0);
    assert_eq!(b.parameters(&line), 1);
}

#[test]
fn a_cap_needs_two_levels_on_it() {
    // A gentle sag at the last level is not a cap.
    let points = [
        (8.0, 156.0),
        (32.0, 624.0),
        (64.0, 1245.0),
        (128.0, 2480.0),
        (256.0, 4900.0),
    ];
    let b = bounded::fit(&points);
    assert!(b.cap.is_infinite(), "{b:?}");
}
