//! The reference variants as `targets/targets.toml` lists them: their
//! names, in the order suites list them by default, and their chart
//! colours (`color = "#rrggbb"`). Suites accept these names, charts draw
//! them in these colours, and `run` records the list in
//! `provenance.variants`, so a report regenerated later draws what the run
//! had. Adding a variant to targets.toml needs no code change here or in
//! suites, reports and charts. The lifecycle (how to start a variant) is
//! `targets`' own reading of the same file.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The repository's `targets/targets.toml`, built in.
pub const EMBEDDED: &str = include_str!("../targets/targets.toml");

/// One variant: its name and chart colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    /// "#rrggbb"; None: the charts pick one of their spare colours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// The variants of one targets.toml, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variants(pub Vec<Variant>);

/// Only what this module reads of targets.toml; the rest is `targets`'.
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    variant: Vec<Variant>,
}

impl Variants {
    /// The variants of targets.toml text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, String> {
        let parsed: File = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        for v in &parsed.variant {
            if let Some(c) = &v.color {
                if rgb(c).is_none() {
                    return Err(format!(
                        "{file}: variant {}: color = {c:?} is not \"#rrggbb\"",
                        v.name
                    ));
                }
            }
        }
        Ok(Variants(parsed.variant))
    }

    /// The variants of `root/targets.toml`.
    pub fn load(root: &Path) -> Result<Self, String> {
        let path = root.join("targets.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The built-in list ([`EMBEDDED`]).
    pub fn embedded() -> &'static Variants {
        static BUILT_IN: OnceLock<Variants> = OnceLock::new();
        // The built-in file parses (a unit test says so); were it broken,
        // every variant would count as unknown rather than crash.
        BUILT_IN.get_or_init(|| Self::parse(EMBEDDED, "targets/targets.toml").unwrap_or_default())
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|v| v.name.clone()).collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|v| v.name == name)
    }

    /// The chart colour of `name` as (r, g, b), if it has one.
    pub fn color(&self, name: &str) -> Option<(u8, u8, u8)> {
        let v = self.0.iter().find(|v| v.name == name)?;
        rgb(v.color.as_deref()?)
    }
}

/// "#rrggbb" as (r, g, b).
fn rgb(s: &str) -> Option<(u8, u8, u8)> {
    let hex = s.strip_prefix('#').filter(|h| h.len() == 6)?;
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_names_the_four_reference_variants_with_colours() {
        let v = Variants::parse(EMBEDDED, "targets.toml").unwrap();
        assert_eq!(
            v.names(),
            ["node", "node-cluster", "django-sync", "django-async"]
        );
        assert!(v.0.iter().all(|x| x.color.is_some()));
        assert_eq!(Variants::embedded(), &v);
        assert_eq!(v.color("node"), Some((0, 158, 115)));
        assert_eq!(v.color("nginx"), None);
    }

    #[test]
    fn a_bad_colour_names_the_file_and_the_variant() {
        let e = Variants::parse("[[variant]]\nname = \"x\"\ncolor = \"green\"\n", "t.toml")
            .unwrap_err();
        assert_eq!(e, "t.toml: variant x: color = \"green\" is not \"#rrggbb\"");
        assert_eq!(rgb("#0072B2"), Some((0, 114, 178)));
        assert_eq!(rgb("#0072B"), None);
    }
}
