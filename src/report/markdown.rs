//! `report.md`, in the order a reader of a design doc needs it: the title,
//! with short notes that qualify every figure (the run is incomplete; read
//! the numbers as relative; levels where no request succeeded; flagged
//! steps); the contributed sections (the verdict table first, then one
//! headline chart per claim, the throughput ratios and capacity); per
//! scenario the summary tables (cells that include a flagged step marked
//! † ‡ § ¶, with a legend under the table; "n/a" where no request
//! succeeded, never 0) and chart links; the Caveats section listing every
//! flagged step; and at the end the provenance and the variants (server
//! processes, server and PostgreSQL CPU, and whether one CPU could show
//! what several processes buy). Ready to paste into a design doc; the HTML
//! report is made from it. Every image it links was drawn. Deterministic:
//! every date comes from the results' provenance, never from the clock.

use std::fmt::Write as _;

use super::summary::{
    Caveat, FLAGS, NoSuccess, RunSummary, ScenarioSummary, flag_mark, flag_meaning, flag_name,
    format_errors, format_rps, group_thousands,
};
use super::{Exporter, Report, ReportError, Section, png_link};
use crate::plot::ChartFile;
use crate::results::{Provenance, StepFlag};

pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn export(&self, report: &Report) -> Result<Vec<u8>, ReportError> {
        Ok(render(report).into_bytes())
    }
}

/// The whole Markdown document (also the source of the HTML report).
pub fn render(report: &Report) -> String {
    let results = report.results;
    let p = &results.provenance;
    let mut md = String::new();
    let suite = if p.suite.is_empty() { "run" } else { &p.suite };
    // Writing into a String cannot fail; the results of `writeln!` are ignored below.
    let _ = writeln!(md, "# bakeoff report: {suite}\n");
    if !results.complete {
        let _ = writeln!(
            md,
            "> **Incomplete run.** The run stopped before every planned step was measured; \
             the tables and charts below show only the {} step(s) that were.\n",
            results.steps.len()
        );
    }
    // Short notes that qualify every figure below, verdicts included.
    let _ = writeln!(md, "{}\n", shared_machine_note(p));
    if !report.summary.no_success.is_empty() {
        let _ = writeln!(md, "{}\n", no_success_note(&report.summary.no_success));
    }
    if !report.summary.caveats.is_empty() {
        let _ = writeln!(md, "{}\n", caveats_note(report));
    }
    for s in report.sections {
        section(&mut md, report, s);
    }

    if report.summary.scenarios.is_empty() {
        let _ = writeln!(
            md,
            "No steps were measured, so there is nothing to chart.\n"
        );
    }
    for sc in &report.summary.scenarios {
        scenario(&mut md, report, sc);
    }
    caveats(&mut md, report);
    provenance(&mut md, p);
    variants(&mut md, p, report.summary);
    if !report.warnings.is_empty() {
        let _ = writeln!(md, "## Warnings\n");
        for w in report.warnings {
            let _ = writeln!(md, "- {}", w.replace('\n', " "));
        }
        md.push('\n');
    }
    while md.ends_with("\n\n") {
        md.pop();
    }
    md
}

/// A contributed section: its Markdown, then each of its charts that was
/// drawn under its caption. Left out when it has charts to show and none
/// was drawn.
fn section(md: &mut String, report: &Report, s: &Section) {
    let charts: Vec<(&str, &ChartFile)> = s
        .charts
        .iter()
        .filter_map(|r| Some((r.caption.as_str(), report.chart(r)?)))
        .collect();
    if !s.charts.is_empty() && charts.is_empty() {
        return;
    }
    let _ = writeln!(md, "## {}\n", s.title.trim());
    if !s.markdown.trim().is_empty() {
        let _ = writeln!(md, "{}\n", s.markdown.trim_end());
    }
    for (caption, chart) in charts {
        if !caption.trim().is_empty() {
            let _ = writeln!(md, "{}\n", caption.trim_end());
        }
        let _ = writeln!(md, "![{}]({})\n", chart.title, png_link(chart));
    }
}

fn provenance(md: &mut String, p: &Provenance) {
    let _ = writeln!(md, "## Provenance\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    let mut row = |k: &str, v: String| {
        if !v.trim().is_empty() {
            let _ = writeln!(md, "| {k} | {} |", cell(&v));
        }
    };
    row("Date", p.started_at.clone());
    row("Host", p.host.clone());
    row("Cores", p.cores.to_string());
    row("OS", p.os.clone());
    row(
        "CPU layout",
        match &p.cpu_layout {
            Some(l) => format!(
                "load generator on {}; targets and database on {}",
                cpus(&l.generator),
                cpus(&l.targets)
            ),
            None => "not pinned (generator, targets and database share all cores)".into(),
        },
    );
    row("Suite", p.suite.clone());
    row("Targets from", p.targets_mode.clone());
    row(
        "Command",
        if p.command_line.is_empty() {
            String::new()
        } else {
            format!("`{}`", shell_join(&p.command_line))
        },
    );
    let bakeoff = match &p.git_commit {
        Some(c) => format!("{} (git {c})", p.bakeoff_version),
        None => p.bakeoff_version.clone(),
    };
    row("bakeoff", bakeoff);
    for (name, version) in &p.versions {
        if name != "bakeoff" {
            row(name, version.clone());
        }
    }
    md.push('\n');
    if !p.notes.is_empty() {
        let _ = writeln!(md, "Notes:\n");
        for n in &p.notes {
            let _ = writeln!(md, "- {}", n.replace('\n', " "));
        }
        md.push('\n');
    }
}

/// The Variants section: per variant its server processes and the CPU its
/// servers and PostgreSQL used; and, when the servers had one CPU, what
/// that means for multi-process variants. Left out when no step sampled
/// its server (e.g. `bakeoff load`).
fn variants(md: &mut String, p: &Provenance, summary: &RunSummary) {
    let sampled = summary.variants.iter().any(|v| v.sampled_steps > 0);
    let one_cpu = p.cpu_layout.as_ref().filter(|l| l.targets.len() == 1);
    if !sampled && one_cpu.is_none() {
        return;
    }
    let _ = writeln!(
        md,
        "## Variants
"
    );
    if sampled {
        let _ = writeln!(
            md,
            "Server processes are the most live processes of a variant seen in one sample (primary and workers). CPU is summed over the measured windows of the steps whose servers were sampled; PostgreSQL CPU is that of the database bakeoff ran for them. Requests per core divide successful requests by both.\n"
        );
        let _ = writeln!(
            md,
            "| variant | server processes | steps sampled | server CPU (s) | PostgreSQL CPU (s) |"
        );
        let _ = writeln!(md, "|---|--:|--:|--:|--:|");
        for v in &summary.variants {
            let none = || "—".to_string();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                cell(&v.target),
                v.processes.map_or_else(none, |n| n.to_string()),
                v.sampled_steps,
                if v.sampled_steps > 0 {
                    format!("{:.1}", v.server_cpu_s)
                } else {
                    none()
                },
                match v.db_cpu_s {
                    Some(s) => format!("{s:.1}"),
                    None if v.sampled_steps > 0 => "not run by bakeoff".to_string(),
                    None => none(),
                }
            );
        }
        md.push('\n');
    }
    if let Some(layout) = one_cpu {
        let _ = writeln!(md, "{}\n", single_cpu_note(&layout.targets, summary));
    }
}

/// The sentence for servers pinned to one CPU: several processes take
/// turns on it, so what clustering buys cannot show.
fn single_cpu_note(cpus_list: &[usize], summary: &RunSummary) -> String {
    let mut multi: Vec<String> = summary
        .variants
        .iter()
        .filter(|v| v.target == "node-cluster" || v.processes.is_some_and(|n| n > 1))
        .map(|v| match v.processes {
            Some(n) => format!("{} ({n} processes)", v.target),
            None => v.target.clone(),
        })
        .collect();
    let which = match multi.len() {
        0 => "node-cluster, or any variant that runs several server processes,".to_string(),
        1 => multi.remove(0),
        _ => {
            let last = multi.pop().unwrap_or_default();
            format!("{} and {last}", multi.join(", "))
        }
    };
    format!(
        "> **One CPU for the servers.** The targets and the database ran on {} only, so {which} could not show what running several processes buys: on one CPU they take turns. node-cluster against node here measures the cost of clustering, not its benefit.",
        cpus(cpus_list)
    )
}

/// The note near the top when some levels had no successful request.
fn no_success_note(list: &[NoSuccess]) -> String {
    // (target, scenario, model) → levels.
    type Point<'a> = (&'a str, &'a str, crate::results::Model);
    let mut groups: Vec<(Point, Vec<u64>)> = Vec::new();
    for n in list {
        let id = (n.target.as_str(), n.scenario.as_str(), n.model);
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, levels)) => levels.push(n.level),
            None => groups.push((id, vec![n.level])),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|((target, scenario, model), levels)| {
            let levels: Vec<String> = levels.iter().map(u64::to_string).collect();
            format!(
                "{target} on {scenario} at {} {}",
                levels.join(", "),
                model.level_label()
            )
        })
        .collect();
    format!(
        "> **No request succeeded** for {}. Those cells show 0 req/s and n/a for latency (a failure has no percentiles), and no verdict counts them in the target's favour.",
        parts.join("; ")
    )
}

fn shared_machine_note(p: &Provenance) -> String {
    let cores = match p.cores {
        0 => "its".to_string(),
        1 => "its single core's".to_string(),
        n => format!("its {n} cores'"),
    };
    format!(
        "> **Read the numbers as relative.** The load generator and the targets ran on the same \
         machine and competed for {cores} time, so absolute figures depend on this machine and \
         this generator. Compare the targets with each other, not with figures measured elsewhere."
    )
}

/// The note near the top of a report with flagged steps.
fn caveats_note(report: &Report) -> String {
    let caveats = &report.summary.caveats;
    let mut steps: Vec<(&str, &str, u64, u32)> = caveats
        .iter()
        .map(|c| (c.target.as_str(), c.scenario.as_str(), c.level, c.repeat))
        .collect();
    steps.dedup();
    let marks: Vec<String> = FLAGS
        .iter()
        .filter(|f| caveats.iter().any(|c| c.flag == **f))
        .map(|f| format!("{} {}", flag_mark(*f), flag_name(*f)))
        .collect();
    let mut note = format!(
        "> **{} flagged {}.** Table cells that include one are marked ({}); [Caveats](#caveats) lists each.",
        steps.len(),
        if steps.len() == 1 { "step" } else { "steps" },
        marks.join(", ")
    );
    if caveats.iter().any(|c| c.flag.disqualifies()) {
        note.push_str(" No verdict rests on a step flagged interrupted or generator saturated.");
    }
    note
}

/// Legend lines under a scenario's tables: each flag present, what it
/// means, and where (with the generator's reason for saturated steps).
fn legend(md: &mut String, report: &Report, sc: &ScenarioSummary) {
    let in_scenario: Vec<&Caveat> = report
        .summary
        .caveats
        .iter()
        .filter(|c| c.scenario == sc.scenario && c.model == sc.model)
        .collect();
    for flag in FLAGS {
        let here: Vec<&&Caveat> = in_scenario.iter().filter(|c| c.flag == flag).collect();
        if here.is_empty() {
            continue;
        }
        let unit = sc.model.level_label();
        let places: Vec<String> = here
            .iter()
            .map(|c| {
                let base = format!("{} at {} {unit}, repeat {}", c.target, c.level, c.repeat);
                match flag {
                    StepFlag::GeneratorSaturated | StepFlag::Errors | StepFlag::Unsent => {
                        format!("{base}: {}", c.detail)
                    }
                    StepFlag::Interrupted => format!("{base} ({})", c.detail),
                }
            })
            .collect();
        let _ = writeln!(
            md,
            "- {} **{}**: {}. {}.",
            flag_mark(flag),
            flag_name(flag),
            places.join("; "),
            capitalize(flag_meaning(flag))
        );
    }
    if !in_scenario.is_empty() {
        md.push('\n');
    }
}

/// The Caveats section: every flagged step, one row per flag.
fn caveats(md: &mut String, report: &Report) {
    let caveats = &report.summary.caveats;
    if caveats.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Caveats\n");
    let _ = writeln!(
        md,
        "Steps whose figures need care. Repeats count from 0, as in `summary.csv`.\n"
    );
    for flag in FLAGS {
        if caveats.iter().any(|c| c.flag == flag) {
            let _ = writeln!(
                md,
                "- {} **{}** (`{}`): {}.",
                flag_mark(flag),
                flag_name(flag),
                flag.as_str(),
                flag_meaning(flag)
            );
        }
    }
    let _ = writeln!(
        md,
        "\n| target | scenario | level | repeat | flag | detail |"
    );
    let _ = writeln!(md, "|---|---|--:|--:|---|---|");
    for c in caveats {
        let _ = writeln!(
            md,
            "| {} | {} | {} {} | {} | {} {} | {} |",
            cell(&c.target),
            cell(&c.scenario),
            c.level,
            c.model.level_label(),
            c.repeat,
            flag_mark(c.flag),
            c.flag.as_str(),
            cell(&c.detail)
        );
    }
    md.push('\n');
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn scenario(md: &mut String, report: &Report, sc: &ScenarioSummary) {
    let unit = sc.model.level_label();
    let _ = writeln!(md, "## {}\n", sc.heading());
    let repeats = sc
        .targets
        .iter()
        .flat_map(|t| t.levels.iter().map(|l| l.repeats))
        .max()
        .unwrap_or(1);
    let basis = if repeats > 1 {
        format!("median of up to {repeats} repeats")
    } else {
        "one repeat per level".to_string()
    };
    let _ = writeln!(
        md,
        "Throughput is successful requests per second ({basis}); \"best\" is the level with the highest throughput.\n"
    );
    let _ = writeln!(
        md,
        "| target | best req/s | at {unit} | highest {unit} measured | requests | errors |"
    );
    let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|");
    for t in &sc.targets {
        let (best_rps, best_level) = t
            .best()
            .map(|b| {
                (
                    format_rps(b.rps_median),
                    b.level.to_string() + &marks(&b.marks()),
                )
            })
            .unwrap_or_else(|| (format_rps(0.0), "n/a".to_string()));
        let all_marks: String = FLAGS
            .iter()
            .filter(|f| t.levels.iter().any(|l| l.has(**f)))
            .map(|f| flag_mark(*f))
            .collect();
        let _ = writeln!(
            md,
            "| {}{} | {best_rps} | {best_level} | {} | {} | {} |",
            cell(&t.target),
            marks(&all_marks),
            t.max_level().map(|l| l.to_string()).unwrap_or_default(),
            group_thousands(t.requests()),
            format_errors(t.errors(), t.requests(), t.unsent()),
        );
    }
    md.push('\n');

    let _ = writeln!(
        md,
        "Per level, each cell reads *req/s · p50 / p99 latency in ms* (req/s is the median of the repeats, with their min–max in brackets when there are several; each percentile is the median of the repeats' percentiles of their successful requests, the figure verdicts, gates and `compare` use; n/a where no request succeeded, failing where a repeat with more than 1% of its requests failed, or without a success, decides the median):\n"
    );
    let mut header = format!("| {unit} |");
    let mut rule = String::from("|--:|");
    for t in &sc.targets {
        let _ = write!(header, " {} |", cell(&t.target));
        rule.push_str("--:|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    for &level in &sc.levels {
        let mut line = format!("| {level} |");
        for t in &sc.targets {
            match t.at(level) {
                Some(l) => {
                    let _ = write!(line, " {}", format_rps(l.rps_median));
                    if l.repeats > 1 {
                        let _ = write!(
                            line,
                            " ({}–{})",
                            format_rps(l.rps_min),
                            format_rps(l.rps_max)
                        );
                    }
                    let _ = write!(
                        line,
                        " · {} / {}",
                        l.latency_cell(l.p50_us()),
                        l.latency_cell(l.p99_us())
                    );
                    if l.unsent > 0 {
                        let _ = write!(
                            line,
                            " ({} errors, {} of them unsent)",
                            group_thousands(l.errors),
                            group_thousands(l.unsent)
                        );
                    } else if l.errors > 0 {
                        let _ = write!(line, " ({} errors)", group_thousands(l.errors));
                    }
                    line.push_str(&marks(&l.marks()));
                    line.push_str(" |");
                }
                None => line.push_str(" – |"),
            }
        }
        let _ = writeln!(md, "{line}");
    }
    md.push('\n');
    legend(md, report, sc);

    for chart in report.charts_of(&sc.slug) {
        let _ = writeln!(md, "![{}]({})\n", chart.title, png_link(chart));
    }
}

/// " ‡§" for non-empty marks, "" otherwise.
fn marks(m: &str) -> String {
    if m.is_empty() {
        String::new()
    } else {
        format!(" {m}")
    }
}

/// "CPU 0" or "CPUs 1, 2"
fn cpus(list: &[usize]) -> String {
    match list {
        [] => "no CPU list".into(),
        [one] => format!("CPU {one}"),
        many => format!(
            "CPUs {}",
            many.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Joins a command line, quoting arguments a shell would split.
fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A table cell: pipes escaped, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let args = [
            "bakeoff",
            "load",
            "http://127.0.0.1:3000/x?a=1",
            "-H",
            "X: y",
        ]
        .map(String::from);
        assert_eq!(
            shell_join(&args),
            "bakeoff load 'http://127.0.0.1:3000/x?a=1' -H 'X: y'"
        );
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cpus(&[1, 2]), "CPUs 1, 2");
    }
}
