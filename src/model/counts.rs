//! Exact counts a replication keeps for the episodes of the 2024 article (MODEL.md sec. 11):
//! posting attempts, clips by format, and per title its category, landing, launch day and
//! opens. The day loop fills them; `study::episodes` turns them into the episodes' metrics.

use crate::model::operators::Market;
use serde::{Deserialize, Serialize};

/// Exact counts of one replication that the headline metrics do not keep.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeCounts {
    /// Posting attempts of active creators on days with a non-empty square (`Poisson(lambda_i)`
    /// a day each, MODEL.md sec. 3), whether they became a clip or the outside option.
    pub attempts: u64,
    /// Clips posted, by format (`FormatKind as usize`: video, image-text).
    pub clips_by_format: [u64; 2],
    /// Every title of the run, in id order.
    pub titles: Vec<TitleStat>,
}

/// What the episodes need of one title.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleStat {
    pub category: u16,
    /// `Landing as u8`: 0 Douyin, 1 WeChat.
    pub landing: u8,
    /// Launch day (< 0 or 0 for the initial stock).
    pub launch_day: i32,
    /// Opens brought by the clips of all its plans over the run.
    pub opens: u64,
}

/// The titles of a market at the end of a run, with the opens of their plans.
pub fn title_stats(m: &Market) -> Vec<TitleStat> {
    let mut out: Vec<TitleStat> = m
        .titles
        .iter()
        .map(|t| TitleStat { category: t.category, landing: t.landing as u8, launch_day: t.launch_day, opens: 0 })
        .collect();
    for p in &m.plans {
        out[p.title as usize].opens += p.opens;
    }
    out
}
