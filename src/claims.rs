//! Claim predicates over results → Supported / Refuted / Inconclusive / OutOfScope.
