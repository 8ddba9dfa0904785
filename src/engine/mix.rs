//! The request mix: a weighted list of requests the workers draw from.
//! Selection is seeded and deterministic, so two runs of the same suite send
//! the same sequence of requests.

use bytes::Bytes;
use http::{HeaderMap, Method};

/// One kind of request in a mix.
#[derive(Debug, Clone)]
pub struct MixEntry {
    /// Label used in results (e.g. "GET /queries?queries=20").
    pub label: String,
    pub method: Method,
    /// Path and query, starting with '/'.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Status that counts as success.
    pub expect_status: u16,
    /// Relative weight (> 0).
    pub weight: u32,
}

impl MixEntry {
    /// A GET of `path` expecting 200, weight 1.
    pub fn get(path: &str) -> Self {
        MixEntry {
            label: format!("GET {path}"),
            method: Method::GET,
            path: path.to_string(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            expect_status: 200,
            weight: 1,
        }
    }
}

/// A weighted request mix; never empty.
#[derive(Debug, Clone)]
pub struct Mix {
    entries: Vec<MixEntry>,
    /// Cumulative weights, same length as `entries`.
    cumulative: Vec<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MixError {
    #[error("a request mix needs at least one entry")]
    Empty,
    #[error("mix entry {label:?} has weight 0; weights must be positive")]
    ZeroWeight { label: String },
}

impl Mix {
    pub fn new(entries: Vec<MixEntry>) -> Result<Self, MixError> {
        if entries.is_empty() {
            return Err(MixError::Empty);
        }
        let mut cumulative = Vec::with_capacity(entries.len());
        let mut total = 0u64;
        for e in &entries {
            if e.weight == 0 {
                return Err(MixError::ZeroWeight {
                    label: e.label.clone(),
                });
            }
            total += u64::from(e.weight);
            cumulative.push(total);
        }
        Ok(Mix {
            entries,
            cumulative,
        })
    }

    pub fn single(entry: MixEntry) -> Self {
        Mix::new(vec![MixEntry { weight: 1, ..entry }])
            .expect("one entry of weight 1 is a valid mix")
    }

    pub fn entries(&self) -> &[MixEntry] {
        &self.entries
    }

    /// Index of the entry chosen by a uniform random number.
    pub fn pick(&self, rng: &mut SplitMix64) -> usize {
        if self.entries.len() == 1 {
            return 0;
        }
        let total = *self.cumulative.last().expect("mix is never empty");
        let r = rng.next_u64() % total;
        self.cumulative.partition_point(|&c| c <= r)
    }
}

/// Small deterministic PRNG (SplitMix64): one per worker, seeded from the
/// step seed and the worker index.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_follow_weights_and_are_deterministic() {
        let mut a = MixEntry::get("/a");
        a.weight = 3;
        let b = MixEntry::get("/b");
        let mix = Mix::new(vec![a, b]).unwrap();
        let mut rng = SplitMix64::new(7);
        let picks: Vec<usize> = (0..40_000).map(|_| mix.pick(&mut rng)).collect();
        let share_a = picks.iter().filter(|&&i| i == 0).count() as f64 / picks.len() as f64;
        assert!((share_a - 0.75).abs() < 0.01, "share of /a was {share_a}");
        let mut rng2 = SplitMix64::new(7);
        assert!(picks.iter().take(100).all(|&p| p == mix.pick(&mut rng2)));
    }

    #[test]
    fn rejects_empty_and_zero_weight() {
        assert_eq!(Mix::new(vec![]).unwrap_err(), MixError::Empty);
        let mut z = MixEntry::get("/z");
        z.weight = 0;
        assert!(matches!(
            Mix::new(vec![z]),
            Err(MixError::ZeroWeight { .. })
        ));
    }
}
