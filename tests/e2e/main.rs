//! Every integration test in one binary: each test file linked on its own cost a ~170 MB
//! executable and its link time; the modules share the fixture lake and the helpers.

mod common;

mod annotations;
mod async_queries;
mod athena;
mod budget;
mod cache;
mod cloudtrail;
mod compliance;
mod cross_engine;
mod data_events;
mod data_links;
mod detections;
mod dns;
mod findings;
mod flow_kinds;
mod glue_discovery;
mod grafana_rules;
mod lake_listing;
mod limits;
mod load;
mod organizations;
mod plugin;
mod pruning_property;
mod scoping;
mod slices;
mod sql;
mod timeline;
mod timeline_dashboard;
mod waf;
