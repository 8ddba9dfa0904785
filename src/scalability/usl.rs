//! Gunther's Universal Scalability Law, X(N) = λN / (1 + σ(N − 1) +
//! κN(N − 1)), and its least-squares fit to measured (N, X) points.
//!
//! The fit minimises the sum of squared throughput residuals over λ ≥ 0,
//! 0 ≤ σ ≤ 1 and 0 ≤ κ ≤ 1 (the bounds of the R `usl` package, whose fits
//! the tests reproduce). For fixed (σ, κ) the best λ has a closed form, so
//! a grid over (σ, κ) with λ profiled out finds the basin of the global
//! minimum, and a bounded Levenberg–Marquardt pass on all three parameters
//! polishes it (a parameter at a bound that the step would push out of the
//! box is held there, so minima on the boundary, κ = 0 for linear data,
//! come out exactly).

/// The three coefficients of the law.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usl {
    /// Throughput of one client with no contention (X(1)).
    pub lambda: f64,
    /// Contention: the serialised share of the work.
    pub sigma: f64,
    /// Coherency: the pairwise crosstalk that makes throughput fall.
    pub kappa: f64,
}

impl Usl {
    /// X(N).
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / self.denominator(n)
    }

    fn denominator(&self, n: f64) -> f64 {
        1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0)
    }

    /// N* = √((1 − σ) / κ), the concurrency where throughput peaks;
    /// +infinity when κ = 0 (throughput never falls).
    pub fn n_star(&self) -> f64 {
        if self.kappa > 0.0 {
            ((1.0 - self.sigma).max(0.0) / self.kappa).sqrt()
        } else {
            f64::INFINITY
        }
    }

    /// The peak throughput: X(N*) when κ > 0; the asymptote λ/σ that
    /// throughput approaches but never reaches when κ = 0 < σ; +infinity
    /// when σ = κ = 0 (linear scaling has no ceiling).
    pub fn x_max(&self) -> f64 {
        if self.kappa > 0.0 {
            self.throughput(self.n_star())
        } else if self.sigma > 0.0 {
            self.lambda / self.sigma
        } else {
            f64::INFINITY
        }
    }

    /// Sum of squared residuals over `points` (N, X).
    pub fn sse(&self, points: &[(f64, f64)]) -> f64 {
        points
            .iter()
            .map(|&(n, x)| (x - self.throughput(n)).powi(2))
            .sum()
    }
}

/// Bounds of (λ, σ, κ).
const LOWER: [f64; 3] = [0.0, 0.0, 0.0];
const UPPER: [f64; 3] = [f64::INFINITY, 1.0, 1.0];

/// The least-squares fit of the law to `points` (N ≥ 1, X ≥ 0; the caller
/// checks there are enough distinct N).
pub fn fit(points: &[(f64, f64)]) -> Usl {
    polish_from(points, grid_start(points))
}

/// λ that minimises the squared residuals for fixed σ and κ, and the sum
/// of squares it leaves.
fn profiled(points: &[(f64, f64)], sigma: f64, kappa: f64) -> Usl {
    let shape = Usl {
        lambda: 1.0,
        sigma,
        kappa,
    };
    let (xg, gg) = points.iter().fold((0.0, 0.0), |(xg, gg), &(n, x)| {
        let g = shape.throughput(n);
        (xg + x * g, gg + g * g)
    });
    Usl {
        lambda: if gg > 0.0 { (xg / gg).max(0.0) } else { 0.0 },
        sigma,
        kappa,
    }
}

/// The best point of a log-spaced grid over σ and κ (0 included), λ
/// profiled out: a start inside the global minimum's basin.
fn grid_start(points: &[(f64, f64)]) -> Usl {
    let axis = |lo_exp: f64, steps: usize| {
        std::iter::once(0.0)
            .chain((0..=steps).map(move |i| 10f64.powf(lo_exp * (1.0 - i as f64 / steps as f64))))
    };
    let mut best = profiled(points, 0.0, 0.0);
    let mut best_sse = best.sse(points);
    for sigma in axis(-6.0, 48) {
        for kappa in axis(-10.0, 60) {
            let u = profiled(points, sigma, kappa);
            let sse = u.sse(points);
            if sse < best_sse {
                best = u;
                best_sse = sse;
            }
        }
    }
    best
}

/// Bounded Levenberg–Marquardt from `start`: the local minimum of the
/// squared residuals in `start`'s basin.
pub fn polish_from(points: &[(f64, f64)], start: Usl) -> Usl {
    let mut p = [start.lambda, start.sigma, start.kappa];
    let model = |p: &[f64; 3]| Usl {
        lambda: p[0],
        sigma: p[1],
        kappa: p[2],
    };
    let mut sse = model(&p).sse(points);
    let mut mu = 1e-3;
    for _ in 0..500 {
        let (jtj, jtr) = normal_equations(points, &model(&p));
        let Some(step) = bounded_step(&p, &jtj, &jtr, mu) else {
            break;
        };
        let mut next = p;
        for i in 0..3 {
            next[i] = (p[i] + step[i]).clamp(LOWER[i], UPPER[i]);
        }
        let next_sse = model(&next).sse(points);
        if next_sse < sse {
            let moved = (0..3).all(|i| (next[i] - p[i]).abs() <= 1e-14 * p[i].abs().max(1e-300));
            let gain = (sse - next_sse) / sse.max(f64::MIN_POSITIVE);
            p = next;
            sse = next_sse;
            mu = (mu * 0.3).max(1e-12);
            if moved || gain < 1e-16 {
                break;
            }
        } else {
            mu *= 4.0;
            if mu > 1e12 {
                break;
            }
        }
    }
    model(&p)
}

/// JᵀJ and Jᵀr of the residuals r = X − X̂ at `u`, J = ∂X̂/∂(λ, σ, κ).
fn normal_equations(points: &[(f64, f64)], u: &Usl) -> ([[f64; 3]; 3], [f64; 3]) {
    let mut jtj = [[0.0; 3]; 3];
    let mut jtr = [0.0; 3];
    for &(n, x) in points {
        let d = u.denominator(n);
        let fitted = u.lambda * n / d;
        let j = [
            n / d,
            -u.lambda * n * (n - 1.0) / (d * d),
            -u.lambda * n * n * (n - 1.0) / (d * d),
        ];
        let r = x - fitted;
        for a in 0..3 {
            jtr[a] += j[a] * r;
            for b in 0..3 {
                jtj[a][b] += j[a] * j[b];
            }
        }
    }
    (jtj, jtr)
}

/// The damped Gauss–Newton step, with every parameter held whose bound
/// the step would cross from where it sits on it; None when no parameter
/// can move.
fn bounded_step(p: &[f64; 3], jtj: &[[f64; 3]; 3], jtr: &[f64; 3], mu: f64) -> Option<[f64; 3]> {
    let mut free = [true; 3];
    for _ in 0..3 {
        let step = solve_free(jtj, jtr, mu, &free)?;
        let mut changed = false;
        for i in 0..3 {
            let at_lower = p[i] <= LOWER[i] && step[i] < 0.0;
            let at_upper = p[i] >= UPPER[i] && step[i] > 0.0;
            if free[i] && (at_lower || at_upper) {
                free[i] = false;
                changed = true;
            }
        }
        if !changed {
            return Some(step);
        }
    }
    solve_free(jtj, jtr, mu, &free)
}

/// Solves (JᵀJ + μ·diag(JᵀJ)) δ = Jᵀr over the free parameters (the
/// others' δ is 0) by Gaussian elimination with partial pivoting.
fn solve_free(jtj: &[[f64; 3]; 3], jtr: &[f64; 3], mu: f64, free: &[bool; 3]) -> Option<[f64; 3]> {
    let idx: Vec<usize> = (0..3).filter(|&i| free[i]).collect();
    let k = idx.len();
    if k == 0 {
        return None;
    }
    let mut a = vec![vec![0.0; k + 1]; k];
    for (r, &i) in idx.iter().enumerate() {
        for (c, &j) in idx.iter().enumerate() {
            a[r][c] = jtj[i][j];
        }
        a[r][r] += mu * jtj[i][i].max(1e-300);
        a[r][k] = jtr[i];
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 || !a[pivot][col].is_finite() {
            return None;
        }
        a.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for row in rest.iter_mut() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let s: f64 = (row + 1..k).map(|c| a[row][c] * x[c]).sum();
        x[row] = (a[row][k] - s) / a[row][row];
    }
    let mut step = [0.0; 3];
    for (r, &i) in idx.iter().enumerate() {
        step[i] = x[r];
    }
    step.iter().all(|s| s.is_finite()).then_some(step)
}
