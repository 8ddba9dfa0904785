//! Charts: one file per chart kind, SVG and PNG, embedded font.
