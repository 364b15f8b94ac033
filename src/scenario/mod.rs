//! Scenarios: loading a TOML file into a typed, validated [`Scenario`] in fen, ppm and days.
//!
//! Two stages, as ripgrep does with its arguments: serde reads a [`raw::RawScenario`] (syntax and
//! unknown keys, with line, column and a caret from the toml crate), then [`validate`] checks every
//! value and names the key path and line of each bad one.

mod categories;
pub mod defaults;
pub mod plans;
pub mod raw;
pub mod schema;
mod sections;
mod validate;

use crate::base::calendar::Date;
use crate::base::money::{Fen, Ppm};
pub use categories::MAX_PRICES;
pub use plans::OwnPlan;
use std::path::{Path, PathBuf};
pub use validate::{validate, Recorder};

/// Where a promoted mini-program opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Landing {
    Douyin = 0,
    Wechat = 1,
}

impl Landing {
    pub const ALL: [Landing; 2] = [Landing::Douyin, Landing::Wechat];
    pub fn id(self) -> &'static str {
        match self {
            Landing::Douyin => "douyin",
            Landing::Wechat => "wechat",
        }
    }
}

/// A clip format (MODEL.md sec. 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatKind {
    Video = 0,
    ImageText = 1,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    Daily,
    Weekly,
    Monthly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommissionBase {
    NetOfFees,
    Net,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rationing {
    Proportional,
    Priority,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    Popularity,
    Uniform,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LandingPolicy {
    Fixed,
    Choice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatePolicy {
    Fixed,
    TargetClips,
    TargetMargin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubsidyForm {
    CommissionTopup,
    PerClip,
    PerOpen,
}

/// The validated scenario: everything the simulation reads, in model units.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub start: Date,
    pub days: u32,
    /// Days the market runs before `start` with nothing reported (model/burn_in.rs).
    pub burn_in_days: u32,
    pub replications: u32,
    pub seed: u64,
    pub platform: Platform,
    pub wechat: Wechat,
    pub feed: Feed,
    /// Indexed by `FormatKind as usize`.
    pub formats: [Format; 2],
    pub square: Square,
    pub creators: Creators,
    pub operators: Operators,
    pub categories: Vec<Category>,
    pub subsidies: Vec<Subsidy>,
    /// The strategist's own plans, placed after the generated market (`model::own`).
    pub plans: Vec<OwnPlan>,
}

#[derive(Clone, Debug)]
pub struct Platform {
    pub name: String,
    pub feed_supply: f64,
    pub feed_growth: f64,
    pub image_text_from: Date,
    pub jump_to_wechat_from: Date,
    pub ad_money_from: Date,
    pub ad_money_rate_ppm: Ppm,
    /// Per category index: does the ad-money rule cover it.
    pub ad_money_categories: Vec<bool>,
    pub iaa_share_ppm: [Ppm; 2],
    pub android_share: f64,
    pub settlement: Settlement,
    pub settlement_delay_days: u32,
    pub commission_base: CommissionBase,
}

#[derive(Clone, Debug)]
pub struct Wechat {
    pub dropoff: f64,
    pub premium_pay: f64,
    pub premium_repeat: f64,
}

impl Platform {
    /// The day's supply of promoted impressions, `S_0 (1 + g)^(t / 365)`: the feed's, and the
    /// bound validation keeps within 32 bits.
    pub fn supply(&self, day: u32) -> f64 {
        self.feed_supply * (1.0 + self.feed_growth).powf(day as f64 / 365.0)
    }
}

#[derive(Clone, Debug)]
pub struct Feed {
    pub tier_quotas: Vec<f64>,
    /// `thresholds[h]` is the engagement rate that lifts a clip from tier h to h + 1.
    pub thresholds: Vec<f64>,
    pub min_views: u64,
    pub decay: f64,
    pub lifetime_days: u32,
    pub tier_cap: f64,
    pub follower_reach: f64,
    pub engagement_base: f64,
    pub quality_sigma: f64,
    pub rationing: Rationing,
    pub repeat_view_factor: f64,
}

#[derive(Clone, Debug)]
pub struct Format {
    pub ctr: f64,
    pub reach: f64,
    pub cost_rmb: f64,
}

#[derive(Clone, Debug)]
pub struct Square {
    pub sample_size: usize,
    pub sampling: Sampling,
    pub popularity_exponent: f64,
    pub epc_weight: f64,
    pub epc_prior_clips: f64,
    pub temperature_rmb: f64,
}

#[derive(Clone, Debug)]
pub struct Creators {
    pub count: u32,
    pub followers_median: f64,
    pub followers_sigma: f64,
    pub quality_alpha: f64,
    pub quality_beta: f64,
    pub posts_per_day: f64,
    pub posts_shape: f64,
    pub reservation_median_rmb: f64,
    pub reservation_sigma: f64,
    pub image_text_share: f64,
    pub learning_rate: f64,
    pub prior_noise_sigma: f64,
    pub warmup_days: u32,
    pub churn_ratio: f64,
    pub churn_hazard: f64,
    pub base_hazard: f64,
    pub entry_rate: f64,
    pub entry_elasticity: f64,
    pub entry_ref_rmb: f64,
    pub entry_cap_factor: f64,
    pub newcomer_followers: f64,
}

#[derive(Clone, Debug)]
pub struct Operators {
    pub titles: u32,
    pub landing: LandingPolicy,
    pub landing_tau: f64,
    pub title_quality_sigma: f64,
    pub budget_median_fen: f64,
    pub budget_sigma: f64,
    pub unlimited_budget_share: f64,
    pub plan_days_min: u32,
    pub plan_days_max: u32,
    pub relaunch: bool,
    pub policy: RatePolicy,
    pub review_days: u32,
    pub steer_gamma: f64,
    pub target_clips: f64,
    pub target_margin: f64,
    pub paid_traffic_fen_per_day: Fen,
    pub paid_traffic_categories: Vec<bool>,
    pub cpm_fen: Fen,
    pub spend_ad_money: bool,
}

#[derive(Clone, Debug)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub share: f64,
    /// Expected launches a day; `None` means "the initial stock over the mean plan duration".
    pub launch_rate: f64,
    pub iap: bool,
    pub iaa: bool,
    pub ctr: f64,
    pub p_pay: f64,
    pub prices_fen: Vec<Fen>,
    pub price_weights: Vec<f64>,
    pub p_repeat: f64,
    pub window_days: u32,
    pub ad_views_per_day: f64,
    pub ad_keep: f64,
    /// Revenue of 1000 ad views in fen (eCPM).
    pub ecpm_fen_per_1000: Fen,
    pub refund: f64,
    pub commission_min: f64,
    pub commission_max: f64,
    pub audience_median: f64,
    pub audience_sigma: f64,
    /// Median commission budget of a plan of this category, fen.
    pub budget_median_fen: f64,
    pub wechat_share: f64,
    pub ios_iap: bool,
    /// IAP fee by landing platform, `[douyin, wechat]`.
    pub fee_ppm: [Ppm; 2],
    pub affinity_alpha: f64,
}

#[derive(Clone, Debug)]
pub struct Subsidy {
    pub name: String,
    pub from: Date,
    pub to: Date,
    pub categories: Vec<bool>,
    pub budget_fen: Fen,
    pub form: SubsidyForm,
    pub topup_ppm: Ppm,
    pub per_clip_fen: Fen,
    pub first_clips: u32,
    pub per_open_fen: Fen,
}

impl Scenario {
    /// The index of a category id.
    pub fn category_index(&self, id: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.id == id)
    }
    /// The calendar day of simulation day `t`.
    pub fn date(&self, day: u32) -> Date {
        self.start.add_days(day as i32)
    }
}

/// One problem found in a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Dotted key path, e.g. `categories.short_drama.p_pay`; empty for file-level problems.
    pub key: String,
    pub message: String,
    /// 1-based line and column in the file, where known.
    pub line: Option<(usize, usize)>,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: TOML error\n{message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: {}\n{}", count_problems(.problems.len()), format_problems(.problems))]
    Invalid { path: PathBuf, problems: Vec<Problem> },
}

fn count_problems(n: usize) -> String {
    if n == 1 {
        "1 invalid value".into()
    } else {
        format!("{n} invalid values")
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| match p.line {
            Some((l, c)) => format!("  line {l}, column {c}: `{}`: {}", p.key, p.message),
            None if p.key.is_empty() => format!("  {}", p.message),
            None => format!("  `{}`: {}", p.key, p.message),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
    parse(&text, &stem).map_err(|e| e.at(path))
}

/// Parses and validates scenario text; `default_name` names a scenario without `scenario.name`.
pub fn parse(text: &str, default_name: &str) -> Result<Scenario, ScenarioError> {
    let raw = parse_raw(text)?;
    validate(&raw, default_name, &mut Recorder::off()).map_err(|mut problems| {
        for p in &mut problems {
            p.line = schema::locate(text, &p.key);
        }
        // In file order, as a reader meets them; problems without a line keep their order last.
        problems.sort_by_key(|p| p.line.unwrap_or((usize::MAX, 0)));
        ScenarioError::Invalid { path: PathBuf::new(), problems }
    })
}

/// The first stage alone: TOML syntax and the shape of the file.
pub fn parse_raw(text: &str) -> Result<raw::RawScenario, ScenarioError> {
    toml::from_str::<raw::RawScenario>(text)
        .map_err(|e| ScenarioError::Syntax { path: PathBuf::new(), message: schema::did_you_mean(&e.to_string()) })
}

impl ScenarioError {
    /// The same error, naming the file it came from.
    pub fn at(self, p: &Path) -> Self {
        match self {
            ScenarioError::Syntax { message, .. } => ScenarioError::Syntax { path: p.to_owned(), message },
            ScenarioError::Invalid { problems, .. } => ScenarioError::Invalid { path: p.to_owned(), problems },
            other => other,
        }
    }
}
