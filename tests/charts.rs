//! Tests of the charts module: PNGs and report.html from fixture result folders, the
//! embedded CJK font, determinism, HTML escaping and error reporting.

mod common;

use common::png_size;
use std::fs;
use std::path::{Path, PathBuf};

use cpsim::report::charts::{
    base64_encode, draw_compare, draw_scenario, ensure_font, escape_html, ChartError, CHART_SIZE, FONT_FAMILY,
    SCENARIO_CHARTS,
};
use plotters::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts").join(name)
}

/// Copies fixture `name` into a fresh temporary folder and returns (guard, copy).
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    fs::create_dir_all(&dst).unwrap();
    for entry in fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
        }
    }
    (tmp, dst)
}

/// Width and height from a PNG's IHDR chunk, after checking the signature and that the
/// file ends with an IEND chunk.
fn set_manifest(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    f(&mut v);
    fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn draw_scenario_writes_every_chart_and_the_report() {
    let (_tmp, dir) = copy_fixture("small");
    let paths = draw_scenario(&dir).unwrap();
    assert_eq!(paths.len(), SCENARIO_CHARTS.len() + 1);
    for (path, name) in paths.iter().zip(SCENARIO_CHARTS) {
        assert_eq!(path, &dir.join("charts").join(name));
        let bytes = fs::read(path).unwrap();
        assert_eq!(png_size(&bytes), CHART_SIZE, "{name}");
        assert!(bytes.len() > 10_000, "{name} is suspiciously small");
    }
    assert_eq!(paths.last().unwrap(), &dir.join("report.html"));
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("抖音 2024 基线"));
    assert!(html.contains("短剧") && html.contains("电影票"));
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), SCENARIO_CHARTS.len());
    // The summary table: labelled metrics (the raw name as the cell's title), unknown metrics
    // kept under their own name, and RMB formatted.
    let gini = cpsim::report::labels::label("payout_gini");
    assert!(html.contains(&format!("<td title=\"payout_gini\">{gini}</td>")), "{gini}");
    assert!(html.contains("<td title=\"future_metric\">future_metric</td>"));
    assert!(html.contains("881,718.59"));
    // Self-contained: nothing loaded from elsewhere.
    assert!(!html.contains("src=\"http") && !html.contains("<link") && !html.contains("url("));
}

#[test]
fn empty_scenario_draws_no_data_charts() {
    let (_tmp, dir) = copy_fixture("empty");
    let paths = draw_scenario(&dir).unwrap();
    assert_eq!(paths.len(), SCENARIO_CHARTS.len() + 1);
    for path in &paths[..SCENARIO_CHARTS.len()] {
        assert_eq!(png_size(&fs::read(path).unwrap()), CHART_SIZE);
    }
    assert!(fs::read_to_string(&paths[SCENARIO_CHARTS.len()]).unwrap().contains("空场景"));
}

#[test]
fn drawing_twice_gives_identical_bytes() {
    let (_tmp_a, a) = copy_fixture("small");
    let (_tmp_b, b) = copy_fixture("small");
    let pa = draw_scenario(&a).unwrap();
    let pb = draw_scenario(&b).unwrap();
    // And once more in the same folder, over the first output.
    let pa2 = draw_scenario(&a).unwrap();
    for ((x, y), z) in pa.iter().zip(&pb).zip(&pa2) {
        let bytes = fs::read(y).unwrap();
        assert!(fs::read(x).unwrap() == bytes, "{} differs", y.display());
        assert!(fs::read(z).unwrap() == bytes, "{} differs", z.display());
    }
}

/// Every chart and page is drawn under a hidden temporary name and renamed into place, so none
/// is ever seen half-written; none of those names may be left behind, redrawing included.
#[test]
fn drawing_leaves_only_the_charts_and_the_report() {
    let (_tmp, dir) = copy_fixture("small");
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    };
    let before = names(&dir);
    draw_scenario(&dir).unwrap();
    draw_scenario(&dir).unwrap();
    let mut charts: Vec<String> = SCENARIO_CHARTS.iter().map(|s| s.to_string()).collect();
    charts.sort();
    assert_eq!(names(&dir.join("charts")), charts);
    let mut expected = before;
    expected.extend(["charts".to_string(), "report.html".to_string()]);
    expected.sort();
    expected.dedup();
    assert_eq!(names(&dir), expected);
}

#[test]
fn scenario_and_category_names_are_html_escaped() {
    let (_tmp, dir) = copy_fixture("small");
    set_manifest(&dir, |m| {
        m["scenario"] = "<script>alert(1)</script>".into();
        m["categories"][0]["name"] = "短剧 \"A&B\" 'x'".into();
    });
    draw_scenario(&dir).unwrap();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script"));
    assert!(html.contains("短剧 &quot;A&amp;B&quot; &#39;x&#39;"));
    assert!(!html.contains("\"A&B\""));
}

/// Counts pixels that are not white in an RGB buffer.
fn inked(buf: &[u8]) -> usize {
    buf.chunks(3).filter(|p| p.iter().any(|&c| c < 250)).count()
}

/// Renders `s` in the embedded font at 48 px onto a white 480x120 buffer.
fn render_text(s: &str, x: i32) -> Vec<u8> {
    ensure_font().unwrap();
    let (w, h) = (480u32, 120u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        let style = TextStyle::from((FONT_FAMILY, 48).into_font()).color(&BLACK);
        root.draw(&Text::new(s.to_string(), (x, 30), style)).unwrap();
        root.present().unwrap();
    }
    buf
}

#[test]
fn chinese_text_renders_with_the_embedded_font() {
    let blank = inked(&render_text("", 10));
    assert_eq!(blank, 0);
    let drama = inked(&render_text("短剧", 10));
    assert!(drama > 400, "短剧 drew only {drama} pixels");
    for c in "短剧小说游戏漫画长视频电影票抖音基线微信".chars() {
        let n = inked(&render_text(&c.to_string(), 10));
        assert!(n > 150, "{c} drew only {n} pixels");
    }
    // Characters outside the subset (a rare hanzi, Hangul) have no glyph and draw nothing,
    // so the counts above come from real glyphs, not from a fallback box.
    assert_eq!(inked(&render_text("龘", 10)), 0);
    assert_eq!(inked(&render_text("한", 10)), 0);
}

#[test]
fn latin_glyphs_keep_their_left_side_bearing() {
    // 'l' has ink a few pixels right of its origin. The embedded font anchors every
    // outline's box at the origin, so plotters (which places the box, not the origin, at
    // the pen) still leaves that gap: without it Latin text is unevenly spaced.
    let x0 = 20;
    let buf = render_text("l", x0);
    let w = 480usize;
    let first = (0..w).find(|&x| (0..120).any(|y| buf[(y * w + x) * 3] < 200)).expect("'l' drew nothing");
    assert!(first as i32 >= x0 + 2, "ink starts at {first}, origin {x0}");
}

#[test]
fn draw_compare_writes_png_and_html() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = ["small", "alt", "empty"].iter().map(|n| fixture(n)).collect();
    let out = tmp.path().join("cmp");
    let paths = draw_compare(&dirs, &out).unwrap();
    // Each scenario after the first against the first (unpaired: these folders hold no
    // replications.csv).
    assert_eq!(paths, vec![out.join("compare.png"), out.join("compare_S3.png"), out.join("compare.html")]);
    let (w, h) = png_size(&fs::read(&paths[0]).unwrap());
    assert_eq!(w, CHART_SIZE.0);
    assert!(h >= CHART_SIZE.1);
    let html = fs::read_to_string(&paths[2]).unwrap();
    assert!(html.contains("抖音 2024 基线"));
    assert!(html.contains("unpaired") && !html.contains("NaN"));
    assert!(html.contains("微信 高佣金 &amp; 补贴"));
    assert!(html.contains("<th>S3</th>"));
    assert_eq!(html.matches("data:image/png;base64,").count(), 2);
    // Deterministic too.
    let again = tmp.path().join("cmp2");
    let paths2 = draw_compare(&dirs, &again).unwrap();
    for (a, b) in paths.iter().zip(&paths2) {
        assert!(fs::read(a).unwrap() == fs::read(b).unwrap());
    }
}

#[test]
fn draw_compare_of_nothing_draws_a_no_data_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = draw_compare(&[], tmp.path()).unwrap();
    assert_eq!(png_size(&fs::read(&paths[0]).unwrap()).0, CHART_SIZE.0);
}

#[test]
fn a_missing_required_file_is_named() {
    for name in ["manifest.json", "summary.csv", "daily.csv"] {
        let (_tmp, dir) = copy_fixture("small");
        fs::remove_file(dir.join(name)).unwrap();
        match draw_scenario(&dir) {
            Err(ChartError::MissingFile { path }) => assert_eq!(path, dir.join(name)),
            other => panic!("expected MissingFile for {name}, got {other:?}"),
        }
    }
}

#[test]
fn missing_detail_files_give_no_data_charts() {
    // The simulator writes creators.csv, plans.csv and plans_daily.csv only with detail.
    let (_tmp, dir) = copy_fixture("small");
    for name in ["creators.csv", "plans.csv", "plans_daily.csv"] {
        fs::remove_file(dir.join(name)).unwrap();
    }
    let paths = draw_scenario(&dir).unwrap();
    assert_eq!(paths.len(), SCENARIO_CHARTS.len() + 1);
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Not written by this run: <code>creators.csv</code>"));
}

#[test]
fn a_bad_row_is_reported_with_its_line() {
    let (_tmp, dir) = copy_fixture("small");
    let path = dir.join("daily.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 5 of the file: make its gmv (5th field) unparsable.
    let mut fields: Vec<&str> = lines[4].split(',').collect();
    fields[4] = "12x";
    lines[4] = fields.join(",");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = draw_scenario(&dir).unwrap_err();
    match &err {
        ChartError::BadRow { path: p, line, .. } => {
            assert_eq!(p, &path);
            assert_eq!(*line, 5);
        }
        other => panic!("expected BadRow, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("daily.csv:5") && msg.contains("gmv"), "{msg}");

    // A row with too few fields is a bad row too.
    let (_tmp2, dir2) = copy_fixture("small");
    let p2 = dir2.join("plans_daily.csv");
    let mut t2 = fs::read_to_string(&p2).unwrap();
    t2.push_str("3,p0001\n");
    fs::write(&p2, t2).unwrap();
    assert!(matches!(
        draw_scenario(&dir2),
        Err(ChartError::BadRow { line, .. }) if line > 1
    ));
}

#[test]
fn columns_are_found_by_name() {
    // Reorder the columns of summary.csv and add one: the report must not change.
    let (_tmp, dir) = copy_fixture("small");
    draw_scenario(&dir).unwrap();
    let before = fs::read(dir.join("report.html")).unwrap();
    let path = dir.join("summary.csv");
    let text = fs::read_to_string(&path).unwrap();
    let moved: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let f: Vec<&str> = l.split(',').collect();
            let extra = if i == 0 { "extra" } else { "1" };
            format!("{},{},{},{},{},{},{}", f[5], f[4], extra, f[3], f[2], f[1], f[0])
        })
        .collect();
    fs::write(&path, moved.join("\n") + "\n").unwrap();
    draw_scenario(&dir).unwrap();
    assert!(fs::read(dir.join("report.html")).unwrap() == before);
}

#[test]
fn base64_and_escaping_helpers() {
    assert_eq!(base64_encode(b""), "");
    assert_eq!(base64_encode(b"f"), "Zg==");
    assert_eq!(base64_encode(b"fo"), "Zm8=");
    assert_eq!(base64_encode(b"foo"), "Zm9v");
    assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64_encode(&[0xff, 0xfe, 0x00]), "//4A");
    assert_eq!(escape_html(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    assert_eq!(escape_html("短剧"), "短剧");
}

#[test]
fn creators_csv_with_quotes_and_crlf_gives_the_same_charts() {
    let (_tmp_a, a) = copy_fixture("small");
    let (_tmp_b, b) = copy_fixture("small");
    // Quote every creator id and use CRLF line ends: creators.csv is then read in one
    // piece instead of in parallel chunks, and must give the same Lorenz curve and CCDF.
    let path = b.join("creators.csv");
    let text = fs::read_to_string(&path).unwrap();
    let quoted: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| match (i, l.split_once(',')) {
            (0, _) | (_, None) => l.to_string(),
            (_, Some((id, rest))) => format!("\"{id}\",{rest}"),
        })
        .collect();
    fs::write(&path, quoted.join("\r\n") + "\r\n").unwrap();
    draw_scenario(&a).unwrap();
    draw_scenario(&b).unwrap();
    for name in ["lorenz.png", "ccdf.png"] {
        let x = fs::read(a.join("charts").join(name)).unwrap();
        let y = fs::read(b.join("charts").join(name)).unwrap();
        assert!(x == y, "{name} differs");
    }
}

#[test]
fn a_bad_creator_row_is_reported_with_its_line() {
    let (_tmp, dir) = copy_fixture("small");
    let path = dir.join("creators.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[200] = lines[200].replace(',', ";");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    match draw_scenario(&dir) {
        Err(ChartError::BadRow { path: p, line, .. }) => {
            assert_eq!(p, path);
            assert_eq!(line, 201);
        }
        other => panic!("expected BadRow, got {other:?}"),
    }
}
