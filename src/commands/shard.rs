//! `--shard K/N --start-at T`, resolved once for `load` and `run`: the
//! shard, the shared start time (refused when already past), and the
//! provenance record every shard writes so `bakeoff merge` can check that
//! the shards followed one plan.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::engine::Shard;
use crate::results::{ShardRecord, parse_time, rfc3339_millis};

/// The clock `--start-at` is read on, as results record it.
pub const CLOCK: &str =
    "CLOCK_REALTIME (system wall clock; keep the shards' hosts NTP-synchronised)";

/// A shard and its start, resolved from the flags.
#[derive(Debug, Clone)]
pub struct ShardPlan {
    pub shard: Shard,
    pub start_at: SystemTime,
    since_epoch: Duration,
}

impl ShardPlan {
    /// None without `--shard`; clap makes the two flags go together.
    pub fn resolve(shard: Option<&str>, start_at: Option<&str>) -> anyhow::Result<Option<Self>> {
        let (Some(shard), Some(start)) = (shard, start_at) else {
            return Ok(None);
        };
        let shard = Shard::parse(shard).context("invalid --shard")?;
        let since_epoch =
            parse_time(start).map_err(|e| anyhow::anyhow!("invalid --start-at: {e}"))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        if since_epoch < now {
            bail!(
                "--start-at {start} is {:.1} s in the past (now {}): give every shard the same time a little ahead",
                (now - since_epoch).as_secs_f64(),
                rfc3339_millis(now)
            );
        }
        Ok(Some(ShardPlan {
            shard,
            start_at: UNIX_EPOCH + since_epoch,
            since_epoch,
        }))
    }

    /// The provenance record, hashing `plan` (a canonical description of
    /// what every shard must share) with the shard count and start time.
    pub fn record(&self, plan: &str) -> ShardRecord {
        let start_at = rfc3339_millis(self.since_epoch);
        let mut h = Sha256::new();
        h.update(plan.as_bytes());
        h.update(format!("\nshards {}\nstart {start_at}\n", self.shard.count).as_bytes());
        let plan_hash = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        ShardRecord {
            index: self.shard.index,
            count: self.shard.count,
            start_at,
            clock: CLOCK.to_string(),
            plan_hash,
        }
    }
}
