//! cpsim: an agent-based simulator of creator promotion (CPS) marketplaces for mini-programs.
//!
//! Layers, imports only going down: [`cli`] parses the command line and calls the [`study`]s,
//! which run the [`model`] many times and hand its results to [`report`], which writes files and
//! charts; the model reads a validated [`scenario`]; all stand on the primitives of [`base`].

pub mod base;
pub mod cli;
pub mod model;
pub mod report;
pub mod scenario;
pub mod study;
