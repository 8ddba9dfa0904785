//! Reading the `/fortunes` HTML table back into rows: the row pattern the
//! contract fixes (`<tr><td>id</td><td>message</td></tr>`), HTML entity
//! decoding, and the expected fortunes (TechEmpower's twelve plus the one
//! added at request time).

/// The fortune every app adds at request time, with id 0.
pub const ADDED_FORTUNE: &str = "Additional fortune added at request time.";

/// TechEmpower's twelve fortunes, as seeded in targets/db (id, message).
pub const TECHEMPOWER_FORTUNES: [(i64, &str); 12] = [
    (1, "fortune: No such file or directory"),
    (
        2,
        "A computer scientist is someone who fixes things that aren't broken.",
    ),
    (3, "After enough decimal places, nobody gives a damn."),
    (
        4,
        "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    ),
    (
        5,
        "A computer program does what you tell it to do, not what you want it to do.",
    ),
    (
        6,
        "Emacs is a nice operating system, but I prefer UNIX. \u{2014} Tom Christaensen",
    ),
    (7, "Any program that runs right is obsolete."),
    (
        8,
        "A list is only as strong as its weakest link. \u{2014} Donald Knuth",
    ),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (
        11,
        "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    ),
    (12, "フレームワークのベンチマーク"),
];

/// One table row as rendered: the raw (still escaped) cells and the
/// decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub id: String,
    pub raw_message: String,
    pub message: String,
}

/// Extracts every `<tr><td>..</td><td>..</td></tr>` row, in order. A row
/// whose cells do not match that shape is an error naming it.
pub(crate) fn parse_rows(html: &str) -> Result<Vec<Row>, String> {
    const OPEN: &str = "<tr><td>";
    const CLOSE: &str = "</td></tr>";
    const SEP: &str = "</td><td>";
    let mut rows = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let end = after
            .find(CLOSE)
            .ok_or_else(|| format!("row {} has no closing </td></tr>", rows.len() + 1))?;
        let inner = &after[..end];
        let (id, raw_message) = inner.split_once(SEP).ok_or_else(|| {
            format!(
                "row {} is not <tr><td>id</td><td>message</td></tr>: {inner:?}",
                rows.len() + 1
            )
        })?;
        if raw_message.contains("<td>") || raw_message.contains("</td>") {
            return Err(format!("row {} has more than two cells", rows.len() + 1));
        }
        rows.push(Row {
            id: id.to_string(),
            raw_message: raw_message.to_string(),
            message: unescape(raw_message),
        });
        rest = &after[end + CLOSE.len()..];
    }
    Ok(rows)
}

/// Decodes the HTML character references template engines emit: the five
/// named ones that matter and numeric ones (`&#39;`, `&#x27;`). Anything
/// else is left as is, so a double escape (`&amp;lt;`) stays visible.
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        match tail.find(';').filter(|&semi| semi <= 10) {
            Some(semi) => {
                let entity = &tail[1..semi];
                match decode_entity(entity) {
                    Some(c) => out.push(c),
                    None => out.push_str(&tail[..=semi]),
                }
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(entity: &str) -> Option<char> {
    match entity {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = entity.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// The rows the page must show, sorted as the contract requires: by
/// message, comparing Unicode code points (Rust's `str` order).
pub(crate) fn expected_rows() -> Vec<(i64, String)> {
    let mut rows: Vec<(i64, String)> = TECHEMPOWER_FORTUNES
        .iter()
        .map(|&(id, m)| (id, m.to_string()))
        .collect();
    rows.push((0, ADDED_FORTUNE.to_string()));
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    rows
}

/// Escapes text as targets/API.md requires of both template engines.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The exact `/fortunes` body targets/API.md prescribes for the seeded
/// fortunes: one line of markup, then one newline.
pub(crate) fn expected_html() -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
         <tr><th>id</th><th>message</th></tr>",
    );
    for (id, message) in expected_rows() {
        html.push_str(&format!(
            "<tr><td>{id}</td><td>{}</td></tr>",
            escape(&message)
        ));
    }
    html.push_str("</table></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_html_matches_the_shared_fixture() {
        // targets/testdata/fortunes.html is what both apps' own tests use.
        let fixture =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/testdata/fortunes.html");
        let want = std::fs::read_to_string(&fixture).unwrap();
        assert_eq!(expected_html(), want);
        let rows = parse_rows(&want).unwrap();
        assert_eq!(rows.len(), 13);
        assert!(rows.iter().all(|r| escape(&r.message) == r.raw_message));
    }

    #[test]
    fn parses_rows_and_decodes_entities() {
        let html = "<table><tr><th>id</th><th>message</th></tr>\n\
            <tr><td>11</td><td>&lt;script&gt;alert(&quot;x&quot;);&lt;/script&gt;</td></tr>\n\
            <tr><td>2</td><td>aren&#x27;t &amp; isn&#39;t</td></tr></table>";
        let rows = parse_rows(html).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].id, "11");
        assert_eq!(rows[0].message, "<script>alert(\"x\");</script>");
        assert_eq!(rows[1].message, "aren't & isn't");
        assert_eq!(rows[1].raw_message, "aren&#x27;t &amp; isn&#39;t");
    }

    #[test]
    fn malformed_row_is_an_error() {
        assert!(parse_rows("<tr><td>1 no separator</td></tr>").is_err());
        assert!(parse_rows("<tr><td>1</td><td>never closed").is_err());
        assert!(parse_rows("<tr><td>1</td><td>a</td><td>b</td></tr>").is_err());
    }

    #[test]
    fn unescape_leaves_unknown_and_double_escapes_visible() {
        assert_eq!(unescape("&amp;lt;"), "&lt;");
        assert_eq!(unescape("a & b"), "a & b");
        assert_eq!(unescape("&nosuch;"), "&nosuch;");
        assert_eq!(unescape("&#12501;"), "フ");
    }

    #[test]
    fn expected_order_is_by_code_point() {
        let rows = expected_rows();
        assert_eq!(rows.len(), 13);
        // '<' (U+003C) sorts before letters; the Japanese fortune last.
        assert_eq!(rows[0].0, 11);
        assert_eq!(rows[12].0, 12);
        assert!(rows.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}
