//! Reading generated reports in tests (shared by the report and verdict
//! tests).

use std::path::Path;

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

/// Runs `bakeoff report DIR` twice (each must exit 0), asserts that
/// `report.md`, `report.html` and `summary.csv` come out byte-identical,
/// and returns `report.md`.
pub fn regenerate_twice(dir: &Path) -> String {
    let files = ["report.md", "report.html", "summary.csv"];
    let mut outputs = Vec::new();
    for _ in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .arg("report")
            .arg(dir)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(
            files
                .iter()
                .map(|f| std::fs::read(dir.join(f)).unwrap())
                .collect::<Vec<_>>(),
        );
    }
    for (i, f) in files.iter().enumerate() {
        assert!(
            outputs[0][i] == outputs[1][i],
            "{f} differs between two runs of `bakeoff report`"
        );
    }
    String::from_utf8(outputs[0][0].clone()).unwrap()
}
