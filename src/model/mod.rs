//! The simulated market, one replication at a time: the world and its day loop ([`sim`]), the
//! creators, operators, plan square, feed, audience, funnel and ledger it is made of, and the
//! plain data a replication returns ([`metrics`]). It reads a validated scenario and knows no
//! file, chart or study.

pub mod audience;
pub mod burn_in;
pub mod counts;
pub mod feed;
pub mod funnel;
pub mod ledger;
pub mod metrics;
pub mod operators;
pub mod own;
pub mod population;
pub mod prior;
pub mod series;
pub mod sim;
pub mod square;
pub mod switch;
