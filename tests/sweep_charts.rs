//! Tests of the sweep charts: `draw_sweep` on fixture sweep folders (a one-parameter zip
//! sweep and a two-parameter grid), determinism, HTML escaping and degenerate inputs.

mod common;

use common::png_size;
use std::fs;
use std::path::{Path, PathBuf};

use cpsim::report::charts::draw_sweep;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sweep").join(name)
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), to).unwrap();
        }
    }
}

/// Copies fixture `name` into a fresh temporary folder and returns (guard, copy).
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    copy_tree(&fixture(name), &dst);
    (tmp, dst)
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
}

fn check_pngs(paths: &[PathBuf]) {
    for p in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "png")) {
        let bytes = fs::read(p).unwrap();
        let (w, h) = png_size(&bytes);
        assert!(w >= 1000 && h >= 700, "{}: {w}x{h}", p.display());
        assert!(bytes.len() > 10_000, "{} is suspiciously small", p.display());
    }
}

/// Rewrites sweep.csv keeping the header and the rows for which `keep(index)` holds.
fn keep_rows(dir: &Path, keep: impl Fn(usize) -> bool) {
    let path = dir.join("sweep.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for (i, l) in lines.enumerate() {
        if keep(i) {
            out.push_str(l);
            out.push('\n');
        }
    }
    fs::write(path, out).unwrap();
}

#[test]
fn one_parameter_sweep_draws_one_chart_and_no_heatmap() {
    let (_tmp, dir) = copy_fixture("commission");
    let paths = draw_sweep(&dir).unwrap();
    // commission_min and commission_max move together: one chart.
    assert_eq!(names(&paths), ["sweep_1.png", "sweep.html"]);
    for p in &paths {
        assert_eq!(p.parent().unwrap(), dir.join("charts"));
        assert!(p.is_file());
    }
    check_pngs(&paths);
    assert!(!dir.join("charts/sweep_heatmap.png").exists());
    let html = fs::read_to_string(dir.join("charts/sweep.html")).unwrap();
    assert!(html.contains("short-drama commission sweep"));
    assert!(html.contains("categories.short_drama.commission_max"));
    assert!(html.contains("data:image/png;base64,iVBORw0KGgo"));
    assert_eq!(html.matches("<tr><td><code>v0").count(), 5);
}

#[test]
fn two_parameter_grid_draws_a_chart_per_parameter_and_a_heatmap() {
    let (_tmp, dir) = copy_fixture("minigame");
    let paths = draw_sweep(&dir).unwrap();
    assert_eq!(names(&paths), ["sweep_1.png", "sweep_2.png", "sweep_heatmap.png", "sweep.html"]);
    // Drawn under hidden temporary names and renamed into place: none is left behind.
    let mut in_dir: Vec<String> =
        fs::read_dir(dir.join("charts")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    in_dir.sort();
    assert_eq!(in_dir, ["sweep.html", "sweep_1.png", "sweep_2.png", "sweep_heatmap.png"]);
    check_pngs(&paths);
    assert_eq!(png_size(&fs::read(&paths[2]).unwrap()), (1200, 800));
    let html = fs::read_to_string(&paths[3]).unwrap();
    assert!(html.contains("categories.mini_game.fee_douyin"));
    assert!(html.contains("platform.ad_money_rate"));
    assert_eq!(html.matches("data:image/png;base64,").count(), 3);
}

#[test]
fn drawing_twice_gives_identical_bytes() {
    for name in ["commission", "minigame"] {
        let (_tmp_a, a) = copy_fixture(name);
        let (_tmp_b, b) = copy_fixture(name);
        let pa = draw_sweep(&a).unwrap();
        let pb = draw_sweep(&b).unwrap();
        assert_eq!(names(&pa), names(&pb));
        for (x, y) in pa.iter().zip(&pb) {
            assert!(fs::read(x).unwrap() == fs::read(y).unwrap(), "{name}: {} differs", x.display());
        }
        // Drawing again into the same folder overwrites with the same bytes.
        let first = fs::read(&pa[0]).unwrap();
        draw_sweep(&a).unwrap();
        assert!(fs::read(&pa[0]).unwrap() == first, "{name}: redraw differs");
    }
}

#[test]
fn html_escapes_the_scenario_name() {
    let (_tmp, dir) = copy_fixture("commission");
    let path = dir.join("v000/manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    m["scenario"] = serde_json::Value::String("<script>alert('x')</script> & 短剧".into());
    fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    draw_sweep(&dir).unwrap();
    let html = fs::read_to_string(dir.join("charts/sweep.html")).unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 短剧"));
}

#[test]
fn name_falls_back_to_the_folder_without_a_manifest() {
    let (_tmp, dir) = copy_fixture("commission");
    fs::remove_dir_all(dir.join("v000")).unwrap();
    let paths = draw_sweep(&dir).unwrap();
    check_pngs(&paths);
    let html = fs::read_to_string(dir.join("charts/sweep.html")).unwrap();
    assert!(html.contains("<h1>cpsim sweep: commission</h1>"));
}

#[test]
fn one_variant_sweep_and_missing_metrics_do_not_panic() {
    let (_tmp, dir) = copy_fixture("minigame");
    keep_rows(&dir, |i| i == 0);
    let paths = draw_sweep(&dir).unwrap();
    // A single variant: nothing varies, so the keys form one group and there is no grid.
    assert_eq!(names(&paths), ["sweep_1.png", "sweep.html"]);
    check_pngs(&paths);
    // A stale heat map of an earlier run is removed.
    let (_tmp2, grid) = copy_fixture("minigame");
    draw_sweep(&grid).unwrap();
    assert!(grid.join("charts/sweep_heatmap.png").exists());
    keep_rows(&grid, |i| i < 3);
    draw_sweep(&grid).unwrap();
    assert!(!grid.join("charts/sweep_heatmap.png").exists());

    // Only a variant column, two parameters (one text) and one metric without intervals.
    let (_tmp3, bare) = copy_fixture("commission");
    fs::write(bare.join("sweep.csv"), "variant,landing,rate,gmv_mean\nv000,choice,0.1,5\nv001,douyin,0.2,\n").unwrap();
    let paths = draw_sweep(&bare).unwrap();
    assert_eq!(names(&paths), ["sweep_1.png", "sweep.html"]);
    check_pngs(&paths);
    fs::write(bare.join("sweep.csv"), "variant,gmv_mean,gmv_ci95_low,gmv_ci95_high\n").unwrap();
    assert_eq!(names(&draw_sweep(&bare).unwrap()), ["sweep.html"]);
}

#[test]
fn text_parameters_are_categories() {
    let (_tmp, dir) = copy_fixture("commission");
    let csv = "variant,operators.landing,platform.ad_money_rate,gmv_mean,gmv_ci95_low,gmv_ci95_high\n\
               v000,choice,0,100,90,110\nv001,douyin,0,120,100,140\nv002,wechat,0,80,70,90\n\
               v003,choice,0.05,130,120,140\nv004,douyin,0.05,150,140,160\nv005,wechat,0.05,90,80,100\n";
    fs::write(dir.join("sweep.csv"), csv).unwrap();
    let paths = draw_sweep(&dir).unwrap();
    assert_eq!(names(&paths), ["sweep_1.png", "sweep_2.png", "sweep_heatmap.png", "sweep.html"]);
    check_pngs(&paths);
    let html = fs::read_to_string(dir.join("charts/sweep.html")).unwrap();
    assert!(html.contains("drawn as categories"));
}

#[test]
fn missing_sweep_csv_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = draw_sweep(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("sweep.csv"), "{err}");
}
