//! A small Markdown-to-HTML converter for the subset the reports use:
//! ATX headings, paragraphs, block quotes, bullet and numbered lists, fenced
//! code, pipe tables (with alignment), inline code, bold, italics, links and
//! images. It is not a general Markdown implementation.
//!
//! The output never references anything outside the page: links are kept
//! only when they point at an anchor (`#...`), other links become their text
//! followed by the address, and images are handed to a resolver (the HTML
//! exporter inlines the chart's SVG) or replaced by their alt text.

use std::fmt::Write as _;

/// Turns an image path into inline HTML, or None to show the alt text.
pub type ImageResolver<'a> = &'a dyn Fn(&str, &str) -> Option<String>;

/// Converts a Markdown document to an HTML fragment.
pub fn to_html(markdown: &str, images: ImageResolver) -> String {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() {
            i += 1;
        } else if let Some((level, text)) = heading(trimmed) {
            let _ = writeln!(
                out,
                "<h{level} id=\"{}\">{}</h{level}>",
                anchor(text),
                inline(text, images)
            );
            i += 1;
        } else if trimmed.starts_with("```") {
            let mut code = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                code.push(lines[i]);
                i += 1;
            }
            i += 1; // closing fence (or end of input)
            let _ = writeln!(out, "<pre><code>{}</code></pre>", escape(&code.join("\n")));
        } else if trimmed.starts_with('>') {
            let mut inner = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with('>') {
                let l = lines[i].trim_start().trim_start_matches('>');
                inner.push(l.strip_prefix(' ').unwrap_or(l));
                i += 1;
            }
            let _ = writeln!(
                out,
                "<blockquote>\n{}</blockquote>",
                to_html(&inner.join("\n"), images)
            );
        } else if trimmed.starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].trim().starts_with('|') {
                i += 1;
            }
            table(&lines[start..i], images, &mut out);
        } else if bullet(trimmed).is_some() || numbered(trimmed).is_some() {
            let ordered = numbered(trimmed).is_some();
            let tag = if ordered { "ol" } else { "ul" };
            let _ = writeln!(out, "<{tag}>");
            while i < lines.len() {
                let t = lines[i].trim();
                let item = if ordered { numbered(t) } else { bullet(t) };
                match item {
                    Some(text) => {
                        let _ = writeln!(out, "<li>{}</li>", inline(text, images));
                        i += 1;
                    }
                    None => break,
                }
            }
            let _ = writeln!(out, "</{tag}>");
        } else {
            let start = i;
            while i < lines.len() {
                let t = lines[i].trim();
                let block_start = t.is_empty()
                    || heading(t).is_some()
                    || t.starts_with("```")
                    || t.starts_with('>')
                    || t.starts_with('|')
                    || bullet(t).is_some()
                    || numbered(t).is_some();
                if block_start && i > start {
                    break;
                }
                i += 1;
            }
            let text = lines[start..i]
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join("\n");
            match standalone_image(&text) {
                Some((alt, src)) => out.push_str(&figure(alt, src, images)),
                None => {
                    let _ = writeln!(out, "<p>{}</p>", inline(&text, images));
                }
            }
        }
    }
    out
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if (1..=6).contains(&level) {
        let rest = &line[level..];
        if rest.is_empty() || rest.starts_with(' ') {
            return Some((level, rest.trim().trim_end_matches('#').trim_end()));
        }
    }
    None
}

fn bullet(line: &str) -> Option<&str> {
    line.strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))
        .or_else(|| line.strip_prefix("+ "))
}

fn numbered(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    line[digits..]
        .strip_prefix(". ")
        .or_else(|| line[digits..].strip_prefix(") "))
}

/// `![alt](src)` alone in a paragraph.
fn standalone_image(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("![")?;
    let close = rest.find("](")?;
    let (alt, tail) = (&rest[..close], &rest[close + 2..]);
    let src = tail.strip_suffix(')')?;
    (!src.contains(')') && !alt.contains(']')).then_some((alt, src))
}

fn figure(alt: &str, src: &str, images: ImageResolver) -> String {
    match images(src, alt) {
        Some(html) => format!(
            "<figure>\n{html}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(alt)
        ),
        None => format!("<p class=\"missing\">[{}]</p>\n", escape(alt)),
    }
}

#[derive(Clone, Copy)]
enum Align {
    None,
    Left,
    Right,
    Center,
}

fn table(rows: &[&str], images: ImageResolver, out: &mut String) {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| split_row(r)).collect();
    let is_rule = |row: &Vec<String>| {
        !row.is_empty()
            && row.iter().all(|c| {
                let c = c.trim();
                !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))
            })
    };
    let (header, aligns, body) = if cells.len() >= 2 && is_rule(&cells[1]) {
        let aligns: Vec<Align> = cells[1]
            .iter()
            .map(|c| {
                let c = c.trim();
                match (c.starts_with(':'), c.ends_with(':')) {
                    (true, true) => Align::Center,
                    (false, true) => Align::Right,
                    (true, false) => Align::Left,
                    (false, false) => Align::None,
                }
            })
            .collect();
        (Some(&cells[0]), aligns, &cells[2..])
    } else {
        (None, Vec::new(), &cells[..])
    };
    let attr = |i: usize| match aligns.get(i).copied().unwrap_or(Align::None) {
        Align::None => "",
        Align::Left => " class=\"l\"",
        Align::Right => " class=\"r\"",
        Align::Center => " class=\"c\"",
    };
    out.push_str("<table>\n");
    if let Some(h) = header {
        // A header row of empty cells (key/value tables) is left out.
        if h.iter().any(|c| !c.trim().is_empty()) {
            out.push_str("<thead><tr>");
            for (i, c) in h.iter().enumerate() {
                let _ = write!(out, "<th{}>{}</th>", attr(i), inline(c.trim(), images));
            }
            out.push_str("</tr></thead>\n");
        }
    }
    out.push_str("<tbody>\n");
    for row in body {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let _ = write!(out, "<td{}>{}</td>", attr(i), inline(c.trim(), images));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Splits `| a | b \| c |` into cells, honouring escaped pipes.
fn split_row(row: &str) -> Vec<String> {
    let t = row.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        cells.push(cur);
    }
    cells
}

/// Inline markup: `code`, **bold**, *italic*, [link](#anchor), images.
pub fn inline(text: &str, images: ImageResolver) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let find = |from: usize, pat: &[char]| -> Option<usize> {
        (from..chars.len().saturating_sub(pat.len() - 1)).find(|&k| chars[k..].starts_with(pat))
    };
    let collect = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() {
            out.push_str(&escape(&chars[i + 1].to_string()));
            i += 2;
        } else if c == '`' {
            match find(i + 1, &['`']) {
                Some(end) => {
                    let _ = write!(out, "<code>{}</code>", escape(&collect(i + 1, end)));
                    i = end + 1;
                }
                None => {
                    out.push('`');
                    i += 1;
                }
            }
        } else if chars[i..].starts_with(&['*', '*']) {
            match find(i + 2, &['*', '*']) {
                Some(end) if end > i + 2 => {
                    let _ = write!(
                        out,
                        "<strong>{}</strong>",
                        inline(&collect(i + 2, end), images)
                    );
                    i = end + 2;
                }
                _ => {
                    out.push_str("**");
                    i += 2;
                }
            }
        } else if c == '*' && i + 1 < chars.len() && !chars[i + 1].is_whitespace() {
            match find(i + 1, &['*']) {
                Some(end) if end > i + 1 => {
                    let _ = write!(out, "<em>{}</em>", inline(&collect(i + 1, end), images));
                    i = end + 1;
                }
                _ => {
                    out.push('*');
                    i += 1;
                }
            }
        } else if c == '[' || (c == '!' && chars.get(i + 1) == Some(&'[')) {
            let image = c == '!';
            let open = if image { i + 1 } else { i };
            let parsed = find(open + 1, &[']', '(']).and_then(|mid| {
                find(mid + 2, &[')'])
                    .map(|end| (collect(open + 1, mid), collect(mid + 2, end), end))
            });
            match parsed {
                Some((label, target, end)) => {
                    if image {
                        match images(&target, &label) {
                            Some(html) => out.push_str(&html),
                            None => out.push_str(&escape(&label)),
                        }
                    } else if target.starts_with('#') {
                        let _ = write!(
                            out,
                            "<a href=\"{}\">{}</a>",
                            escape(&target),
                            inline(&label, images)
                        );
                    } else {
                        let _ = write!(
                            out,
                            "{} (<code>{}</code>)",
                            inline(&label, images),
                            escape(&target)
                        );
                    }
                    i = end + 1;
                }
                None => {
                    out.push_str(&escape(&c.to_string()));
                    i += 1;
                }
            }
        } else if c == '\n' {
            out.push('\n');
            i += 1;
        } else {
            out.push_str(&escape(&c.to_string()));
            i += 1;
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Heading id: lower-case words joined by '-'.
pub fn anchor(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(|c| c.to_lowercase()) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str, _: &str) -> Option<String> {
        None
    }

    #[test]
    fn headings_paragraphs_and_inline() {
        let html = to_html(
            "# Title\n\nSome **bold** and `a<b` and *it*.\nSecond line.\n\n## Next",
            &none,
        );
        assert!(html.contains("<h1 id=\"title\">Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>a&lt;b</code>"));
        assert!(html.contains("<em>it</em>"));
        assert!(html.contains("Second line.</p>"));
        assert!(html.contains("<h2 id=\"next\">Next</h2>"));
    }

    #[test]
    fn tables_with_alignment_and_escaped_pipes() {
        let html = to_html(
            "| claim | verdict |\n|---|--:|\n| a \\| b | **Supported** |\n",
            &none,
        );
        assert!(
            html.contains("<th>claim</th><th class=\"r\">verdict</th>"),
            "{html}"
        );
        assert!(html.contains("<td>a | b</td>"), "{html}");
        assert!(html.contains("<td class=\"r\"><strong>Supported</strong></td>"));
    }

    #[test]
    fn links_stay_inside_the_page() {
        let html = inline("[here](#x) and [there](https://example.com/a)", &none);
        assert!(html.contains("<a href=\"#x\">here</a>"));
        assert!(!html.contains("href=\"https"), "{html}");
        assert!(html.contains("there (<code>https://example.com/a</code>)"));
    }

    #[test]
    fn images_go_through_the_resolver() {
        let svg =
            |src: &str, _alt: &str| (src == "charts/a.png").then(|| "<svg></svg>".to_string());
        let html = to_html("![A chart](charts/a.png)\n\n![Gone](charts/b.png)", &svg);
        assert!(html.contains("<figure>\n<svg></svg>"), "{html}");
        assert!(html.contains("<figcaption>A chart</figcaption>"));
        assert!(html.contains("[Gone]"));
        assert!(!html.contains("src="));
    }

    #[test]
    fn lists_quotes_and_code() {
        let html = to_html(
            "- one\n- two\n\n> **Note** x\n\n```\n<raw>\n```\n1. a\n2. b",
            &none,
        );
        assert!(
            html.contains("<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
            "{html}"
        );
        assert!(html.contains("<blockquote>\n<p><strong>Note</strong> x</p>\n</blockquote>"));
        assert!(html.contains("<pre><code>&lt;raw&gt;</code></pre>"));
        assert!(html.contains("<ol>\n<li>a</li>\n<li>b</li>\n</ol>"));
    }
}
