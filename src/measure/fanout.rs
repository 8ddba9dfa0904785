//! A fan-out step's counts: what each subscriber connection saw, per
//! thread, merged with `+=` like the [`Recorder`] beside it, and the one
//! place the fan-out figures are defined in code ([`finish`]). Delivery
//! latencies go into the ordinary [`Recorder`]; this module only counts.
//!
//! Loss and duplication are found without storing messages: the contract
//! keeps each publisher's messages in order, so a subscriber needs only
//! the next sequence number it expects from each publisher
//! ([`Deliveries`]). Memory is one `u64` per publisher per subscriber.

use std::collections::BTreeMap;
use std::ops::AddAssign;

use super::recorder::{Measurement, Recorder, WindowEnd, error_rate};
use super::saturation::GeneratorUsage;
use crate::results::FanoutSummary;

/// Why a subscriber or publisher connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanoutError {
    /// The TCP connection could not be opened (refused, unreachable).
    Connect,
    /// The server did not upgrade the connection (no 101, bad headers).
    Handshake,
    /// An open connection was closed or reset by the server before the
    /// step ended.
    Dropped,
    /// Connecting, the handshake or a publish did not complete within the
    /// timeout.
    Timeout,
}

impl FanoutError {
    pub const ALL: [FanoutError; 4] = [
        FanoutError::Connect,
        FanoutError::Handshake,
        FanoutError::Dropped,
        FanoutError::Timeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FanoutError::Connect => "connect",
            FanoutError::Handshake => "handshake",
            FanoutError::Dropped => "dropped",
            FanoutError::Timeout => "timeout",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One thread's counts of a fan-out step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FanoutTally {
    pub published: u64,
    pub expected: u64,
    pub delivered: u64,
    pub duplicated: u64,
    /// Subscribers whose handshake completed before publishing began.
    pub connected: u64,
    errors: [u64; FanoutError::ALL.len()],
}

impl FanoutTally {
    /// One message written by a publisher while `subscribers` were
    /// connected (the sender among them).
    pub fn published(&mut self, subscribers: u64) {
        self.published += 1;
        self.expected += subscribers;
    }

    pub fn error(&mut self, kind: FanoutError) {
        self.errors[kind.index()] += 1;
    }

    pub fn errors(&self, kind: FanoutError) -> u64 {
        self.errors[kind.index()]
    }
}

impl AddAssign<&FanoutTally> for FanoutTally {
    fn add_assign(&mut self, other: &FanoutTally) {
        self.published += other.published;
        self.expected += other.expected;
        self.delivered += other.delivered;
        self.duplicated += other.duplicated;
        self.connected += other.connected;
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
    }
}

/// What a received message is, for one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reception {
    /// The first reception of this message: a delivery.
    First,
    /// Its sequence number is not above the last seen from its publisher.
    Duplicate,
}

/// One subscriber's view of the publishers: the next sequence number it
/// expects from each. A sequence number above it is a delivery (the ones
/// skipped are never delivered later under per-publisher order, so they
/// end up in `lost` = expected − delivered); one below it is a duplicate.
#[derive(Debug, Clone)]
pub struct Deliveries {
    next: Vec<u64>,
}

impl Deliveries {
    pub fn new(publishers: usize) -> Self {
        Deliveries {
            next: vec![0; publishers],
        }
    }

    /// Classifies message `seq` of `publisher`; None when there is no such
    /// publisher (a message not from this step).
    pub fn receive(&mut self, publisher: usize, seq: u64) -> Option<Reception> {
        let next = self.next.get_mut(publisher)?;
        if seq < *next {
            return Some(Reception::Duplicate);
        }
        *next = seq + 1;
        Some(Reception::First)
    }
}

/// What a fan-out step was asked to do, for its figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FanoutShape {
    pub subscribers: u64,
    pub publishers: u64,
    pub rate: f64,
}

/// The figures of a fan-out step from its merged recorder (delivery
/// latencies) and counts, by the definitions of results/README.md
/// ("Fan-out figures"): `summary.requests` = expected, `summary.errors` =
/// lost, `errors_by_kind` = the connection errors plus `lost`.
pub fn finish(
    recorder: Recorder,
    tally: &FanoutTally,
    shape: FanoutShape,
    end: WindowEnd,
    usage: GeneratorUsage,
) -> Measurement {
    let mut m = recorder.finish(end, usage);
    let lost = tally.expected.saturating_sub(tally.delivered);
    let errors_by_kind: BTreeMap<String, u64> = FanoutError::ALL
        .iter()
        .filter(|k| tally.errors(**k) > 0)
        .map(|k| (k.as_str().to_string(), tally.errors(*k)))
        .collect();
    let s = &mut m.summary;
    s.requests = tally.expected;
    s.errors = lost;
    s.error_rate = error_rate(lost, tally.expected);
    s.errors_by_kind = errors_by_kind.clone();
    if lost > 0 {
        s.errors_by_kind.insert("lost".into(), lost);
    }
    s.fanout = Some(FanoutSummary {
        subscribers: shape.subscribers,
        connected: tally.connected,
        publishers: shape.publishers,
        rate: shape.rate,
        published: tally.published,
        expected: tally.expected,
        delivered: tally.delivered,
        lost,
        duplicated: tally.duplicated,
        errors_by_kind,
        bus: None,
    });
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Sample;
    use std::time::Duration;

    #[test]
    fn in_order_receptions_are_deliveries_and_repeats_are_duplicates() {
        let mut d = Deliveries::new(2);
        assert_eq!(d.receive(0, 0), Some(Reception::First));
        assert_eq!(d.receive(1, 0), Some(Reception::First));
        assert_eq!(d.receive(0, 1), Some(Reception::First));
        assert_eq!(d.receive(0, 1), Some(Reception::Duplicate));
        // A gap: 2 and 3 never came; 4 is a delivery, 3 afterwards is not.
        assert_eq!(d.receive(0, 4), Some(Reception::First));
        assert_eq!(d.receive(0, 3), Some(Reception::Duplicate));
        assert_eq!(d.receive(2, 0), None, "no third publisher");
    }

    #[test]
    fn expected_counts_the_subscribers_connected_at_each_publish() {
        let mut t = FanoutTally::default();
        t.published(3);
        t.published(3);
        t.published(2);
        assert_eq!((t.published, t.expected), (3, 8));
        let mut other = FanoutTally::default();
        other.published(2);
        other.error(FanoutError::Dropped);
        t += &other;
        assert_eq!((t.published, t.expected), (4, 10));
        assert_eq!(t.errors(FanoutError::Dropped), 1);
        assert_eq!(t.errors(FanoutError::Connect), 0);
    }

    fn delivery(ms: u64) -> Sample {
        let at = Duration::from_millis(ms);
        Sample {
            entry: 0,
            intended: at,
            ready: at,
            sent: at,
            done: at + Duration::from_millis(2),
            status: Some(101),
            error: None,
        }
    }

    #[test]
    fn finish_defines_lost_as_expected_minus_delivered() {
        let window = Duration::from_secs(1);
        let mut recorder = Recorder::new(&["fanout".to_string()], true, window);
        let mut tally = FanoutTally {
            connected: 3,
            ..FanoutTally::default()
        };
        for i in 0..2 {
            tally.published(3);
            for _ in 0..3 {
                recorder.record(delivery(i * 10));
            }
        }
        tally.delivered = 5;
        tally.duplicated = 1;
        tally.error(FanoutError::Dropped);
        let shape = FanoutShape {
            subscribers: 3,
            publishers: 1,
            rate: 2.0,
        };
        let m = finish(
            recorder,
            &tally,
            shape,
            WindowEnd::Elapsed(window),
            GeneratorUsage::default(),
        );
        let f = m.summary.fanout.as_ref().expect("fan-out figures");
        assert_eq!((f.published, f.expected, f.delivered), (2, 6, 5));
        assert_eq!((f.lost, f.duplicated), (1, 1));
        assert_eq!(f.errors_by_kind.get("dropped"), Some(&1));
        assert_eq!((m.summary.requests, m.summary.errors), (6, 1));
        assert_eq!(m.summary.errors_by_kind.get("lost"), Some(&1));
        assert_eq!(m.summary.latency_us.map(|l| l.p99), Some(2000));
    }

    #[test]
    fn nothing_delivered_has_no_latency() {
        let window = Duration::from_secs(1);
        let recorder = Recorder::new(&["fanout".to_string()], true, window);
        let mut tally = FanoutTally::default();
        tally.error(FanoutError::Connect);
        let shape = FanoutShape {
            subscribers: 1,
            publishers: 1,
            rate: 1.0,
        };
        let m = finish(
            recorder,
            &tally,
            shape,
            WindowEnd::Elapsed(window),
            GeneratorUsage::default(),
        );
        assert_eq!(m.summary.latency_us, None);
        assert_eq!(m.summary.error_rate, 1.0);
    }
}
