//! Hover titles for the SVG charts: each data point of the throughput,
//! latency and per-core charts gets an invisible circle at its pixel
//! position holding a `<title>` with the point's value, so a browser shows
//! the figure on hover (report.html inlines the SVG). The titles are added
//! to the SVG text after drawing, on top of everything; the PNG never sees
//! them. Values are formatted by [`crate::units`], as in the tables.

use plotters::prelude::*;

use super::Coords;
use crate::results::Model;
use crate::units;

/// Radius of the invisible hover target: a little larger than a marker.
const HOVER_RADIUS: u32 = 9;

/// One hover title at a pixel position of the chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hover {
    pub at: (i32, i32),
    pub title: String,
}

/// The hover titles a chart collects while it draws.
pub(crate) type Hovers = Vec<Hover>;

/// Adds a hover title at data point `p` of `chart`.
pub(crate) fn add<DB: DrawingBackend>(
    hovers: &mut Hovers,
    chart: &ChartContext<'_, DB, Coords>,
    p: (f64, f64),
    title: String,
) {
    hovers.push(Hover {
        at: chart.backend_coord(&p),
        title,
    });
}

/// "node · 128 connections" or "node · 2 000 req/s offered".
pub(crate) fn point(target: &str, model: Model, level: u64) -> String {
    let level = units::group_thousands(level);
    match model {
        Model::Closed => format!("{target} · {level} connections"),
        Model::Open => format!("{target} · {level} req/s offered"),
        Model::Fanout => format!("{target} · {level} subscribers"),
    }
}

/// Inserts the hover circles before the SVG's closing tag (nothing when
/// there are none or the SVG has no closing tag).
pub(crate) fn insert(svg: &mut String, hovers: &[Hover]) {
    let Some(end) = svg.rfind("</svg>") else {
        return;
    };
    if hovers.is_empty() {
        return;
    }
    let mut group = String::from("<g class=\"hover\">\n");
    for h in hovers {
        group.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"{HOVER_RADIUS}\" fill=\"transparent\"><title>{}</title></circle>\n",
            h.at.0,
            h.at.1,
            escape(&h.title)
        ));
    }
    group.push_str("</g>\n");
    svg.insert_str(end, &group);
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::analysis::summarize;
    use crate::plot::{ChartKind, Palette, PlotContext, render_scenario};
    use crate::results::{
        HistogramSet, LatencySummary, Provenance, RunResults, StepRecord, Summary, encode_histogram,
    };

    fn step(target: &str, level: u64, rps: f64, latency_us: u64) -> StepRecord {
        let mut h = crate::results::new_histogram();
        for _ in 0..10 {
            h.record(latency_us).unwrap();
        }
        let mut s = StepRecord::new(target, "json", Model::Closed, level, 0);
        s.summary = Summary {
            requests: 10,
            rps,
            latency_us: LatencySummary::from_histogram(&h),
            ..Summary::default()
        };
        s.histograms = HistogramSet {
            total: encode_histogram(&h),
            ..HistogramSet::default()
        };
        s
    }

    /// The charts of a two-target, two-level run, as SVG text by kind.
    fn svgs(dir: &std::path::Path) -> Vec<(ChartKind, String)> {
        let mut run = RunResults::new(Provenance::default());
        run.steps = vec![
            step("node", 8, 1200.0, 4000),
            step("node", 128, 2350.0, 12000),
            step("django-sync", 8, 85.5, 90000),
            step("django-sync", 128, 90.0, 1_250_000),
        ];
        let s = summarize(&run);
        let palette = Palette::new(&s.targets, crate::variants::Variants::embedded());
        let ctx = PlotContext {
            scenario: &s.scenarios[0],
            palette: &palette,
            model: None,
        };
        render_scenario(&ctx, dir)
            .into_iter()
            .map(|c| c.unwrap())
            .map(|c| (c.kind, c.svg))
            .collect()
    }

    #[test]
    fn points_have_hover_titles_at_their_markers() {
        let dir = tempfile::tempdir().unwrap();
        let charts = svgs(dir.path());
        let svg = |kind| &charts.iter().find(|(k, _)| *k == kind).unwrap().1;
        let throughput = svg(ChartKind::Throughput);
        let title = "<title>node · 128 connections: 2 350 req/s</title>";
        assert!(throughput.contains(title), "{throughput}");
        assert!(throughput.contains("<title>django-sync · 8 connections: 85.5 req/s</title>"));
        // The hover circle sits where the marker of that point is drawn.
        let line = throughput.lines().find(|l| l.contains(title)).unwrap();
        let cx = line
            .split("cx=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let cy = line
            .split("cy=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let marker = format!("<circle cx=\"{cx}\" cy=\"{cy}\" r=\"6\"");
        assert!(throughput.contains(&marker), "no marker at {cx},{cy}");
        assert!(throughput.trim_end().ends_with("</g>\n</svg>"));

        let latency = svg(ChartKind::Latency);
        assert!(
            latency.contains("node · 128 connections: p99 "),
            "{latency}"
        );
        assert!(
            latency.contains("django-sync · 8 connections: p50 "),
            "{latency}"
        );
        // Two hover titles per target and level: p99 and p50.
        assert_eq!(latency.matches("<title>").count(), 8);

        // Byte-identical when drawn again.
        let again = svgs(dir.path());
        assert_eq!(charts, again);
    }

    #[test]
    fn titles_are_escaped_and_inserted_before_the_end() {
        let mut svg = "<svg>\n<rect/>\n</svg>\n".to_string();
        insert(
            &mut svg,
            &[Hover {
                at: (3, 4),
                title: "a<b & \"c\"".into(),
            }],
        );
        assert_eq!(
            svg,
            "<svg>\n<rect/>\n<g class=\"hover\">\n<circle cx=\"3\" cy=\"4\" r=\"9\" fill=\"transparent\">\
             <title>a&lt;b &amp; &quot;c&quot;</title></circle>\n</g>\n</svg>\n"
        );
        assert_eq!(
            point("node", Model::Open, 2000),
            "node · 2 000 req/s offered"
        );
    }
}
