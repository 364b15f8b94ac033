//! Output files of a scenario run: summary, replications, daily series, manifest and the
//! per-creator and per-plan tables, written into a temporary folder and renamed into place so
//! that a failed run leaves no partial result.

use crate::metrics::{stat, Flow, Flows, Unit, METRICS};
use crate::money::format_rmb;
use crate::operators::UNLIMITED;
use crate::runner::ScenarioResult;
use crate::scenario::{Landing, Scenario};
use serde_json::{json, Map, Number, Value};
use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write output folder {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_owned(), source }
}

/// What a scenario's files say about where it came from.
pub struct Provenance {
    pub file: String,
    pub hash: String,
}

/// FNV-1a (64 bit) of the scenario file: enough to tell two versions of a file apart.
pub fn file_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

fn fmt_value(x: f64, unit: Unit) -> String {
    if !x.is_finite() {
        return String::new();
    }
    match unit {
        Unit::Rmb | Unit::Count => format!("{x:.2}"),
        Unit::Share => format!("{x:.6}"),
    }
}

fn json_number(x: f64, unit: Unit) -> Value {
    fmt_value(x, unit).parse::<Number>().map(Value::Number).unwrap_or(Value::Null)
}

/// Checks that `dir` can be created and written, before any work is done.
pub fn check_writable(dir: &Path) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let probe = dir.join(format!(".cpsim-write-test-{}", std::process::id()));
    fs::write(&probe, b"").map_err(io(dir))?;
    fs::remove_file(&probe).map_err(io(&probe))
}

/// Writes one scenario's results to `out_dir/<stem>/`, atomically.
pub fn write_scenario(
    out_dir: &Path,
    stem: &str,
    s: &Scenario,
    res: &ScenarioResult,
    prov: &Provenance,
) -> Result<PathBuf, OutputError> {
    let target = out_dir.join(stem);
    let tmp = out_dir.join(format!(".{stem}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let written = write_files(&tmp, s, res, prov);
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if target.exists() {
        fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    fs::rename(&tmp, &target).map_err(io(&target))?;
    Ok(target)
}

fn write_files(dir: &Path, s: &Scenario, res: &ScenarioResult, prov: &Provenance) -> Result<(), OutputError> {
    let put = |name: &str, text: String| {
        let p = dir.join(name);
        let mut f = fs::File::create(&p).map_err(io(&p))?;
        f.write_all(text.as_bytes()).map_err(io(&p))
    };
    let per_rep: Vec<Vec<f64>> = res.reps.iter().map(|r| r.metrics()).collect();
    put("summary.csv", summary_csv(&per_rep))?;
    put("summary.json", summary_json(s, &per_rep))?;
    put("replications.csv", replications_csv(res, &per_rep))?;
    put("daily.csv", daily_csv(s, res))?;
    put("manifest.json", manifest_json(s, res, prov))?;
    if let Some(d) = &res.reps[0].detail {
        put("creators.csv", creators_csv(d))?;
        put("plans.csv", plans_csv(s, d))?;
        put("plans_daily.csv", plans_daily_csv(s, d))?;
    }
    Ok(())
}

fn column(per_rep: &[Vec<f64>], k: usize) -> Vec<f64> {
    per_rep.iter().map(|m| m[k]).filter(|x| x.is_finite()).collect()
}

fn summary_csv(per_rep: &[Vec<f64>]) -> String {
    let mut out = String::from("metric,unit,mean,sd,ci95_low,ci95_high\n");
    for (k, (name, unit)) in METRICS.iter().enumerate() {
        let st = stat(&column(per_rep, k));
        let f = |x| fmt_value(x, *unit);
        let _ = writeln!(out, "{name},{},{},{},{},{}", unit.name(), f(st.mean), f(st.sd), f(st.lo), f(st.hi));
    }
    out
}

fn summary_json(s: &Scenario, per_rep: &[Vec<f64>]) -> String {
    let mut metrics = Map::new();
    for (k, (name, unit)) in METRICS.iter().enumerate() {
        let st = stat(&column(per_rep, k));
        metrics.insert(
            (*name).into(),
            json!({
                "unit": unit.name(),
                "mean": json_number(st.mean, *unit),
                "sd": json_number(st.sd, *unit),
                "ci95_low": json_number(st.lo, *unit),
                "ci95_high": json_number(st.hi, *unit),
            }),
        );
    }
    let v = json!({ "scenario": s.name, "replications": per_rep.len(), "metrics": metrics });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn replications_csv(res: &ScenarioResult, per_rep: &[Vec<f64>]) -> String {
    let mut out = String::from("replication,seed");
    for (name, _) in METRICS {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for (i, (r, m)) in res.reps.iter().zip(per_rep).enumerate() {
        let _ = write!(out, "{i},{}", r.seed);
        for (k, (_, unit)) in METRICS.iter().enumerate() {
            let cell = match unit {
                Unit::Count if m[k].is_finite() => format!("{}", m[k] as i64),
                _ => fmt_value(m[k], *unit),
            };
            out.push(',');
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out
}

/// One group of cells of the daily table: its scope, key and which cells it sums.
fn daily_groups(s: &Scenario) -> Vec<(&'static str, String, Vec<usize>)> {
    let nc = s.categories.len();
    let mut g = vec![("all", "all".to_string(), (0..2 * nc).collect())];
    for (c, cat) in s.categories.iter().enumerate() {
        g.push(("category", cat.id.clone(), vec![2 * c, 2 * c + 1]));
    }
    for l in Landing::ALL {
        g.push(("landing", l.id().to_string(), (0..nc).map(|c| 2 * c + l as usize).collect()));
    }
    g
}

fn daily_csv(s: &Scenario, res: &ScenarioResult) -> String {
    let flows: Vec<Flow> = Flow::ALL.iter().copied().filter(|f| *f != Flow::OpenPlans).collect();
    let mut out = String::from("day,date,scope,key");
    for f in &flows {
        out.push(',');
        out.push_str(f.name());
        if *f == Flow::CommissionSettled {
            out.push_str(",commission_settled_ci95_low,commission_settled_ci95_high");
        }
    }
    out.push_str(",active_creators,open_plans\n");
    let groups = daily_groups(s);
    let n = res.reps.len() as f64;
    for day in 0..s.days as usize {
        for (scope, key, cells) in &groups {
            let sum = |r: &crate::sim::RepResult| {
                let mut t = Flows::default();
                for c in cells {
                    t.absorb(&r.daily[day][*c]);
                }
                t
            };
            let per_rep: Vec<Flows> = res.reps.iter().map(sum).collect();
            let _ = write!(out, "{day},{},{scope},{key}", s.date(day as u32));
            for f in &flows {
                let vals: Vec<f64> = per_rep.iter().map(|t| t.get(*f) as f64).collect();
                let unit = if f.is_money() { Unit::Rmb } else { Unit::Count };
                let scale = if f.is_money() { 100.0 } else { 1.0 };
                let _ = write!(out, ",{}", fmt_value(vals.iter().sum::<f64>() / n / scale, unit));
                if *f == Flow::CommissionSettled {
                    let st = stat(&vals.iter().map(|v| v / 100.0).collect::<Vec<_>>());
                    let _ = write!(out, ",{},{}", fmt_value(st.lo, Unit::Rmb), fmt_value(st.hi, Unit::Rmb));
                }
            }
            let active = if *scope == "all" {
                fmt_value(res.reps.iter().map(|r| r.active_by_day[day] as f64).sum::<f64>() / n, Unit::Count)
            } else {
                String::new()
            };
            let open: f64 = per_rep.iter().map(|t| t.get(Flow::OpenPlans) as f64).sum::<f64>() / n;
            let _ = writeln!(out, ",{active},{}", fmt_value(open, Unit::Count));
        }
    }
    out
}

fn manifest_json(s: &Scenario, res: &ScenarioResult, prov: &Provenance) -> String {
    let cats: Vec<Value> = s.categories.iter().map(|c| json!({ "id": c.id, "name": c.name })).collect();
    let v = json!({
        "cpsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": s.name,
        "scenario_file": prov.file,
        "scenario_hash": prov.hash,
        "seed": s.seed,
        "replications": res.reps.len(),
        "replication_seeds": res.reps.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "start_date": s.start.to_string(),
        "days": s.days,
        "categories": cats,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn creators_csv(d: &crate::sim::Detail) -> String {
    let c = &d.creators;
    let mut out = String::with_capacity(c.len() * 48 + 128);
    out.push_str("creator,followers,entry_day,active,clips,opens,payers,commission_settled,subsidies,earnings\n");
    for i in 0..c.len() {
        let _ = writeln!(
            out,
            "{i},{},{},{},{},{},{},{},{},{}",
            c.followers[i].round() as i64,
            c.entry_day[i],
            c.active[i] as u8,
            c.clips[i],
            c.opens[i],
            c.payers[i],
            format_rmb(c.settled_fen[i]),
            format_rmb(c.subsidy_fen[i]),
            format_rmb(c.settled_fen[i] + c.subsidy_fen[i])
        );
    }
    out
}

fn plans_csv(s: &Scenario, d: &crate::sim::Detail) -> String {
    let mut out = String::from("plan,title,category,landing,rate,budget,budget_used,gmv,commission,clips,opens,start_day,end_day,budget_out_day\n");
    for (k, p) in d.market.plans.iter().enumerate() {
        let budget = if p.budget_fen == UNLIMITED { "unlimited".to_string() } else { format_rmb(p.budget_fen) };
        let _ = writeln!(
            out,
            "{k},{},{},{},{:.6},{budget},{},{},{},{},{},{},{},{}",
            p.title,
            s.categories[p.category as usize].id,
            p.landing.id(),
            p.rate_ppm as f64 / 1e6,
            format_rmb(p.used_fen),
            format_rmb(p.gmv_fen),
            format_rmb(p.commission_fen),
            p.clips,
            p.opens,
            p.start_day,
            p.end_day,
            p.budget_out_day.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    out
}

/// Cumulative budget used by day for the 10 plans that paid the most commission.
fn plans_daily_csv(s: &Scenario, d: &crate::sim::Detail) -> String {
    let mut order: Vec<usize> = (0..d.market.plans.len()).collect();
    order.sort_by(|a, b| d.market.plans[*b].commission_fen.cmp(&d.market.plans[*a].commission_fen).then(a.cmp(b)));
    order.truncate(10);
    order.retain(|k| d.market.plans[*k].commission_fen > 0);
    let mut used = vec![vec![0i64; s.days as usize]; order.len()];
    for &(day, plan, value) in &d.plan_used {
        if let Some(j) = order.iter().position(|k| *k == plan as usize) {
            for x in &mut used[j][day as usize..] {
                *x = value;
            }
        }
    }
    let mut out = String::from("day,plan,budget_used\n");
    for day in 0..s.days as usize {
        for (row, k) in used.iter().zip(&order) {
            let _ = writeln!(out, "{day},{k},{}", format_rmb(row[day]));
        }
    }
    out
}
