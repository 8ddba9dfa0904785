//! Markdown in report.md's style: `# title`, `##`..`####` headings, notes
//! as `> ` lines, `- ` lists, pipe tables with an alignment row (`---`,
//! `--:`, `:-:`), figures as their caption then `![alt](png)`, code blocks
//! fenced. Literal text is escaped only where Markdown would misread it:
//! `*`, `` ` ``, a `\` before punctuation, `<` opening a tag, `](`, a line
//! opening with `#`, `>`, `-`, `+`; in table cells also `|`, and newlines
//! become spaces. Ordinary punctuation (`.`, `(`, `_`) is left alone.

use super::{heading_level, join_blocks};
use crate::report::doc::{Align, Block, Document, Figure, Rich, Span, Table};

pub fn render(doc: &Document) -> String {
    let title =
        (!doc.title.trim().is_empty()).then(|| format!("# {}", escape(&line(&doc.title), false)));
    join_blocks(title.into_iter().chain(doc.blocks.iter().map(block)))
}

fn block(b: &Block) -> String {
    match b {
        Block::Heading { level, text } => {
            format!(
                "{} {}",
                "#".repeat(heading_level(*level)),
                escape(&line(text), false)
            )
        }
        Block::Paragraph(r) => inline(r, false),
        Block::Note(r) => inline(r, false)
            .lines()
            .map(|l| {
                if l.is_empty() {
                    ">".into()
                } else {
                    format!("> {l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Block::List(items) => items
            .iter()
            .map(|r| format!("- {}", inline(r, false).replace('\n', "\n  ")))
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Table(t) => table(t),
        Block::Figure(f) => figure(f),
        Block::Code(code) => {
            let fence = "`".repeat(longest_run(code, '`').max(2) + 1);
            format!("{fence}\n{}\n{fence}", code.trim_end_matches('\n'))
        }
    }
}

fn table(t: &Table) -> String {
    let row = |cells: Vec<String>| {
        let mut line = String::from("|");
        for c in cells {
            if c.is_empty() {
                line.push_str(" |");
            } else {
                line.push_str(&format!(" {c} |"));
            }
        }
        line
    };
    let mut lines = vec![row(t.columns.iter().map(|c| cell_text(&c.title)).collect())];
    let mut rule = String::from("|");
    for c in &t.columns {
        rule.push_str(match c.align {
            Align::Left => "---|",
            Align::Right => "--:|",
            Align::Center => ":-:|",
        });
    }
    lines.push(rule);
    for r in &t.rows {
        let mut cells: Vec<String> = r.iter().map(|c| inline(c, true)).collect();
        cells.resize(t.columns.len().max(cells.len()), String::new());
        lines.push(row(cells));
    }
    lines.join("\n")
}

fn figure(f: &Figure) -> String {
    let alt = line(&f.alt).replace('[', "\\[").replace(']', "\\]");
    let img = format!("![{alt}]({})", href(&f.png));
    if f.caption.is_empty() {
        img
    } else {
        format!("{}\n\n{img}", inline(&f.caption, false))
    }
}

/// Rich text as Markdown; `cell`: inside a table cell (one line, `|` escaped).
fn inline(r: &Rich, cell: bool) -> String {
    let mut out = String::new();
    for span in &r.0 {
        let at_start = out.is_empty() || out.ends_with('\n');
        match span {
            Span::Text(t) => out.push_str(&escape(t, at_start)),
            Span::Strong(t) => out.push_str(&format!("**{}**", escape(t, false))),
            Span::Emph(t) => out.push_str(&format!("*{}*", escape(t, false))),
            Span::Code(c) => out.push_str(&code_span(c)),
            Span::Link { text, href: h } => {
                let text = escape(text, false).replace('[', "\\[").replace(']', "\\]");
                out.push_str(&format!("[{text}]({})", href(h)));
            }
        }
    }
    if cell { cell_text(&out) } else { out }
}

/// A table cell is one line, and `|` would end it (also inside code spans).
fn cell_text(s: &str) -> String {
    s.replace('|', "\\|")
        .replace("\r\n", " ")
        .replace(['\n', '\r'], " ")
}

/// Text that must stay on one line (title, heading, alt text).
fn line(s: &str) -> String {
    s.trim().replace("\r\n", " ").replace(['\n', '\r'], " ")
}

/// Escapes the characters of literal text that Markdown would read as
/// markup; `at_start`: the text begins a line.
fn escape(t: &str, mut at_start: bool) -> String {
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::with_capacity(t.len());
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let special = match c {
            '*' | '`' => true,
            '#' | '>' | '-' | '+' => at_start,
            '\\' => next.is_some_and(|n| n.is_ascii_punctuation()),
            '<' => next.is_some_and(|n| n.is_ascii_alphabetic() || "/!?".contains(n)),
            ']' => next == Some('('),
            _ => false,
        };
        if special {
            out.push('\\');
        }
        out.push(c);
        at_start = c == '\n' || (at_start && c == ' ');
    }
    out
}

/// `` `x` ``, with a longer fence when `x` holds backticks (and padding
/// when it starts or ends with one, as CommonMark requires).
fn code_span(c: &str) -> String {
    let fence = "`".repeat(longest_run(c, '`') + 1);
    if c.starts_with('`') || c.ends_with('`') {
        format!("{fence} {c} {fence}")
    } else {
        format!("{fence}{c}{fence}")
    }
}

/// A link target: characters that would end or break `(...)` are
/// percent-encoded.
fn href(h: &str) -> String {
    h.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('<', "%3C")
        .replace('>', "%3E")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == ch { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Column;

    #[test]
    fn a_small_report() {
        let mut doc = Document::new("bakeoff report: quick");
        doc.note(Rich::strong("Incomplete run.").and(" Only 3 steps ran."));
        doc.heading(2, "Throughput");
        doc.paragraph(
            Rich::text("Run ")
                .and_code("bakeoff run")
                .and(" (see ")
                .and_link("README", "README.md")
                .and(")."),
        );
        let mut t = Table::new(vec![Column::left("target"), Column::right("req/s")]);
        t.row([Rich::text("node"), Rich::text("2 350")]);
        t.row([Rich::text("a|b\nc"), Rich::code("x|y")]);
        doc.table(t);
        doc.list(vec![Rich::text("one"), Rich::text("two").and_emph("!")]);
        doc.figure(Figure {
            caption: Rich::text("Higher is better."),
            alt: "Throughput [json]".into(),
            png: "charts/json-throughput.png".into(),
            svg: None,
        });
        doc.blocks.push(Block::Code("a\nb\n".into()));
        assert_eq!(
            render(&doc),
            "# bakeoff report: quick\n\n\
             > **Incomplete run.** Only 3 steps ran.\n\n\
             ## Throughput\n\n\
             Run `bakeoff run` (see [README](README.md)).\n\n\
             | target | req/s |\n|---|--:|\n| node | 2 350 |\n| a\\|b c | `x\\|y` |\n\n\
             - one\n- two*!*\n\n\
             Higher is better.\n\n\
             ![Throughput \\[json\\]](charts/json-throughput.png)\n\n\
             ```\na\nb\n```\n"
        );
    }

    #[test]
    fn no_title_no_heading_line_and_one_final_newline() {
        let mut doc = Document::new("");
        doc.paragraph("just this");
        assert_eq!(render(&doc), "just this\n");
        assert_eq!(render(&Document::new("")), "");
    }

    #[test]
    fn only_markup_is_escaped() {
        let mut doc = Document::new("");
        doc.paragraph("# not a heading. (p99) 2*3 <b> a](b) C:\\x \\*");
        doc.paragraph("- no list\n> no quote");
        doc.paragraph("a - b > c # d");
        assert_eq!(
            render(&doc),
            "\\# not a heading. (p99) 2\\*3 \\<b> a\\](b) C:\\x \\\\\\*\n\n\
             \\- no list\n\\> no quote\n\n\
             a - b > c # d\n"
        );
    }

    #[test]
    fn code_spans_with_backticks_get_a_longer_fence() {
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
        let mut doc = Document::new("");
        doc.blocks.push(Block::Code("```\nx\n```".into()));
        assert_eq!(render(&doc), "````\n```\nx\n```\n````\n");
    }

    #[test]
    fn empty_column_titles_and_centred_columns() {
        let mut t = Table::new(vec![
            Column::left(""),
            Column {
                title: String::new(),
                align: Align::Center,
            },
        ]);
        t.row([Rich::text("Date"), Rich::default()]);
        let mut doc = Document::new("");
        doc.table(t);
        assert_eq!(render(&doc), "| | |\n|---|:-:|\n| Date | |\n");
    }
}
