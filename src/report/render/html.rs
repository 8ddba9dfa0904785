//! One self-contained HTML page: the CSS inline, every figure's SVG inline
//! (its XML prolog dropped), no `src` and no `href` but the links the
//! document itself contains, so the page opens offline and can be attached
//! anywhere. A figure without an SVG says so in place of the chart rather
//! than linking its PNG. Every piece of text is escaped (`& < > "`).

use super::heading_level;
use crate::report::doc::{Align, Block, Document, Figure, Rich, Span, Table};

/// The page's stylesheet (alignment classes `r` and `c` for table cells,
/// `missing` for a chart that is not available).
pub const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif;
       margin: 0; color: #1b1b1b; background: #fff; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.9em; margin: 0.4em 0 0.6em; }
h2 { font-size: 1.4em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.15em; margin-top: 1.5em; }
h4 { font-size: 1em; margin-top: 1.2em; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.92em; }
th, td { border: 1px solid #d0d0d0; padding: 4px 10px; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
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

/// The page's `<title>` when the document has none.
const UNTITLED: &str = "bakeoff";

pub fn render(doc: &Document) -> String {
    let title = doc.title.trim();
    let mut body = String::new();
    if !title.is_empty() {
        body.push_str(&format!("<h1>{}</h1>\n", escape(title)));
    }
    let mut ids = Vec::new();
    for b in &doc.blocks {
        body.push_str(&block(b, &mut ids));
        body.push('\n');
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(if title.is_empty() { UNTITLED } else { title })
    )
}

/// The anchor of a heading, as Markdown viewers make it: lower-case
/// letters and digits, every other run of characters one `-` ("json —
/// closed model" → `json-closed-model`); `-2`, `-3`… for repeats.
fn unique_id(seen: &mut Vec<String>, text: &str) -> String {
    let mut id = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = match id.trim_end_matches('-') {
        "" => "section".to_string(),
        s => s.to_string(),
    };
    let n = seen.iter().filter(|s| **s == id).count();
    seen.push(id.clone());
    if n == 0 {
        id
    } else {
        format!("{id}-{}", n + 1)
    }
}

/// One block; `ids`: the heading anchors so far.
fn block(b: &Block, ids: &mut Vec<String>) -> String {
    match b {
        Block::Heading { level, text } => {
            let h = heading_level(*level);
            let id = unique_id(ids, text);
            format!("<h{h} id=\"{id}\">{}</h{h}>", escape(text.trim()))
        }
        Block::Paragraph(r) => format!("<p>{}</p>", inline(r)),
        Block::Note(r) => format!("<blockquote><p>{}</p></blockquote>", inline(r)),
        Block::List(items) => {
            let items: String = items
                .iter()
                .map(|r| format!("<li>{}</li>\n", inline(r)))
                .collect();
            format!("<ul>\n{items}</ul>")
        }
        Block::Table(t) => table(t),
        Block::Figure(f) => figure(f),
        Block::Code(code) => format!(
            "<pre><code>{}</code></pre>",
            escape(code.trim_end_matches('\n'))
        ),
    }
}

fn table(t: &Table) -> String {
    let class = |a: Align| match a {
        Align::Left => "",
        Align::Right => " class=\"r\"",
        Align::Center => " class=\"c\"",
    };
    let mut out = String::from("<table>\n<thead>\n<tr>");
    for c in &t.columns {
        out.push_str(&format!("<th{}>{}</th>", class(c.align), escape(&c.title)));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let align = t.columns.get(i).map_or(Align::Left, |c| c.align);
            out.push_str(&format!("<td{}>{}</td>", class(align), inline(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>");
    out
}

fn figure(f: &Figure) -> String {
    let mut out = String::from("<figure>\n");
    if !f.caption.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", inline(&f.caption)));
    }
    match &f.svg {
        Some(svg) => {
            out.push_str(inline_svg(svg));
            out.push_str(&format!("\n<figcaption>{}</figcaption>\n", escape(&f.alt)));
        }
        None => out.push_str(&format!(
            "<p class=\"missing\">chart not available: {}</p>\n",
            escape(&f.alt)
        )),
    }
    out.push_str("</figure>");
    out
}

fn inline(r: &Rich) -> String {
    r.0.iter()
        .map(|span| match span {
            Span::Text(t) => escape(t),
            Span::Strong(t) => format!("<strong>{}</strong>", escape(t)),
            Span::Emph(t) => format!("<em>{}</em>", escape(t)),
            Span::Code(t) => format!("<code>{}</code>", escape(t)),
            Span::Link { text, href } => {
                format!("<a href=\"{}\">{}</a>", escape(href), escape(text))
            }
        })
        .collect()
}

/// An SVG document made fit for embedding: no XML prolog (or anything
/// else before `<svg`), no trailing whitespace.
pub fn inline_svg(svg: &str) -> &str {
    let s = svg.trim();
    s.find("<svg").map_or(s, |start| &s[start..])
}

/// Escapes `& < > "` for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Column;

    /// The page between `<main>` and `</main>`.
    fn body(doc: &Document) -> String {
        let page = render(doc);
        let start = page.find("<main>\n").unwrap() + "<main>\n".len();
        let end = page.find("</main>").unwrap();
        page[start..end].to_string()
    }

    #[test]
    fn heading_anchors_are_unique() {
        let mut ids = Vec::new();
        assert_eq!(
            unique_id(&mut ids, "json — closed model"),
            "json-closed-model"
        );
        assert_eq!(unique_id(&mut ids, "Caveats"), "caveats");
        assert_eq!(unique_id(&mut ids, "caveats"), "caveats-2");
        assert_eq!(unique_id(&mut ids, "—"), "section");
    }

    #[test]
    fn blocks_and_escaping() {
        let mut doc = Document::new("R&D <report>");
        doc.heading(2, "a \"b\"");
        doc.note(Rich::strong("Note:").and(" x < y"));
        doc.paragraph(
            Rich::text("see ")
                .and_link("docs", "https://x.test/?a=1&b=\"2\"")
                .and_code("<br>"),
        );
        doc.list(vec![Rich::text("one"), Rich::text("two").and_emph("&")]);
        doc.blocks.push(Block::Code("<a>\n".into()));
        let page = render(&doc);
        assert!(
            page.contains("<title>R&amp;D &lt;report&gt;</title>"),
            "{page}"
        );
        assert!(page.ends_with("</html>\n"));
        assert_eq!(
            body(&doc),
            "<h1>R&amp;D &lt;report&gt;</h1>\n\
             <h2 id=\"a-b\">a &quot;b&quot;</h2>\n\
             <blockquote><p><strong>Note:</strong> x &lt; y</p></blockquote>\n\
             <p>see <a href=\"https://x.test/?a=1&amp;b=&quot;2&quot;\">docs</a><code>&lt;br&gt;</code></p>\n\
             <ul>\n<li>one</li>\n<li>two<em>&amp;</em></li>\n</ul>\n\
             <pre><code>&lt;a&gt;</code></pre>\n"
        );
    }

    #[test]
    fn tables_align_with_classes() {
        let mut t = Table::new(vec![
            Column::left("target"),
            Column::right("req/s"),
            Column {
                title: "ok".into(),
                align: Align::Center,
            },
        ]);
        t.row([Rich::text("node"), Rich::text("2 350"), Rich::text("✓")]);
        let mut doc = Document::new("");
        doc.table(t);
        assert_eq!(
            body(&doc),
            "<table>\n<thead>\n<tr><th>target</th><th class=\"r\">req/s</th><th class=\"c\">ok</th></tr>\n\
             </thead>\n<tbody>\n<tr><td>node</td><td class=\"r\">2 350</td><td class=\"c\">✓</td></tr>\n\
             </tbody>\n</table>\n"
        );
        assert!(render(&doc).contains("<title>bakeoff</title>"));
    }

    #[test]
    fn figures_inline_their_svg_or_say_it_is_missing() {
        let mut doc = Document::new("");
        doc.figure(Figure {
            caption: Rich::text("Higher is better."),
            alt: "Throughput <json>".into(),
            png: "charts/t.png".into(),
            svg: Some("<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 1 1\"></svg>\n".into()),
        });
        doc.figure(Figure {
            caption: Rich::default(),
            alt: "Latency".into(),
            png: "charts/l.png".into(),
            svg: None,
        });
        assert_eq!(
            body(&doc),
            "<figure>\n<p>Higher is better.</p>\n<svg viewBox=\"0 0 1 1\"></svg>\n\
             <figcaption>Throughput &lt;json&gt;</figcaption>\n</figure>\n\
             <figure>\n<p class=\"missing\">chart not available: Latency</p>\n</figure>\n"
        );
        let page = render(&doc);
        assert!(
            !page.contains("src=") && !page.contains("charts/"),
            "{page}"
        );
    }
}
