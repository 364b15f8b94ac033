//! cpsim: an agent-based simulator of creator promotion (CPS) marketplaces for mini-programs.
//!
//! A TOML scenario ([`scenario`]) drives a day-by-day model ([`sim`]) of operators, plans,
//! creators, clips, the feed and the audience; replications run in parallel ([`runner`]) and
//! results are written as CSV and JSON ([`output`]).

pub mod audience;
pub mod calendar;
pub mod charts;
pub mod cli;
pub mod compare;
pub mod episodes;
pub mod feed;
pub mod funnel;
pub mod guard;
pub mod ledger;
pub mod lock;
pub mod metrics;
pub mod money;
pub mod operators;
pub mod output;
pub mod population;
pub mod profile;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod sensitivity;
pub mod shard;
pub mod sim;
pub mod square;
pub mod sweep;
pub mod tables;
