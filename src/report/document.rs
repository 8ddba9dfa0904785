//! The run report as one [`Document`], in the order a reader of a design
//! doc needs it: the title, with short notes that qualify every figure
//! (the run is incomplete; read the numbers as relative; levels where no
//! request succeeded; flagged steps); the verdict table, one headline chart
//! per claim, the throughput ratios and capacity ([`super::claims`]); per
//! scenario the summary tables (cells that include a flagged step marked
//! † ‡ § ¶, with a legend under the table; "n/a" where no request
//! succeeded, never 0) and its charts, then for a surge profile its Surge
//! table (the recovery rule, per target the surge's figures) and chart;
//! the Caveats section listing every flagged step; and at the end the
//! provenance and the variants (server
//! processes, server and PostgreSQL CPU, and whether one CPU could show
//! what several processes buy). `report.md` and `report.html` are this
//! document rendered. Every figure comes from the [`Analysis`]; every chart
//! shown was drawn. Deterministic: every date comes from the results'
//! provenance, never from the clock.

use super::doc::{Column, Document, Figure, Rich, Table};
use super::{Charts, claims as claim_blocks};
use crate::analysis::Analysis;
use crate::analysis::summary::{
    Caveat, FLAGS, NoSuccess, RunSummary, ScenarioSummary, flag_mark, flag_meaning, flag_name,
};
use crate::analysis::surge::SurgeLevel;
use crate::measure::{RECOVERY_ERROR_SHARE, RECOVERY_FACTOR, RECOVERY_HOLD, RECOVERY_SLACK_US};
use crate::plot::ChartKind;
use crate::results::{Model, Provenance, StepFlag, SurgeSummary};
use crate::units;

/// The whole run report.
pub fn run_report(a: &Analysis, charts: &Charts, warnings: &[String]) -> Document {
    let p = &a.provenance;
    let suite = if p.suite.is_empty() { "run" } else { &p.suite };
    let mut doc = Document::new(format!("bakeoff report: {suite}"));
    if !a.complete {
        doc.note(
            Rich::strong("Incomplete run.").and(format!(
                " The run stopped before every planned step was measured; the tables and charts below show only the {} step(s) that were.",
                a.steps
            )),
        );
    }
    // Short notes that qualify every figure below, verdicts included.
    doc.note(shared_machine_note(p));
    if !a.summary.no_success.is_empty() {
        doc.note(no_success_note(&a.summary.no_success));
    }
    if !a.summary.caveats.is_empty() {
        doc.note(caveats_note(&a.summary.caveats));
    }
    if let Some(c) = &a.claims {
        claim_blocks::verdicts(&mut doc, a, c);
        claim_blocks::headlines(&mut doc, c, charts);
        if let Some(t) = &c.ratio_table {
            claim_blocks::ratio_table(&mut doc, t);
        }
        if let Some(t) = &c.orm_table {
            claim_blocks::orm_table(&mut doc, t);
        }
        claim_blocks::capacity(&mut doc, &c.capacity);
    }
    if a.summary.scenarios.is_empty() {
        doc.paragraph("No steps were measured, so there is nothing to chart.");
    }
    for sc in &a.summary.scenarios {
        scenario(&mut doc, &a.summary, sc, charts);
        if let Some(model) = a.scalability_of(&sc.scenario) {
            super::scalability::section(&mut doc, model);
        }
        surge(&mut doc, sc, charts);
    }
    caveats(&mut doc, &a.summary.caveats);
    provenance(&mut doc, p);
    variants(&mut doc, p, &a.summary);
    if !warnings.is_empty() {
        doc.heading(2, "Warnings");
        doc.list(
            warnings
                .iter()
                .map(|w| Rich::text(w.replace('\n', " ")))
                .collect(),
        );
    }
    doc
}

fn shared_machine_note(p: &Provenance) -> Rich {
    let cores = match p.cores {
        0 => "its".to_string(),
        1 => "its single core's".to_string(),
        n => format!("its {n} cores'"),
    };
    Rich::strong("Read the numbers as relative.").and(format!(
        " The load generator and the targets ran on the same machine and competed for {cores} time, so absolute figures depend on this machine and this generator. Compare the targets with each other, not with figures measured elsewhere."
    ))
}

/// The note near the top when some levels had no successful request.
fn no_success_note(list: &[NoSuccess]) -> Rich {
    // (target, scenario, model) → levels.
    type Point<'a> = (&'a str, &'a str, Model);
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
    Rich::strong("No request succeeded").and(format!(
        " for {}. Those cells show 0 req/s and n/a for latency (a failure has no percentiles), and no verdict counts them in the target's favour.",
        parts.join("; ")
    ))
}

/// The note near the top of a report with flagged steps.
fn caveats_note(caveats: &[Caveat]) -> Rich {
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
    let mut note = Rich::strong(format!(
        "{} flagged {}.",
        steps.len(),
        if steps.len() == 1 { "step" } else { "steps" }
    ))
    .and(format!(
        " Table cells that include one are marked ({}); ",
        marks.join(", ")
    ))
    .and_link("Caveats", "#caveats")
    .and(" lists each.");
    if caveats.iter().any(|c| c.flag.disqualifies()) {
        note = note.and(" No verdict rests on a step flagged interrupted or generator saturated.");
    }
    note
}

fn scenario(doc: &mut Document, summary: &RunSummary, sc: &ScenarioSummary, charts: &Charts) {
    let unit = sc.model.level_label();
    doc.heading(2, sc.heading());
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
    let fanout = sc.model == crate::model::Model::Fanout;
    if fanout {
        let buses: Vec<String> = sc
            .targets
            .iter()
            .map(|t| {
                format!(
                    "{} {}",
                    t.target,
                    t.bus.as_deref().unwrap_or("not recorded")
                )
            })
            .collect();
        doc.paragraph(format!(
            "A fan-out scenario (WebSocket broadcast): throughput is deliveries per second ({basis}), latency is the delivery latency (receive time minus the message's intended send time), requests are the expected deliveries and errors the lost ones (results/README.md, fan-out figures); \"best\" is the level with the most deliveries per second. Broadcast bus, as each target's GET /ws/info said: {}.",
            buses.join(", ")
        ));
    } else {
        doc.paragraph(format!(
            "Throughput is successful requests per second ({basis}); \"best\" is the level with the highest throughput."
        ));
    }
    let mut best = Table::new(vec![
        Column::left("target"),
        Column::right(if fanout {
            "best deliveries/s"
        } else {
            "best req/s"
        }),
        Column::right(format!("at {unit}")),
        Column::right(format!("highest {unit} measured")),
        Column::right("requests"),
        Column::right("errors"),
    ]);
    for t in &sc.targets {
        let (best_rps, best_level) = t
            .best()
            .map(|b| {
                (
                    units::rps(b.rps_median),
                    b.level.to_string() + &marks(&b.marks()),
                )
            })
            .unwrap_or_else(|| (units::rps(0.0), "n/a".to_string()));
        let all_marks: String = FLAGS
            .iter()
            .filter(|f| t.levels.iter().any(|l| l.has(**f)))
            .map(|f| flag_mark(*f))
            .collect();
        best.row([
            Rich::text(format!("{}{}", t.target, marks(&all_marks))),
            Rich::text(best_rps),
            Rich::text(best_level),
            Rich::text(t.max_level().map(|l| l.to_string()).unwrap_or_default()),
            Rich::text(units::group_thousands(t.requests())),
            Rich::text(units::errors(t.errors(), t.requests(), t.unsent())),
        ]);
    }
    doc.table(best);

    doc.paragraph(
        Rich::text("Per level, each cell reads ")
            .and_emph("req/s · p50 / p99 latency in ms")
            .and(" (req/s is the median of the repeats, with their min–max in brackets when there are several; each percentile is the median of the repeats' percentiles of their successful requests, the figure verdicts, gates and ")
            .and_code("compare")
            .and(" use; n/a where no request succeeded, failing where a repeat with more than 1% of its requests failed, or without a success, decides the median):"),
    );
    let mut columns = vec![Column::right(unit)];
    columns.extend(sc.targets.iter().map(|t| Column::right(t.target.clone())));
    let mut levels = Table::new(columns);
    for &level in &sc.levels {
        let mut row = vec![Rich::text(level.to_string())];
        for t in &sc.targets {
            row.push(Rich::text(match t.at(level) {
                Some(l) => {
                    let mut cell = units::rps(l.rps_median);
                    if l.repeats > 1 {
                        cell += &format!(" ({}–{})", units::rps(l.rps_min), units::rps(l.rps_max));
                    }
                    cell += &format!(
                        " · {} / {}",
                        l.latency_cell(l.p50_us()),
                        l.latency_cell(l.p99_us())
                    );
                    if l.unsent > 0 {
                        cell += &format!(
                            " ({} errors, {} of them unsent)",
                            units::group_thousands(l.errors),
                            units::group_thousands(l.unsent)
                        );
                    } else if l.errors > 0 {
                        cell += &format!(" ({} errors)", units::group_thousands(l.errors));
                    }
                    cell + &marks(&l.marks())
                }
                None => "–".to_string(),
            }));
        }
        levels.row(row);
    }
    doc.table(levels);
    legend(doc, summary, sc);
    for chart in charts
        .of_scenario(&sc.slug)
        .filter(|c| c.kind != ChartKind::Surge)
    {
        doc.figure(Figure {
            caption: Rich::default(),
            ..charts.figure(chart)
        });
    }
}

/// The Surge section of a scenario with surge figures: the recovery rule,
/// per target and surge level its figures (medians over the repeats), and
/// the surge chart. Nothing for a scenario without a surge.
fn surge(doc: &mut Document, sc: &ScenarioSummary, charts: &Charts) {
    let levels: Vec<(&str, &SurgeLevel)> = sc
        .targets
        .iter()
        .flat_map(|t| {
            t.levels
                .iter()
                .filter_map(|l| Some((t.target.as_str(), l.surge.as_ref()?)))
        })
        .collect();
    if levels.is_empty() {
        return;
    }
    doc.heading(3, "Surge");
    doc.paragraph(format!(
        "A second is back to baseline when its p99 is at most {} × the baseline p99 (and never less than the baseline + {}) and at most {}% of its requests failed (or the baseline's share, if higher); the recovery time runs from the surge's end to the first of {RECOVERY_HOLD} consecutive seconds back to baseline. The baseline is the seconds before the surge (without the first); the peak p99 is the highest of any second from the surge's start on.{}",
        units::number(RECOVERY_FACTOR),
        units::latency(RECOVERY_SLACK_US as f64),
        units::number(RECOVERY_ERROR_SHARE * 100.0),
        if levels.iter().any(|(_, s)| s.repeats.len() > 1) {
            " With several repeats, each figure is the median of the repeats' and the surge errors are each repeat's, in repeat order."
        } else {
            ""
        },
    ));
    let mut t = Table::new(vec![
        Column::left("target"),
        Column::right("surge (req/s)"),
        Column::right("baseline p99"),
        Column::right("peak p99"),
        Column::right("peak backlog"),
        Column::right("surge errors"),
        Column::right("recovery"),
        Column::left("outcome"),
    ]);
    for (target, s) in levels {
        let rates = s
            .repeats
            .first()
            .map(|r| {
                format!(
                    "{} → {}",
                    units::rps(r.baseline_rate),
                    units::rps(r.peak_rate)
                )
            })
            .unwrap_or_default();
        let latency = |us: Option<f64>| units::latency(us.unwrap_or(f64::NAN));
        let errors: Vec<String> = s.repeats.iter().map(surge_errors).collect();
        let mut recovery = units::recovery(s.recovery_s);
        if s.repeats.len() > 1 && s.not_recovered > 0 {
            recovery += &format!(
                " ({} of {} repeats did not)",
                s.not_recovered,
                s.repeats.len()
            );
        }
        t.row([
            Rich::text(target),
            Rich::text(rates),
            Rich::text(latency(s.baseline_p99_us)),
            Rich::text(latency(s.peak_p99_us)),
            Rich::text(units::group_thousands(s.peak_backlog.round() as u64)),
            Rich::text(errors.join(" / ")),
            Rich::text(recovery),
            Rich::text(s.outcome.as_str()),
        ]);
    }
    doc.table(t);
    if let Some(chart) = charts
        .of_scenario(&sc.slug)
        .find(|c| c.kind == ChartKind::Surge)
    {
        doc.figure(charts.figure(chart));
    }
}

/// A repeat's surge errors as "12 (0.40%)".
fn surge_errors(s: &SurgeSummary) -> String {
    units::errors(s.surge_errors, s.surge_offered, 0)
}

/// Legend lines under a scenario's tables: each flag present, what it
/// means, and where (with the generator's reason for saturated steps).
fn legend(doc: &mut Document, summary: &RunSummary, sc: &ScenarioSummary) {
    let in_scenario: Vec<&Caveat> = summary
        .caveats
        .iter()
        .filter(|c| c.scenario == sc.scenario && c.model == sc.model)
        .collect();
    let mut items = Vec::new();
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
        items.push(
            Rich::text(format!("{} ", flag_mark(flag)))
                .and_strong(flag_name(flag))
                .and(format!(
                    ": {}. {}.",
                    places.join("; "),
                    capitalize(flag_meaning(flag))
                )),
        );
    }
    doc.list(items);
}

/// The Caveats section: every flagged step, one row per flag.
fn caveats(doc: &mut Document, caveats: &[Caveat]) {
    if caveats.is_empty() {
        return;
    }
    doc.heading(2, "Caveats");
    doc.paragraph(
        Rich::text("Steps whose figures need care. Repeats count from 0, as in ")
            .and_code("summary.csv")
            .and("."),
    );
    doc.list(
        FLAGS
            .iter()
            .filter(|f| caveats.iter().any(|c| c.flag == **f))
            .map(|&flag| {
                Rich::text(format!("{} ", flag_mark(flag)))
                    .and_strong(flag_name(flag))
                    .and(" (")
                    .and_code(flag.as_str())
                    .and(format!("): {}.", flag_meaning(flag)))
            })
            .collect(),
    );
    let mut t = Table::new(vec![
        Column::left("target"),
        Column::left("scenario"),
        Column::right("level"),
        Column::right("repeat"),
        Column::left("flag"),
        Column::left("detail"),
    ]);
    for c in caveats {
        t.row([
            Rich::text(c.target.clone()),
            Rich::text(c.scenario.clone()),
            Rich::text(format!("{} {}", c.level, c.model.level_label())),
            Rich::text(c.repeat.to_string()),
            Rich::text(format!("{} {}", flag_mark(c.flag), c.flag.as_str())),
            Rich::text(c.detail.clone()),
        ]);
    }
    doc.table(t);
}

fn provenance(doc: &mut Document, p: &Provenance) {
    doc.heading(2, "Provenance");
    let mut t = Table::new(vec![Column::left(""), Column::left("")]);
    let mut row = |k: &str, v: Rich| {
        if !v.plain().trim().is_empty() {
            t.row([Rich::text(k), v]);
        }
    };
    row("Date", Rich::text(p.started_at.clone()));
    row("Host", Rich::text(p.host.clone()));
    row("Cores", Rich::text(p.cores.to_string()));
    row("OS", Rich::text(p.os.clone()));
    row(
        "CPU layout",
        Rich::text(match &p.cpu_layout {
            Some(l) => format!(
                "load generator on {}; targets and database on {}",
                cpus(&l.generator),
                cpus(&l.targets)
            ),
            None => "not pinned (generator, targets and database share all cores)".into(),
        }),
    );
    row("Suite", Rich::text(p.suite.clone()));
    row("Targets from", Rich::text(p.targets_mode.clone()));
    row(
        "Command",
        if p.command_line.is_empty() {
            Rich::default()
        } else {
            Rich::code(shell_join(&p.command_line))
        },
    );
    let bakeoff = match &p.git_commit {
        Some(c) => format!("{} (git {c})", p.bakeoff_version),
        None => p.bakeoff_version.clone(),
    };
    row("bakeoff", Rich::text(bakeoff));
    for (name, version) in &p.versions {
        if name != "bakeoff" {
            row(name, Rich::text(version.clone()));
        }
    }
    doc.table(t);
    if !p.notes.is_empty() {
        doc.paragraph("Notes:");
        doc.list(
            p.notes
                .iter()
                .map(|n| Rich::text(n.replace('\n', " ")))
                .collect(),
        );
    }
}

/// The Variants section: per variant its server processes and the CPU its
/// servers and PostgreSQL used; and, when the servers had one CPU, what
/// that means for multi-process variants. Left out when no step sampled
/// its server (e.g. `bakeoff load`).
fn variants(doc: &mut Document, p: &Provenance, summary: &RunSummary) {
    let sampled = summary.variants.iter().any(|v| v.sampled_steps > 0);
    let one_cpu = p.cpu_layout.as_ref().filter(|l| l.targets.len() == 1);
    if !sampled && one_cpu.is_none() {
        return;
    }
    doc.heading(2, "Variants");
    if sampled {
        doc.paragraph("Server processes are the most live processes of a variant seen in one sample (primary and workers). CPU is summed over the measured windows of the steps whose servers were sampled; PostgreSQL CPU is that of the database bakeoff ran for them. Requests per core divide successful requests by both.");
        let mut t = Table::new(vec![
            Column::left("variant"),
            Column::right("server processes"),
            Column::right("steps sampled"),
            Column::right("server CPU (s)"),
            Column::right("PostgreSQL CPU (s)"),
        ]);
        for v in &summary.variants {
            let none = || "—".to_string();
            t.row([
                Rich::text(v.target.clone()),
                Rich::text(v.processes.map_or_else(none, |n| n.to_string())),
                Rich::text(v.sampled_steps.to_string()),
                Rich::text(if v.sampled_steps > 0 {
                    format!("{:.1}", v.server_cpu_s)
                } else {
                    none()
                }),
                Rich::text(match v.db_cpu_s {
                    Some(s) => format!("{s:.1}"),
                    None if v.sampled_steps > 0 => "not run by bakeoff".to_string(),
                    None => none(),
                }),
            ]);
        }
        doc.table(t);
    }
    if let Some(layout) = one_cpu {
        doc.note(single_cpu_note(&layout.targets, summary));
    }
}

/// The sentence for servers pinned to one CPU: several processes take
/// turns on it, so what clustering buys cannot show.
fn single_cpu_note(cpus_list: &[usize], summary: &RunSummary) -> Rich {
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
    Rich::strong("One CPU for the servers.").and(format!(
        " The targets and the database ran on {} only, so {which} could not show what running several processes buys: on one CPU they take turns. node-cluster against node here measures the cost of clustering, not its benefit.",
        cpus(cpus_list)
    ))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
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
        assert_eq!(cpus(&[1, 2]), "CPUs 1, 2");
    }
}
