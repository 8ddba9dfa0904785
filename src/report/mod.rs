//! Exporters (Markdown, HTML, CSV) behind one trait.
