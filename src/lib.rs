//! # Lakewatch
//!
//! A Grafana backend datasource for Amazon Security Lake: panel queries become partition-pruned
//! SQL over the OCSF tables, run on an engine, and come back as typed Arrow data frames.
//!
//! # Layout
//!
//! Data flows one way: `query → plan → sql → engine → frame`. No file imports, directly or round
//! about, a file that imports it: `scripts/import_graph.py` checks it in `scripts/test`.
//!
//! | module | owns |
//! |---|---|
//! | [`service`] | the gRPC services Grafana calls (QueryData, CheckHealth) and the handshake |
//! | [`settings`] | datasource `jsonData` and `secureJsonData` → typed [`settings::Settings`] |
//! | [`query`] | the tolerant JSON envelope → typed [`query::PanelQuery`], field-level errors; [`query::kinds`]: one file per query kind, listed once in its registry |
//! | [`lenient`] | reading JSON leniently for settings and queries: unset values, numbers as text, comma lists; one [`lenient::Problem`] type |
//! | [`net`] | IP addresses and CIDR blocks (IPv4, IPv6), parsed strictly and matched exactly |
//! | [`lake`] | Security Lake names and versions, the tables a lake holds; [`lake::source`] describes each source once (API name, table part, columns per version, dimensions, measures, demo generator), the lowest layer: `query`, `plan` and `sql` take their columns from it |
//! | [`plan`] | [`plan::Plan`]: table, partition predicates (UTC days, accounts, regions), filters, buckets |
//! | [`sql`] | rendering a plan per [`sql::Dialect`] (Athena, local); quoting and escaping |
//! | [`engine`] | the [`engine::Engine`] trait; [`engine::local`] runs DataFusion over a Parquet lake, [`engine::athena`] runs Amazon Athena |
//! | [`failure`] | engine and lake errors and whose fault each is ([`failure::Fault`]), below both |
//! | [`cache`] | one engine run per distinct query: in-flight sharing, a TTL cache in bounded memory, counters |
//! | [`aws`] | AWS SDK configuration: credentials, assumed role, region, endpoint override |
//! | [`frame`] | record batches → Grafana frames (wide time series, tables), Arrow IPC on the wire |
//! | [`merge`] | the results of a plan's day slices put back together (trimmed, re-sorted, added up) |
//! | [`pipeline`] | one panel query through the whole path in named stages (parse → schedule → execute → join → respond), shared by the plugin and the CLI |
//! | [`runs`] | panel runs that outlive their request (async queries): ids, joining, cancel, a cap and an expiry |
//! | [`demo`] | the generator of a realistic OCSF lake in the Security Lake layout |
//! | [`dashboards`] | the shipped dashboards and the panel queries in them |
//! | [`dashboard_frames`] | the frames each shipped dashboard shows on a small fixed demo lake, as Grafana's frontend receives them (the dashboard pictures are drawn from them) |
//! | [`grafana_host`] | the Grafana side of the plugin protocol: launch, handshake, gRPC calls |

pub mod aws;
pub mod budget;
pub mod cache;
pub mod dashboard_frames;
pub mod dashboard_links;
pub mod dashboards;
pub mod demo;
pub mod engine;
pub mod failure;
pub mod frame;
pub mod grafana_host;
pub mod lake;
pub mod lenient;
pub mod log_filter;
pub mod merge;
pub mod net;
pub mod pipeline;
pub mod plan;
pub mod query;
pub mod runs;
pub mod scope;
pub mod service;
pub mod settings;
pub mod sql;
