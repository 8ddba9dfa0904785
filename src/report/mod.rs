//! Exporters (Markdown, HTML, CSV) behind one trait.

/// A section contributed to the reports by another module (verdicts,
/// capacity), written in Markdown (headings, paragraphs, pipe tables).
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    pub markdown: String,
}
