//! Reading generated Markdown in tests (shared by the report and verdict
//! tests).

/// `![alt](path)` targets of a Markdown document.
pub fn image_links(md: &str) -> Vec<String> {
    md.split("![")
        .skip(1)
        .filter_map(|rest| {
            let open = rest.find("](")?;
            let tail = &rest[open + 2..];
            Some(tail[..tail.find(')')?].to_string())
        })
        .collect()
}
