//! From a finished calibration to what its result folder shows: each parameter's posterior
//! median and 90% interval against its prior, the tolerance per generation, the posterior
//! predictive bands of every observed series, and the calibrated scenario (posterior medians).

use super::abc::{ess, weighted_quantile};
use super::state::State;
use super::{with_values, Calibration};
use crate::model::series::SeriesKey;
use crate::report::calibrate::{Band, CalibrationReport, FitSeries, GenRow, ParamRow, PosteriorRow};

/// The five quantiles of a band: 5%, 25%, 50%, 75%, 95%.
pub const BAND_Q: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// The weighted quantiles [`BAND_Q`] of `values`.
pub fn band(values: &[f64], w: &[f64]) -> Band {
    BAND_Q.map(|q| weighted_quantile(values, w, q))
}

pub fn is_money(key: &SeriesKey) -> bool {
    key.flow.is_money()
}

/// The report of calibration `cal` after run `st`: its last generation is the posterior.
pub fn report(cal: &Calibration, st: &State, observed_file: &str) -> CalibrationReport {
    let post = st.generations.last().expect("a finished calibration has a generation");
    let w = post.weights();
    let naturals: Vec<Vec<f64>> = post.particles.iter().map(|p| cal.natural(&p.theta)).collect();
    let params: Vec<ParamRow> = cal
        .config
        .params
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let col: Vec<f64> = naturals.iter().map(|v| v[k]).collect();
            let b = band(&col, &w);
            let (from, to) = p.prior.range();
            // Widths compared where the prior is uniform (log coordinates for log-uniform).
            let (lo, hi) = p.prior.bounds();
            let width = (p.prior.to_sampler(b[4]) - p.prior.to_sampler(b[0])) / (hi - lo);
            ParamRow {
                key: p.key.clone(),
                prior: p.prior.name(),
                from,
                to,
                median: b[2],
                lo: b[0],
                hi: b[4],
                width_ratio: width,
            }
        })
        .collect();
    let posterior = post
        .particles
        .iter()
        .zip(&naturals)
        .map(|(p, v)| PosteriorRow {
            index: p.index,
            seed: p.seed,
            weight: p.weight,
            distance: p.distance,
            values: v.clone(),
        })
        .collect();
    let generations = st
        .generations
        .iter()
        .enumerate()
        .map(|(g, gen)| GenRow {
            generation: g as u32,
            tolerance: gen.tolerance,
            accepted: gen.particles.len() as u32,
            simulations: gen.simulations,
            ess: ess(&gen.weights()),
            median_distance: weighted_quantile(&gen.distances(), &gen.weights(), 0.5),
        })
        .collect();
    let dates: Vec<String> = (0..cal.days).map(|d| cal.base.date(d).to_string()).collect();
    let fits = cal
        .observed
        .names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut observed = vec![None; cal.days as usize];
            for (d, v) in cal.observed.days.iter().zip(&cal.observed.values[k]) {
                observed[*d as usize] = *v;
            }
            let bands = (0..cal.days as usize)
                .map(|d| band(&post.particles.iter().map(|p| p.series[k][d]).collect::<Vec<_>>(), &w))
                .collect();
            let weight = cal.fit.iter().find(|(i, _)| *i == k).map(|(_, w)| *w);
            FitSeries { name: name.clone(), money: is_money(&cal.observed.keys[k]), observed, bands, weight }
        })
        .collect();
    let medians: Vec<f64> = params.iter().map(|p| p.median).collect();
    let calibrated = with_values(&cal.doc, &cal.keys(), &medians).unwrap_or_else(|_| cal.doc.clone());
    let calibrated_toml = format!(
        "# Calibrated by `cpsim calibrate {}` on {}: each fitted key is set to its posterior\n\
         # median; the posterior itself (weighted particles) is posterior.csv beside this file, and\n\
         # `cpsim forecast` on this folder runs posterior draws forward.\n{}",
        cal.file.display(),
        observed_file,
        toml::to_string(&calibrated).unwrap_or_default()
    );
    CalibrationReport {
        scenario: cal.base.name.clone(),
        scenario_file: cal.file.display().to_string(),
        observed_file: observed_file.to_owned(),
        input_hash: cal.hash.clone(),
        seed: cal.seed,
        particles: cal.config.particles,
        quantile: cal.config.quantile,
        simulations: st.simulations,
        ended: st.ended.clone(),
        params,
        posterior,
        generations,
        dates,
        fits,
        calibrated_toml,
        observed_csv: cal.observed.to_csv(&cal.base),
    }
}
