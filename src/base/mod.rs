//! The primitives every layer stands on: exact money, calendar dates, named random streams and
//! the day loop's stage timer. They know nothing of the market, scenarios or files.

pub mod alias;
pub mod calendar;
pub mod gather;
pub mod inversion;
pub mod money;
pub mod profile;
pub mod rng;
pub mod tables;
#[cfg(test)]
pub mod twosample;
