//! What the market is expected to be before it has run: the day-0 prior of revenue per clip in
//! each category and the reach of the initial titles' audiences (docs/MODEL.md sec. 5 and 6,
//! departures 9 and 11).
//!
//! Both rest on one picture of the steady market: the feed's supply (or the creators' demand,
//! if smaller) spread evenly over the stock of titles, each title on sale for the mean plan
//! duration. It is a first-order picture (a popular category's titles see more than their share);
//! the burn-in (`model::burn_in`) corrects what it gets wrong before anything is reported.

use crate::model::operators::revenue_per_arrival;
use crate::scenario::Scenario;

/// Expected lifetime impressions a clip asks for (a tier-0 clip's views plus its creator's
/// follower views) and the crowding factor `min(1, S_0 / expected demand)`.
fn clip_views(s: &Scenario) -> (f64, f64) {
    let f = &s.feed;
    let q0 = f.tier_quotas[0].min(f.tier_cap * s.platform.feed_supply);
    let tier0: f64 = (0..f.lifetime_days).map(|d| q0 * f.decay.powi(d as i32)).sum();
    let c = &s.creators;
    let mean_followers = c.followers_median * (c.followers_sigma * c.followers_sigma / 2.0).exp();
    let per_clip = tier0 + f.follower_reach * mean_followers;
    let demand = c.count as f64 * c.posts_per_day * per_clip;
    let crowd = if demand > 0.0 { (s.platform.feed_supply / demand).min(1.0) } else { 1.0 };
    (per_clip, crowd)
}

/// Impressions a title gets a day in the steady picture: what the feed serves (its supply, or
/// the creators' demand if that is less) shared evenly by the stock of titles.
pub fn imps_per_title_day(s: &Scenario) -> f64 {
    let (per_clip, crowd) = clip_views(s);
    let served = s.creators.count as f64 * s.creators.posts_per_day * per_clip * crowd;
    served / (s.operators.titles.max(1) as f64)
}

/// Mean plan duration, days: how long a title is on sale in the square.
fn mean_plan_days(s: &Scenario) -> f64 {
    (s.operators.plan_days_min + s.operators.plan_days_max) as f64 / 2.0
}

/// The share of a title's impressions that reach someone new, averaged over its time on sale:
/// with `I` impressions a day, reach `A (1 - exp(-I t / A))` (sec. 6), the fresh share of the
/// first `T` days is `(1 - exp(-x)) / x` with `x = I T / A`.
pub fn fresh_share(imps_per_day: f64, days: f64, audience: f64) -> f64 {
    if audience <= 0.0 {
        return 0.0;
    }
    let x = imps_per_day * days / audience;
    if x < 1e-9 {
        1.0
    } else {
        (1.0 - (-x).exp()) / x
    }
}

/// The day-0 prior of net revenue per clip in each category, RMB, and its opens per clip: a
/// tier-0 clip's lifetime views scaled for crowding (MODEL.md sec. 3), of which only the
/// category's expected fresh share opens at the CTR and the rest at `repeat_view_factor` times it
/// (sec. 7), as the day loop will serve them to a title of mean audience over a plan's life.
pub fn prior_revenue_rmb(s: &Scenario) -> (Vec<f64>, Vec<f64>) {
    let (per_clip, crowd) = clip_views(s);
    let imps = per_clip * crowd;
    let per_title = imps_per_title_day(s);
    let mut revenue = Vec::new();
    let mut opens = Vec::new();
    for k in &s.categories {
        let mean_audience = k.audience_median * (k.audience_sigma * k.audience_sigma / 2.0).exp();
        let phi = fresh_share(per_title, mean_plan_days(s), mean_audience);
        let open_rate = phi + (1.0 - phi) * s.feed.repeat_view_factor;
        let (iap, iaa) = revenue_per_arrival(k, s.platform.android_share, 1.0, 1.0);
        let fee = k.fee_ppm[0] as f64 / 1e6;
        let iaa_fee = s.platform.iaa_share_ppm[0] as f64 / 1e6;
        let o = imps * k.ctr * open_rate;
        opens.push(o);
        revenue.push(o * (iap * (1.0 - k.refund) * (1.0 - fee) + iaa * (1.0 - iaa_fee)));
    }
    (revenue, opens)
}

/// People of an initial title's `audience` already reached when it has been on sale for
/// `age_days`: the expected reach `A (1 - exp(-I t / A))` of sec. 6 under the steady picture's
/// impressions, so an older title has less left to reach.
pub fn initial_reach(s: &Scenario, audience: u64, age_days: i32) -> u64 {
    if audience == 0 || age_days <= 0 {
        return 0;
    }
    let a = audience as f64;
    let r = a * (1.0 - (-imps_per_title_day(s) * age_days as f64 / a).exp());
    (r.round() as u64).min(audience)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_share_falls_with_saturation() {
        assert_eq!(fresh_share(0.0, 30.0, 1e6), 1.0);
        let low = fresh_share(1e4, 30.0, 1e6);
        let high = fresh_share(1e5, 30.0, 1e6);
        assert!(low < 1.0 && high < low && high > 0.0);
        // x = 3: (1 - e^-3) / 3.
        assert!((fresh_share(1e5, 30.0, 1e6) - (1.0 - (-3.0f64).exp()) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn initial_reach_grows_with_age_and_stays_within_the_audience() {
        let s = crate::scenario::parse("", "t").unwrap();
        assert_eq!(initial_reach(&s, 1_000_000, 0), 0);
        let (a, b) = (initial_reach(&s, 1_000_000, 5), initial_reach(&s, 1_000_000, 20));
        assert!(0 < a && a < b && b <= 1_000_000, "{a} {b}");
        assert_eq!(initial_reach(&s, 10, 10_000), 10);
    }
}
