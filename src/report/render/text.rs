//! Text for a person at a terminal: the title underlined with `=`, level-2
//! headings with `-` (levels 3 and 4 plain), paragraphs word-wrapped at
//! [`WIDTH`] columns, notes as `note: ` (continuation lines indented),
//! lists as `  - `, tables as aligned columns (two spaces apart, right-
//! aligned columns padded on the left, the header row underlined with one
//! run of `-` per column; a table whose column titles are all empty has no
//! header), figures as `[chart] alt: png`, code indented four spaces.
//! Emphasis and code are plain text (no ANSI colours), a link is
//! `text <href>`. No line ends with a space. Widths count `char`s.

use super::{heading_level, join_blocks};
use crate::report::doc::{Align, Block, Document, Rich, Span, Table};

/// Paragraphs, notes and list items are wrapped at this many columns.
pub const WIDTH: usize = 100;

pub fn render(doc: &Document) -> String {
    let title = doc.title.trim();
    let title = (!title.is_empty()).then(|| underline(title, '='));
    join_blocks(title.into_iter().chain(doc.blocks.iter().map(block)))
}

fn block(b: &Block) -> String {
    match b {
        Block::Heading { level, text } if heading_level(*level) == 2 => underline(text.trim(), '-'),
        Block::Heading { text, .. } => text.trim().to_string(),
        Block::Paragraph(r) => wrap(&inline(r), "", ""),
        Block::Note(r) => wrap(&inline(r), "note: ", "      "),
        Block::List(items) => items
            .iter()
            .map(|r| wrap(&inline(r), "  - ", "    "))
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Table(t) => table(t),
        Block::Figure(f) => {
            let chart = format!("[chart] {}: {}", f.alt.trim(), f.png);
            if f.caption.is_empty() {
                chart
            } else {
                format!("{}\n{chart}", wrap(&inline(&f.caption), "", ""))
            }
        }
        Block::Code(code) => code
            .trim_end_matches('\n')
            .lines()
            .map(|l| {
                if l.trim().is_empty() {
                    String::new()
                } else {
                    format!("    {}", l.trim_end())
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn underline(text: &str, ch: char) -> String {
    let text = one_line(text);
    format!("{text}\n{}", ch.to_string().repeat(text.chars().count()))
}

fn table(t: &Table) -> String {
    let header = t.columns.iter().any(|c| !c.title.trim().is_empty());
    let mut rows: Vec<Vec<String>> = Vec::new();
    if header {
        rows.push(t.columns.iter().map(|c| one_line(&c.title)).collect());
    }
    rows.extend(
        t.rows
            .iter()
            .map(|r| r.iter().map(|c| one_line(&inline(c))).collect()),
    );
    let width = |i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..t.columns.len()).map(width).collect();
    let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    if total > WIDTH && header {
        return records(t);
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths.get(i).copied().unwrap_or(0);
                let align = t.columns.get(i).map_or(Align::Left, |c| c.align);
                pad(c, w, align)
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut lines: Vec<String> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        lines.push(line(r));
        if header && i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            lines.push(rule.join("  ").trim_end().to_string());
        }
    }
    lines.join("\n")
}

/// A table too wide for a terminal, one record per row: each cell on its
/// own line under its column's title, wrapped, records apart by an empty
/// line (as `psql`'s expanded display).
fn records(t: &Table) -> String {
    let label = t
        .columns
        .iter()
        .map(|c| one_line(&c.title).chars().count())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(label + 2);
    t.rows
        .iter()
        .map(|row| {
            t.columns
                .iter()
                .zip(row)
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(c, cell)| {
                    let first = format!("{:<label$}  ", one_line(&c.title));
                    wrap(&one_line(&inline(cell)), &first, &indent)
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn pad(cell: &str, width: usize, align: Align) -> String {
    let gap = width.saturating_sub(cell.chars().count());
    match align {
        Align::Left => format!("{cell}{}", " ".repeat(gap)),
        Align::Right => format!("{}{cell}", " ".repeat(gap)),
        Align::Center => format!("{}{cell}{}", " ".repeat(gap / 2), " ".repeat(gap - gap / 2)),
    }
}

fn inline(r: &Rich) -> String {
    r.0.iter()
        .map(|span| match span {
            Span::Text(t) | Span::Strong(t) | Span::Emph(t) | Span::Code(t) => t.clone(),
            Span::Link { text, href } if text.is_empty() || text == href => href.clone(),
            Span::Link { text, href } => format!("{text} <{href}>"),
        })
        .collect()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Word-wraps `text` at [`WIDTH`] columns, the first line after `first`,
/// the others after `rest`; newlines in `text` are kept as line breaks. A
/// word longer than a line gets a line of its own.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut current = first.to_string();
    let mut empty = true;
    for (n, source_line) in text.lines().enumerate() {
        if n > 0 {
            lines.push(std::mem::replace(&mut current, rest.to_string()));
            empty = true;
        }
        for word in source_line.split_whitespace() {
            let len = current.chars().count();
            if !empty && len + 1 + word.chars().count() > WIDTH {
                lines.push(std::mem::replace(&mut current, rest.to_string()));
                empty = true;
            }
            if !empty {
                current.push(' ');
            }
            current.push_str(word);
            empty = false;
        }
    }
    lines.push(current);
    lines
        .iter()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::{Column, Figure};

    #[test]
    fn a_small_document() {
        let mut doc = Document::new("bakeoff check");
        doc.heading(2, "Targets");
        doc.paragraph(
            Rich::text("Run ")
                .and_code("bakeoff run")
                .and(", see ")
                .and_link("docs", "https://x.test"),
        );
        doc.note(Rich::strong("Incomplete").and(" run."));
        doc.list(vec![Rich::text("one"), Rich::text("two")]);
        doc.heading(3, "Details");
        doc.figure(Figure {
            caption: Rich::text("Higher is better."),
            alt: "Throughput".into(),
            png: "charts/t.png".into(),
            svg: None,
        });
        doc.blocks.push(Block::Code("$ bakeoff\n\nok\n".into()));
        assert_eq!(
            render(&doc),
            "bakeoff check\n=============\n\n\
             Targets\n-------\n\n\
             Run bakeoff run, see docs <https://x.test>\n\n\
             note: Incomplete run.\n\n\
             \x20 - one\n  - two\n\n\
             Details\n\n\
             Higher is better.\n[chart] Throughput: charts/t.png\n\n\
             \x20   $ bakeoff\n\n    ok\n"
        );
    }

    #[test]
    fn tables_are_aligned_without_trailing_spaces() {
        let mut t = Table::new(vec![
            Column::left("target"),
            Column::right("req/s"),
            Column::left("note"),
        ]);
        t.row([Rich::text("node"), Rich::text("2 350"), Rich::default()]);
        t.row([
            Rich::text("django-sync"),
            Rich::text("85.5"),
            Rich::text("µs"),
        ]);
        let mut doc = Document::new("");
        doc.table(t);
        assert_eq!(
            render(&doc),
            "target       req/s  note\n\
             -----------  -----  ----\n\
             node         2 350\n\
             django-sync   85.5  µs\n"
        );
    }

    #[test]
    fn a_table_too_wide_for_a_terminal_becomes_records() {
        let mut t = Table::new(vec![Column::left("Claim"), Column::left("Evidence")]);
        t.row([Rich::text("a"), Rich::text("word ".repeat(40))]);
        t.row([Rich::text("b"), Rich::text("short")]);
        let mut doc = Document::new("");
        doc.table(t);
        let out = render(&doc);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Claim     a");
        assert!(lines[1].starts_with("Evidence  word word"));
        assert!(lines[2].starts_with("          word"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert!(out.ends_with("Claim     b\nEvidence  short\n"), "{out}");
    }

    #[test]
    fn a_table_without_titles_has_no_header() {
        let mut t = Table::new(vec![Column::left(""), Column::left("")]);
        t.row([Rich::text("Target"), Rich::text("node")]);
        t.row([Rich::text("Load"), Rich::text("closed model")]);
        let mut doc = Document::new("");
        doc.table(t);
        assert_eq!(render(&doc), "Target  node\nLoad    closed model\n");
    }

    #[test]
    fn paragraphs_and_notes_wrap_at_100_columns() {
        let words = ["word"; 30].join(" "); // 149 columns
        let mut doc = Document::new("");
        doc.paragraph(words.as_str());
        doc.note(words.as_str());
        let out = render(&doc);
        for l in out.lines() {
            assert!(l.chars().count() <= WIDTH, "{l:?}");
            assert!(!l.ends_with(' '), "{l:?}");
        }
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], ["word"; 20].join(" "));
        assert_eq!(lines[1], ["word"; 10].join(" "));
        assert!(lines[3].starts_with("note: word"));
        assert!(lines[4].starts_with("      word"));
    }
}
