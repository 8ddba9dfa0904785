//! `report.html`: the Markdown report converted to HTML in one
//! self-contained file — CSS inline, every chart's SVG inline, no external
//! `src` or `href`, so it opens offline and can be attached anywhere.

use std::collections::BTreeMap;

use super::markup::{escape, to_html};
use super::{Exporter, Report, ReportError, markdown, png_link};

pub struct HtmlExporter;

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif;
       margin: 0; color: #1b1b1b; background: #fff; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.9em; margin: 0.4em 0 0.6em; }
h2 { font-size: 1.4em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.92em; }
th, td { border: 1px solid #d0d0d0; padding: 4px 10px; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.c, th.c { text-align: center; }
tbody tr:nth-child(even) { background: #fafafa; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
       font-size: 0.9em; background: #f2f2f2; padding: 1px 4px; border-radius: 3px; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; }
pre code { background: none; padding: 0; }
blockquote { margin: 1em 0; padding: 0.5em 1em; border-left: 4px solid #e69f00; background: #fff8e8; }
blockquote p { margin: 0.3em 0; }
figure { margin: 1.2em 0 2em; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; margin-top: 0.3em; }
.missing { color: #a00; }
"#;

impl Exporter for HtmlExporter {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn export(&self, report: &Report) -> Result<Vec<u8>, ReportError> {
        let md = markdown::render(report);
        // The Markdown links each chart's PNG; here the same link resolves
        // to the chart's SVG, inlined.
        let svgs: BTreeMap<String, &str> = report
            .charts
            .iter()
            .map(|c| (png_link(c), c.svg.as_str()))
            .collect();
        let resolve = |src: &str, _alt: &str| svgs.get(src).map(|svg| inline_svg(svg));
        let body = to_html(&md, &resolve);
        let p = &report.results.provenance;
        let title = if p.suite.is_empty() {
            "bakeoff report".to_string()
        } else {
            format!("bakeoff report: {}", p.suite)
        };
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
            escape(&title)
        );
        Ok(page.into_bytes())
    }
}

/// An SVG document made fit for embedding: no XML prolog, scales with CSS.
fn inline_svg(svg: &str) -> String {
    let s = svg.trim();
    let s = match s.find("<svg") {
        Some(start) => &s[start..],
        None => s,
    };
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prolog_is_dropped() {
        assert_eq!(
            inline_svg("<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 1 1\"></svg>\n"),
            "<svg viewBox=\"0 0 1 1\"></svg>"
        );
    }
}
