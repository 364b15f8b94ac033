//! The category table of MODEL.md sec. 7: what a category is when the scenario says nothing.
//!
//! All values are *assumptions* of the model unless marked *seed* there; a scenario overrides any
//! of them under `[categories.<id>]`.

/// Defaults of one category, in the units of the scenario file (RMB, shares, days).
pub struct CategoryDefaults {
    pub id: &'static str,
    pub name: &'static str,
    pub share: f64,
    pub pays: &'static str,
    pub ctr: f64,
    pub p_pay: f64,
    pub prices_rmb: &'static [f64],
    pub price_weights: &'static [f64],
    pub p_repeat: f64,
    pub window_days: i64,
    pub ad_views_per_day: f64,
    pub refund: f64,
    pub commission: (f64, f64),
    pub audience_median: f64,
    pub ios_iap: bool,
    pub fee_douyin: f64,
    pub fee_wechat: f64,
    /// A plan's median budget as a multiple of `operators.budget_median_rmb` (see
    /// docs/MODEL.md, "Budgets by category").
    pub budget_scale: f64,
}

/// Default of `scenario.burn_in_days`: long enough that the baseline's reported days are steady
/// (docs/MODEL.md, "Burn-in"): the longest plan (42 days) of the initial stock has ended, the
/// warm-up (37 days) is over, and creators have learned from clips of the second generation.
pub const DEFAULT_BURN_IN_DAYS: u32 = 60;

pub const CATEGORIES: &[CategoryDefaults] = &[
    CategoryDefaults {
        id: "short_drama",
        name: "短剧",
        share: 0.40,
        pays: "iap+iaa",
        ctr: 0.020,
        p_pay: 0.05,
        prices_rmb: &[9.9, 19.9, 29.9, 99.0],
        price_weights: &[0.5, 0.2, 0.2, 0.1],
        p_repeat: 0.12,
        window_days: 7,
        ad_views_per_day: 2.0,
        refund: 0.02,
        commission: (0.50, 0.90),
        audience_median: 2_000_000.0,
        ios_iap: true,
        fee_douyin: 0.05,
        fee_wechat: 0.15,
        budget_scale: 1.0,
    },
    CategoryDefaults {
        id: "novel",
        name: "小说",
        share: 0.20,
        pays: "iap+iaa",
        ctr: 0.015,
        p_pay: 0.03,
        prices_rmb: &[9.9, 29.9, 68.0],
        price_weights: &[0.6, 0.3, 0.1],
        p_repeat: 0.08,
        window_days: 14,
        ad_views_per_day: 4.0,
        refund: 0.02,
        commission: (0.40, 0.80),
        audience_median: 1_000_000.0,
        ios_iap: true,
        fee_douyin: 0.05,
        fee_wechat: 0.15,
        budget_scale: 0.4,
    },
    CategoryDefaults {
        id: "mini_game",
        name: "小游戏",
        share: 0.15,
        pays: "iap+iaa",
        ctr: 0.010,
        p_pay: 0.03,
        prices_rmb: &[6.0, 30.0, 68.0, 328.0],
        price_weights: &[0.5, 0.3, 0.15, 0.05],
        p_repeat: 0.06,
        window_days: 14,
        ad_views_per_day: 3.0,
        refund: 0.01,
        commission: (0.20, 0.50),
        audience_median: 3_000_000.0,
        // Douyin mini-games take Android payments in-app only.
        ios_iap: false,
        // Revenue share: Douyin 90/10 (2024-04, seed) against WeChat 60/40 (seed).
        fee_douyin: 0.10,
        fee_wechat: 0.40,
        budget_scale: 0.15,
    },
    CategoryDefaults {
        id: "comics",
        name: "漫画",
        share: 0.10,
        pays: "iap",
        ctr: 0.012,
        p_pay: 0.03,
        prices_rmb: &[9.9, 30.0],
        price_weights: &[0.7, 0.3],
        p_repeat: 0.05,
        window_days: 7,
        ad_views_per_day: 0.0,
        refund: 0.02,
        commission: (0.30, 0.60),
        audience_median: 500_000.0,
        ios_iap: true,
        fee_douyin: 0.05,
        fee_wechat: 0.15,
        budget_scale: 0.03,
    },
    CategoryDefaults {
        id: "long_video",
        name: "长视频",
        share: 0.08,
        pays: "iap",
        ctr: 0.008,
        p_pay: 0.02,
        prices_rmb: &[25.0, 68.0],
        price_weights: &[0.8, 0.2],
        p_repeat: 0.0,
        window_days: 30,
        ad_views_per_day: 0.0,
        refund: 0.03,
        commission: (0.10, 0.30),
        audience_median: 5_000_000.0,
        // Recurring memberships are Android-only.
        ios_iap: false,
        fee_douyin: 0.05,
        fee_wechat: 0.15,
        budget_scale: 0.02,
    },
    CategoryDefaults {
        id: "movie_tickets",
        name: "电影票",
        share: 0.07,
        pays: "iap",
        ctr: 0.010,
        p_pay: 0.05,
        prices_rmb: &[45.0],
        price_weights: &[1.0],
        p_repeat: 0.0,
        window_days: 1,
        ad_views_per_day: 0.0,
        refund: 0.05,
        commission: (0.02, 0.06),
        audience_median: 3_000_000.0,
        ios_iap: true,
        // Payment processing only, on both platforms.
        fee_douyin: 0.006,
        fee_wechat: 0.006,
        budget_scale: 0.02,
    },
];

/// The defaults of a known category id.
pub fn category(id: &str) -> Option<&'static CategoryDefaults> {
    CATEGORIES.iter().find(|c| c.id == id)
}
