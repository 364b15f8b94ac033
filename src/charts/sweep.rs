//! Sweep charts: headline metrics against each swept parameter, a heat map over a
//! two-parameter grid, and a self-contained `sweep.html`, all from a sweep's `sweep.csv`.
//!
//! Parameters that move together across variants (a `zip` sweep of several keys) are one
//! chart axis: `sweep_1.png` is drawn against the first of them and names the others.
//! Numeric parameters are x values; text parameters are categories (points with 95%
//! intervals instead of lines and bands).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;

use super::data::{csv_err, io_err};
use super::draw::*;
use super::html::{base64_encode, escape_html, fmt_value};
use super::{ensure_font, ChartError};

/// Size of each `sweep_<n>.png` (a header and a 2x2 grid of panels).
pub const SWEEP_SIZE: (u32, u32) = (1200, 900);

/// Size of `sweep_heatmap.png`.
pub const HEATMAP_SIZE: (u32, u32) = (1200, 800);

/// At most this many lines (values of the other parameters) per panel; with more, the
/// variants are drawn as points.
pub const MAX_LINES: usize = 6;

/// Metrics of the line-chart panels: (column stem, panel title, unit).
const PANELS: [(&str, &str, &str); 4] = [
    ("gmv", "GMV", "RMB"),
    ("operator_net", "Operator net", "RMB"),
    ("creators_paid", "Creators paid", "count"),
    ("commission_settled", "Commission settled", "RMB"),
];

/// Metrics of the heat-map panels.
const HEAT_PANELS: [(&str, &str, &str); 2] = [("gmv", "GMV", "RMB"), ("operator_net", "Operator net", "RMB")];

/// Metrics of the HTML table.
const TABLE: [(&str, &str, &str); 6] = [
    ("gmv", "GMV", "RMB"),
    ("commission_settled", "Commission settled", "RMB"),
    ("operator_net", "Operator net", "RMB"),
    ("creators_paid", "Creators paid", "count"),
    ("active_creators", "Active creators", "count"),
    ("payout_gini", "Payout Gini", "share"),
];

/// One estimate: mean and 95% interval (NaN where unknown).
#[derive(Debug, Clone, Copy)]
struct Est {
    mean: f64,
    lo: f64,
    hi: f64,
}

const MISSING: Est = Est { mean: f64::NAN, lo: f64::NAN, hi: f64::NAN };

/// One swept parameter: its value in each variant and its distinct values (levels).
#[derive(Debug, Clone)]
struct Param {
    key: String,
    /// Whether every value is a finite number.
    numeric: bool,
    /// Distinct values: ascending for numbers, in order of appearance for text.
    levels: Vec<String>,
    /// Index into `levels` of each variant's value.
    level_of: Vec<usize>,
}

impl Param {
    fn new(key: String, raw: Vec<String>) -> Self {
        let numeric = !raw.is_empty() && raw.iter().all(|s| s.parse::<f64>().is_ok_and(f64::is_finite));
        let mut levels: Vec<String> = Vec::new();
        for s in &raw {
            if !levels.contains(s) {
                levels.push(s.clone());
            }
        }
        if numeric {
            levels.sort_by(|a, b| num(a).total_cmp(&num(b)).then_with(|| a.cmp(b)));
        }
        let level_of = raw.iter().map(|s| levels.iter().position(|l| l == s).unwrap_or(0)).collect();
        Param { key, numeric, levels, level_of }
    }

    /// Position of level `l` on an x axis: its value for numbers, its index for text.
    fn x_of_level(&self, l: usize) -> f64 {
        if self.numeric {
            self.levels.get(l).map_or(f64::NAN, |s| num(s))
        } else {
            l as f64
        }
    }

    /// Short display of level `l` (numbers with at most 6 significant digits).
    fn label(&self, l: usize) -> String {
        let s = self.levels.get(l).map_or("", String::as_str);
        if self.numeric {
            short_num(num(s), s)
        } else {
            s.to_string()
        }
    }
}

fn num(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
}

/// A number as written, or with at most 6 significant digits when the text is longer.
fn short_num(v: f64, raw: &str) -> String {
    if raw.len() <= 8 || !v.is_finite() {
        return raw.to_string();
    }
    if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e9) {
        return format!("{v:.3e}");
    }
    let decimals = (5 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The last segment of a key path: `categories.mini_game.fee_douyin` → `fee_douyin`.
fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// The contents of a sweep folder that the charts use.
#[derive(Debug, Clone)]
struct Sweep {
    dir: PathBuf,
    name: String,
    replications: Option<u64>,
    variants: Vec<String>,
    params: Vec<Param>,
    /// (metric stem, estimate per variant) in sweep.csv column order.
    metrics: Vec<(String, Vec<Est>)>,
}

impl Sweep {
    fn load(dir: &Path) -> Result<Self, ChartError> {
        let path = dir.join("sweep.csv");
        let file = std::fs::File::open(&path).map_err(|e| io_err(&path, e))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(file);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_err(&path, &e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let variant_col = headers
            .iter()
            .position(|h| h == "variant")
            .ok_or_else(|| ChartError::MissingColumn { path: path.clone(), column: "variant".to_string() })?;
        // Parameters run from after `variant` to the first `<m>_mean` followed by `<m>_ci95_low`.
        let first_metric = (variant_col + 1..headers.len())
            .find(|&i| {
                headers[i].strip_suffix("_mean").is_some_and(|m| headers.get(i + 1) == Some(&format!("{m}_ci95_low")))
            })
            .unwrap_or(headers.len());
        let param_cols: Vec<usize> = (variant_col + 1..first_metric).collect();
        let mut metric_cols: Vec<(String, usize, Option<usize>, Option<usize>)> = Vec::new();
        for i in first_metric..headers.len() {
            if let Some(m) = headers[i].strip_suffix("_mean") {
                let find = |suffix: &str| headers.iter().position(|h| *h == format!("{m}{suffix}"));
                metric_cols.push((m.to_string(), i, find("_ci95_low"), find("_ci95_high")));
            }
        }

        let mut variants = Vec::new();
        let mut raw: Vec<Vec<String>> = vec![Vec::new(); param_cols.len()];
        let mut ests: Vec<Vec<Est>> = vec![Vec::new(); metric_cols.len()];
        let mut rec = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(csv_err(&path, &e)),
            }
            let line = rec.position().map_or(0, |p| p.line());
            let field = |i: usize| rec.get(i).unwrap_or("");
            let number = |i: Option<usize>, name: &str| -> Result<f64, ChartError> {
                let s = i.map_or("", field);
                if s.is_empty() {
                    return Ok(f64::NAN);
                }
                s.parse::<f64>().map_err(|_| ChartError::BadRow {
                    path: path.clone(),
                    line,
                    message: format!("column `{name}`: `{s}` is not a number"),
                })
            };
            variants.push(field(variant_col).to_string());
            for (k, &c) in param_cols.iter().enumerate() {
                raw[k].push(field(c).to_string());
            }
            for (k, (m, mean, lo, hi)) in metric_cols.iter().enumerate() {
                ests[k].push(Est {
                    mean: number(Some(*mean), &format!("{m}_mean"))?,
                    lo: number(*lo, &format!("{m}_ci95_low"))?,
                    hi: number(*hi, &format!("{m}_ci95_high"))?,
                });
            }
        }
        let params = param_cols.iter().zip(raw).map(|(&c, r)| Param::new(headers[c].clone(), r)).collect();
        let metrics = metric_cols.into_iter().map(|(m, ..)| m).zip(ests).collect();

        let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let manifest = variants.first().and_then(|v| {
            let bytes = std::fs::read(dir.join(v).join("manifest.json")).ok()?;
            serde_json::from_slice::<serde_json::Value>(&bytes).ok()
        });
        let name = manifest
            .as_ref()
            .and_then(|m| m.get("scenario")?.as_str().map(str::to_string))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(folder);
        let replications = manifest.as_ref().and_then(|m| m.get("replications")?.as_u64());
        Ok(Sweep { dir: dir.to_path_buf(), name, replications, variants, params, metrics })
    }

    /// The estimates of `metric` per variant (all missing when sweep.csv lacks it).
    fn metric(&self, metric: &str) -> Vec<Est> {
        match self.metrics.iter().find(|(m, _)| m == metric) {
            Some((_, v)) => v.clone(),
            None => vec![MISSING; self.variants.len()],
        }
    }

    /// Parameters grouped by the variants they separate: keys that move together (a
    /// zip sweep) are one group. The first member of a group is its axis (the first
    /// numeric one, if any).
    fn groups(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            match groups.iter_mut().find(|g| same_partition(&self.params[g[0]], p)) {
                Some(g) => g.push(i),
                None => groups.push(vec![i]),
            }
        }
        for g in &mut groups {
            if let Some(k) = g.iter().position(|&i| self.params[i].numeric) {
                let first = g.remove(k);
                g.insert(0, first);
            }
        }
        groups
    }
}

/// Whether two parameters split the variants the same way (equal values of one exactly
/// where the other's are equal).
fn same_partition(a: &Param, b: &Param) -> bool {
    if a.levels.len() != b.levels.len() {
        return false;
    }
    let mut map: Vec<Option<usize>> = vec![None; a.levels.len()];
    for (&la, &lb) in a.level_of.iter().zip(&b.level_of) {
        match map[la] {
            None => map[la] = Some(lb),
            Some(m) if m != lb => return false,
            Some(_) => {}
        }
    }
    true
}

/// One line (or set of points) of a panel: the variants sharing the other parameters' values.
#[derive(Debug, Clone)]
struct Line {
    label: String,
    variants: Vec<usize>,
}

/// What one `sweep_<n>.png` shows.
#[derive(Debug, Clone)]
struct LinePlan {
    /// Index of the axis parameter.
    axis: usize,
    /// Parameters that move with the axis.
    linked: Vec<usize>,
    lines: Vec<Line>,
    /// More combinations of the other parameters than [`MAX_LINES`]: points only.
    scatter: bool,
}

fn line_plans(s: &Sweep) -> Vec<LinePlan> {
    let groups = s.groups();
    let varying: Vec<usize> = groups.iter().map(|g| g[0]).filter(|&p| s.params[p].levels.len() > 1).collect();
    groups
        .iter()
        .map(|g| {
            let others: Vec<usize> = varying.iter().copied().filter(|&p| p != g[0]).collect();
            // Variants with the same levels of every other varying parameter form a line.
            let mut combos: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
            for v in 0..s.variants.len() {
                let key: Vec<usize> = others.iter().map(|&p| s.params[p].level_of[v]).collect();
                match combos.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, vs)) => vs.push(v),
                    None => combos.push((key, vec![v])),
                }
            }
            combos.sort_by(|a, b| a.0.cmp(&b.0));
            let scatter = combos.len() > MAX_LINES;
            let lines = if scatter {
                vec![Line { label: String::new(), variants: (0..s.variants.len()).collect() }]
            } else {
                combos
                    .into_iter()
                    .map(|(key, variants)| {
                        let label = others
                            .iter()
                            .zip(&key)
                            .map(|(&p, &l)| format!("{} = {}", short_key(&s.params[p].key), s.params[p].label(l)))
                            .collect::<Vec<_>>()
                            .join(", ");
                        Line { label, variants }
                    })
                    .collect()
            };
            LinePlan { axis: g[0], linked: g[1..].to_vec(), lines, scatter }
        })
        .collect()
}

/// The two parameters of a full grid when exactly two parameter groups vary.
fn heatmap_axes(s: &Sweep) -> Option<(usize, usize)> {
    let varying: Vec<usize> = s.groups().iter().map(|g| g[0]).filter(|&p| s.params[p].levels.len() > 1).collect();
    let [a, b] = varying[..] else { return None };
    let (pa, pb) = (&s.params[a], &s.params[b]);
    let mut seen = vec![false; pa.levels.len() * pb.levels.len()];
    for v in 0..s.variants.len() {
        seen[pa.level_of[v] * pb.levels.len() + pb.level_of[v]] = true;
    }
    seen.iter().all(|&x| x).then_some((a, b))
}

/// Reads `dir/sweep.csv` (and the scenario name from the first variant's
/// `manifest.json`, else the folder name) and writes into `dir/charts/`: one
/// `sweep_<n>.png` per swept parameter (keys that move together count once; `n` from 1
/// in sweep.csv column order), `sweep_heatmap.png` when exactly two parameters vary over
/// a full grid, and `sweep.html` with the table and every chart inline. Returns the
/// written paths, the page last. Sweep charts of an earlier run that this one does not
/// write are removed.
pub fn draw_sweep(dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    ensure_font()?;
    let sweep = Sweep::load(dir)?;
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|source| ChartError::Io { path: charts_dir.clone(), source })?;

    let plans = line_plans(&sweep);
    let heat = heatmap_axes(&sweep);
    let mut jobs: Vec<(PathBuf, Option<&LinePlan>)> =
        plans.iter().enumerate().map(|(i, p)| (charts_dir.join(format!("sweep_{}.png", i + 1)), Some(p))).collect();
    if heat.is_some() {
        jobs.push((charts_dir.join("sweep_heatmap.png"), None));
    }
    let drawn: Vec<Result<PathBuf, ChartError>> = jobs
        .par_iter()
        .map(|(path, plan)| {
            match (plan, heat) {
                (Some(plan), _) => draw_lines(&sweep, plan, path)?,
                (None, Some((a, b))) => draw_heatmap(&sweep, a, b, path)?,
                (None, None) => {}
            }
            Ok(path.clone())
        })
        .collect();
    let mut paths = drawn.into_iter().collect::<Result<Vec<_>, _>>()?;
    remove_stale(&charts_dir, &paths)?;

    let page = charts_dir.join("sweep.html");
    write_page(&sweep, &plans, heat, &paths, &page)?;
    paths.push(page);
    Ok(paths)
}

/// Removes `sweep_<n>.png` and `sweep_heatmap.png` files that are not in `keep`.
fn remove_stale(charts_dir: &Path, keep: &[PathBuf]) -> Result<(), ChartError> {
    let entries = std::fs::read_dir(charts_dir).map_err(|source| ChartError::Io { path: charts_dir.into(), source })?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name == "sweep_heatmap.png"
            || name
                .strip_prefix("sweep_")
                .and_then(|r| r.strip_suffix(".png"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if ours && !keep.contains(&e.path()) {
            std::fs::remove_file(e.path()).map_err(|source| ChartError::Io { path: e.path(), source })?;
        }
    }
    Ok(())
}

/// Title of a parameter's chart: its key, and the keys that move with it.
fn param_title(s: &Sweep, plan: &LinePlan) -> String {
    let mut t = format!("Sweep of {}", s.params[plan.axis].key);
    if !plan.linked.is_empty() {
        let keys: Vec<&str> = plan.linked.iter().map(|&p| short_key(&s.params[p].key)).collect();
        let _ = write!(t, " (with {})", keys.join(", "));
    }
    t
}

/// `sweep_<n>.png`: a header (title, note, legend) and a 2x2 grid of metric panels.
fn draw_lines(s: &Sweep, plan: &LinePlan, path: &Path) -> Result<(), ChartError> {
    let p = &s.params[plan.axis];
    let title = title(&param_title(s, plan), &s.name);
    let reps = s.replications.map_or(String::new(), |r| format!(" of {r} replications"));
    let note = if !p.numeric {
        format!("Points: mean{reps}; bars: 95% interval across replications. Text values are categories.")
    } else if plan.scatter {
        format!(
            "Points: mean{reps}; bars: 95% interval. The other parameters take more than {MAX_LINES} combinations, so variants are not joined."
        )
    } else {
        format!("Lines: mean{reps}; shaded: 95% interval across replications.")
    };
    let legend: Vec<(String, RGBColor)> = if plan.scatter || plan.lines.len() < 2 {
        Vec::new()
    } else {
        plan.lines.iter().enumerate().map(|(i, l)| (l.label.clone(), color(i))).collect()
    };
    let per_row = 3usize;
    let legend_rows = legend.len().div_ceil(per_row);
    let header = 84 + 28 * legend_rows as u32;
    let (w, h) = SWEEP_SIZE;
    let size = (w, h + 28 * legend_rows as u32);
    render_sized(path, size, |root| {
        let (head, body) = root.split_vertically(header);
        let title_style = title_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        let shown = fit(&head, &title, &title_style, w as i32 - 30);
        head.draw(&Text::new(shown, (w as i32 / 2, 12), title_style))?;
        let note_style = text(16.0, &GREY).pos(Pos::new(HPos::Center, VPos::Top));
        head.draw(&Text::new(note, (w as i32 / 2, 52), note_style))?;
        let col_w = (w as i32 - 40) / per_row as i32;
        for (i, (label, c)) in legend.iter().enumerate() {
            let x = 20 + col_w * (i % per_row) as i32;
            let y = 84 + 28 * (i / per_row) as i32;
            head.draw(&Rectangle::new([(x, y + 2), (x + 24, y + 16)], c.mix(0.25).filled()))?;
            head.draw(&PathElement::new(vec![(x, y + 9), (x + 24, y + 9)], c.stroke_width(3)))?;
            let style = text(17.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            let label = fit(&head, label, &style, col_w - 40);
            head.draw(&Text::new(label, (x + 32, y + 9), style))?;
        }
        if s.variants.is_empty() {
            return no_data(&body, "", "sweep.csv has no variants.");
        }
        let panels = body.split_evenly((2, 2));
        for (panel, (metric, label, unit)) in panels.iter().zip(PANELS) {
            line_panel(root, panel, s, plan, metric, &format!("{label} ({unit})"), unit)?;
        }
        Ok(())
    })
}

/// Axis range of values (with padding); a span around the value when there is one.
fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= 1e-12 * hi.abs().max(lo.abs()).max(1e-300) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    (lo - pad * span, hi + pad * span)
}

/// One metric's panel of a parameter chart.
fn line_panel(root: &Root, panel: &Root, s: &Sweep, plan: &LinePlan, metric: &str, caption: &str, unit: &str) -> Drawn {
    let p = &s.params[plan.axis];
    let est = s.metric(metric);
    let numeric = p.numeric;
    let n_lines = plan.lines.len();
    // A small offset per line keeps categorical points of different lines apart.
    let dodge = |i: usize| -> f64 {
        if numeric || n_lines < 2 {
            0.0
        } else {
            (i as f64 - (n_lines - 1) as f64 / 2.0) * 0.5 / n_lines as f64
        }
    };
    let x_of = |v: usize| p.x_of_level(p.level_of[v]);
    let (x0, x1) = if numeric {
        padded(p.levels.iter().map(|l| num(l)), 0.05)
    } else {
        (-0.5, p.levels.len().max(1) as f64 - 0.5)
    };
    let ys = est.iter().flat_map(|e| [e.mean, e.lo, e.hi]);
    let (y0, y1) = padded(ys, 0.08);
    let has_data = est.iter().any(|e| e.mean.is_finite());
    let ticks_at_levels = !numeric || p.levels.len() <= 12;

    let mut chart = ChartBuilder::on(panel)
        .caption(caption, font(20.0))
        .margin(14)
        .margin_right(24)
        .x_label_area_size(if ticks_at_levels { 58 } else { 50 })
        .y_label_area_size(74)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let share = unit == "share";
    let y_fmt = |y: &f64| if share { format!("{y:.2}") } else { compact(*y) };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(p.key.clone())
        .y_desc(unit)
        .axis_desc_style(font(16.0))
        .label_style(label_font())
        .y_labels(if has_data { 6 } else { 0 })
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&|x| compact(*x))
        .light_line_style(WHITE);
    if ticks_at_levels {
        mesh.x_labels(0).disable_x_mesh();
    } else {
        mesh.x_labels(8);
    }
    mesh.draw()?;
    if ticks_at_levels {
        let names: Vec<(f64, String)> = (0..p.levels.len()).map(|l| (p.x_of_level(l), p.label(l))).collect();
        for (x, _) in &names {
            chart.draw_series(std::iter::once(PathElement::new(vec![(*x, y0), (*x, y1)], RGBColor(235, 235, 235))))?;
        }
        let names: Vec<(f64, String)> =
            names.into_iter().map(|(x, n)| (x, fit(root, &n, &text(15.0, &BLACK), 110))).collect();
        x_names(root, &chart, &y0, &names, 15.0, 6)?;
    }
    if !has_data {
        let (px, py) = chart.backend_coord(&((x0 + x1) / 2.0, (y0 + y1) / 2.0));
        root.draw(&Text::new(
            format!("n/a: no `{metric}_mean` in sweep.csv"),
            (px, py),
            text(17.0, &GREY).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        return Ok(());
    }

    for (i, line) in plan.lines.iter().enumerate() {
        let c = color(i);
        let mut pts: Vec<(f64, Est)> = line
            .variants
            .iter()
            .map(|&v| (x_of(v) + dodge(i), est[v]))
            .filter(|(x, e)| x.is_finite() && e.mean.is_finite())
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let joined = numeric && !plan.scatter;
        if joined {
            let band: Vec<(f64, f64, f64)> = pts
                .iter()
                .map(|(x, e)| {
                    (*x, if e.lo.is_finite() { e.lo } else { e.mean }, if e.hi.is_finite() { e.hi } else { e.mean })
                })
                .collect();
            if band.len() > 1 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|(x, _, hi)| (*x, *hi)).collect();
                poly.extend(band.iter().rev().map(|(x, lo, _)| (*x, *lo)));
                // One band is shaded; several overlapping ones are lighter, with their bounds drawn.
                let fill = if n_lines > 1 { 0.07 } else { 0.18 };
                chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(fill).filled())))?;
                if n_lines > 1 {
                    for bound in
                        [band.iter().map(|b| (b.0, b.1)).collect::<Vec<_>>(), band.iter().map(|b| (b.0, b.2)).collect()]
                    {
                        chart.draw_series(DashedLineSeries::new(bound, 5, 4, c.mix(0.7).stroke_width(1)))?;
                    }
                }
            }
            chart.draw_series(LineSeries::new(pts.iter().map(|(x, e)| (*x, e.mean)), c.stroke_width(2)))?;
        }
        // Error bars where the band cannot show the interval (single points, categories, scatter).
        if !joined || pts.len() == 1 {
            let cap = (x1 - x0) * 0.008;
            for (x, e) in &pts {
                if e.lo.is_finite() && e.hi.is_finite() {
                    let st = c.stroke_width(2);
                    chart.draw_series(std::iter::once(PathElement::new(vec![(*x, e.lo), (*x, e.hi)], st)))?;
                    for y in [e.lo, e.hi] {
                        chart.draw_series(std::iter::once(PathElement::new(vec![(x - cap, y), (x + cap, y)], st)))?;
                    }
                }
            }
        }
        chart.draw_series(pts.iter().map(|(x, e)| Circle::new((*x, e.mean), 4, c.filled())))?;
    }
    Ok(())
}

/// A viridis-like colour at `t` in 0..=1.
fn heat_color(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 6] = [
        (0x44, 0x01, 0x54),
        (0x41, 0x44, 0x87),
        (0x2A, 0x78, 0x8E),
        (0x22, 0xA8, 0x84),
        (0x7A, 0xD1, 0x51),
        (0xFD, 0xE7, 0x25),
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (STOPS.len() - 1) as f64;
    let k = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - k as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round().clamp(0.0, 255.0) as u8;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads better on `c`.
fn ink_on(c: RGBColor) -> RGBColor {
    let l = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if l > 140.0 {
        BLACK
    } else {
        WHITE
    }
}

/// Labels of a panel's values on a common scale (¥12.18M, 3.4k, 0.123) with the fewest
/// decimals (up to 4) that keep distinct values apart.
struct Scale {
    div: f64,
    suffix: &'static str,
    decimals: usize,
    unit: String,
}

impl Scale {
    fn new(values: &[f64], unit: &str) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let big = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let (div, suffix) = if unit == "share" {
            (1.0, "")
        } else if big >= 1e9 {
            (1e9, "B")
        } else if big >= 1e6 {
            (1e6, "M")
        } else if big >= 1e3 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        let mut distinct = finite.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let first = if unit == "share" {
            2
        } else if suffix.is_empty() && unit == "count" {
            0
        } else {
            1
        };
        let mut scale = Scale { div, suffix, decimals: first, unit: unit.to_string() };
        while scale.decimals < first + 3 {
            let mut labels: Vec<String> = distinct.iter().map(|v| scale.label(*v)).collect();
            labels.dedup();
            if labels.len() == distinct.len() {
                break;
            }
            scale.decimals += 1;
        }
        scale
    }

    fn label(&self, v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        let body = format!("{:.*}{}", self.decimals, v.abs() / self.div, self.suffix);
        let sign = if v < 0.0 && body.bytes().any(|b| (b'1'..=b'9').contains(&b)) { "−" } else { "" };
        if self.unit == "RMB" {
            format!("{sign}¥{body}")
        } else {
            format!("{sign}{body}")
        }
    }
}

/// `sweep_heatmap.png`: GMV and operator net means over the grid of parameters `a` (x)
/// and `b` (y), one panel each with its colour scale.
fn draw_heatmap(s: &Sweep, a: usize, b: usize, path: &Path) -> Result<(), ChartError> {
    let (pa, pb) = (&s.params[a], &s.params[b]);
    let title = title(&format!("Mean over the grid of {} × {}", short_key(&pa.key), short_key(&pb.key)), &s.name);
    let (w, _) = HEATMAP_SIZE;
    render_sized(path, HEATMAP_SIZE, |root| {
        let (head, body) = root.split_vertically(70);
        let title_style = title_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        let shown = fit(&head, &title, &title_style, w as i32 - 30);
        head.draw(&Text::new(shown, (w as i32 / 2, 16), title_style))?;
        let panels = body.split_evenly((1, 2));
        for (panel, (metric, label, unit)) in panels.iter().zip(HEAT_PANELS) {
            heat_panel(root, panel, s, pa, pb, metric, &format!("{label} mean ({unit})"), unit)?;
        }
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn heat_panel(
    root: &Root,
    panel: &Root,
    s: &Sweep,
    pa: &Param,
    pb: &Param,
    metric: &str,
    caption: &str,
    unit: &str,
) -> Drawn {
    let est = s.metric(metric);
    let (na, nb) = (pa.levels.len(), pb.levels.len());
    let mut cells = vec![f64::NAN; na * nb];
    for (v, e) in est.iter().enumerate() {
        let k = pa.level_of[v] * nb + pb.level_of[v];
        if cells[k].is_nan() {
            cells[k] = e.mean;
        }
    }
    let lo = cells.iter().copied().filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
    let hi = cells.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    let t_of = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    let scale = Scale::new(&cells, unit);

    let (pw, _) = panel.dim_in_pixel();
    let (plot, bar) = panel.split_horizontally(pw.saturating_sub(112));
    let mut chart = ChartBuilder::on(&plot)
        .caption(caption, font(20.0))
        .margin(12)
        .x_label_area_size(62)
        .y_label_area_size(82)
        .build_cartesian_2d(-0.5f64..na as f64 - 0.5, -0.5f64..nb as f64 - 0.5)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(pa.key.clone())
        .y_desc(pb.key.clone())
        .axis_desc_style(font(15.0))
        .draw()?;
    let (cw, ch) = {
        let (x0, y0) = chart.backend_coord(&(0.0, 0.0));
        let (x1, y1) = chart.backend_coord(&(1.0, 1.0));
        ((x1 - x0).abs(), (y1 - y0).abs())
    };
    let size = (f64::from(ch.min(cw)) / 4.0).clamp(10.0, 18.0);
    for i in 0..na {
        for j in 0..nb {
            let v = cells[i * nb + j];
            let (x, y) = (i as f64, j as f64);
            let fill = if v.is_finite() { heat_color(t_of(v)) } else { RGBColor(0xEE, 0xEE, 0xEE) };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                fill.filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                WHITE.stroke_width(1),
            )))?;
            let label = fit(root, &scale.label(v), &text(size, &BLACK), cw - 4);
            let ink = if v.is_finite() { ink_on(fill) } else { GREY };
            chart.draw_series(std::iter::once(Text::new(
                label,
                (x, y),
                text(size, &ink).pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
    }
    let xs: Vec<(f64, String)> =
        (0..na).map(|i| (i as f64, fit(root, &pa.label(i), &text(15.0, &BLACK), cw.max(30)))).collect();
    x_names(root, &chart, &-0.5, &xs, 15.0, 6)?;
    for j in 0..nb {
        let (px, py) = chart.backend_coord(&(-0.5, j as f64));
        let style = text(15.0, &BLACK).pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(fit(root, &pb.label(j), &style, 56), (px - 6, py), style))?;
    }

    // Colour legend: a vertical gradient from the lowest (bottom) to the highest mean.
    let (top, bottom) = (chart.backend_coord(&(0.0, nb as f64 - 0.5)).1, chart.backend_coord(&(0.0, -0.5)).1);
    let (bx, _) = bar.get_base_pixel();
    let (x_left, x_right) = (bx + 8, bx + 30);
    if lo.is_finite() {
        let steps = 64;
        let span = f64::from(bottom - top);
        for k in 0..steps {
            let ya = top + (span * k as f64 / steps as f64).round() as i32;
            let yb = top + (span * (k + 1) as f64 / steps as f64).round() as i32;
            let c = heat_color(1.0 - (k as f64 + 0.5) / steps as f64);
            root.draw(&Rectangle::new([(x_left, ya), (x_right, yb)], c.filled()))?;
        }
        root.draw(&Rectangle::new([(x_left, top), (x_right, bottom)], GREY.stroke_width(1)))?;
        let marks = if hi > lo {
            vec![(hi, top), ((lo + hi) / 2.0, (top + bottom) / 2), (lo, bottom)]
        } else {
            vec![(lo, (top + bottom) / 2)]
        };
        for (v, y) in marks {
            root.draw(&PathElement::new(vec![(x_right, y), (x_right + 4, y)], BLACK.stroke_width(1)))?;
            let style = text(15.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(scale.label(v), (x_right + 7, y), style))?;
        }
    } else {
        let (px, py) = chart.backend_coord(&((na as f64 - 1.0) / 2.0, (nb as f64 - 1.0) / 2.0));
        root.draw(&Text::new(
            format!("n/a: no `{metric}_mean` in sweep.csv"),
            (px, py - 30),
            text(17.0, &GREY).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// What each chart shows, for the page.
fn caption(s: &Sweep, plan: Option<&LinePlan>, heat: Option<(usize, usize)>) -> String {
    match (plan, heat) {
        (Some(plan), _) => {
            let p = &s.params[plan.axis];
            let mut c = format!(
                "How do GMV, operator net, creators paid and commission settled change with {}? Means with 95% intervals across replications",
                p.key
            );
            if plan.lines.len() > 1 {
                c.push_str("; one line per value of the other parameters");
            }
            if plan.scatter {
                let _ = write!(c, "; the other parameters take more than {MAX_LINES} combinations, so each variant is a point");
            }
            if !p.numeric {
                c.push_str("; its values are text, drawn as categories");
            }
            c.push('.');
            c
        }
        (None, Some((a, b))) => format!(
            "Mean GMV and operator net over every combination of {} (x) and {} (y); the colour scale of each panel runs from its lowest to its highest mean.",
            s.params[a].key, s.params[b].key
        ),
        (None, None) => String::new(),
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC',\
'Microsoft YaHei',sans-serif;margin:2em auto;max-width:1240px;padding:0 1em;color:#222;\
line-height:1.45}h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;\
border-bottom:1px solid #ddd}.meta{color:#555;font-size:.92em}table{border-collapse:collapse;\
font-size:.9em}th,td{padding:.25em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
th{background:#f4f4f4}figure{margin:1.5em 0}figcaption{margin:.3em 0 .6em}\
img{max-width:100%;height:auto;border:1px solid #ddd}code{font-size:.95em}small{color:#666}";

/// Writes `sweep.html`: the parameters, the table of variants and every chart inline.
fn write_page(
    s: &Sweep,
    plans: &[LinePlan],
    heat: Option<(usize, usize)>,
    charts: &[PathBuf],
    out: &Path,
) -> Result<(), ChartError> {
    let name = escape_html(&s.name);
    let mut h = String::with_capacity(1 << 20);
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>cpsim sweep: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(h, "<h1>cpsim sweep: {name}</h1>");
    let folder = s.dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let mut meta = format!("folder: <code>{}</code> · variants: {}", escape_html(&folder), s.variants.len());
    if let Some(r) = s.replications {
        let _ = write!(meta, " · replications per variant: {r}");
    }
    let _ = writeln!(h, "<p class=\"meta\">{meta}</p>");
    if !s.params.is_empty() {
        h.push_str("<p class=\"meta\">Swept parameters: ");
        let items: Vec<String> = s
            .params
            .iter()
            .map(|p| {
                let kind = if p.numeric { "" } else { ", text" };
                format!("<code>{}</code> ({} values{kind})", escape_html(&p.key), p.levels.len())
            })
            .collect();
        h.push_str(&items.join(", "));
        h.push_str("</p>\n");
    }
    for plan in plans.iter().filter(|p| !p.linked.is_empty()) {
        let keys: Vec<String> =
            plan.linked.iter().map(|&p| format!("<code>{}</code>", escape_html(&s.params[p].key))).collect();
        let _ = writeln!(
            h,
            "<p class=\"meta\">{} move together with <code>{}</code>; their chart is drawn against the latter.</p>",
            keys.join(", "),
            escape_html(&s.params[plan.axis].key)
        );
    }

    h.push_str("<h2>Variants</h2>\n<p>Means over replications and, below them, the 95% interval across replications.</p>\n<table>\n<tr><th>variant</th>");
    for p in &s.params {
        let _ = write!(h, "<th><code>{}</code></th>", escape_html(&p.key));
    }
    let present: Vec<(&str, &str, &str, Vec<Est>)> = TABLE
        .iter()
        .filter(|(m, ..)| s.metrics.iter().any(|(n, _)| n == m))
        .map(|&(m, label, unit)| (m, label, unit, s.metric(m)))
        .collect();
    for (_, label, unit, _) in &present {
        let _ = write!(h, "<th>{} ({})</th>", escape_html(label), escape_html(unit));
    }
    h.push_str("</tr>\n");
    for (v, variant) in s.variants.iter().enumerate() {
        let _ = write!(h, "<tr><td><code>{}</code></td>", escape_html(variant));
        for p in &s.params {
            let value = p.label(p.level_of[v]);
            let class = if p.numeric { " class=\"num\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", escape_html(&value));
        }
        for (_, _, unit, est) in &present {
            let e = est[v];
            let interval = if e.lo.is_finite() && e.hi.is_finite() {
                format!("[{}, {}]", fmt_value(e.lo, unit), fmt_value(e.hi, unit))
            } else {
                "–".to_string()
            };
            let _ = write!(h, "<td class=\"num\">{}<br><small>{interval}</small></td>", fmt_value(e.mean, unit));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if !present.iter().any(|(m, ..)| *m == "gmv") {
        h.push_str("<p class=\"meta\">sweep.csv has no headline metric columns.</p>\n");
    }

    h.push_str("<h2>Charts</h2>\n");
    if charts.is_empty() {
        h.push_str("<p>No parameter columns in sweep.csv: nothing to chart.</p>\n");
    }
    for path in charts {
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = file.trim_end_matches(".png");
        let (heading, cap) = if stem == "sweep_heatmap" {
            ("GMV and operator net over the grid".to_string(), caption(s, None, heat))
        } else {
            let n: usize = stem.trim_start_matches("sweep_").parse().unwrap_or(1);
            match plans.get(n.saturating_sub(1)) {
                Some(plan) => (param_title(s, plan), caption(s, Some(plan), None)),
                None => (file.clone(), String::new()),
            }
        };
        let bytes = std::fs::read(path).map_err(|source| ChartError::Io { path: path.clone(), source })?;
        let _ = writeln!(
            h,
            "<figure id=\"{}\">\n<h3>{}</h3>\n<figcaption>{}</figcaption>\n<img alt=\"{} — {name}\" width=\"1200\" src=\"data:image/png;base64,{}\">\n</figure>",
            escape_html(stem),
            escape_html(&heading),
            escape_html(&cap),
            escape_html(&heading),
            base64_encode(&bytes)
        );
    }
    h.push_str("</body>\n</html>\n");
    std::fs::write(out, h).map_err(|source| ChartError::Io { path: out.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(key: &str, vals: &[&str]) -> Param {
        Param::new(key.to_string(), vals.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn numeric_levels_are_sorted_and_text_keeps_order() {
        let p = param("a", &["0.9", "0.3", "0.6", "0.3"]);
        assert!(p.numeric);
        assert_eq!(p.levels, ["0.3", "0.6", "0.9"]);
        assert_eq!(p.level_of, [2, 0, 1, 0]);
        let q = param("b", &["wechat", "douyin", "wechat"]);
        assert!(!q.numeric);
        assert_eq!(q.levels, ["wechat", "douyin"]);
        assert_eq!(q.x_of_level(1), 1.0);
    }

    #[test]
    fn zipped_keys_share_a_partition() {
        let a = param("a", &["1", "2", "3"]);
        let b = param("b", &["10", "20", "30"]);
        let c = param("c", &["1", "1", "2"]);
        assert!(same_partition(&a, &b));
        assert!(!same_partition(&a, &c));
    }

    #[test]
    fn long_numbers_are_shortened() {
        assert_eq!(short_num(0.30000000000000004, "0.30000000000000004"), "0.3");
        assert_eq!(short_num(0.05, "0.05"), "0.05");
        assert_eq!(short_num(123456789.0, "123456789"), "123456789");
    }

    #[test]
    fn scale_keeps_distinct_values_apart() {
        let s = Scale::new(&[12_181_481.97, 12_222_981.79, 12_264_548.08], "RMB");
        assert_eq!(s.label(12_181_481.97), "¥12.18M");
        assert_eq!(s.label(-1_000.0), "¥0.00M");
        assert_eq!(s.label(-20_000.0), "−¥0.02M");
        assert_eq!(Scale::new(&[3.0, 40.0], "count").label(3.0), "3");
        assert_eq!(Scale::new(&[0.5, 0.52], "share").label(0.5), "0.50");
        assert_eq!(Scale::new(&[f64::NAN], "RMB").label(f64::NAN), "n/a");
    }

    #[test]
    fn heat_colors_span_the_scale() {
        assert_eq!(heat_color(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(heat_color(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(heat_color(f64::NAN), heat_color(0.0));
    }
}
