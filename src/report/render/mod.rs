//! One small renderer per output format, each `render(&Document) -> String`:
//! [`markdown`] (report.md style: pipe tables, `> ` notes, linked PNGs),
//! [`html`] (one self-contained page, SVG inlined), [`text`] (a terminal:
//! aligned columns, wrapped paragraphs, no colours) and [`csv`] (the
//! document's tables only). A renderer decides how a block looks in its
//! format and escapes literal text for it; it never computes a figure and
//! never reads another format's output. Which format a command writes, and
//! where, is [`super::format`]'s business.

pub mod csv;
pub mod html;
pub mod markdown;
pub mod text;

/// The heading levels a document may use below its title (2 to 4); other
/// levels are clamped into that range.
pub(crate) fn heading_level(level: u8) -> usize {
    usize::from(level.clamp(2, 4))
}

/// Joins rendered blocks (empty ones left out) with one empty line, ending
/// with exactly one newline ("" when there is nothing at all).
pub(crate) fn join_blocks(parts: impl IntoIterator<Item = String>) -> String {
    let parts: Vec<String> = parts
        .into_iter()
        .map(|p| p.trim_end_matches('\n').to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    let mut out = parts.join("\n\n");
    out.push('\n');
    out
}
