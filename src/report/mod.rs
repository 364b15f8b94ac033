//! What turns results into files: the result folders ([`output`]), the detail tables
//! ([`tables`]), the own plans' tables ([`own_plans`]), the folder lock ([`lock`]), the metric
//! labels and formats ([`labels`]), the folders of an optimisation ([`optimize`]), a calibration
//! ([`calibrate`]) and a forecast ([`forecast`]), and the charts and pages ([`charts`]). It renders the
//! plain data the model and the studies hand it and never runs the model.

pub mod calibrate;
pub mod charts;
pub mod forecast;
pub mod labels;
pub mod lock;
pub mod optimize;
pub mod output;
pub mod own_plans;
pub mod tables;
