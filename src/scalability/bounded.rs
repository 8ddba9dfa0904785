//! The bounded model X(N) = min(λN, X_max): linear growth up to a hard
//! cap, which is what a fixed pool of synchronous workers shows (a
//! gunicorn thread pool of W threads serving requests of R seconds caps at
//! W / R), and which the USL can only imitate with a large σ.
//!
//! Its least-squares fit is exact: at the optimum every point is either on
//! the linear part or on the cap, so trying each split of the points
//! (sorted by N) into a linear head and a capped tail, with λ and the cap
//! in closed form for that split, and scoring each candidate on the real
//! min() model, finds the minimum. A cap must be reached at two levels at
//! least: with one, the cap would match any curve's last point exactly.

/// The bounded model's coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounded {
    /// Throughput per client while below the cap.
    pub lambda: f64,
    /// The cap; +infinity when no measured point reaches one (the data is
    /// linear over the measured range).
    pub cap: f64,
}

impl Bounded {
    /// X(N).
    pub fn throughput(&self, n: f64) -> f64 {
        (self.lambda * n).min(self.cap)
    }

    /// Sum of squared residuals over `points` (N, X).
    pub fn sse(&self, points: &[(f64, f64)]) -> f64 {
        points
            .iter()
            .map(|&(n, x)| (x - self.throughput(n)).powi(2))
            .sum()
    }

    /// Free parameters this fit used: 2 when the cap binds at some points
    /// and the linear part at others, 1 when everything is linear (no cap
    /// in range) or everything is capped (λ is then only bounded below).
    pub fn parameters(&self, points: &[(f64, f64)]) -> usize {
        let capped = points
            .iter()
            .filter(|&&(n, _)| self.lambda * n >= self.cap)
            .count();
        if capped == 0 || capped == points.len() {
            1
        } else {
            2
        }
    }
}

/// The least-squares fit to `points` (N ≥ 1, X ≥ 0).
pub fn fit(points: &[(f64, f64)]) -> Bounded {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let m = sorted.len();
    let mut best: Option<(f64, Bounded)> = None;
    // All-linear first, then ever more capped: on a tie (an exact fit
    // either way) the candidate with fewer capped points stays.
    for head in (0..=m).rev() {
        let (linear, capped) = sorted.split_at(head);
        // A cap on the last level alone is no cap seen: any curve's last
        // point can be matched exactly by one.
        if capped.len() == 1 && m > 1 {
            continue;
        }
        let cap = if capped.is_empty() {
            f64::INFINITY
        } else {
            capped.iter().map(|p| p.1).sum::<f64>() / capped.len() as f64
        };
        let nn: f64 = linear.iter().map(|p| p.0 * p.0).sum();
        let lambda = if linear.is_empty() {
            // All capped: λ is only bounded below; the smallest λ that
            // still reaches the cap at the lowest level.
            cap / sorted.first().map_or(1.0, |p| p.0)
        } else {
            (linear.iter().map(|p| p.0 * p.1).sum::<f64>() / nn).max(0.0)
        };
        let candidate = Bounded { lambda, cap };
        let sse = candidate.sse(&sorted);
        if best
            .as_ref()
            .is_none_or(|(b, _)| sse < *b - 1e-12 * b.abs())
        {
            best = Some((sse, candidate));
        }
    }
    let mut fitted = best.map_or(
        Bounded {
            lambda: 0.0,
            cap: f64::INFINITY,
        },
        |(_, b)| b,
    );
    // A cap that no measured point reaches is no cap in range.
    if sorted.iter().all(|&(n, _)| fitted.lambda * n < fitted.cap) {
        fitted.cap = f64::INFINITY;
    }
    fitted
}
