//! What turns results into files: the result folders ([`output`]), the detail tables
//! ([`tables`]), the folder lock ([`lock`]), the metric labels and formats ([`labels`]) and the charts and pages ([`charts`]). It renders the
//! plain data the model and the studies hand it and never runs the model.

pub mod charts;
pub mod labels;
pub mod lock;
pub mod output;
pub mod tables;
