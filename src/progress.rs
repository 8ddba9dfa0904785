//! Progress display for steps: an indicatif bar on a terminal, plain lines
//! otherwise (CI logs), nothing when quiet.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::Progress;

/// Shows the progress of one step.
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

    /// Call about every 100 ms with the step's live counters.
    pub fn tick(&self, elapsed: Duration, progress: &Progress) {
        if let Some(bar) = &self.bar {
            bar.set_position(elapsed.as_millis() as u64);
            bar.set_message(format!("{} requests", progress.finished()));
        }
    }

    /// Clears the bar and, when not on a terminal, prints a closing line.
    pub fn finish(self, summary_line: &str) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        if self.plain {
            eprintln!("{}: {summary_line}", self.label);
        }
    }
}
