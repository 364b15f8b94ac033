//! What runs the model many times: replications in parallel ([`runner`]), sweeps ([`sweep`]),
//! shards ([`shard`]), paired comparisons ([`compare`]), the episodes' metrics ([`episodes`]),
//! sensitivity ([`sensitivity`]), optimisation ([`optimize`]) and the memory and work guard ([`guard`]).

pub mod calibrate;
pub mod compare;
pub mod episodes;
pub mod forecast;
pub mod guard;
pub mod optimize;
pub mod runner;
pub mod sensitivity;
pub mod shard;
pub mod sweep;
