//! Flow records → Arrow batches with the OCSF columns of each source version → Parquet files in
//! the Security Lake folder layout, written in parallel into a temporary folder and renamed.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use arrow::array::{ArrayRef, ListArray, MapBuilder, StringBuilder};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::columns::{
    addr_lists, col, int32, int32_opt, int64, same, same_list, strs, structure, ts,
};
use super::detections::all_detections;
use super::dns::{dns_batch, partition_dns_queries};
use super::findings::{all_findings, FindingClass, FindingRecord};

/// The OCSF caption of a severity id.
fn severity_caption(id: i32) -> &'static str {
    crate::lake::source::SEVERITIES
        .iter()
        .find(|(s, _)| *s == i64::from(id))
        .map_or("Unknown", |(_, name)| name)
}
use super::trail::{
    data_event_batch, partition_lambda_events, partition_s3_events, partition_trail_events,
    trail_batch, DataEvent, TrailEvent,
};
use super::waf::{partition_waf_requests, waf_batch};
use super::{
    boundary_name, partition_keys, partition_records, DemoConfig, DemoError, FlowAction,
    FlowDirection, FlowRecord, LakeSummary, PartitionKey,
};
use crate::lake::{Source, SourceVersion};

fn endpoint(records: &[FlowRecord], src: bool) -> ArrayRef {
    let n = records.len();
    let own = |r: &FlowRecord| (r.direction == FlowDirection::Egress) == src;
    structure(vec![
        col(
            "port",
            int32_opt(n, |i| {
                if src {
                    records[i].src_port
                } else {
                    records[i].dst_port
                }
            }),
        ),
        col(
            "svc_name",
            strs(n, |i| {
                if src {
                    records[i].src_aws_service
                } else {
                    records[i].dst_aws_service
                }
            }),
        ),
        col(
            "ip",
            strs(n, |i| {
                if src {
                    records[i].src_addr.as_deref()
                } else {
                    records[i].dst_addr.as_deref()
                }
            }),
        ),
        col(
            "intermediate_ips",
            addr_lists(n, |i| {
                if src {
                    records[i].src_interface_addr.as_deref()
                } else {
                    records[i].dst_interface_addr.as_deref()
                }
            }),
        ),
        col(
            "interface_uid",
            strs(n, |i| {
                own(&records[i]).then_some(records[i].eni_id.as_str())
            }),
        ),
        col(
            "vpc_uid",
            strs(n, |i| {
                own(&records[i]).then_some(records[i].vpc_id.as_str())
            }),
        ),
        col(
            "instance_uid",
            strs(n, |i| {
                if own(&records[i]) {
                    records[i].instance_id.as_deref()
                } else {
                    None
                }
            }),
        ),
        col(
            "subnet_uid",
            strs(n, |i| {
                own(&records[i]).then_some(records[i].subnet_id.as_str())
            }),
        ),
    ])
}

/// `connection_info.protocol_ver`: [`FlowRecord::is_ipv6`], whose parse of every IPv4 address
/// was a tenth of building a batch; only text with a colon can be an IPv6 address.
fn protocol_ver(r: &FlowRecord) -> &'static str {
    let colon = |a: &Option<String>| a.as_deref().is_some_and(|a| a.contains(':'));
    if (colon(&r.src_addr) || colon(&r.dst_addr)) && r.is_ipv6() {
        "IPv6"
    } else {
        "IPv4"
    }
}

fn accepted(r: &FlowRecord) -> bool {
    r.action == FlowAction::Accept
}

/// Flow records → one batch with the `vpc_flow` columns of a version (no partition columns).
pub fn flow_batch(
    version: SourceVersion,
    records: &[FlowRecord],
) -> Result<RecordBatch, DemoError> {
    let n = records.len();
    let v2 = version == SourceVersion::V2;
    let metadata = structure(vec![
        col(
            "product",
            structure(vec![
                col("version", same(n, if v2 { "2" } else { "1" })),
                col("name", same(n, "Amazon VPC")),
                col("feature", structure(vec![col("name", same(n, "Flowlogs"))])),
                col("vendor_name", same(n, "AWS")),
            ]),
        ),
        col(
            "profiles",
            same_list(n, &["cloud", "security_control", "datetime"]),
        ),
        col("version", same(n, if v2 { "1.1.0" } else { "1.0.0-rc.2" })),
    ]);
    let account = if v2 {
        col(
            "account",
            structure(vec![col("uid", strs(n, |i| Some(&records[i].account_id)))]),
        )
    } else {
        col("account_uid", strs(n, |i| Some(&records[i].account_id)))
    };
    let cloud = structure(vec![
        account,
        col("region", strs(n, |i| Some(&records[i].region))),
        col("zone", strs(n, |i| Some(&records[i].zone))),
        col("provider", same(n, "AWS")),
    ]);
    let connection = structure(vec![
        col("protocol_num", int32(n, |i| records[i].protocol)),
        col("tcp_flags", int32(n, |i| records[i].tcp_flags)),
        col("protocol_ver", strs(n, |i| Some(protocol_ver(&records[i])))),
        col("boundary_id", int32(n, |i| records[i].boundary_id)),
        col(
            "boundary",
            strs(n, |i| Some(boundary_name(records[i].boundary_id))),
        ),
        col(
            "direction_id",
            int32(n, |i| match records[i].direction {
                FlowDirection::Ingress => 1,
                FlowDirection::Egress => 2,
            }),
        ),
        col(
            "direction",
            strs(n, |i| {
                Some(match records[i].direction {
                    FlowDirection::Ingress => "Inbound",
                    FlowDirection::Egress => "Outbound",
                })
            }),
        ),
    ]);
    let traffic = structure(vec![
        col("packets", int64(n, |i| records[i].packets)),
        col("bytes", int64(n, |i| records[i].bytes)),
    ]);
    let activity_id = |r: &FlowRecord| if accepted(r) { 6 } else { 5 };
    let mut cols = vec![
        col("metadata", metadata),
        col("cloud", cloud),
        col("src_endpoint", endpoint(records, true)),
        col("dst_endpoint", endpoint(records, false)),
        col("connection_info", connection),
        col("traffic", traffic),
        col("time", int64(n, |i| records[i].start_ms)),
    ];
    if v2 {
        cols.push(col("time_dt", ts(n, |i| records[i].start_ms)));
        cols.push(col("start_time_dt", ts(n, |i| records[i].start_ms)));
        cols.push(col("end_time_dt", ts(n, |i| records[i].end_ms)));
    } else {
        cols.push(col("start_time", int64(n, |i| records[i].start_ms)));
        cols.push(col("end_time", int64(n, |i| records[i].end_ms)));
    }
    cols.extend([
        col("status_code", same(n, "OK")),
        col("severity_id", int32(n, |_| 1)),
        col("severity", same(n, "Informational")),
        col("class_name", same(n, "Network Activity")),
        col("class_uid", int32(n, |_| 4001)),
        col("category_name", same(n, "Network Activity")),
        col("category_uid", int32(n, |_| 4)),
        col(
            "activity_name",
            strs(n, |i| {
                Some(if accepted(&records[i]) {
                    "Traffic"
                } else {
                    "Refuse"
                })
            }),
        ),
        col("activity_id", int32(n, |i| activity_id(&records[i]))),
    ]);
    if v2 {
        cols.push(col(
            "action",
            strs(n, |i| {
                Some(if accepted(&records[i]) {
                    "Allowed"
                } else {
                    "Denied"
                })
            }),
        ));
        cols.push(col(
            "action_id",
            int32(n, |i| if accepted(&records[i]) { 1 } else { 2 }),
        ));
    }
    cols.push(col(
        "disposition",
        strs(n, |i| {
            Some(if accepted(&records[i]) {
                "Allowed"
            } else {
                "Blocked"
            })
        }),
    ));
    if !v2 {
        cols.push(col(
            "disposition_id",
            int32(n, |i| if accepted(&records[i]) { 1 } else { 2 }),
        ));
    }
    cols.extend([
        col(
            "type_uid",
            int64(n, |i| 400_100 + i64::from(activity_id(&records[i]))),
        ),
        col(
            "type_name",
            strs(n, |i| {
                Some(if accepted(&records[i]) {
                    "Network Activity: Traffic"
                } else {
                    "Network Activity: Refuse"
                })
            }),
        ),
    ]);
    if v2 {
        cols.push(col("asl_version", same(n, "2.0")));
    }
    let mut unmapped = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for _ in 0..n {
        unmapped
            .append(true)
            .map_err(|e| DemoError::Encode(e.to_string()))?;
    }
    cols.push(col("unmapped", Arc::new(unmapped.finish())));
    // Two IP observables per record: source and destination.
    let obs_values = structure(vec![
        col(
            "name",
            strs(2 * n, |i| {
                Some(if i % 2 == 0 {
                    "src_endpoint.ip"
                } else {
                    "dst_endpoint.ip"
                })
            }),
        ),
        col(
            "value",
            strs(2 * n, |i| {
                let r = &records[i / 2];
                if i % 2 == 0 {
                    r.src_addr.as_deref()
                } else {
                    r.dst_addr.as_deref()
                }
            }),
        ),
        col("type", same(2 * n, "IP Address")),
        col("type_id", int32(2 * n, |_| 2)),
    ]);
    let obs_fields: Fields = match obs_values.data_type() {
        DataType::Struct(f) => f.clone(),
        _ => Fields::empty(),
    };
    cols.push(col(
        "observables",
        Arc::new(ListArray::new(
            Arc::new(Field::new("item", DataType::Struct(obs_fields), true)),
            OffsetBuffer::from_lengths(std::iter::repeat_n(2, n)),
            obs_values,
            None,
        )),
    ));
    let (fields, arrays): (Vec<Arc<Field>>, Vec<ArrayRef>) = cols.into_iter().unzip();
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    RecordBatch::try_new(schema, arrays).map_err(|e| DemoError::Encode(e.to_string()))
}

/// A `map<string,string>` column with one entry per row.
pub(super) fn one_entry_map(
    n: usize,
    key: &str,
    value: impl Fn(usize) -> String,
) -> Result<ArrayRef, DemoError> {
    let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for i in 0..n {
        map.keys().append_value(key);
        map.values().append_value(value(i));
        map.append(true)
            .map_err(|e| DemoError::Encode(e.to_string()))?;
    }
    Ok(Arc::new(map.finish()))
}

/// Findings rows → one batch with the `sh_findings` columns of a version (no partition columns):
/// v2 Compliance Finding 2003 (`finding_info`, `compliance.control`, `resource`), v1 Security
/// Finding 2001 (`finding`, `resources[]`, no control column).
pub fn findings_batch(
    version: SourceVersion,
    rows: &[FindingRecord],
) -> Result<RecordBatch, DemoError> {
    let n = rows.len();
    let v2 = version == SourceVersion::V2;
    let metadata = structure(vec![
        col(
            "product",
            structure(vec![
                col("name", strs(n, |i| Some(rows[i].product))),
                col("vendor_name", same(n, "AWS")),
                col(
                    "feature",
                    structure(vec![
                        col("uid", strs(n, |i| Some(&rows[i].generator_id))),
                        // Where the mapping may carry ProductName for other products' findings.
                        col(
                            "name",
                            strs(n, |i| {
                                (rows[i].class != FindingClass::Compliance)
                                    .then_some(rows[i].product)
                            }),
                        ),
                    ]),
                ),
            ]),
        ),
        col("version", same(n, if v2 { "1.1.0" } else { "1.0.0-rc.2" })),
    ]);
    let account = if v2 {
        col(
            "account",
            structure(vec![col("uid", strs(n, |i| Some(&rows[i].account_id)))]),
        )
    } else {
        col("account_uid", strs(n, |i| Some(&rows[i].account_id)))
    };
    let cloud = structure(vec![
        account,
        col("region", strs(n, |i| Some(&rows[i].region))),
        col("provider", same(n, "AWS")),
    ]);
    let seen = |f: fn((i64, i64)) -> i64| -> ArrayRef {
        Arc::new(
            (0..n)
                .map(|i| rows[i].seen_ms.map(f))
                .collect::<arrow::array::Int64Array>(),
        )
    };
    let info = |uid: &str| {
        structure(vec![
            col(uid, strs(n, |i| Some(&rows[i].finding_uid))),
            col("title", strs(n, |i| Some(&rows[i].title))),
            col("types", addr_lists(n, |i| Some(rows[i].finding_type))),
            col("first_seen_time", seen(|s| s.0)),
            col("last_seen_time", seen(|s| s.1)),
        ])
    };
    let resource_fields = || {
        vec![
            col("type", strs(n, |i| Some(rows[i].resource_type))),
            col("uid", strs(n, |i| Some(&rows[i].resource_uid))),
            col("region", strs(n, |i| Some(&rows[i].region))),
        ]
    };
    let mut compliance = vec![];
    if v2 {
        compliance.push(col("control", strs(n, |i| rows[i].control.as_deref())));
    }
    compliance.push(col(
        "status",
        strs(n, |i| Some(rows[i].status).filter(|s| !s.is_empty())),
    ));
    compliance.push(col(
        "standards",
        same_list(
            n,
            &["standards/aws-foundational-security-best-practices/v/1.0.0"],
        ),
    ));
    let mut cols = vec![
        col("metadata", metadata),
        col("time", int64(n, |i| rows[i].time_ms)),
    ];
    if v2 {
        cols.push(col("time_dt", ts(n, |i| rows[i].time_ms)));
    }
    cols.push(col("cloud", cloud));
    if v2 {
        cols.push(col("finding_info", info("uid")));
        cols.push(col("resource", structure(resource_fields())));
        cols.push(col("class_uid", int32(n, |i| rows[i].class.uid(version))));
        cols.push(col(
            "class_name",
            strs(n, |i| {
                Some(match rows[i].class {
                    FindingClass::Compliance => "Compliance Finding",
                    FindingClass::Detection => "Detection Finding",
                    FindingClass::Vulnerability => "Vulnerability Finding",
                })
            }),
        ));
        cols.push(col("status", strs(n, |i| Some(rows[i].workflow))));
    } else {
        cols.push(col("finding", info("uid")));
        let values = structure(resource_fields());
        let fields = match values.data_type() {
            DataType::Struct(f) => f.clone(),
            _ => Fields::empty(),
        };
        cols.push(col(
            "resources",
            Arc::new(ListArray::new(
                Arc::new(Field::new("item", DataType::Struct(fields), true)),
                OffsetBuffer::from_lengths(std::iter::repeat_n(1, n)),
                values,
                None,
            )),
        ));
        cols.push(col("class_uid", int32(n, |_| 2001)));
        cols.push(col("class_name", same(n, "Security Finding")));
        cols.push(col("state", strs(n, |i| Some(rows[i].workflow))));
    }
    cols.push(col("compliance", structure(compliance)));
    cols.push(col(
        "severity",
        strs(n, |i| Some(severity_caption(rows[i].severity_id))),
    ));
    cols.push(col("severity_id", int32(n, |i| rows[i].severity_id)));
    cols.push(col(
        "unmapped",
        one_entry_map(n, "RecordState", |i| rows[i].record_state.to_string())?,
    ));
    let (fields, arrays): (Vec<Arc<Field>>, Vec<ArrayRef>) = cols.into_iter().unzip();
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    RecordBatch::try_new(schema, arrays).map_err(|e| DemoError::Encode(e.to_string()))
}

/// The Arrow schema of the `vpc_flow` Parquet files of a version (without partition columns).
pub fn vpc_flow_schema(version: SourceVersion) -> SchemaRef {
    flow_batch(version, &[]).map_or_else(
        |_| Arc::new(arrow::datatypes::Schema::empty()),
        |b| b.schema(),
    )
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Leaf columns of nearly distinct values (times, counters, ephemeral ports): a dictionary
/// would repeat every value and cost a hash per row, so they are written plain.
const PLAIN_COLUMNS: [&[&str]; 9] = [
    &["time"],
    &["time_dt"],
    &["start_time_dt"],
    &["end_time_dt"],
    &["start_time"],
    &["end_time"],
    &["traffic", "bytes"],
    &["traffic", "packets"],
    &["src_endpoint", "port"],
];

/// The Parquet settings of every demo file. Statistics per column chunk, no page index: a row
/// group is a single page per column here, so the page index only repeated the chunk's
/// statistics, and it was a quarter of every footer a reader parses.
fn writer_properties() -> WriterProperties {
    let plain = PLAIN_COLUMNS.iter().map(|path| {
        parquet::schema::types::ColumnPath::new(path.iter().map(|p| p.to_string()).collect())
    });
    plain
        .fold(WriterProperties::builder(), |b, path| {
            b.set_column_dictionary_enabled(path, false)
        })
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_offset_index_disabled(true)
        .set_created_by("lakewatch demo".to_string())
        .build()
}

/// Writes `batch` as one Parquet file, a row group per run of rows `groups` gives.
fn write_file(
    path: &Path,
    batch: &RecordBatch,
    groups: &[(usize, usize)],
) -> Result<u64, DemoError> {
    static PROPS: LazyLock<WriterProperties> = LazyLock::new(writer_properties);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let file = fs::File::create(path).map_err(io(path))?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(PROPS.clone()))
        .map_err(|e| DemoError::Encode(e.to_string()))?;
    for (start, len) in groups {
        writer
            .write(&batch.slice(*start, *len))
            .and_then(|()| writer.flush())
            .map_err(|e| DemoError::Encode(e.to_string()))?;
    }
    writer
        .close()
        .map_err(|e| DemoError::Encode(e.to_string()))?;
    Ok(fs::metadata(path).map_err(io(path))?.len())
}

/// Rows a row group holds at least before an hour may start the next one.
const MIN_GROUP_ROWS: usize = 1_000;

/// Row groups `(start, len)` of whole UTC hours of the epoch-ms `time` column (rows sorted by
/// time, or by delivery hour in a messy file), as Security Lake's deliveries through the day
/// make them: a reader of a few hours skips the rest by the groups' time statistics. An hour
/// starts a new group once the current one holds `min_rows`: thin hours share a group, since a
/// group of a few dozen rows costs more footer (to write and to read) than it lets a reader skip.
/// One group of every row when there is no such column.
fn hour_groups(batch: &RecordBatch, min_rows: usize) -> Vec<(usize, usize)> {
    let times = batch
        .column_by_name("time")
        .and_then(|c| c.as_any().downcast_ref::<arrow::array::Int64Array>());
    let Some(times) = times else {
        return vec![(0, batch.num_rows())];
    };
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut hour = None;
    for (i, t) in times.iter().enumerate() {
        let h = t.map(|t| t.div_euclid(3_600_000));
        match runs.last_mut() {
            Some((_, len)) if h == hour || *len < min_rows => *len += 1,
            _ => runs.push((i, 1)),
        }
        hour = h;
    }
    runs
}

/// Writes a partition's findings: a few rows a day, so one row group.
fn write_findings(path: &Path, batch: &RecordBatch) -> Result<u64, DemoError> {
    write_file(path, batch, &[(0, batch.num_rows())])
}

/// Writes a partition's CloudTrail events as one file in time order, a row group per run of
/// hours: `(files, bytes)`; nothing when the partition has none.
fn write_trail_file(
    version: SourceVersion,
    dir: &Path,
    events: &[TrailEvent],
) -> Result<(u64, u64), DemoError> {
    if events.is_empty() {
        return Ok((0, 0));
    }
    let batch = trail_batch(version, events)?;
    let groups = hour_groups(&batch, MIN_GROUP_ROWS);
    Ok((
        1,
        write_file(&dir.join("part-00000.parquet"), &batch, &groups)?,
    ))
}

/// Writes a partition's CloudTrail data events of one table as one file in time order:
/// `(files, bytes)`; nothing when the partition has none.
fn write_data_event_file(
    version: SourceVersion,
    dir: &Path,
    events: &[DataEvent],
) -> Result<(u64, u64), DemoError> {
    if events.is_empty() {
        return Ok((0, 0));
    }
    let batch = data_event_batch(version, events)?;
    let groups = hour_groups(&batch, MIN_GROUP_ROWS);
    Ok((
        1,
        write_file(&dir.join("part-00000.parquet"), &batch, &groups)?,
    ))
}

/// Writes a partition's resolver queries as one file in time order, a row group per run of
/// hours: `(files, bytes)`; nothing when the partition has none.
fn write_dns_file(
    version: SourceVersion,
    dir: &Path,
    queries: &[super::dns::DnsQuery],
) -> Result<(u64, u64), DemoError> {
    if queries.is_empty() {
        return Ok((0, 0));
    }
    let batch = dns_batch(version, queries)?;
    let groups = hour_groups(&batch, MIN_GROUP_ROWS);
    Ok((
        1,
        write_file(&dir.join("part-00000.parquet"), &batch, &groups)?,
    ))
}

/// Writes a partition's WAF requests as one file in time order (v2 only: Security Lake has no
/// v1 WAF table): `(files, bytes)`; nothing when the partition has none or the version is 1.
fn write_waf_file(
    version: SourceVersion,
    dir: &Path,
    requests: &[super::waf::WafRequest],
) -> Result<(u64, u64), DemoError> {
    if requests.is_empty() || !Source::Waf.has_version(version) {
        return Ok((0, 0));
    }
    let batch = waf_batch(requests)?;
    let groups = hour_groups(&batch, MIN_GROUP_ROWS);
    Ok((
        1,
        write_file(&dir.join("part-00000.parquet"), &batch, &groups)?,
    ))
}

/// The flow files of a messy partition: `(file name, records in file order)`, a file per
/// six-hour delivery window (late records land in the file of the hour they were delivered), each
/// holding its delivery hours newest first, so neither files nor row groups are in time order.
fn messy_flow_files(records: &[FlowRecord]) -> Vec<(String, Vec<FlowRecord>)> {
    const WINDOW_MS: i64 = 6 * 3_600_000;
    let mut windows: std::collections::BTreeMap<i64, Vec<FlowRecord>> = Default::default();
    for r in records {
        let window = r.delivered_ms.rem_euclid(24 * 3_600_000) / WINDOW_MS;
        windows.entry(window).or_default().push(r.clone());
    }
    windows
        .into_iter()
        .map(|(window, mut rows)| {
            rows.sort_by_key(|r| (std::cmp::Reverse(r.delivered_ms / 3_600_000), r.start_ms));
            (format!("part-{window:05}.parquet"), rows)
        })
        .collect()
}

/// Writes a partition's flow files into `dir`: `(files, bytes)`.
fn write_flow_files(
    cfg: &DemoConfig,
    version: SourceVersion,
    dir: &Path,
    records: &[FlowRecord],
) -> Result<(u64, u64), DemoError> {
    if !cfg.messy {
        // A clean partition is one file in time order.
        let batch = flow_batch(version, records)?;
        let groups = hour_groups(&batch, MIN_GROUP_ROWS);
        return Ok((
            1,
            write_file(&dir.join("part-00000.parquet"), &batch, &groups)?,
        ));
    }
    let mut written = (0, 0);
    for (name, rows) in messy_flow_files(records) {
        // Every delivery hour its own group: the messy lake is about their disorder.
        let batch = flow_batch(version, &rows)?;
        let groups = hour_groups(&batch, 0);
        written.1 += write_file(&dir.join(name), &batch, &groups)?;
        written.0 += 1;
    }
    Ok(written)
}

/// The findings of the lake grouped by the partition they belong to, in one pass (filtering them
/// per partition costs partitions × findings, which grows with the square of the lake's width).
fn findings_by_partition(
    cfg: &DemoConfig,
) -> std::collections::HashMap<PartitionKey, Vec<FindingRecord>> {
    let mut out: std::collections::HashMap<PartitionKey, Vec<FindingRecord>> = Default::default();
    for f in all_findings(cfg).into_iter().chain(all_detections(cfg)) {
        let Some(day) = chrono::DateTime::from_timestamp_millis(f.time_ms).map(|t| t.date_naive())
        else {
            continue;
        };
        let key = PartitionKey {
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            day,
        };
        out.entry(key).or_default().push(f);
    }
    out
}

/// The folder of a partition of a source under a lake root.
pub fn partition_dir(
    root: &Path,
    source: Source,
    version: SourceVersion,
    key: &PartitionKey,
) -> PathBuf {
    root.join("aws")
        .join(source.api_name())
        .join(version.dir())
        .join(format!("region={}", key.region))
        .join(format!("accountId={}", key.account_id))
        .join(format!("eventDay={}", key.day.format("%Y%m%d")))
}

/// Writes the lake into `out` (which must not exist): every partition in parallel into
/// `<out>.tmp-<pid>`, then `lake.json`, then one rename, so a crash never leaves half a lake.
pub fn write_lake(cfg: &DemoConfig, out: &Path, progress: bool) -> Result<LakeSummary, DemoError> {
    let started = Instant::now();
    if out.exists() {
        return Err(DemoError::Exists(out.to_path_buf()));
    }
    let tmp = PathBuf::from(format!("{}.tmp-{}", out.display(), std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    let keys = partition_keys(cfg);
    let findings = findings_by_partition(cfg);
    let next = AtomicUsize::new(0);
    let totals = Mutex::new((0u64, 0u64, 0u64, 0u64, 0u64, 0u64)); // records, files, bytes, trail events, DNS queries, WAF requests
    let data_totals = Mutex::new((0u64, std::time::Duration::ZERO)); // data events, time drawing them
    let failure: Mutex<Option<DemoError>> = Mutex::new(None);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= keys.len() || failure.lock().map_or(true, |f| f.is_some()) {
                    break;
                }
                let records = partition_records(cfg, &keys[i]);
                let found = findings.get(&keys[i]).map_or(&[][..], Vec::as_slice);
                let events = partition_trail_events(cfg, &keys[i]);
                let queries = partition_dns_queries(cfg, &keys[i]);
                let requests = partition_waf_requests(cfg, &keys[i]);
                let drawing = Instant::now();
                let s3_events = partition_s3_events(cfg, &keys[i]);
                let lambda_events = partition_lambda_events(cfg, &keys[i]);
                let drawn = drawing.elapsed();
                let mut files = 0;
                let mut bytes = 0;
                for version in &cfg.versions {
                    let file = |source| {
                        partition_dir(&tmp, source, *version, &keys[i]).join("part-00000.parquet")
                    };
                    let dir = partition_dir(&tmp, Source::VpcFlow, *version, &keys[i]);
                    let written =
                        write_flow_files(cfg, *version, &dir, &records).and_then(|(n, flow)| {
                            if found.is_empty() {
                                return Ok((n, flow));
                            }
                            findings_batch(*version, found)
                                .and_then(|b| write_findings(&file(Source::ShFindings), &b))
                                .map(|sh| (n + 1, flow + sh))
                        });
                    let trail_dir = partition_dir(&tmp, Source::CloudTrailMgmt, *version, &keys[i]);
                    let written = written.and_then(|(n, size)| {
                        write_trail_file(*version, &trail_dir, &events)
                            .map(|(m, trail)| (n + m, size + trail))
                    });
                    let dns_dir = partition_dir(&tmp, Source::Route53, *version, &keys[i]);
                    let written = written.and_then(|(n, size)| {
                        write_dns_file(*version, &dns_dir, &queries)
                            .map(|(m, dns)| (n + m, size + dns))
                    });
                    let waf_dir = partition_dir(&tmp, Source::Waf, *version, &keys[i]);
                    let written = written.and_then(|(n, size)| {
                        write_waf_file(*version, &waf_dir, &requests)
                            .map(|(m, waf)| (n + m, size + waf))
                    });
                    let written = [
                        (Source::S3Data, &s3_events),
                        (Source::LambdaExecution, &lambda_events),
                    ]
                    .into_iter()
                    .fold(written, |written, (source, events)| {
                        let dir = partition_dir(&tmp, source, *version, &keys[i]);
                        written.and_then(|(n, size)| {
                            write_data_event_file(*version, &dir, events)
                                .map(|(m, data)| (n + m, size + data))
                        })
                    });
                    match written {
                        Ok((n, size)) => {
                            files += n;
                            bytes += size;
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                            return;
                        }
                    }
                }
                if let Ok(mut t) = totals.lock() {
                    t.0 += records.len() as u64;
                    t.1 += files;
                    t.2 += bytes;
                    t.3 += events.len() as u64;
                    t.4 += queries.len() as u64;
                    if cfg.versions.contains(&SourceVersion::V2) {
                        t.5 += requests.len() as u64;
                    }
                }
                if let Ok(mut t) = data_totals.lock() {
                    t.0 += (s3_events.len() + lambda_events.len()) as u64;
                    t.1 += drawn;
                }
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if progress && (finished % 10 == 0 || finished == keys.len()) {
                    eprint!("\r  partitions {finished}/{}", keys.len());
                    if finished == keys.len() {
                        eprintln!();
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let (records, files, bytes, trail_events, dns_queries, waf_requests) =
        totals.into_inner().unwrap_or_default();
    let (data_events, data_events_cpu) = data_totals.into_inner().unwrap_or_default();
    let versions: Vec<String> = cfg
        .versions
        .iter()
        .map(|v| format!("\"{}\"", v.dir()))
        .collect();
    let regions: Vec<String> = cfg.regions.iter().map(|r| format!("\"{r}\"")).collect();
    let json = format!(
        "{{\n  \"config\": {{\"days\": {}, \"accounts\": {}, \"regions\": [{}], \"seed\": {}, \"end\": \"{}\", \"versions\": [{}], \"flows_per_hour\": {}, \"messy\": {}}},\n  \"summary\": {{\"records_per_version\": {records}, \"trail_events_per_version\": {trail_events}, \"dns_queries_per_version\": {dns_queries}, \"waf_requests\": {waf_requests}, \"files\": {files}, \"bytes\": {bytes}}}\n}}\n",
        cfg.days,
        cfg.accounts,
        regions.join(", "),
        cfg.seed,
        cfg.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        versions.join(", "),
        cfg.flows_per_hour,
        cfg.messy
    );
    let meta = tmp.join("lake.json");
    fs::File::create(&meta)
        .and_then(|mut f| f.write_all(json.as_bytes()))
        .map_err(io(&meta))?;
    fs::rename(&tmp, out).map_err(io(out))?;
    Ok(LakeSummary {
        records_per_version: records,
        trail_events_per_version: trail_events,
        dns_queries_per_version: dns_queries,
        waf_requests,
        data_events_per_version: data_events,
        data_events_cpu,
        files,
        bytes,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{all_records, silent_vpc};
    use chrono::DateTime;

    fn cfg() -> DemoConfig {
        DemoConfig {
            days: 2,
            accounts: 2,
            regions: vec!["us-east-1".into()],
            seed: 3,
            end: DateTime::parse_from_rfc3339("2024-06-03T12:00:00Z")
                .unwrap()
                .to_utc(),
            versions: vec![SourceVersion::V1, SourceVersion::V2],
            flows_per_hour: 20,
            messy: false,
        }
    }

    #[test]
    fn same_seed_same_bytes_and_a_readable_schema() {
        let base = std::env::temp_dir().join(format!("lakewatch-demo-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (a, b) = (base.join("a"), base.join("b"));
        let sa = write_lake(&cfg(), &a, false).unwrap();
        write_lake(&cfg(), &b, false).unwrap();
        assert_eq!(
            sa.files,
            2 * 3 * (2 * 6 + 1),
            "3 touched days x 2 accounts x (2 versions x (flows, findings, CloudTrail, Route 53, S3 and Lambda data events) + WAF in v2)"
        );
        assert!(sa.trail_events_per_version > 0);
        assert!(sa.dns_queries_per_version > 0);
        assert!(sa.waf_requests > 0);
        let v1_waf = partition_dir(
            Path::new(""),
            Source::Waf,
            SourceVersion::V1,
            &partition_keys(&cfg())[0],
        );
        assert!(
            !a.join(v1_waf).exists(),
            "Security Lake has no v1 WAF table"
        );
        let keys = partition_keys(&cfg());
        assert_eq!(keys.len(), 6);
        for version in [SourceVersion::V1, SourceVersion::V2] {
            for key in &keys {
                for source in [
                    Source::VpcFlow,
                    Source::ShFindings,
                    Source::CloudTrailMgmt,
                    Source::Route53,
                    Source::Waf,
                    Source::S3Data,
                    Source::LambdaExecution,
                ] {
                    if !source.has_version(version) {
                        continue;
                    }
                    let rel = partition_dir(Path::new(""), source, version, key)
                        .join("part-00000.parquet");
                    let (fa, fb) = (
                        fs::read(a.join(&rel)).unwrap(),
                        fs::read(b.join(&rel)).unwrap(),
                    );
                    assert_eq!(fa, fb, "{}", rel.display());
                }
            }
            let rel = partition_dir(Path::new(""), Source::VpcFlow, version, &keys[1])
                .join("part-00000.parquet");
            let file = fs::File::open(a.join(rel)).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap();
            let rows: usize = reader
                .map(|b| {
                    let b = b.unwrap();
                    assert_eq!(b.schema().fields(), vpc_flow_schema(version).fields());
                    b.num_rows()
                })
                .sum();
            assert_eq!(rows, partition_records(&cfg(), &keys[1]).len());
        }
        assert!(a.join("lake.json").is_file());
        assert!(matches!(
            write_lake(&cfg(), &a, false),
            Err(DemoError::Exists(_))
        ));
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn records_are_deterministic_and_the_silent_vpc_stops() {
        let c = DemoConfig { days: 4, ..cfg() };
        let records = all_records(&c);
        assert_eq!(records, all_records(&c));
        let (account, region, vpc, stop) = silent_vpc(&c);
        let of_vpc: Vec<&FlowRecord> = records
            .iter()
            .filter(|r| r.account_id == account && r.region == region && r.vpc_id == vpc)
            .collect();
        assert!(of_vpc.iter().any(|r| r.start_ms < stop.timestamp_millis()));
        assert!(of_vpc.iter().all(|r| r.start_ms < stop.timestamp_millis()));
        let start = c.start().timestamp_millis();
        assert!(records
            .iter()
            .all(|r| r.start_ms >= start && r.start_ms < c.end.timestamp_millis()));
        assert!(records.iter().any(|r| r.action == FlowAction::Reject));
    }
}
