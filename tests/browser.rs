//! The pages in a real browser: `report.html`, the compare pages (`cpsim run A B` and `cpsim
//! compare`) and `sweep.html` rendered by headless Chromium through chromedriver (WebDriver, via
//! fantoccini), in a 1 366 px wide window. Every image must have loaded, nothing may overflow
//! the window's width, the summary table must hold the labelled metrics, no "NaN" may show, and a
//! scenario name holding `<script>` must show as text and never run.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test is skipped with a loud message, unless `CI` is set (`CI=true`), where that is a failure.
//! `CPSIM_SCREENSHOT=path.png` also saves a screenshot of the report (docs/report.png).

mod common;

use common::cpsim;
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WIDTH: u32 = 1366;

const SWEEP: &str = r#"
[scenario]
name = "sweep <b>bold</b>"
days = 8
replications = 2
seed = 5
[creators]
count = 150
[operators]
titles = 8
[platform]
feed_supply = 150_000
[sweep]
"categories.short_drama.commission_max" = [0.6, 0.9]
"wechat.dropoff" = [0.1, 0.5]
"#;

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// chromedriver, killed when the test ends whatever happens.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

async fn session(browser: &Path, port: u16) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": browser.to_string_lossy(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={WIDTH},900"), "--hide-scrollbars", "--allow-file-access-from-files"]
        }
    });
    let Value::Object(caps) = caps else { unreachable!() };
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match ClientBuilder::native().capabilities(caps.clone()).connect(&url).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("cannot start a Chromium session through chromedriver: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Loads `page` and returns what the checks need, measured in the page itself.
async fn inspect(c: &Client, page: &Path) -> Value {
    assert!(page.is_file(), "{} was not written", page.display());
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    c.goto(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let script = r#"
        const imgs = Array.from(document.images);
        const wide = Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + (e.id ? '#' + e.id : '')).slice(0, 5);
        return {
            images: imgs.length,
            broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
            scroll_width: document.documentElement.scrollWidth,
            inner_width: window.innerWidth,
            wide: wide,
            text: document.body.innerText,
            summary: (document.getElementById('summary') || {innerText: ''}).innerText,
            h1: (document.querySelector('h1') || {innerText: ''}).innerText,
            pwned: window.__pwned === 1,
            scripts: document.scripts.length,
        };"#;
    c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn check_common(page: &Path, v: &Value, images: u64) {
    let p = page.display();
    assert_eq!(v["inner_width"].as_u64(), Some(u64::from(WIDTH)), "{p}: window width");
    assert!(v["images"].as_u64().unwrap() >= images, "{p}: {} images, expected {images}", v["images"]);
    assert_eq!(v["broken"], json!([]), "{p}: images that did not load");
    assert!(
        v["scroll_width"].as_u64() <= v["inner_width"].as_u64() && v["wide"] == json!([]),
        "{p}: overflows the {WIDTH} px window: scroll width {}, wide elements {}",
        v["scroll_width"],
        v["wide"]
    );
    let text = v["text"].as_str().unwrap();
    assert!(!text.contains("NaN"), "{p}: shows NaN");
    assert_eq!(v["pwned"], json!(false), "{p}: a script from a scenario name ran");
    assert_eq!(v["scripts"], json!(0), "{p}: the page holds a script element");
}

#[tokio::test(flavor = "current_thread")]
async fn pages_render_in_headless_chromium() {
    let browser = first_existing(&["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]);
    let driver = first_existing(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let (Some(browser), Some(driver)) = (browser, driver) else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        let msg = "no chromium and chromedriver found (Debian: apt-get install chromium chromium-driver)";
        if ci {
            panic!("CI is set and {msg}: the browser test cannot run");
        }
        eprintln!("\n********************************************************************");
        eprintln!("*** SKIPPED tests/browser.rs: {msg}; set CI=true to make this a failure");
        eprintln!("********************************************************************\n");
        return;
    };

    let tmp = common::tmp();
    let tiny = Path::new(common::ROOT).join("tests/fixtures/tiny.toml");
    let base = fs::read_to_string(&tiny).unwrap();
    let a = tmp.path().join("a.toml");
    fs::write(&a, base.replace("[scenario]\n", "[scenario]\nname = \"<script>window.__pwned=1</script> 基线 & co\"\n"))
        .unwrap();
    let b = tmp.path().join("b.toml");
    fs::write(&b, base.replace("[creators]\n", "[creators]\nimage_text_share = 1.0\n")).unwrap();
    let sw = tmp.path().join("sw.toml");
    fs::write(&sw, SWEEP).unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    cpsim().args(["run", "--quiet", "--out", o]).arg(&a).arg(&b).arg(&sw).assert().success();
    cpsim().args(["compare", "--out", o]).arg(&a).arg(&b).assert().success();

    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let _driver = Driver(child);
    let c = session(&browser, port).await;

    let report = out.join("a/report.html");
    let v = inspect(&c, &report).await;
    check_common(&report, &v, cpsim::report::charts::SCENARIO_CHARTS.len() as u64);
    assert!(v["h1"].as_str().unwrap().contains("<script>window.__pwned=1</script> 基线 & co"), "h1: {}", v["h1"]);
    let summary = v["summary"].as_str().unwrap();
    for (metric, _) in cpsim::model::metrics::METRICS {
        let label = cpsim::report::labels::label(metric);
        assert!(summary.contains(&label), "report summary lacks `{label}`:\n{summary}");
        assert!(!metric.contains('_') || !summary.contains(metric), "report summary shows the raw name `{metric}`");
    }
    assert!(summary.contains("95% interval of the mean over 2 replications"), "{summary}");
    if let Ok(shot) = std::env::var("CPSIM_SCREENSHOT") {
        fs::write(&shot, c.screenshot().await.unwrap()).unwrap();
    }

    for page in [out.join("compare/compare.html"), out.join("compare-a-vs-b/compare.html")] {
        let v = inspect(&c, &page).await;
        check_common(&page, &v, 1);
        let text = v["text"].as_str().unwrap();
        for want in ["GMV (成交额)", "Creator earnings", "Subsidies", "paired"] {
            assert!(text.contains(want), "{}: lacks `{want}`", page.display());
        }
    }

    let page = out.join("sw/charts/sweep.html");
    let v = inspect(&c, &page).await;
    check_common(&page, &v, 1);
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("sweep <b>bold</b>"), "sweep name not shown as text");
    for want in ["Active creators", "Gini of creator payouts"] {
        assert!(text.contains(want), "{}: lacks `{want}`", page.display());
    }
    c.close().await.unwrap();
}
