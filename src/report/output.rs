//! Output files of a scenario run: summary, replications, daily series, manifest and the
//! per-creator and per-plan tables, written into a temporary folder and renamed into place so
//! that a failed run leaves no partial result.

use crate::model::metrics::RepData;
use crate::model::metrics::{stat, Flow, Flows, Unit, METRICS};
use crate::scenario::{Landing, Scenario};
use serde_json::{json, Map, Number, Value};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write output folder {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Chart(#[from] crate::report::charts::ChartError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_owned(), source }
}

/// What a scenario's files say about where it came from.
pub struct Provenance {
    pub file: String,
    /// Hash of the variant's effective content (file, sweep point, command-line overrides).
    pub hash: String,
    /// Swept parameters of this variant, if any.
    pub params: Vec<(String, String)>,
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

/// A text cell of a CSV file (a name that came from a scenario: a category id, a swept value):
/// quoted per RFC 4180 when it holds a comma, a quote, a line break or edge spaces, and, when it
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return, prefixed with `'` so a spreadsheet
/// never reads it as a formula (CSV injection). Numbers the simulator writes never pass here.
pub fn csv_field(s: &str) -> String {
    let neutral = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    let needs_quotes = neutral.contains([',', '"', '\n', '\r'])
        || neutral.starts_with(char::is_whitespace)
        || neutral.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// A swept parameter's value as a CSV cell: a string is text (escaped by [`csv_field`]); a
/// number, boolean or date is written as TOML writes it (a negative number keeps its sign), and
/// an array or table, which may hold strings, is escaped as text.
pub fn csv_param(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => csv_field(s),
        toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) | toml::Value::Datetime(_) => {
            v.to_string()
        }
        other => csv_field(&other.to_string()),
    }
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

/// The pid in a temporary name written by this module (`.NAME.tmp-PID`, `.NAME.old-PID`,
/// `.cpsim-write-test-PID`).
fn temp_pid(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let (_, pid) = name
        .rsplit_once(".tmp-")
        .or_else(|| name.rsplit_once(".old-"))
        .or_else(|| name.rsplit_once(".cpsim-write-test-"))?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes temporary files and folders left beside results by runs that died (killed, power
/// loss) in `out` and in `out/<stem>` for each stem; those of a live process are kept. Returns
/// what was removed.
pub fn remove_stale_temps(out: &Path, stems: &[String]) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let mut dirs = vec![out.to_path_buf()];
    dirs.extend(stems.iter().map(|s| out.join(s)));
    for dir in dirs {
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = temp_pid(&name) else { continue };
            if pid == std::process::id() || crate::report::lock::pid_alive(pid) {
                continue;
            }
            let p = e.path();
            let gone = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
            if gone.is_ok() {
                removed.push(p);
            }
        }
    }
    removed
}

/// Writes one variant's results to `target`, atomically: into a temporary folder beside it,
/// then renamed into place, so a reader never sees a half-written result.
pub fn write_variant(target: &Path, s: &Scenario, reps: &[RepData], prov: &Provenance) -> Result<(), OutputError> {
    // Charts are drawn from the files just written, inside the temporary folder, so that they
    // too appear all at once or not at all.
    write_atomically(target, |tmp| {
        write_files(tmp, s, reps, prov)?;
        Ok(crate::report::charts::draw_scenario(tmp).map(|_| ())?)
    })
}

/// Fills a result folder atomically: `fill` writes into a temporary folder `.NAME.tmp-PID`
/// beside `target`, which is then renamed into place; on an error the temporary folder is
/// removed and `target` is left as it was.
pub fn write_atomically(target: &Path, fill: impl FnOnce(&Path) -> Result<(), OutputError>) -> Result<(), OutputError> {
    let parent = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    // An old result is first renamed aside (atomic), never deleted in place: a run killed
    // during a long `remove_dir_all` would otherwise leave a half-deleted result folder.
    // Killed between the two renames, the target is absent and `.NAME.old-PID` is stale.
    if target.exists() {
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        if old.exists() {
            fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        fs::rename(target, &old).map_err(io(target))?;
        fs::rename(&tmp, target).map_err(io(target))?;
        let _ = fs::remove_dir_all(&old);
        return Ok(());
    }
    fs::rename(&tmp, target).map_err(io(target))
}

/// Writes `text` as the file `name` in `dir` (a folder being filled by [`write_atomically`]).
pub fn put(dir: &Path, name: &str, text: &str) -> Result<(), OutputError> {
    let p = dir.join(name);
    fs::write(&p, text).map_err(io(&p))
}

fn write_files(dir: &Path, s: &Scenario, reps: &[RepData], prov: &Provenance) -> Result<(), OutputError> {
    let per_rep: Vec<Vec<f64>> =
        reps.iter().map(|r| r.metrics.iter().map(|m| m.unwrap_or(f64::NAN)).collect()).collect();
    put(dir, "summary.csv", &summary_csv(&per_rep))?;
    put(dir, "summary.json", &summary_json(s, &per_rep, prov))?;
    put(dir, "replications.csv", &replications_csv(reps, &per_rep))?;
    put(dir, "daily.csv", &daily_csv(s, reps))?;
    put(dir, "manifest.json", &manifest_json(s, reps, prov))?;
    for (name, text) in reps.iter().flat_map(|r| r.detail_files.iter()) {
        put(dir, name, text)?;
    }
    for (name, text) in crate::report::own_plans::render(s, reps) {
        put(dir, name, &text)?;
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

fn summary_json(s: &Scenario, per_rep: &[Vec<f64>], prov: &Provenance) -> String {
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
    let params: Map<String, Value> = prov.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let v = json!({ "scenario": s.name, "parameters": params, "replications": per_rep.len(), "metrics": metrics });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn replications_csv(reps: &[RepData], per_rep: &[Vec<f64>]) -> String {
    let mut out = String::from("replication,seed,seed_hex");
    for (name, _) in METRICS {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for (r, m) in reps.iter().zip(per_rep) {
        let _ = write!(out, "{},{},{}", r.replication, r.seed, seed_hex(r.seed));
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

fn daily_csv(s: &Scenario, reps: &[RepData]) -> String {
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
    let n = reps.len() as f64;
    for day in 0..s.days as usize {
        for (scope, key, cells) in &groups {
            let sum = |r: &RepData| {
                let mut t = Flows::default();
                for c in cells {
                    t.absorb(&r.daily[day][*c]);
                }
                t
            };
            let per_rep: Vec<Flows> = reps.iter().map(sum).collect();
            let _ = write!(out, "{day},{},{scope},{}", s.date(day as u32), csv_field(key));
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
                fmt_value(reps.iter().map(|r| r.active_by_day[day] as f64).sum::<f64>() / n, Unit::Count)
            } else {
                String::new()
            };
            let open: f64 = per_rep.iter().map(|t| t.get(Flow::OpenPlans) as f64).sum::<f64>() / n;
            let _ = writeln!(out, ",{active},{}", fmt_value(open, Unit::Count));
        }
    }
    out
}

/// A seed as text a spreadsheet keeps exact: `0x` and 16 hex digits (its decimal form, beyond
/// 2^53, is read as a float and rounded).
pub fn seed_hex(seed: u64) -> String {
    format!("0x{seed:016x}")
}

fn manifest_json(s: &Scenario, reps: &[RepData], prov: &Provenance) -> String {
    let cats: Vec<Value> = s.categories.iter().map(|c| json!({ "id": c.id, "name": c.name })).collect();
    let v = json!({
        "cpsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": s.name,
        "scenario_file": prov.file,
        "scenario_hash": prov.hash,
        "seed": s.seed,
        "replications": reps.len(),
        "replication_seeds": reps.iter().map(|r| r.seed).collect::<Vec<_>>(),
        // The same seeds as text: a spreadsheet or a JavaScript reader turns a u64 beyond 2^53
        // into a float and loses its last digits.
        "replication_seeds_hex": reps.iter().map(|r| seed_hex(r.seed)).collect::<Vec<_>>(),
        "start_date": s.start.to_string(),
        "days": s.days,
        "burn_in_days": s.burn_in_days,
        "categories": cats,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// Reads a written summary.csv: (metric, unit, mean, sd, ci95_low, ci95_high) as text.
pub fn read_summary(dir: &Path) -> Result<Vec<[String; 6]>, OutputError> {
    let p = dir.join("summary.csv");
    let text = fs::read_to_string(&p).map_err(io(&p))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() == 6).then(|| [0, 1, 2, 3, 4, 5].map(|i| f[i].to_owned()))
        })
        .collect())
}

/// The line a user sees after a run: GMV with its interval (or the word that one replication
/// has none), commission settled, creators paid, labelled and formatted by [`crate::report::labels`].
pub fn headline(dir: &Path) -> Option<String> {
    use crate::report::labels::{self, format_interval, with_unit};
    let rows = read_summary(dir).ok()?;
    let n = fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|m| m["replications"].as_u64())
        .unwrap_or(0) as usize;
    let value = |m: &str| -> Option<(f64, f64, f64, Unit)> {
        let r = rows.iter().find(|r| r[0] == m)?;
        let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
        Some((num(&r[2]), num(&r[4]), num(&r[5]), labels::unit_from_name(&r[1])?))
    };
    let show = |m: &str, x: f64, u: Unit| with_unit(x, labels::metric_format(m, u), n > 1);
    let (g, p, c) = (value("gmv")?, value("commission_settled")?, value("creators_paid")?);
    let interval = if n > 1 {
        format!("{}: {}", labels::interval_wording(n), format_interval("gmv", g.3, g.1, g.2, n))
    } else {
        labels::one_replication_wording().to_string()
    };
    Some(format!(
        "{} {} ({interval}), {} {}, {} {}",
        labels::short_label("gmv"),
        show("gmv", g.0, g.3),
        labels::short_label("commission_settled").to_lowercase(),
        show("commission_settled", p.0, p.3),
        labels::short_label("creators_paid").to_lowercase(),
        show("creators_paid", c.0, c.3),
    ))
}

/// `sweep.csv`: one row per variant, its parameters, then every metric's mean and 95% interval,
/// read back from the variants' own summaries so that a resumed sweep writes the same bytes.
/// Folders of variants the scenario no longer has are removed, so old results never mix in.
/// `variants` are (folder name, swept (key path, value) pairs) in the sweep's order.
pub fn write_sweep(
    dir: &Path,
    param_names: &[String],
    variants: &[(&str, &[(String, toml::Value)])],
) -> Result<(), OutputError> {
    let mut out = String::from("variant");
    for p in param_names {
        out.push(',');
        out.push_str(&csv_field(p));
    }
    for (m, _) in METRICS {
        let _ = write!(out, ",{m}_mean,{m}_ci95_low,{m}_ci95_high");
    }
    // Own plans' metrics (`plans.<name>.<metric>`), as the first variant's own_plans.csv lists them.
    let own_keys: Vec<String> = variants
        .first()
        .map(|v| crate::report::own_plans::read_own_plans(&dir.join(v.0)).into_iter().map(|r| r.0).collect())
        .unwrap_or_default();
    for m in &own_keys {
        let m = csv_field(m);
        let _ = write!(out, ",{m}_mean,{m}_ci95_low,{m}_ci95_high");
    }
    out.push('\n');
    for &(name, params) in variants {
        out.push_str(name);
        for (_, val) in params {
            out.push(',');
            out.push_str(&csv_param(val));
        }
        let rows = read_summary(&dir.join(name))?;
        for (m, _) in METRICS {
            match rows.iter().find(|r| r[0] == *m) {
                Some(r) => {
                    let _ = write!(out, ",{},{},{}", r[2], r[4], r[5]);
                }
                None => out.push_str(",,,"),
            }
        }
        let own = crate::report::own_plans::read_own_plans(&dir.join(name));
        for m in &own_keys {
            match own.iter().find(|r| r.0 == *m) {
                Some((_, [mean, lo, hi])) => {
                    let _ = write!(out, ",{mean},{lo},{hi}");
                }
                None => out.push_str(",,,"),
            }
        }
        out.push('\n');
    }
    let tmp = dir.join(format!(".sweep.csv.tmp-{}", std::process::id()));
    fs::write(&tmp, out).map_err(io(&tmp))?;
    fs::rename(&tmp, dir.join("sweep.csv")).map_err(io(dir))?;
    let names: Vec<&str> = variants.iter().map(|v| v.0).collect();
    for e in fs::read_dir(dir).map_err(io(dir))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_variant = name.len() > 1 && name.starts_with('v') && name[1..].bytes().all(|b| b.is_ascii_digit());
        if is_variant && e.path().is_dir() && !names.contains(&name.as_str()) {
            fs::remove_dir_all(e.path()).map_err(io(&e.path()))?;
        }
    }
    Ok(())
}
