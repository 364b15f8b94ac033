//! Shared drawing helpers: PNG rendering, fonts, palette, number formats, "no data" charts.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::FONT_FAMILY;
use super::{ChartError, CHART_SIZE};

/// The drawing area of a whole chart.
pub type Root<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// What chart-drawing closures return; errors become [`ChartError::Draw`].
pub type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Renders one PNG of [`CHART_SIZE`] at `path`: white background, then `f`.
pub fn render(path: &Path, f: impl FnOnce(&Root) -> Drawn) -> Result<(), ChartError> {
    render_sized(path, CHART_SIZE, f)
}

/// Renders one PNG of `size` pixels at `path`, atomically (see [`beside`]).
pub fn render_sized(path: &Path, size: (u32, u32), f: impl FnOnce(&Root) -> Drawn) -> Result<(), ChartError> {
    let to_err = |e: &dyn std::fmt::Display| ChartError::Draw { path: path.to_path_buf(), message: e.to_string() };
    let tmp = beside(path);
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| to_err(&e))?;
        f(&root).map_err(|e| to_err(&e))?;
        root.present().map_err(|e| to_err(&e))
    })();
    finish(drawn, &tmp, path)
}

/// Writes a page (or any file) at `path`, atomically (see [`beside`]).
pub fn write_atomic(path: &Path, contents: &str) -> Result<(), ChartError> {
    let tmp = beside(path);
    let written = std::fs::write(&tmp, contents).map_err(|source| ChartError::Io { path: path.to_path_buf(), source });
    finish(written, &tmp, path)
}

/// A hidden temporary name beside `path` that keeps its extension (plotters picks the image
/// format by it): a chart or page is written there and renamed over `path` once complete, so a
/// run stopped mid-drawing, or a reader looking while `cpsim chart` redraws, never sees half a file.
fn beside(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    let ext = path.extension().map(|s| s.to_string_lossy()).unwrap_or_default();
    path.with_file_name(format!(".{stem}.tmp-{}.{ext}", std::process::id()))
}

/// Renames a complete temporary file over `path`, or removes it after a failure.
fn finish(done: Result<(), ChartError>, tmp: &Path, path: &Path) -> Result<(), ChartError> {
    let renamed = done.and_then(|()| {
        std::fs::rename(tmp, path).map_err(|source| ChartError::Io { path: path.to_path_buf(), source })
    });
    if renamed.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    renamed
}

/// The chart font at `size` pixels.
pub fn font(size: f64) -> FontDesc<'static> {
    (FONT_FAMILY, size).into_font()
}

/// The chart font at `size` pixels in `color`.
pub fn text<C: Color>(size: f64, color: &C) -> TextStyle<'static> {
    font(size).color(color)
}

/// The chart font at `size` pixels, black, anchored at its centre.
pub fn centered(size: f64) -> TextStyle<'static> {
    text(size, &BLACK).pos(Pos::new(HPos::Center, VPos::Center))
}

/// Title font.
pub fn title_font() -> FontDesc<'static> {
    font(28.0)
}

/// Axis-description font (axis titles).
pub fn desc_font() -> FontDesc<'static> {
    font(19.0)
}

/// Tick-label font.
pub fn label_font() -> FontDesc<'static> {
    font(16.0)
}

/// Legend font.
pub fn legend_font() -> FontDesc<'static> {
    font(17.0)
}

/// The legend box of every chart: translucent white, black border, the legend font.
pub fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, position: SeriesLabelPosition) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(legend_font())
        .draw()?;
    Ok(())
}

/// Ten distinguishable colours (Tableau 10), used for series in order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// Colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `c` mixed with white (`white` = 0: `c`, 1: white); opaque, unlike `mix`.
pub fn tint(c: RGBColor, white: f64) -> RGBColor {
    let m = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * white).round().clamp(0.0, 255.0) as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// Neutral grey for reference lines.
pub const GREY: RGBColor = RGBColor(0x80, 0x80, 0x80);

/// `title — scenario`.
pub fn title(what: &str, scenario: &str) -> String {
    format!("{what} — {scenario}")
}

/// Draws a chart that only has a title and a centred "no data" note.
pub fn no_data(root: &Root, title: &str, note: &str) -> Drawn {
    let inner = root.margin(14, 0, 0, 0).titled(title, title_font())?;
    let (iw, ih) = inner.dim_in_pixel();
    inner.draw(&Rectangle::new([(40, 20), (iw as i32 - 40, ih as i32 - 40)], GREY.stroke_width(1)))?;
    let cx = iw as i32 / 2;
    let cy = ih as i32 / 2 - 20;
    inner.draw(&Text::new("No data", (cx, cy - 20), centered(34.0)))?;
    inner.draw(&Text::new(note.to_string(), (cx, cy + 25), centered(20.0)))?;
    Ok(())
}

/// A finite value or 0.
pub fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Upper axis bound a little above `max` (1 when there is nothing positive).
pub fn headroom(max: f64, factor: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * factor
    } else {
        1.0
    }
}

/// Compact tick label: 1.2k, 3.4M, 5.6B; small numbers with up to 3 significant digits.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if scaled == 0.0 {
        "0".to_string()
    } else if scaled.abs() >= 100.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 10.0 {
        format!("{scaled:.1}")
    } else if scaled.abs() >= 0.01 || !suffix.is_empty() {
        format!("{scaled:.2}")
    } else {
        format!("{scaled:.2e}")
    };
    let s =
        if s.contains('.') && !s.contains('e') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    format!("{s}{suffix}")
}

/// Compact RMB amount: ¥1.2M.
pub fn rmb(v: f64) -> String {
    if v < 0.0 {
        format!("−¥{}", compact(-v))
    } else {
        format!("¥{}", compact(v))
    }
}

/// A share as a percentage with adaptive precision: 12.3%, 4.56%, 0.012%, 0.0001%.
pub fn pct(share: f64) -> String {
    let p = share * 100.0;
    if !p.is_finite() {
        "–".to_string()
    } else if p == 0.0 || p.abs() >= 10.0 {
        format!("{p:.1}%")
    } else if p.abs() >= 0.1 {
        format!("{p:.2}%")
    } else {
        // Two significant digits, without trailing zeros.
        let decimals = ((-p.abs().log10()).ceil() as usize + 1).min(10);
        let s = format!("{p:.decimals$}");
        format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

pub use crate::report::labels::thousands;

/// At most `max` characters of `s`, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// `s`, cut with an ellipsis until it is at most `max_px` pixels wide in `style`.
pub fn fit(area: &Root, s: &str, style: &TextStyle, max_px: i32) -> String {
    let width = |t: &str| area.estimate_text_size(t, style).map_or(0, |(w, _)| w as i32);
    let mut n = s.chars().count();
    let mut out = s.to_string();
    while n > 1 && width(&out) > max_px {
        n -= 1;
        out = truncate(s, n);
    }
    out
}

/// Tick label of a day axis: the date's MM-DD when known, else `day N`.
pub fn day_label(dates: &[String], x: f64) -> String {
    let d = x.round();
    if d < 0.0 || (x - d).abs() > 1e-6 {
        return String::new();
    }
    match dates.get(d as usize) {
        Some(s) if s.len() == 10 => s[5..].to_string(),
        _ => format!("day {d}"),
    }
}

/// Axis description of a day axis.
pub fn day_axis_desc(dates: &[String]) -> String {
    match dates.first() {
        Some(s) if s.len() == 10 => format!("Date (MM-DD, day 0 = {s})"),
        _ => "Day".to_string(),
    }
}

/// Draws each `(x, name)` of `items` centred under x of a chart's plotting area, `dy`
/// pixels below the y value `y` (`root` must be the whole image).
pub fn x_names<X, Y>(
    root: &Root,
    chart: &ChartContext<BitMapBackend, Cartesian2d<X, Y>>,
    y: &Y::ValueType,
    items: &[(f64, String)],
    size: f64,
    dy: i32,
) -> Drawn
where
    X: Ranged<ValueType = f64>,
    Y: Ranged,
    Y::ValueType: Clone,
{
    for (x, name) in items {
        let (px, py) = chart.backend_coord(&(*x, y.clone()));
        root.draw(&Text::new(name.clone(), (px, py + dy), text(size, &BLACK).pos(Pos::new(HPos::Center, VPos::Top))))?;
    }
    Ok(())
}

/// Draws `title` and, under it, a centred row of legend entries (colour square and
/// label) at the top of `area`; returns the area below them.
pub fn title_and_legend_row<'a>(
    area: &Root<'a>,
    title: &str,
    items: &[(String, RGBColor)],
) -> Result<Root<'a>, Box<dyn std::error::Error>> {
    let (w, _) = area.dim_in_pixel();
    let (head, body) = area.split_vertically(100);
    head.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 16),
        title_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let style = text(17.0, &BLACK);
    let widths: Vec<i32> = items
        .iter()
        .map(|(label, _)| {
            let (tw, _) = area.estimate_text_size(label, &style).unwrap_or((0, 0));
            18 + 8 + tw as i32 + 28
        })
        .collect();
    let mut x = (w as i32 - widths.iter().sum::<i32>()) / 2;
    for ((label, c), width) in items.iter().zip(&widths) {
        head.draw(&Rectangle::new([(x, 64), (x + 18, 82)], c.filled()))?;
        head.draw(&Text::new(label.clone(), (x + 26, 73), text(17.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center))))?;
        x += width;
    }
    Ok(body)
}

/// How one entry of a [`legend_strip`] is drawn.
#[derive(Clone, Copy, Debug)]
pub enum Mark {
    /// A line of the colour (width in pixels).
    Line(RGBColor, u32),
    /// A filled box of the colour (a stacked area).
    Area(RGBColor),
    /// A band: a filled box between two thin black lines.
    Band(RGBColor),
    /// A black ring: an event on a line (a budget ran out).
    Ring,
    /// A black cross: another event on a line (a plan reached its end date).
    Cross,
    /// A filled dot of the colour (observed points).
    Dot(RGBColor),
}

/// Splits `area` into the plot and a legend strip under it, tall enough for `entries` in
/// `columns`: a legend there covers no data, whatever the data do.
pub fn split_for_legend<'a>(area: &Root<'a>, entries: usize, columns: usize) -> (Root<'a>, Root<'a>) {
    let rows = entries.div_ceil(columns.max(1)) as u32;
    let (_, h) = area.dim_in_pixel();
    area.split_vertically(h.saturating_sub(16 + 26 * rows))
}

/// Draws `entries` into `strip` (from [`split_for_legend`]) in `columns`, each label fitted to
/// its column.
pub fn legend_strip(strip: &Root, entries: &[(String, Mark)], columns: usize) -> Drawn {
    let (w, _) = strip.dim_in_pixel();
    let columns = columns.max(1);
    let col_w = (w as i32 - 40) / columns as i32;
    for (i, (label, mark)) in entries.iter().enumerate() {
        let x = 20 + col_w * (i % columns) as i32;
        let y = 8 + 26 * (i / columns) as i32;
        let mid = y + 9;
        match *mark {
            Mark::Line(c, width) => {
                strip.draw(&PathElement::new(vec![(x, mid), (x + 24, mid)], c.stroke_width(width)))?
            }
            Mark::Area(c) => strip.draw(&Rectangle::new([(x, mid - 7), (x + 24, mid + 7)], c.filled()))?,
            Mark::Band(c) => {
                strip.draw(&Rectangle::new([(x, mid - 7), (x + 24, mid + 7)], c.filled()))?;
                for yy in [mid - 7, mid + 7] {
                    strip.draw(&PathElement::new(vec![(x, yy), (x + 24, yy)], BLACK.stroke_width(1)))?;
                }
            }
            Mark::Ring => strip.draw(&Circle::new((x + 12, mid), 7, BLACK.stroke_width(2)))?,
            Mark::Cross => strip.draw(&Cross::new((x + 12, mid), 7, BLACK.stroke_width(3)))?,
            Mark::Dot(c) => strip.draw(&Circle::new((x + 12, mid), 5, c.filled()))?,
        }
        let style = text(16.0, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        let shown = fit(strip, label, &style, col_w - 44);
        strip.draw(&Text::new(shown, (x + 32, mid), style))?;
    }
    Ok(())
}
