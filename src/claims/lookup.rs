//! What one claim asked of the groups: a claim's view of
//! [`StepGroups`] that remembers every point it looked up, so its evidence
//! can name the failing figures it used and the excluded ones it could not
//! use. One `Lookup` per claim; the groups themselves stay pure.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ops::Deref;

use crate::analysis::scalability::{ScenarioScalability, TargetScalability};
use crate::analysis::{ExcludedStep, Repeats, StepGroups, StepId};

pub struct Lookup<'g> {
    groups: &'g StepGroups,
    /// The run's scalability models (`analysis::scalability`), for the
    /// evidence of claims about a curve's shape.
    models: &'g [ScenarioScalability],
    /// Every point `get` was asked for, measured or excluded.
    asked: RefCell<BTreeSet<StepId>>,
}

impl<'g> Lookup<'g> {
    pub fn new(groups: &'g StepGroups) -> Self {
        Lookup {
            groups,
            models: &[],
            asked: RefCell::new(BTreeSet::new()),
        }
    }

    /// The same lookup, with the run's scalability models.
    pub fn with_models(self, models: &'g [ScenarioScalability]) -> Self {
        Lookup { models, ..self }
    }

    /// `target`'s scalability model on `scenario`, when the run has one.
    pub fn model_of(&self, target: &str, scenario: &str) -> Option<&'g TargetScalability> {
        self.models
            .iter()
            .find(|m| m.scenario == scenario)?
            .target(target)
    }

    /// [`StepGroups::get`], remembering the point asked for.
    pub fn get(&self, target: &str, scenario: &str, level: u64) -> Option<&'g Repeats> {
        let groups = self.groups;
        if let Some((id, r)) = groups.find(target, scenario, level) {
            self.asked.borrow_mut().insert(id.clone());
            return Some(r);
        }
        if let Some(id) = groups.excluded_id(target, scenario, level) {
            self.asked.borrow_mut().insert(id.clone());
        }
        None
    }

    /// [`StepGroups::is_excluded`], remembering the point asked for.
    pub fn is_excluded(&self, target: &str, scenario: &str, level: u64) -> bool {
        match self.groups.excluded_id(target, scenario, level) {
            Some(id) => {
                self.asked.borrow_mut().insert(id.clone());
                true
            }
            None => false,
        }
    }

    /// The points asked for whose latency counts as failing, with why.
    pub fn failing(&self) -> Vec<(StepId, String)> {
        self.groups.failing_among(self.asked.borrow().iter())
    }

    /// The points asked for whose every repeat was excluded.
    pub fn misses(&self) -> Vec<(StepId, &'g [ExcludedStep])> {
        self.groups.excluded_among(self.asked.borrow().iter())
    }
}

impl Deref for Lookup<'_> {
    type Target = StepGroups;

    fn deref(&self) -> &StepGroups {
        self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Model, Provenance, RunResults, StepFlag, StepRecord};

    fn step(level: u64, flags: Vec<StepFlag>, ok: bool) -> StepRecord {
        let mut s = StepRecord::new("node", "db", Model::Closed, level, 0);
        s.flags = flags;
        s.summary.requests = 100;
        if ok {
            s.summary.rps = 10.0;
            s.summary.latency_us = Some(Default::default());
        } else {
            s.summary.errors = 100;
            s.summary.error_rate = 1.0;
        }
        s
    }

    #[test]
    fn names_only_what_it_was_asked_for() {
        let mut run = RunResults::new(Provenance::default());
        run.steps = vec![
            step(1, vec![], true),
            step(2, vec![], false),
            step(3, vec![StepFlag::GeneratorSaturated], true),
        ];
        let groups = StepGroups::for_verdicts(&run);
        let first = Lookup::new(&groups);
        assert!(first.get("node", "db", 1).is_some());
        assert!(first.failing().is_empty() && first.misses().is_empty());
        let second = Lookup::new(&groups);
        assert!(second.get("node", "db", 2).is_some());
        assert!(second.get("node", "db", 3).is_none());
        assert_eq!(second.failing().len(), 1);
        assert_eq!(second.misses()[0].0.level, 3);
        // A lookup never changes the groups: the first one still names nothing.
        assert!(first.failing().is_empty());
    }
}
