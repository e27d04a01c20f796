//! Every integration test in one binary: each test file linked on its own cost a ~170 MB
//! executable and its link time; the modules share the fixture lake and the helpers.

mod common;

mod annotations;
mod athena;
mod budget;
mod cache;
mod compliance;
mod flow_kinds;
mod grafana_rules;
mod lake_listing;
mod limits;
mod load;
mod plugin;
mod pruning_property;
mod scoping;
mod slices;
mod sql;
mod sql_injection;
mod sql_property;
mod sql_snapshots;
