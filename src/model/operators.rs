//! Operators: titles, their promotion plans, launches, landing choice, closures and rate steering.

use crate::base::money::{to_ppm, Fen, Ppm, PPM};
use crate::base::rng::{self, Kind};
use crate::scenario::{Category, CommissionBase, Landing, LandingPolicy, RatePolicy, Scenario};
use rand::Rng;

/// A plan's budget when it has none.
pub const UNLIMITED: Fen = Fen::MAX;

/// A title (a short drama, a novel, a game...) of some operator.
#[derive(Clone, Debug)]
pub struct Title {
    pub category: u16,
    pub landing: Landing,
    /// Addressable audience A_k and those reached so far R_k.
    pub audience: u64,
    pub reached: u64,
    pub quality: f32,
    pub launch_day: i32,
    /// Ad-money credit not yet spent on paid traffic.
    pub ad_credit_fen: Fen,
    /// The entity of the title's streams: the generated titles' count when it launched, or
    /// [`crate::model::own::OWN_STREAM`] plus its own-plan index, so own titles never shift the
    /// generated market's streams.
    pub stream: u64,
    /// Its index in `[[plans]]`, or [`NOT_OWN`].
    pub own: u16,
}

/// [`Title::own`] of a generated title.
pub const NOT_OWN: u16 = u16::MAX;

/// A promotion plan in the square.
#[derive(Clone, Debug)]
pub struct Plan {
    pub title: u32,
    pub category: u16,
    pub landing: Landing,
    pub rate_ppm: Ppm,
    pub budget_fen: Fen,
    pub used_fen: Fen,
    /// In the square (not closed by its end day or its budget).
    pub open: bool,
    pub start_day: i32,
    pub end_day: i32,
    pub budget_out_day: Option<u32>,
    /// A relaunch already replaced this plan.
    pub relaunched: bool,
    /// Clips and commission of the last 7 days, by day modulo 7.
    pub clips_7d: [u32; 7],
    pub commission_7d: [Fen; 7],
    /// Since the last rate review: clips, commission, operator net.
    pub review_clips: u32,
    pub review_commission_fen: Fen,
    pub review_net_fen: Fen,
    // Totals over the run, for plans.csv.
    pub gmv_fen: Fen,
    pub commission_fen: Fen,
    /// Operator net over the run: after refunds, fees and commission.
    pub net_fen: Fen,
    pub clips: u32,
    pub opens: u64,
}

impl Plan {
    pub fn budget_left(&self) -> Fen {
        if self.budget_fen == UNLIMITED {
            UNLIMITED
        } else {
            self.budget_fen - self.used_fen
        }
    }
    pub fn clips_week(&self) -> u32 {
        self.clips_7d.iter().sum()
    }
    pub fn commission_week(&self) -> Fen {
        self.commission_7d.iter().sum()
    }
    /// The budget cap on a commission of `amount`: `None` if the budget pays it whole, else what
    /// it pays (the crossing event takes the remainder, later ones nothing). A budget already
    /// overspent cuts even a zero commission, which is what closes its plan.
    pub fn cap(&self, amount: Fen) -> Option<Fen> {
        cap(self.budget_left(), amount)
    }
}

/// [`Plan::cap`] of a budget with `left` fen left ([`UNLIMITED`] for none).
pub fn cap(left: Fen, amount: Fen) -> Option<Fen> {
    (amount > left).then(|| left.max(0))
}

/// Titles and plans of one replication.
#[derive(Clone, Default)]
pub struct Market {
    pub titles: Vec<Title>,
    pub plans: Vec<Plan>,
    /// Generated titles launched so far: the stream entity of the next one.
    pub generated: u64,
}

/// Expected money an arrival brings a title, split by what it is (IAP, IAA), in RMB.
pub fn revenue_per_arrival(c: &Category, android_share: f64, pay_factor: f64, repeat_factor: f64) -> (f64, f64) {
    let mean_price: f64 = c.prices_fen.iter().zip(&c.price_weights).map(|(p, w)| *p as f64 * w).sum::<f64>()
        / c.price_weights.iter().sum::<f64>().max(f64::MIN_POSITIVE)
        / 100.0;
    let eligible = if c.ios_iap { 1.0 } else { android_share };
    let repeats = (c.p_repeat * repeat_factor).min(1.0) * c.window_days.saturating_sub(1) as f64;
    let iap = if c.iap { (c.p_pay * pay_factor).min(1.0) * eligible * mean_price * (1.0 + repeats) } else { 0.0 };
    // Viewers watch on the day of arrival and, retained, on each later day of the window.
    let days: f64 = (0..c.window_days).map(|d| c.ad_keep.powi(d as i32)).sum();
    let iaa = if c.iaa { c.ad_views_per_day * days * c.ecpm_fen_per_1000 as f64 / 100_000.0 } else { 0.0 };
    (iap, iaa)
}

impl Market {
    /// Launches a title of category `cat` on `day` with its first plan. Draws come from the
    /// title's own stream, so a title id is the same title in every scenario sharing the seed.
    pub fn launch(&mut self, s: &Scenario, rep_seed: u64, cat: usize, day: i32, initial: bool) {
        let id = self.generated;
        self.generated += 1;
        let index = self.titles.len() as u32;
        let c = &s.categories[cat];
        let o = &s.operators;
        let mut r = rng::stream(rep_seed, Kind::Title, id, 0);
        let audience = rng::lognormal_median(&mut r, c.audience_median, c.audience_sigma).round().max(0.0) as u64;
        let quality = rng::lognormal_median(&mut r, 1.0, o.title_quality_sigma) as f32;
        let rate = c.commission_min + r.random::<f64>() * (c.commission_max - c.commission_min);
        let u_landing = r.random::<f64>();
        let date = s.date(day.max(0) as u32);
        let landing = match o.landing {
            LandingPolicy::Fixed => {
                if u_landing < c.wechat_share {
                    Landing::Wechat
                } else {
                    Landing::Douyin
                }
            }
            LandingPolicy::Choice => {
                let take = |l: Landing| {
                    let (pay, rep, keep) = match l {
                        Landing::Douyin => (1.0, 1.0, 1.0),
                        Landing::Wechat => (s.wechat.premium_pay, s.wechat.premium_repeat, 1.0 - s.wechat.dropoff),
                    };
                    let (iap, iaa) = revenue_per_arrival(c, s.platform.android_share, pay, rep);
                    let iap = iap * (1.0 - c.refund);
                    let fee = c.fee_ppm[l as usize] as f64 / PPM as f64;
                    let iaa_fee = s.platform.iaa_share_ppm[l as usize] as f64 / PPM as f64;
                    // The operator's take as the ledger will compute it: commission on the net of
                    // fees (or on the net), ad money on the Android part of IAP consumption.
                    let kept = |f: f64| match s.platform.commission_base {
                        CommissionBase::NetOfFees => (1.0 - f) * (1.0 - rate),
                        CommissionBase::Net => 1.0 - f - rate,
                    };
                    let android = if c.ios_iap { s.platform.android_share } else { 1.0 };
                    let ad_money = if l == Landing::Douyin
                        && s.platform.ad_money_categories[cat]
                        && date >= s.platform.ad_money_from
                    {
                        s.platform.ad_money_rate_ppm as f64 / PPM as f64 * iap * android
                    } else {
                        0.0
                    };
                    keep * (iap * kept(fee) + iaa * kept(iaa_fee) + ad_money)
                };
                let (td, tw) = (take(Landing::Douyin), take(Landing::Wechat));
                let temp = (o.landing_tau * (td.abs() + tw.abs()) / 2.0).max(1e-12);
                let p_wechat = 1.0 / (1.0 + ((td - tw) / temp).exp());
                if u_landing < p_wechat {
                    Landing::Wechat
                } else {
                    Landing::Douyin
                }
            }
        };
        let duration = o.plan_days_min as i32 + r.random_range(0..=(o.plan_days_max - o.plan_days_min)) as i32;
        // Initial titles started at staggered days in the past so that they do not all end at once.
        let start = if initial { day - r.random_range(0..duration.max(1)) } else { day };
        let budget = self::draw_budget(s, cat, &mut r);
        self.titles.push(Title {
            category: cat as u16,
            landing,
            audience,
            // An initial title has been on sale since `start`: its audience is part reached.
            reached: if initial { crate::model::prior::initial_reach(s, audience, day - start) } else { 0 },
            quality,
            launch_day: start,
            ad_credit_fen: 0,
            stream: id,
            own: NOT_OWN,
        });
        self.plans.push(new_plan(index, cat, landing, to_ppm(rate), budget, start, start + duration));
    }

    /// Step 2 of the day: launches, closures of plans past their end day, relaunches, steering.
    pub fn operate(&mut self, s: &Scenario, rep_seed: u64, day: u32) {
        let t = day as i32;
        if day > 0 {
            for cat in 0..s.categories.len() {
                let mut r = rng::stream(rep_seed, Kind::Launch, cat as u64, day);
                let n = rng::poisson(&mut r, s.categories[cat].launch_rate);
                for _ in 0..n {
                    self.launch(s, rep_seed, cat, t, false);
                }
            }
        }
        let nplans = self.plans.len();
        for p in 0..nplans {
            let plan = &mut self.plans[p];
            if plan.open && t > plan.end_day {
                plan.open = false;
            }
            let own = self.titles[plan.title as usize].own;
            let relaunch = match s.plans.get(own as usize) {
                Some(o) => o.relaunch,
                None => s.operators.relaunch,
            };
            // A relaunch refills a plan whose budget ran out before its end day, once.
            if relaunch && !plan.open && !plan.relaunched && plan.budget_out_day.is_some() && t <= plan.end_day {
                plan.relaunched = true;
                let (title, cat, landing, rate, end) =
                    (plan.title, plan.category as usize, plan.landing, plan.rate_ppm, plan.end_day);
                // An own plan is refilled with its own budget; a generated one draws a new one.
                let budget = match s.plans.get(own as usize) {
                    Some(o) => o.budget_fen.unwrap_or(UNLIMITED),
                    None => {
                        let mut r = rng::stream(rep_seed, Kind::Title, self.titles[title as usize].stream, day);
                        draw_budget(s, cat, &mut r)
                    }
                };
                self.plans.push(new_plan(title, cat, landing, rate, budget, t, end));
            }
        }
        let steered = s.operators.policy != RatePolicy::Fixed || s.plans.iter().any(|p| p.policy != RatePolicy::Fixed);
        if steered && day > 0 && day % s.operators.review_days == 0 {
            self.steer(s);
        }
    }

    /// `r <- clamp(r * ratio^gamma, r_min, r_max)`: toward a clip count (ratio = target / actual)
    /// or toward an operator margin per fen of commission (ratio = actual / target, inverted
    /// because a higher rate lowers the margin; MODEL.md sec. 10 writes only the clip form).
    fn steer(&mut self, s: &Scenario) {
        let o = &s.operators;
        let titles = &self.titles;
        for plan in self.plans.iter_mut().filter(|p| p.open) {
            let c = &s.categories[plan.category as usize];
            let own = s.plans.get(titles[plan.title as usize].own as usize);
            let policy = own.map_or(o.policy, |p| p.policy);
            let (lo, hi) = own.map_or((c.commission_min, c.commission_max), |p| (p.commission_min, p.commission_max));
            let ratio = match policy {
                RatePolicy::TargetClips => o.target_clips.max(1e-9) / (plan.review_clips as f64).max(1.0),
                RatePolicy::TargetMargin if plan.review_commission_fen > 0 => {
                    (plan.review_net_fen as f64 / plan.review_commission_fen as f64).max(1e-9)
                        / o.target_margin.max(1e-9)
                }
                _ => 1.0,
            };
            let r = plan.rate_ppm as f64 / PPM as f64 * ratio.powf(o.steer_gamma);
            if policy != RatePolicy::Fixed {
                plan.rate_ppm = to_ppm(r.clamp(lo, hi));
            }
            plan.review_clips = 0;
            plan.review_commission_fen = 0;
            plan.review_net_fen = 0;
        }
    }
}

fn draw_budget(s: &Scenario, cat: usize, r: &mut rng::Stream) -> Fen {
    let o = &s.operators;
    let u: f64 = r.random();
    let b = rng::lognormal_median(r, s.categories[cat].budget_median_fen, o.budget_sigma);
    if u < o.unlimited_budget_share {
        UNLIMITED
    } else {
        b.round().min(1e17) as Fen
    }
}

pub(crate) fn new_plan(
    title: u32,
    cat: usize,
    landing: Landing,
    rate_ppm: Ppm,
    budget_fen: Fen,
    start_day: i32,
    end_day: i32,
) -> Plan {
    Plan {
        title,
        category: cat as u16,
        landing,
        rate_ppm,
        budget_fen,
        used_fen: 0,
        open: budget_fen > 0,
        start_day,
        end_day,
        budget_out_day: if budget_fen > 0 { None } else { Some(start_day.max(0) as u32) },
        relaunched: false,
        clips_7d: [0; 7],
        commission_7d: [0; 7],
        review_clips: 0,
        review_commission_fen: 0,
        review_net_fen: 0,
        gmv_fen: 0,
        commission_fen: 0,
        net_fen: 0,
        clips: 0,
        opens: 0,
    }
}
