//! The one table of metric labels and formats: each metric's human name (English, with the
//! Chinese name a strategist expects), its unit, its group and how its values are written, and
//! the wording of intervals. The terminal, the pages and the charts all read it from here.

use crate::model::metrics::Unit;

/// How a metric's values are written for a reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// RMB with thousands separators and two decimals.
    Money,
    /// A count: an integer for one run, one decimal for a mean over replications.
    Count,
    /// A share written as a percentage (0.123 -> 12.3%).
    Percent,
    /// An index in [0, 1] (the Gini coefficient), three decimals.
    Index,
}

/// Where a metric sits in a comparison, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Headline,
    Money,
    Creators,
    Audience,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Headline => "Headline",
            Group::Money => "Money",
            Group::Creators => "Creators",
            Group::Audience => "Audience and content",
        }
    }
}

/// One metric's entry in [`TABLE`].
#[derive(Clone, Copy, Debug)]
pub struct MetricLabel {
    /// The name in the files (`summary.csv`, `replications.csv`).
    pub name: &'static str,
    /// English name for a reader.
    pub english: &'static str,
    /// Chinese name, where a strategist expects one ("" where none).
    pub chinese: &'static str,
    pub unit: Unit,
    pub format: Format,
    pub group: Group,
}

const fn m(
    name: &'static str,
    english: &'static str,
    chinese: &'static str,
    unit: Unit,
    format: Format,
    group: Group,
) -> MetricLabel {
    MetricLabel { name, english, chinese, unit, format, group }
}

use Format::{Count as C, Index as I, Money as M, Percent as P};
use Group::{Audience as Au, Creators as Cr, Headline as H, Money as Mo};
use Unit::{Count as UC, Rmb as UR, Share as US};

/// Every headline metric of `model::metrics::METRICS` (a test checks that none is missing) and
/// the episode metrics a comparison shows.
pub const TABLE: &[MetricLabel] = &[
    m("gmv", "GMV", "成交额", UR, M, H),
    m("commission_settled", "Commission settled to creators", "已结算佣金", UR, M, H),
    m("operator_net", "Operator net", "运营方净收入", UR, M, H),
    m("creators_paid", "Creators paid", "获佣达人数", UC, C, H),
    m("refunds", "Refunds", "退款", UR, M, Mo),
    m("platform_fees", "Platform fees", "平台技术服务费", UR, M, Mo),
    m("commission_accrued", "Commission accrued", "应计佣金", UR, M, Mo),
    m("commission_unsettled", "Commission not yet settled", "未结算佣金", UR, M, Mo),
    m("commission_opening", "Commission in settlement on day 0", "期初待结算佣金", UR, M, Mo),
    m("subsidies", "Subsidies", "补贴", UR, M, Mo),
    m("ad_money", "Ad money", "广告金", UR, M, Mo),
    m("ad_spend", "Ad spend", "广告投放", UR, M, Mo),
    m("creator_earnings", "Creator earnings", "达人收入", UR, M, Mo),
    m("entry_earnings_warmup", "Earnings of entrants in warm-up", "新达人冷启动收入", UR, M, Cr),
    m("active_creators", "Active creators", "活跃达人", UC, C, Cr),
    m("creators_ever", "Creators ever active", "累计达人", UC, C, Cr),
    m("payout_gini", "Gini of creator payouts", "收入基尼系数", US, I, Cr),
    m("payout_top1_share", "Top 1% creators' share of payouts", "头部1%收入占比", US, P, Cr),
    m("payout_top10_share", "Top 10% creators' share of payouts", "头部10%收入占比", US, P, Cr),
    m("creator_days", "Creator-days active", "达人活跃天数", UC, C, Cr),
    m("impressions", "Impressions", "曝光", UC, C, Au),
    m("fresh_reach", "New viewers", "新触达用户", UC, C, Au),
    m("opens", "Mini-program opens", "小程序打开", UC, C, Au),
    m("payers", "Paying users", "付费用户", UC, C, Au),
    m("clips", "Clips posted", "短视频", UC, C, Au),
    m("clip_days", "Clip-days live", "视频在线天数", UC, C, Au),
    m("plans", "Plans", "推广计划", UC, C, Au),
    // Episode metrics (study/episodes.rs), market-wide and per category `name[category]`.
    m("post_share", "Share of posting attempts posted", "", US, P, Au),
    m("image_text_share", "Share of clips in image-text", "图文占比", US, P, Au),
    m("square_plans", "Plans in the square (mean a day)", "广场计划数", UC, C, Au),
    m("square_plans_wechat", "WeChat plans in the square (mean a day)", "", UC, C, Au),
    m("clip_share", "Share of clips", "视频占比", US, P, Au),
    m("gmv_share", "Share of GMV", "成交额占比", US, P, Mo),
    m("clip_lead", "Lead in share of clips", "", US, P, Au),
    m("gmv_lead", "Lead in share of GMV", "", US, P, Mo),
    m("titles", "Titles", "小程序数", UC, C, Au),
    m("douyin_title_share", "Share of titles on Douyin", "抖音小程序占比", US, P, Au),
    m("new_titles", "Titles launched", "新上线小程序", UC, C, Au),
    m("new_douyin_title_share", "Share of launched titles on Douyin", "", US, P, Au),
    m("operator_net_per_title", "Operator net per title", "单个小程序净收入", UR, M, Mo),
    m("top10_opens", "Titles among the 10 most opened", "打开量前十", UC, C, Au),
    m("commission", "Commission", "佣金", UR, M, Mo),
];

/// The own-plan metrics (`model::own::OWN_METRICS`) that [`TABLE`] does not name.
pub const OWN_TABLE: &[MetricLabel] = &[
    m("creators", "Creators who took the plan", "接单达人", UC, C, Cr),
    m("new_viewers", "New viewers", "新触达用户", UC, C, Au),
    m("budget_used", "Budget used", "预算消耗", UR, M, Mo),
    m("operator_net_per_commission_rmb", "Operator net per RMB of commission", "每元佣金净收入", US, I, Mo),
    m("budget_ran_out", "Budget ran out (share of replications)", "预算耗尽", US, P, Mo),
    m("closed_day", "Day the plan closed", "结束日", UC, C, Mo),
];

/// An own plan's metric `plans.<name>.<metric>` as (name, metric); plan names hold no dot.
pub fn own_plan_metric(metric: &str) -> Option<(&str, &str)> {
    metric.strip_prefix("plans.")?.split_once('.')
}

/// The entry of a metric; `name[category]` finds the entry of `name`, `plans.<plan>.<name>`
/// the entry of the own plan's `name`.
pub fn info(metric: &str) -> Option<&'static MetricLabel> {
    if let Some((_, own)) = own_plan_metric(metric) {
        return TABLE.iter().chain(OWN_TABLE).find(|l| l.name == own);
    }
    let base = metric.split_once('[').map_or(metric, |(b, _)| b);
    TABLE.iter().find(|l| l.name == base)
}

/// The reader's name of a metric: "GMV (成交额)"; `name[category]` becomes "GMV (成交额), category";
/// an unknown name is returned as it is.
pub fn label(metric: &str) -> String {
    let Some(l) = info(metric) else { return metric.to_string() };
    let mut s = if l.chinese.is_empty() { l.english.to_string() } else { format!("{} ({})", l.english, l.chinese) };
    if let Some((plan, _)) = own_plan_metric(metric) {
        s.push_str(", own plan ");
        s.push_str(plan);
    } else if let Some((_, rest)) = metric.split_once('[') {
        s.push_str(", ");
        s.push_str(rest.trim_end_matches(']'));
    }
    s
}

/// The English name alone, for tight places (chart rows, terminal lines).
pub fn short_label(metric: &str) -> String {
    let Some(l) = info(metric) else { return metric.to_string() };
    if let Some((plan, _)) = own_plan_metric(metric) {
        return format!("{}, own plan {plan}", l.english);
    }
    match metric.split_once('[') {
        Some((_, rest)) => format!("{}, {}", l.english, rest.trim_end_matches(']')),
        None => l.english.to_string(),
    }
}

/// A unit as written in the files ("RMB", "count", "share").
pub fn unit_from_name(name: &str) -> Option<Unit> {
    match name {
        "RMB" => Some(Unit::Rmb),
        "count" => Some(Unit::Count),
        "share" => Some(Unit::Share),
        _ => None,
    }
}

/// How a unit's values are written when the metric is not in the table.
pub fn unit_format(unit: Unit) -> Format {
    match unit {
        Unit::Rmb => Format::Money,
        Unit::Count => Format::Count,
        Unit::Share => Format::Percent,
    }
}

/// The format of a metric: its table entry's, else its unit's.
pub fn metric_format(metric: &str, unit: Unit) -> Format {
    info(metric).map_or(unit_format(unit), |l| l.format)
}

/// A value for a reader; `mean` says it is a mean over replications (a count then gets one
/// decimal), else it is a value of one run (a count is an integer). Not finite: "–".
pub fn format_value(x: f64, format: Format, mean: bool) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    match format {
        Format::Money => thousands(x, 2),
        Format::Count if mean => thousands(x, 1),
        Format::Count => thousands(x, 0),
        Format::Percent => percent(x),
        Format::Index => format!("{x:.3}"),
    }
}

/// A value of a metric for a reader (see [`format_value`]).
pub fn format_metric(metric: &str, unit: Unit, x: f64, mean: bool) -> String {
    format_value(x, metric_format(metric, unit), mean)
}

/// A value with its unit: "1,234.56 RMB", "1,234", "12.3%".
pub fn with_unit(x: f64, format: Format, mean: bool) -> String {
    let v = format_value(x, format, mean);
    if format == Format::Money && x.is_finite() {
        format!("{v} RMB")
    } else {
        v
    }
}

/// A share as a percentage with one decimal, or two below 1%.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p != 0.0 && p.abs() < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// What an interval over `n` replications is.
pub fn interval_wording(n: usize) -> String {
    format!("95% interval of the mean over {n} replications")
}

/// What stands where an interval would be when a run has one replication.
pub fn one_replication_wording() -> &'static str {
    "one replication: no interval, which needs at least 2 replications"
}

/// `lo to hi` of a metric over `n` replications, or the one-replication wording.
pub fn format_interval(metric: &str, unit: Unit, lo: f64, hi: f64, n: usize) -> String {
    if n < 2 {
        return one_replication_wording().to_string();
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return "–".to_string();
    }
    format!("{} to {}", format_metric(metric, unit, lo, true), format_metric(metric, unit, hi, true))
}

/// `n` with thousands separators and `decimals` decimals: 1,234,567.89 (a negative number with
/// a minus sign, never `-0`).
pub fn thousands(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    let negative = v < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative {
        format!("−{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::METRICS;

    #[test]
    fn every_headline_metric_has_a_label_of_its_unit() {
        for (name, unit) in METRICS {
            let l = info(name).unwrap_or_else(|| panic!("{name} has no label"));
            assert_eq!(l.unit, *unit, "{name}");
            assert_ne!(label(name), *name, "{name}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_value(77_211_977.244, Format::Money, true), "77,211,977.24");
        assert_eq!(format_value(69_387.5, Format::Count, true), "69,387.5");
        assert_eq!(format_value(69_387.0, Format::Count, false), "69,387");
        assert_eq!(format_value(0.4321, Format::Index, true), "0.432");
        assert_eq!(format_value(0.1234, Format::Percent, true), "12.3%");
        assert_eq!(format_value(-1234.5, Format::Money, true), "−1,234.50");
        assert_eq!(format_value(f64::NAN, Format::Money, true), "–");
        assert_eq!(label("fresh_reach"), "New viewers (新触达用户)");
        assert_eq!(label("gmv[games]"), "GMV (成交额), games");
        assert_eq!(label("unknown_thing"), "unknown_thing");
    }

    #[test]
    fn intervals_say_what_they_are() {
        assert_eq!(interval_wording(8), "95% interval of the mean over 8 replications");
        assert_eq!(format_interval("gmv", Unit::Rmb, 5.0, 5.0, 1), one_replication_wording());
        assert_eq!(format_interval("gmv", Unit::Rmb, 1000.0, 2000.0, 3), "1,000.00 to 2,000.00");
    }
}
