//! Progress display for steps, as a [`StepObserver`]: an indicatif bar on a
//! terminal, plain lines otherwise (CI logs), nothing when quiet. `run` and
//! `load` both show a step through it, so "a step with a progress bar" is
//! written once.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::{StepEvent, StepObserver};
use crate::measure::Measurement;
use crate::units;

/// Shows the progress of one step and, when it finishes, one line of its
/// figures ([`summary_line`]).
pub struct StepProgress {
    bar: Option<ProgressBar>,
    plain: bool,
    label: String,
}

impl StepProgress {
    /// `total` is warm-up + duration.
    pub fn start(label: &str, total: Duration, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new(total.as_millis() as u64);
            // The template is a constant known to parse.
            let style = ProgressStyle::with_template(
                "{spinner} {prefix:.bold} [{bar:30}] {elapsed_precise} {msg}",
            )
            .expect("constant progress template")
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar
        });
        let plain = !quiet && !terminal;
        if plain {
            eprintln!("{label}: running for {:.1}s", total.as_secs_f64());
        }
        StepProgress {
            bar,
            plain,
            label: label.to_string(),
        }
    }
}

impl StepObserver for StepProgress {
    fn on_event(&mut self, event: &StepEvent<'_>) {
        match event {
            StepEvent::Tick { elapsed, requests } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(elapsed.as_millis() as u64);
                    bar.set_message(format!("{requests} requests"));
                }
            }
            StepEvent::Finished { measurement } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                if self.plain {
                    eprintln!("{}: {}", self.label, summary_line(measurement));
                }
            }
            StepEvent::WarmupStarted { .. } | StepEvent::WindowStarted { .. } => {}
        }
    }
}

impl Drop for StepProgress {
    /// A step that failed never reports `Finished`: do not leave its bar.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// "1.2k req/s, p99 3.4 ms, 0 errors of 12000", then "(interrupted)" and
/// the generator-saturation warning when they apply.
pub fn summary_line(m: &Measurement) -> String {
    let s = &m.summary;
    let figures = match &s.fanout {
        Some(f) => format!(
            "{} deliveries/s, delivery p99 {}, {} published, {} of {} deliveries lost{}",
            units::rate(s.rps),
            units::latency_opt_us(s.latency_us.map(|l| l.p99)),
            f.published,
            f.lost,
            f.expected,
            if f.errors_by_kind.is_empty() {
                String::new()
            } else {
                let kinds: Vec<String> = f
                    .errors_by_kind
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                format!(" ({})", kinds.join(", "))
            }
        ),
        None => format!(
            "{} req/s, p99 {}, {} errors of {} requests",
            units::rate(s.rps),
            units::latency_opt_us(s.latency_us.map(|l| l.p99)),
            s.errors,
            s.requests
        ),
    };
    format!(
        "{figures}{}{}",
        if m.interrupted { " (interrupted)" } else { "" },
        match &s.generator.saturated {
            Some(why) => format!(" · GENERATOR SATURATED ({why}): no verdict will use this step"),
            None => String::new(),
        }
    )
}
