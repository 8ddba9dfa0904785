//! One process's part of a load spread over several (`--shard K/N`): the
//! open model's global schedule is striped across processes as it already
//! is across a process's threads (shard K takes tickets K, K + N, …, and
//! its thread t of T takes every T-th of those), so N shards together send
//! exactly the single-process schedule with no overlap; the closed model
//! gives shard K ⌊c/N⌋ connections, plus one when K < c mod N. This module
//! owns only that arithmetic; when shards start is `commands::shard`'s.

use std::fmt;

/// Shard `index` of `count` (0-based); `Shard::WHOLE` is the unsharded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Why `K/N` is not a shard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("'{0}' is not K/N (shard K of N, e.g. 0/3)")]
    Syntax(String),
    #[error("'{0}': the shard count N must be at least 1")]
    NoShards(String),
    #[error("'{0}': the shard index K must be below N (shards are numbered 0 to N-1)")]
    IndexTooHigh(String),
}

impl Shard {
    /// The whole load, in one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_string());
        let (k, n) = text.trim().split_once('/').ok_or_else(syntax)?;
        let index: u32 = k.trim().parse().map_err(|_| syntax())?;
        let count: u32 = n.trim().parse().map_err(|_| syntax())?;
        if count == 0 {
            return Err(ShardError::NoShards(text.to_string()));
        }
        if index >= count {
            return Err(ShardError::IndexTooHigh(text.to_string()));
        }
        Ok(Shard { index, count })
    }

    pub fn is_whole(self) -> bool {
        self.count <= 1
    }

    /// This shard's connections of a closed-model level of `connections`
    /// (or of an open model's pool): ⌊c/N⌋, plus one for the first c mod N
    /// shards, so the shards' shares add up to `connections`.
    pub fn connections(self, connections: u32) -> u32 {
        let n = self.count.max(1);
        connections / n + u32::from(self.index < connections % n)
    }

    /// The first global ticket and the stride of thread `thread` of
    /// `threads` in this shard: tickets `first`, `first + stride`, ….
    pub fn stripe(self, thread: u64, threads: u64) -> (u64, u64) {
        let n = u64::from(self.count.max(1));
        (u64::from(self.index) + n * thread, n * threads.max(1))
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(Shard::parse("0/1"), Ok(Shard::WHOLE));
        assert!(matches!(
            Shard::parse("3/3"),
            Err(ShardError::IndexTooHigh(_))
        ));
        assert!(matches!(Shard::parse("0/0"), Err(ShardError::NoShards(_))));
        for bad in ["", "1", "a/3", "1/b", "-1/3", "1/3/4"] {
            assert!(
                matches!(Shard::parse(bad), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn closed_connections_add_up_and_the_remainder_goes_first() {
        for c in 0..50u32 {
            for n in 1..8u32 {
                let shares: Vec<u32> = (0..n)
                    .map(|k| Shard { index: k, count: n }.connections(c))
                    .collect();
                assert_eq!(shares.iter().sum::<u32>(), c, "{c} over {n}");
                assert!(shares.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1));
            }
        }
        assert_eq!(Shard { index: 0, count: 3 }.connections(10), 4);
        assert_eq!(Shard { index: 2, count: 3 }.connections(10), 3);
    }

    /// Three shards of two, three and one threads over 10^6 arrivals: no
    /// ticket is taken twice and every ticket is taken.
    #[test]
    fn stripes_cover_the_schedule_once() {
        const ARRIVALS: u64 = 1_000_000;
        let threads = [2u64, 3, 1];
        let mut taken = vec![0u8; ARRIVALS as usize];
        for (k, &t) in threads.iter().enumerate() {
            let shard = Shard {
                index: k as u32,
                count: 3,
            };
            for thread in 0..t {
                let (first, stride) = shard.stripe(thread, t);
                let mut g = first;
                while g < ARRIVALS {
                    taken[g as usize] += 1;
                    g += stride;
                }
            }
        }
        let twice = taken.iter().filter(|&&n| n > 1).count();
        let never = taken.iter().filter(|&&n| n == 0).count();
        assert_eq!((twice, never), (0, 0));
        // The whole run is the stripe of one shard.
        assert_eq!(Shard::WHOLE.stripe(1, 4), (1, 4));
    }
}
