//! The second half of step 4: the day's choices become clips. What order decides (record
//! slots, the counters, per-clip subsidies paid while a program has budget) one thread does in
//! choice order; the clips themselves, which read each creator's and title's scattered rows,
//! are built on all threads.

use super::World;
use crate::model::feed::Clip;
use crate::model::ledger::cell;
use crate::model::metrics::{Flow, Flows};
use crate::model::own;
use crate::model::square::Choice;
use crate::scenario::SubsidyForm;
use rayon::prelude::*;

impl World<'_> {
    /// A new clip for each choice, in choice order, with its per-clip subsidy if a program
    /// pays one.
    pub(super) fn post_all(&mut self, choices: &[Choice], day: u32, flows: &mut [Flows]) {
        let s = self.s;
        let date = s.date(day);
        let nprog = s.subsidies.len();
        let mut slots = std::mem::take(&mut self.record_slots);
        slots.clear();
        for ch in choices {
            let plan = &mut self.market.plans[ch.plan as usize];
            plan.clips_7d[(day % 7) as usize] += 1;
            plan.review_clips += 1;
            plan.clips += 1;
            let (title, category, landing) = (plan.title, plan.category, plan.landing);
            let i = ch.creator as usize;
            self.creators.clips[i] += 1;
            self.episode.clips_by_format[ch.format as usize] += 1;
            slots.push(self.records.open());
            let own = self.market.titles[title as usize].own;
            if let Some(k) = own::overlay_cell(s, own) {
                flows[k].add(Flow::Clips, 1);
                self.own_takers.mark(own, ch.creator);
            }
            let f = &mut flows[cell(category, landing)];
            f.add(Flow::Clips, 1);
            for (k, p) in s.subsidies.iter().enumerate() {
                if p.form == SubsidyForm::PerClip && p.categories[category as usize] && date >= p.from && date <= p.to {
                    let n = &mut self.program_clips[i * nprog + k];
                    if *n < p.first_clips {
                        *n += 1;
                        self.ledger.pay_subsidy(k, ch.creator, p.per_clip_fen, &mut self.creators, f);
                    }
                }
            }
        }
        let (plans, titles, creators) = (&self.market.plans, &self.market.titles, &self.creators);
        let first_id = self.next_clip;
        self.clips.par_extend(choices.par_iter().zip(slots.par_iter()).enumerate().map(|(k, (ch, &record))| {
            let plan = &plans[ch.plan as usize];
            let i = ch.creator as usize;
            Clip {
                id: first_id + k as u64,
                record,
                creator: ch.creator,
                plan: ch.plan,
                title: plan.title,
                category: plan.category,
                format: ch.format,
                landing: plan.landing,
                posted_day: day,
                tier: 0,
                days_in_tier: 0,
                quality: creators.quality[i] * titles[plan.title as usize].quality * ch.noise,
                tier_imps: 0,
                tier_engagements: 0,
                imps: 0,
                fresh: 0,
                expired: false,
            }
        }));
        self.next_clip += choices.len() as u64;
        self.record_slots = slots;
    }
}
