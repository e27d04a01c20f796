//! The last stage: the answer a panel shows. Planned kinds and raw SQL assemble it with one
//! builder, [`Answer`], so that their notices, row cap, inspector statistics and frame meta read
//! alike.

use arrow::array::{Array, Int64Array};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use chrono::DateTime;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::budget::human_bytes;
use crate::engine::{Engine, QueryOutput, ResultRead};
use crate::frame::{
    flow_log_lines_frame, node_graph_frames, ranking_series_frame, Frame, FrameError, Notice,
    SeriesValue,
};
use crate::lake::estimate::ScanEstimate;
use crate::plan::{self, Shape};
use crate::query::{
    unknown_fields, DnsQuery, FindingsQuery, PanelQuery, SearchFormat, TopFormat, TopKeys,
    TrailFormat, TrailQuery, WafQuery,
};
use crate::settings::Settings;
use crate::sql::Dialect;

use super::execute::Estimate;
use super::frames::{self, Rows};
use super::join::Joined;
use super::schedule::Schedule;
use super::{PanelRequest, Prepared, PreparedSql, QueryFailure};

/// One answer as it is assembled: the engine output it describes, the notices in the order the
/// panel shows them, and the frame's custom meta (null values left out).
pub(super) struct Answer<'a> {
    settings: &'a Settings,
    output: &'a QueryOutput,
    /// The notices, in the order the panel shows them.
    pub notices: Vec<Notice>,
    custom: Map<String, Value>,
}

impl<'a> Answer<'a> {
    /// An answer of `kind` about `output`, with the meta every answer carries: the engine, the
    /// cache's part, the rows and what was read.
    pub fn new(
        engine: &dyn Engine,
        settings: &'a Settings,
        output: &'a QueryOutput,
        kind: &str,
    ) -> Self {
        let mut answer = Answer {
            settings,
            output,
            notices: Vec::new(),
            custom: Map::new(),
        };
        let stats = &output.stats;
        answer.meta("engine", engine.name());
        answer.meta("cache", output.cache.as_str());
        answer.meta("kind", kind);
        answer.meta("rows", output.rows());
        answer.meta("filesRead", stats.files);
        answer.meta("bytesRead", stats.bytes_read);
        answer.meta("partitionsRead", stats.partitions.len());
        answer.meta("partitions", &stats.partitions);
        answer.meta("engineMs", output.elapsed.as_millis() as u64);
        answer
    }

    /// Sets a custom meta key; a null value leaves it out.
    pub fn meta(&mut self, key: &str, value: impl Serialize) {
        let value = json!(value);
        if !value.is_null() {
            self.custom.insert(key.to_string(), value);
        }
    }

    /// A notice of the query fields Lakewatch ignored (a misspelt field would otherwise do
    /// nothing silently).
    pub fn unknown_fields(&mut self, query_json: &[u8]) {
        let Ok(value) = serde_json::from_slice::<Value>(query_json) else {
            return;
        };
        let unknown = unknown_fields(&value);
        if !unknown.is_empty() {
            self.notices.push(Notice {
                severity: "info",
                text: format!(
                    "Ignored query fields Lakewatch does not know: {}. Check their spelling (docs/queries.md lists every field).",
                    unknown.join(", ")
                ),
            });
        }
    }

    /// The scan budget's estimate in the meta, or a notice that the budget could not be checked.
    pub fn estimate(&mut self, estimate: Estimate) {
        self.notices.extend(budget_notice(estimate));
        if let Some(Some(e)) = estimate {
            self.meta("scanEstimateBytes", e.bytes);
            self.meta("scanEstimateSampled", sampled_meta(e));
        }
    }

    /// The rows held to the datasource's row cap (`maxRows`), with a warning that says so and
    /// `advice` on how to stay under it. A graph (`graph_bucket_ms`) keeps whole buckets from its
    /// newest back, the rest empty; returns where it is complete from, for the series.
    pub fn cap_rows(
        &mut self,
        batches: Vec<RecordBatch>,
        graph_bucket_ms: Option<i64>,
        advice: &str,
    ) -> (Vec<RecordBatch>, Option<i64>) {
        if self.output.rows() as u64 <= self.settings.max_rows {
            return (batches, None);
        }
        let max = self.settings.max_rows as usize;
        let (kept, complete_from_ms, cut) = match graph_bucket_ms {
            Some(bucket_ms) => {
                let (kept, oldest_cut) = newest_whole_buckets(&batches, max);
                let complete_from_ms = oldest_cut.map(|b| b + bucket_ms);
                let from = complete_from_ms
                    .and_then(DateTime::from_timestamp_millis)
                    .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
                let cut = format!(": the graph is complete from {from} on and empty before");
                (kept, complete_from_ms, cut)
            }
            None => (truncate(&batches, max), None, String::new()),
        };
        self.notices.push(Notice {
            severity: "warning",
            text: format!(
                "The result was cut at {max} rows (the datasource's row cap){cut}; {advice}"
            ),
        });
        (kept, complete_from_ms)
    }

    /// The frame with the answer's notices (and what Athena billed), the engine's statistics,
    /// the custom meta and the SQL that ran (for the inspector).
    pub fn finish(mut self, mut frame: Frame, sql: &str) -> Frame {
        self.notices
            .extend(athena_notice(self.output, self.settings));
        frame.meta.executed_query_string = Some(sql.to_string());
        frame.meta.notices.extend(self.notices);
        frame.meta.stats = engine_stats(self.output);
        athena_meta(&mut frame, &mut self.custom, self.output, self.settings);
        frame.meta.custom = self.custom;
        frame
    }
}

/// A planned panel's answer: its rows (a variable's without nulls) held to the row cap, the
/// frame its shape asks for, and notices and meta of how it ran.
pub(super) fn panel(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    prepared: &Prepared,
    schedule: &Schedule,
    ran: Ran,
) -> Result<Vec<Frame>, QueryFailure> {
    let output = &ran.joined.output;
    let shape = &prepared.plan.shape;
    let mut answer = Answer::new(engine, settings, output, prepared.query.kind());
    answer.unknown_fields(request.json);
    answer.estimate(ran.estimate);
    let mut batches = output.batches.clone();
    if let PanelQuery::Variable(_) = &prepared.query {
        // A dimension some records lack (a flow without a VPC, a finding without a control).
        batches = drop_nulls(&batches, plan::VARIABLE_VALUE);
    }
    if let Shape::EgressAnomaly(anomaly) = shape {
        baseline_complete(request.ref_id, output, settings, anomaly.baseline_days)?;
    }
    let graph = match shape {
        Shape::TimeSeries { bucket_ms, .. } => Some(*bucket_ms),
        _ => None,
    };
    let advice = "narrow the time range or filters, or group by fewer dimensions.";
    let (batches, complete_from_ms) = answer.cap_rows(batches, graph, advice);
    if let PanelQuery::ComplianceStatus(q) = &prepared.query {
        let days = q.scope.lookback_days.unwrap_or(settings.lookback_days);
        answer.notices.push(Notice {
            severity: "info",
            text: format!(
                "Latest state of each finding updated in the {days} days before the end of the time range (newest update wins, archived findings left out); set lookback_days or the lookbackDays setting to look further."
            ),
        });
    }
    let known = match ran.known {
        Some(Err(unreadable)) => {
            answer.notices.push(unreadable);
            None
        }
        known => known.and_then(Result::ok),
    };
    let rows = Rows {
        ref_id: request.ref_id,
        schema: &output.schema,
        batches: &batches,
        window: &prepared.window,
        settings,
    };
    let frame = frames::panel_frame(&rows, shape, complete_from_ms, known, &mut answer.notices)?;
    let total = ran.joined.total();
    let shown = frame.rows() as u64;
    if let Some(total) = total.filter(|&total| total > shown) {
        let what = match &prepared.query {
            PanelQuery::Trail(TrailQuery::AuthEvents(_)) => "sign-ins",
            PanelQuery::Trail(TrailQuery::IamChanges(_)) => "IAM changes",
            _ => "flows",
        };
        answer.notices.push(Notice {
            severity: "info",
            text: format!(
                "Showing the {shown} newest of {total} matching {what}; narrow the filters or raise the limit to see more."
            ),
        });
    }
    panel_meta(&mut answer, prepared, schedule, &ran.joined, total);
    let frame = answer.finish(frame, &prepared.sql);
    as_asked(frame, prepared).map_err(|e| QueryFailure::plugin(request.ref_id, e))
}

/// A baseline cut at the row cap would score against missing hours: the query fails instead,
/// saying how to read fewer rows.
fn baseline_complete(
    ref_id: &str,
    output: &QueryOutput,
    settings: &Settings,
    days: u32,
) -> Result<(), QueryFailure> {
    let max = settings.max_rows;
    if output.rows() as u64 <= max {
        return Ok(());
    }
    Err(QueryFailure::user(
        ref_id,
        format!(
            "the baseline of {days} days and the time range hold more than {max} group-hours (the datasource's row cap, maxRows): narrow the filters or the time range, score per VPC rather than per ENI, or lower baseline_days"
        ),
    ))
}

/// A table as its query's `format` asks: kept, or reshaped (a ranking as a node graph or as
/// alertable series, a flow search as log lines).
fn as_asked(frame: Frame, prepared: &Prepared) -> Result<Vec<Frame>, FrameError> {
    let at_ms = prepared.window.to.timestamp_millis();
    let query = match &prepared.query {
        PanelQuery::Top { query, .. } => query,
        PanelQuery::FlowSearch(search) if search.format == SearchFormat::Logs => {
            return Ok(vec![flow_log_lines_frame(frame)?]);
        }
        PanelQuery::Beaconing(beacons) if beacons.format == TopFormat::Series => {
            let keys = plan::beacon_keys().map(|d| d.name());
            let contacts = SeriesValue {
                column: plan::CONTACTS,
                unit: "short",
            };
            return Ok(vec![ranking_series_frame(frame, &keys, contacts, at_ms)?]);
        }
        PanelQuery::Trail(TrailQuery::TopPrincipals(q)) if q.format == TrailFormat::Series => {
            let keys: Vec<&str> = q.group_by.iter().map(|d| d.name()).collect();
            let measure = SeriesValue {
                column: q.measure.name(),
                unit: q.measure.unit(),
            };
            return Ok(vec![ranking_series_frame(frame, &keys, measure, at_ms)?]);
        }
        PanelQuery::Dns(DnsQuery::Ranking(q)) if q.format == TrailFormat::Series => {
            let keys: Vec<&str> = q.group_by.iter().map(|d| d.name()).collect();
            let measure = SeriesValue {
                column: q.measure.name(),
                unit: q.measure.unit(),
            };
            return Ok(vec![ranking_series_frame(frame, &keys, measure, at_ms)?]);
        }
        PanelQuery::Waf(WafQuery::Ranking(q)) if q.format == TrailFormat::Series => {
            let keys: Vec<&str> = q.group_by.iter().map(|d| d.name()).collect();
            let measure = SeriesValue {
                column: q.measure.name(),
                unit: q.measure.unit(),
            };
            return Ok(vec![ranking_series_frame(frame, &keys, measure, at_ms)?]);
        }
        PanelQuery::Dns(DnsQuery::Tunneling(q)) if q.format == TrailFormat::Series => {
            let subdomains = SeriesValue {
                column: plan::SUBDOMAINS,
                unit: "short",
            };
            return Ok(vec![ranking_series_frame(
                frame,
                &plan::TUNNEL_KEYS,
                subdomains,
                at_ms,
            )?]);
        }
        PanelQuery::Findings(FindingsQuery::Active(q)) if q.format == TrailFormat::Series => {
            let findings = SeriesValue {
                column: plan::FINDINGS,
                unit: "short",
            };
            return Ok(vec![ranking_series_frame(
                frame,
                &["severity"],
                findings,
                at_ms,
            )?]);
        }
        PanelQuery::Trail(TrailQuery::AuthEvents(q)) if q.format == TrailFormat::Series => {
            let keys: Vec<&str> = q.group_by.iter().map(|d| d.name()).collect();
            let measure = SeriesValue {
                column: plan::SIGN_INS,
                unit: "short",
            };
            return Ok(vec![ranking_series_frame(frame, &keys, measure, at_ms)?]);
        }
        _ => return Ok(vec![frame]),
    };
    match query.format {
        TopFormat::Table => Ok(vec![frame]),
        TopFormat::NodeGraph => node_graph_frames(frame, query.measure),
        TopFormat::Series => {
            let keys: Vec<&str> = match &query.keys {
                TopKeys::Dimensions(dims) => dims.iter().map(|d| d.name()).collect(),
                TopKeys::EitherIp => vec![plan::SIDE_IP],
            };
            let measure = SeriesValue {
                column: query.measure.name(),
                unit: query.measure.unit(),
            };
            Ok(vec![ranking_series_frame(frame, &keys, measure, at_ms)?])
        }
    }
}

/// What only a planned panel's meta says: its table and shape, the count of a paged table (and
/// what counting read), and how day slices went.
fn panel_meta(
    answer: &mut Answer<'_>,
    prepared: &Prepared,
    schedule: &Schedule,
    joined: &Joined,
    total: Option<u64>,
) {
    let table = &prepared.plan.table;
    answer.meta("table", format!("{}.{}", table.database(), table.table()));
    answer.meta("sourceVersion", table.version.to_string());
    answer.meta("bucketMs", frames::bucket_ms(&prepared.plan.shape));
    answer.meta("totalMatches", total);
    answer.meta("daySlices", &joined.day_slices);
    answer.meta("slicing", &schedule.slicing);
    answer.meta("fileBytes", joined.output.stats.file_bytes);
    if let Some(counted) = &joined.counted {
        // The count query reads the same partitions again; show what both read.
        answer.meta("countFilesRead", counted.stats.files);
        answer.meta("countBytesRead", counted.stats.bytes_read);
        answer.meta("countQuery", schedule.count_sql());
    }
}

/// What a planned panel's runs returned.
pub(super) struct Ran {
    /// The scan budget's answer.
    pub estimate: Estimate,
    /// The jobs' results.
    pub joined: Joined,
    /// Coverage's VPCs that EC2.6 findings know of, or the notice of why they could not be read.
    pub known: Option<Result<Vec<Vec<String>>, Notice>>,
}

/// A `sql` query's answer: its rows held to the row cap, as a table or a wide series, with
/// notices and meta of how it ran.
pub(super) fn sql(
    engine: &dyn Engine,
    settings: &Settings,
    request: &PanelRequest<'_>,
    prepared: &PreparedSql,
    estimate: Estimate,
    output: &QueryOutput,
) -> Result<Vec<Frame>, QueryFailure> {
    let expanded = &prepared.expanded;
    let mut answer = Answer::new(engine, settings, output, "sql");
    if expanded.reads_lake && !expanded.pruned {
        answer.notices.push(unpruned_notice(engine.dialect()));
    }
    answer.estimate(estimate);
    answer.unknown_fields(request.json);
    let advice = "add a LIMIT, aggregate, or narrow the time range.";
    let (batches, _) = answer.cap_rows(output.batches.clone(), None, advice);
    let rows = Rows {
        ref_id: request.ref_id,
        schema: &output.schema,
        batches: &batches,
        window: &prepared.window,
        settings,
    };
    let frame = frames::sql_frame(&rows, prepared.query.format, expanded.time_group)?;
    let tables: Vec<String> = expanded
        .tables
        .iter()
        .map(|t| format!("{}.{}", t.database(), t.table()))
        .collect();
    answer.meta("tables", tables);
    answer.meta("sourceVersion", settings.source_version.to_string());
    answer.meta("partitionPruned", expanded.pruned);
    answer.meta("bucketMs", expanded.time_group.map(|g| g.interval_ms));
    Ok(vec![answer.finish(frame, &expanded.sql)])
}

/// The warning on a query that reads a Security Lake table with no partition predicate.
pub fn unpruned_notice(dialect: Dialect) -> Notice {
    let column = match dialect {
        Dialect::Athena => "eventday (v1) or time_dt (v2)",
        Dialect::Local => "eventday",
    };
    Notice {
        severity: "warning",
        text: format!(
            "This query reads a Security Lake table without a partition predicate, so every day of every account and region is scanned (Athena bills by the byte). Add `AND $__partitionFilter` to its WHERE clause (or a condition on {column})."
        ),
    }
}

/// How an estimate was sampled, for the frame meta: `{sized, of}` partition folders (the rest
/// extrapolated); None when every folder was sized.
fn sampled_meta(estimate: ScanEstimate) -> Option<Value> {
    estimate
        .sampled
        .map(|(sized, of)| json!({"sized": sized, "of": of}))
}

/// The notice of a scan budget that could not be checked (the engine could not size the
/// partitions).
fn budget_notice(estimate: Estimate) -> Option<Notice> {
    matches!(estimate, Some(None)).then(|| Notice {
        severity: "warning",
        text: "The scan budget was not checked for this query: the table's partition folders could not be listed (its Glue table has no s3:// location in the Security Lake layout). The query ran anyway.".to_string(),
    })
}

/// The notice of what Athena scanned and what it costs.
fn athena_notice(output: &QueryOutput, settings: &Settings) -> Option<Notice> {
    let athena = output.athena.as_ref()?;
    let cents = settings.price_per_tb_cents();
    Some(Notice {
        severity: "info",
        text: format!(
            "Athena scanned {} (billed {}, 10 MB minimum per query): ${:.5} at ${:.2} per TB.",
            human_bytes(athena.scanned_bytes),
            human_bytes(athena.billed_bytes()),
            athena.cost_usd(cents),
            cents as f64 / 100.0
        ),
    })
}

/// The inspector's statistics of an engine run.
fn engine_stats(output: &QueryOutput) -> Vec<(String, f64, &'static str)> {
    let stats = &output.stats;
    vec![
        ("Rows returned".to_string(), output.rows() as f64, "short"),
        ("Files read".to_string(), stats.files as f64, "short"),
        (
            "Bytes read".to_string(),
            stats.bytes_read as f64,
            "decbytes",
        ),
        (
            "Engine time".to_string(),
            output.elapsed.as_secs_f64() * 1000.0,
            "ms",
        ),
    ]
}

/// Athena's query id, bytes and cost in the frame's custom meta and statistics.
fn athena_meta(
    frame: &mut Frame,
    map: &mut Map<String, Value>,
    output: &QueryOutput,
    settings: &Settings,
) {
    let Some(athena) = &output.athena else {
        return;
    };
    let cents = settings.price_per_tb_cents();
    map.insert("athenaQueryId".into(), json!(athena.query_id));
    map.insert("scannedBytes".into(), json!(athena.scanned_bytes));
    map.insert("billedBytes".into(), json!(athena.billed_bytes()));
    map.insert("costUsd".into(), json!(athena.cost_usd(cents)));
    map.insert("queueMs".into(), json!(athena.queue_ms));
    map.insert("athenaEngineMs".into(), json!(athena.engine_ms));
    if athena.retries > 0 {
        map.insert("athenaRetries".into(), json!(athena.retries));
    }
    map.insert(
        "resultsFrom".into(),
        match &athena.read {
            ResultRead::Pages(n) => json!(format!("GetQueryResults, {n} page(s)")),
            ResultRead::Object(location) => json!(location),
        },
    );
    frame.meta.stats.push((
        "Data scanned".to_string(),
        athena.scanned_bytes as f64,
        "decbytes",
    ));
    frame
        .meta
        .stats
        .push(("Cost".to_string(), athena.cost_usd(cents), "currencyUSD"));
}

/// The rows whose `column` is not null.
fn drop_nulls(batches: &[RecordBatch], column: &str) -> Vec<RecordBatch> {
    batches
        .iter()
        .map(|b| {
            b.column_by_name(column)
                .and_then(|c| arrow::compute::is_not_null(c).ok())
                .and_then(|mask| arrow::compute::filter_record_batch(b, &mask).ok())
                .unwrap_or_else(|| b.clone())
        })
        .collect()
}

/// The rows of the newest buckets that fit in `max` rows, whole buckets only, whatever order the
/// rows come in; and the newest bucket left out (it, and all before it, may lack rows).
fn newest_whole_buckets(batches: &[RecordBatch], max: usize) -> (Vec<RecordBatch>, Option<i64>) {
    let buckets: Vec<Int64Array> = batches
        .iter()
        .filter_map(|b| b.column_by_name(plan::TIME_BUCKET))
        .filter_map(|c| arrow::compute::cast(c, &DataType::Int64).ok())
        .filter_map(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
        .collect();
    let mut all: Vec<i64> = buckets.iter().flat_map(|a| a.iter().flatten()).collect();
    if all.len() <= max || buckets.len() != batches.len() {
        return (truncate(batches, max), None);
    }
    all.sort_unstable_by(|a, b| b.cmp(a));
    let cut = all[max];
    let kept = batches
        .iter()
        .zip(&buckets)
        .filter_map(|(batch, b)| {
            let newer = arrow::compute::kernels::cmp::gt(b, &Int64Array::new_scalar(cut)).ok()?;
            arrow::compute::filter_record_batch(batch, &newer).ok()
        })
        .collect();
    (kept, Some(cut))
}

/// The first `max` rows.
fn truncate(batches: &[RecordBatch], max: usize) -> Vec<RecordBatch> {
    let mut left = max;
    let mut out = Vec::new();
    for b in batches {
        if left == 0 {
            break;
        }
        let take = b.num_rows().min(left);
        out.push(b.slice(0, take));
        left -= take;
    }
    out
}
