//! CSV (RFC 4180) of a document's tables, for spreadsheets and scripts:
//! per table a header row of the column titles (none when every title is
//! empty, as in a key/value table), then one record per row,
//! each cell its text without emphasis ([`Rich::plain`]). A field holding
//! `,`, `"`, CR or LF is quoted, its quotes doubled. When the document has
//! more than one table, they follow each other separated by one empty
//! line. Every other block (title, headings, paragraphs, notes, lists,
//! figures, code) is not rendered: a document without tables renders as
//! "". Records end with `\n`.

use crate::report::doc::{Block, Document, Rich, Table};

pub fn render(doc: &Document) -> String {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Table(t) => Some(table(t)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn table(t: &Table) -> String {
    let mut out = String::new();
    if t.columns.iter().any(|c| !c.title.is_empty()) {
        out = record(t.columns.iter().map(|c| c.title.as_str()));
    }
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(Rich::plain).collect();
        out.push_str(&record(cells.iter().map(String::as_str)));
    }
    out
}

fn record<'a>(fields: impl Iterator<Item = &'a str>) -> String {
    let mut line = fields.map(field).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// One field, quoted when RFC 4180 requires it.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Column;

    #[test]
    fn tables_only_quoted_as_rfc_4180_says() {
        let mut doc = Document::new("ignored");
        doc.paragraph("ignored too");
        let mut t = Table::new(vec![Column::left("target"), Column::right("req/s")]);
        t.row([Rich::strong("node"), Rich::text("2 350")]);
        t.row([Rich::text("a,b"), Rich::text("say \"hi\"\nthere")]);
        doc.table(t);
        let mut t = Table::new(vec![Column::left("x")]);
        t.row([Rich::code("1").and_link("two", "https://x.test")]);
        doc.table(t);
        assert_eq!(
            render(&doc),
            "target,req/s\nnode,2 350\n\"a,b\",\"say \"\"hi\"\"\nthere\"\n\nx\n1two\n"
        );
        assert_eq!(render(&Document::new("none")), "");
        let mut kv = Table::new(vec![Column::left(""), Column::left("")]);
        kv.row([Rich::text("Target"), Rich::text("node")]);
        let mut doc = Document::new("");
        doc.table(kv);
        assert_eq!(render(&doc), "Target,node\n");
    }
}
