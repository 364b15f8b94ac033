//! Runs studies: every (variant, replication) unit in parallel on rayon's pool. Each unit's
//! result is reduced at once to a [`RepData`] (what the output files need), and a variant is
//! handed to `on_variant` as soon as its last replication is done, so a long sweep writes its
//! finished variants as it goes and an interrupted one can resume.

use crate::model::metrics::RepData;
use crate::model::sim::run_replication_with;
use crate::report::tables;
use crate::scenario::Scenario;
use crate::study::sweep::Study;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// One unit of work: replication `rep` of variant `variant` of study `study`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unit {
    pub study: usize,
    pub variant: usize,
    pub rep: u32,
}

/// Every unit of the studies, in a fixed order (study, variant, replication).
pub fn units(studies: &[Study]) -> Vec<Unit> {
    let mut out = Vec::new();
    for (k, st) in studies.iter().enumerate() {
        for (v, var) in st.variants.iter().enumerate() {
            for rep in 0..var.scenario.replications {
                out.push(Unit { study: k, variant: v, rep });
            }
        }
    }
    out
}

/// Runs one unit.
pub fn run_unit(studies: &[Study], u: Unit) -> RepData {
    run_rep(&studies[u.study].variants[u.variant].scenario, u.rep)
}

/// Runs replication `rep` of a scenario (with the detail tables for replication 0).
pub fn run_rep(s: &Scenario, rep: u32) -> RepData {
    run_rep_with(s, rep, &|| {})
}

/// [`run_rep`], calling `on_day` after each simulated day (a progress bar's hook).
pub fn run_rep_with(s: &Scenario, rep: u32, on_day: &(dyn Fn() + Sync)) -> RepData {
    let r = run_replication_with(s, rep, rep == 0, &|_| on_day());
    RepData {
        replication: rep,
        seed: r.seed,
        metrics: r.metrics().into_iter().map(|x| x.is_finite().then_some(x)).collect(),
        active_by_day: r.active_by_day.clone(),
        detail_files: r.detail.as_ref().map(|d| tables::render(s, d)).unwrap_or_default(),
        daily: r.daily,
        episode: r.episode,
        own_plans: r.own_plans,
    }
}

/// A variant's replications as they finish, and how many are still to come.
type Pending = (usize, Vec<Option<RepData>>);

/// Runs `todo` in parallel. `on_unit` sees every finished unit; `on_variant` gets the
/// replications of a variant, in order, once all of its units in `todo` are done. Units not
/// yet started when `stop` is set are skipped.
pub fn run_units<E: Send>(
    studies: &[Study],
    todo: &[Unit],
    stop: &AtomicBool,
    on_unit: &(dyn Fn(Unit, &RepData) -> Result<(), E> + Sync),
    on_variant: &(dyn Fn(usize, usize, Vec<RepData>) -> Result<(), E> + Sync),
) -> Result<(), E> {
    run_units_by_day(studies, todo, stop, &|| {}, on_unit, on_variant)
}

/// Simulated days of `todo` (burn-in included), the length of a progress bar that moves by day.
pub fn days(studies: &[Study], todo: &[Unit]) -> u64 {
    todo.iter()
        .map(|u| {
            let s = &studies[u.study].variants[u.variant].scenario;
            u64::from(s.days + s.burn_in_days)
        })
        .sum()
}

/// [`run_units`], calling `on_day` after each simulated day of any unit, so that progress moves
/// within a replication (a one-replication national run is minutes long).
pub fn run_units_by_day<E: Send>(
    studies: &[Study],
    todo: &[Unit],
    stop: &AtomicBool,
    on_day: &(dyn Fn() + Sync),
    on_unit: &(dyn Fn(Unit, &RepData) -> Result<(), E> + Sync),
    on_variant: &(dyn Fn(usize, usize, Vec<RepData>) -> Result<(), E> + Sync),
) -> Result<(), E> {
    // Pending replications per (study, variant), and how many are still missing.
    let mut slots: Vec<Vec<Mutex<Pending>>> = studies
        .iter()
        .map(|st| st.variants.iter().map(|v| Mutex::new((0, vec![None; v.scenario.replications as usize]))).collect())
        .collect();
    for u in todo {
        slots[u.study][u.variant].get_mut().unwrap_or_else(|e| e.into_inner()).0 += 1;
    }
    let slots = &slots;
    todo.par_iter().try_for_each(|&u| {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let data = run_rep_with(&studies[u.study].variants[u.variant].scenario, u.rep, on_day);
        on_unit(u, &data)?;
        let done = {
            let mut slot = slots[u.study][u.variant].lock().unwrap_or_else(|e| e.into_inner());
            slot.1[u.rep as usize] = Some(data);
            slot.0 -= 1;
            if slot.0 == 0 {
                Some(std::mem::take(&mut slot.1))
            } else {
                None
            }
        };
        match done {
            Some(reps) if reps.iter().all(|r| r.is_some()) => {
                on_variant(u.study, u.variant, reps.into_iter().flatten().collect())
            }
            _ => Ok(()),
        }
    })
}
