//! Frames read the way Grafana's server reads them: the Go SDK's Arrow rules, then the dataplane
//! rules of the frame type the meta declares. Alert rules and server-side expressions go through
//! these readers, not through the browser, so a frame a panel draws can still fail an alert.
//!
//! Every rule names the Go source it encodes (grafana-plugin-sdk-go `data/arrow.go`, grafana
//! `dataplane` `sdata/…`). The checks are independent of [`super::decode_frames`]: they read the
//! Arrow IPC bytes themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use arrow::array::{Array, ArrayRef, TimestampNanosecondArray};
use arrow::datatypes::{DataType, Field as ArrowField, TimeUnit};
use arrow::ipc::reader::FileReader;
use serde_json::Value;

/// A rule of Grafana's readers, with the source it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Short id, e.g. `sdk/nullable`.
    pub id: &'static str,
    /// Where Grafana enforces it.
    pub source: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $source:literal;)*) => {
        $(
            #[doc = concat!("`", $id, "`: ", $source)]
            pub const $name: Rule = Rule { id: $id, source: $source };
        )*
        /// Every rule, in the order they are checked.
        pub const ALL_RULES: &[Rule] = &[$($name),*];
    };
}

rules! {
    SDK_ARROW = "sdk/arrow",
        "grafana-plugin-sdk-go data/arrow.go UnmarshalArrowFrame: each frame is one Arrow IPC file";
    SDK_META = "sdk/meta",
        "grafana-plugin-sdk-go data/arrow.go UnmarshalArrowFrame: schema metadata `meta` is FrameMeta JSON (`typeVersion` a pair of unsigned integers)";
    SDK_LABELS = "sdk/labels",
        "grafana-plugin-sdk-go data/arrow.go initializeFrameFields: field metadata `labels` is a JSON object of strings";
    SDK_CONFIG = "sdk/config",
        "grafana-plugin-sdk-go data/arrow.go initializeFrameFields: field metadata `config` is a FieldConfig JSON object";
    SDK_TYPE = "sdk/type",
        "grafana-plugin-sdk-go data/arrow.go initializeFrameField: string, string view, (u)int8–64, float32/64, bool, timestamp or binary; anything else fails the frame";
    SDK_TIMESTAMP_NS = "sdk/timestamp-ns",
        "grafana-plugin-sdk-go data/arrow.go parseColumn: timestamps are read as nanoseconds (`time.Unix(0, ts)`), whatever the unit says";
    SDK_NULLABLE = "sdk/nullable",
        "grafana-plugin-sdk-go data/arrow.go initializeFrameFields: nullability is the Arrow field flag; a null in a non-nullable field is read as its zero value";
    PLANE_TYPE_VERSION = "dataplane/type-version",
        "dataplane sdata/timeseries/wide.go, multi.go, sdata/numeric/*.go: the declared type's version is 0.1 (another version is read with a warning)";
    PLANE_ONE_FRAME = "dataplane/one-frame",
        "dataplane sdata/timeseries/wide.go validateAndGetRefsWide, sdata/numeric/wide.go, long.go: one frame; more are left unread";
    PLANE_NO_DATA = "dataplane/no-data",
        "dataplane sdata/timeseries/wide.go, multi.go: no data is one frame with no fields, never beside frames with data";
    PLANE_TIME = "dataplane/time",
        "dataplane sdata/timeseries/util.go seriesCheckSelectTime: a series frame needs a non-nullable []time.Time field (\"missing a []time.Time field\")";
    PLANE_TIME_FIRST = "dataplane/time-first",
        "grafana-plugin-sdk-go data/contract_docs/timeseries.md: one time field, first, without labels (later time fields are left unread)";
    PLANE_VALUE = "dataplane/value",
        "dataplane sdata/timeseries/wide.go validateAndGetRefsWide, sdata/common.go ValidValueFields: at least one numeric or bool value field (\"missing a numeric value field\")";
    PLANE_TEXT = "dataplane/text",
        "dataplane sdata/timeseries/wide.go validateAndGetRefsWide: text fields of a series frame are left unread (their values are lost to expressions)";
    PLANE_UNIQUE = "dataplane/unique",
        "dataplane sdata/timeseries/wide.go validateAndGetRefsWide: no two value fields with the same name and labels (\"duplicate metrics found\")";
    PLANE_SORTED = "dataplane/sorted",
        "dataplane sdata/timeseries/util.go timeIsSorted: time ascending (\"unsorted time field\")";
    PLANE_MULTI_VALUE = "dataplane/multi-value",
        "dataplane sdata/timeseries/multi.go validateAndGetRefsMulti: each frame one time field and one value field (more are left unread)";
    PLANE_NUMERIC = "dataplane/numeric",
        "dataplane sdata/numeric/wide.go, multi.go, long.go: numeric kinds have no time field; wide and multi hold one row";
    ALERT_LABELS = "alerting/labels",
        "grafana pkg/expressions (mathexp): series and numbers are told apart by their labels only; two with the same labels fail the expression";
}

/// A rule a frame breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// Index of the frame in the response.
    pub frame: usize,
    /// What breaks it, naming the field.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "frame {}: {} [{}; {}]",
            self.frame, self.detail, self.rule.id, self.rule.source
        )
    }
}

/// What a response is, read as Grafana's expressions read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Frames without a dataplane type (tables): only the SDK's rules apply.
    Untyped,
    /// A typed "no data" answer.
    NoData,
    /// Series (`timeseries-*`): how many, each with its labels.
    Series(Vec<BTreeMap<String, String>>),
    /// Numbers (`numeric-*`): how many.
    Numbers(usize),
}

/// One field as the Go SDK reads it.
struct GoField {
    name: String,
    labels: BTreeMap<String, String>,
    kind: GoKind,
    nullable: bool,
    values: ArrayRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoKind {
    Time,
    Number,
    Bool,
    Text,
    Other,
}

/// One frame as the Go SDK reads it.
struct GoFrame {
    meta_type: Option<String>,
    type_version: Option<[u64; 2]>,
    fields: Vec<GoField>,
}

/// Checks the frames of one query's answer; `Ok` tells how Grafana reads them.
pub fn check_frames(frames: &[Vec<u8>]) -> Result<Shape, Vec<Violation>> {
    let mut violations = Vec::new();
    let mut read = Vec::new();
    for (i, bytes) in frames.iter().enumerate() {
        if let Some(f) = read_frame(i, bytes, &mut violations) {
            read.push(f);
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    let shape = check_dataplane(&read, &mut violations);
    if violations.is_empty() {
        Ok(shape)
    } else {
        Err(violations)
    }
}

fn violation(rule: Rule, frame: usize, detail: impl Into<String>) -> Violation {
    Violation {
        rule,
        frame,
        detail: detail.into(),
    }
}

fn read_frame(i: usize, bytes: &[u8], out: &mut Vec<Violation>) -> Option<GoFrame> {
    let reader = match FileReader::try_new(Cursor::new(bytes), None) {
        Ok(r) => r,
        Err(e) => {
            out.push(violation(
                SDK_ARROW,
                i,
                format!("not an Arrow IPC file: {e}"),
            ));
            return None;
        }
    };
    let schema = reader.schema();
    let batches: Vec<_> = match reader.collect::<Result<_, _>>() {
        Ok(b) => b,
        Err(e) => {
            // arrow-rs refuses such a batch where the Go SDK reads its nulls as zero values.
            let rule = if e.to_string().contains("non-nullable but contains null") {
                SDK_NULLABLE
            } else {
                SDK_ARROW
            };
            out.push(violation(rule, i, format!("unreadable batch: {e}")));
            return None;
        }
    };
    let (meta_type, type_version) = read_meta(i, schema.metadata().get("meta"), out);
    let mut fields = Vec::new();
    for (c, f) in schema.fields().iter().enumerate() {
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
        let values = if parts.is_empty() {
            arrow::array::new_empty_array(f.data_type())
        } else {
            match arrow::compute::concat(&parts) {
                Ok(v) => v,
                Err(e) => {
                    out.push(violation(SDK_ARROW, i, format!("field {}: {e}", f.name())));
                    continue;
                }
            }
        };
        if let Some(field) = read_field(i, f, values, out) {
            fields.push(field);
        }
    }
    Some(GoFrame {
        meta_type,
        type_version,
        fields,
    })
}

fn read_meta(
    i: usize,
    meta: Option<&String>,
    out: &mut Vec<Violation>,
) -> (Option<String>, Option<[u64; 2]>) {
    let Some(text) = meta else {
        return (None, None);
    };
    let meta: Value = match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Value::Object(m),
        Ok(other) => {
            out.push(violation(
                SDK_META,
                i,
                format!("meta is not an object: {other}"),
            ));
            return (None, None);
        }
        Err(e) => {
            out.push(violation(SDK_META, i, format!("meta is not JSON: {e}")));
            return (None, None);
        }
    };
    let meta_type = match &meta["type"] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => {
            out.push(violation(
                SDK_META,
                i,
                format!("meta.type {other} is not a string"),
            ));
            None
        }
    };
    let version = match &meta["typeVersion"] {
        Value::Null => None,
        Value::Array(v) if v.len() == 2 && v.iter().all(Value::is_u64) => {
            Some([v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0)])
        }
        other => {
            out.push(violation(
                SDK_META,
                i,
                format!("meta.typeVersion {other} is not a pair of unsigned integers"),
            ));
            None
        }
    };
    (meta_type, version)
}

fn go_kind(t: &DataType) -> GoKind {
    match t {
        DataType::Timestamp(_, _) => GoKind::Time,
        DataType::Utf8 | DataType::Utf8View => GoKind::Text,
        DataType::Boolean => GoKind::Bool,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64 => GoKind::Number,
        DataType::Binary => GoKind::Other,
        _ => GoKind::Other,
    }
}

fn read_field(
    i: usize,
    f: &ArrowField,
    values: ArrayRef,
    out: &mut Vec<Violation>,
) -> Option<GoField> {
    let name = f.name();
    let accepted = go_kind(f.data_type()) != GoKind::Other || *f.data_type() == DataType::Binary;
    if !accepted {
        out.push(violation(
            SDK_TYPE,
            i,
            format!(
                "field {name} has Arrow type {}, which the Go SDK cannot read",
                f.data_type()
            ),
        ));
        return None;
    }
    if let DataType::Timestamp(unit, _) = f.data_type() {
        if *unit != TimeUnit::Nanosecond {
            out.push(violation(
                SDK_TIMESTAMP_NS,
                i,
                format!("field {name} holds timestamps in {unit:?}, read as nanoseconds"),
            ));
        }
    }
    let labels = match f.metadata().get("labels") {
        None => BTreeMap::new(),
        Some(text) => match serde_json::from_str::<BTreeMap<String, String>>(text) {
            Ok(l) => l,
            Err(e) => {
                out.push(violation(
                    SDK_LABELS,
                    i,
                    format!("field {name}: labels {text}: {e}"),
                ));
                BTreeMap::new()
            }
        },
    };
    if let Some(text) = f.metadata().get("config") {
        if !matches!(serde_json::from_str::<Value>(text), Ok(Value::Object(_))) {
            out.push(violation(
                SDK_CONFIG,
                i,
                format!("field {name}: config {text} is not a JSON object"),
            ));
        }
    }
    let nulls = values.logical_null_count();
    if !f.is_nullable() && nulls > 0 {
        out.push(violation(
            SDK_NULLABLE,
            i,
            format!("field {name} is not nullable but holds {nulls} nulls, read as zero values"),
        ));
    }
    Some(GoField {
        name: name.clone(),
        labels,
        kind: go_kind(f.data_type()),
        nullable: f.is_nullable(),
        values,
    })
}

/// The dataplane rules of the type the first frame declares.
fn check_dataplane(frames: &[GoFrame], out: &mut Vec<Violation>) -> Shape {
    let Some(first) = frames.first() else {
        return Shape::Untyped;
    };
    let Some(kind) = first.meta_type.clone() else {
        return Shape::Untyped;
    };
    for (i, f) in frames.iter().enumerate() {
        if f.meta_type.as_deref() != Some(kind.as_str()) {
            out.push(violation(
                PLANE_ONE_FRAME,
                i,
                format!("frame declares {:?}, the first frame {kind}", f.meta_type),
            ));
        }
        if f.type_version != Some([0, 1]) {
            out.push(violation(
                PLANE_TYPE_VERSION,
                i,
                format!("{kind} typeVersion {:?}, readers know 0.1", f.type_version),
            ));
        }
    }
    if first.fields.is_empty() {
        if frames.len() > 1 {
            out.push(violation(
                PLANE_NO_DATA,
                1,
                "a frame beside the no-data frame",
            ));
        }
        return Shape::NoData;
    }
    for (i, f) in frames.iter().enumerate().skip(1) {
        if f.fields.is_empty() {
            out.push(violation(
                PLANE_NO_DATA,
                i,
                "a frame without fields beside frames with data",
            ));
        }
    }
    match kind.as_str() {
        "timeseries-wide" => check_wide(frames, out),
        "timeseries-multi" | "timeseries-many" => check_multi(frames, out),
        "numeric-wide" | "numeric-multi" | "numeric-long" => check_numeric(&kind, frames, out),
        _ => Shape::Untyped,
    }
}

fn check_wide(frames: &[GoFrame], out: &mut Vec<Violation>) -> Shape {
    if frames.len() > 1 {
        out.push(violation(
            PLANE_ONE_FRAME,
            1,
            format!("{} frames, readers take the first", frames.len()),
        ));
    }
    let series = check_series_frame(0, &frames[0], out);
    check_distinct_labels(0, series.iter(), out);
    Shape::Series(series.into_iter().map(|(_, l)| l).collect())
}

fn check_multi(frames: &[GoFrame], out: &mut Vec<Violation>) -> Shape {
    let mut all = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let series = check_series_frame(i, f, out);
        if series.len() > 1 {
            out.push(violation(
                PLANE_MULTI_VALUE,
                i,
                format!("{} value fields, readers take the first", series.len()),
            ));
        }
        all.extend(series);
    }
    check_distinct_labels(0, all.iter(), out);
    Shape::Series(all.into_iter().map(|(_, l)| l).collect())
}

/// The value fields of one series frame as (name, labels), after its time checks.
fn check_series_frame(
    i: usize,
    frame: &GoFrame,
    out: &mut Vec<Violation>,
) -> Vec<(String, BTreeMap<String, String>)> {
    let times: Vec<&GoField> = frame
        .fields
        .iter()
        .filter(|f| f.kind == GoKind::Time)
        .collect();
    match times.iter().find(|f| !f.nullable) {
        None => out.push(violation(
            PLANE_TIME,
            i,
            match times.first() {
                Some(t) => format!("time field {} is nullable ([]*time.Time)", t.name),
                None => "no time field".to_string(),
            },
        )),
        Some(time) => check_time(i, frame, time, out),
    }
    for f in &frame.fields {
        if f.kind == GoKind::Text || f.kind == GoKind::Other {
            out.push(violation(
                PLANE_TEXT,
                i,
                format!("field {} is not a number", f.name),
            ));
        }
    }
    let values: Vec<(String, BTreeMap<String, String>)> = frame
        .fields
        .iter()
        .filter(|f| matches!(f.kind, GoKind::Number | GoKind::Bool))
        .map(|f| (f.name.clone(), f.labels.clone()))
        .collect();
    if values.is_empty() {
        out.push(violation(PLANE_VALUE, i, "no numeric value field"));
    }
    let mut seen = BTreeSet::new();
    for (name, labels) in &values {
        if !seen.insert((name, labels)) {
            out.push(violation(
                PLANE_UNIQUE,
                i,
                format!("two fields {name} with labels {labels:?}"),
            ));
        }
    }
    values
}

fn check_time(i: usize, frame: &GoFrame, time: &GoField, out: &mut Vec<Violation>) {
    let first = &frame.fields[0];
    if !std::ptr::eq(first, time)
        || frame
            .fields
            .iter()
            .filter(|f| f.kind == GoKind::Time)
            .count()
            > 1
    {
        out.push(violation(
            PLANE_TIME_FIRST,
            i,
            format!("time field {} is not the one time field, first", time.name),
        ));
    }
    if !time.labels.is_empty() {
        out.push(violation(
            PLANE_TIME_FIRST,
            i,
            format!("time field {} has labels", time.name),
        ));
    }
    let Ok(ts) = arrow::compute::cast(
        &time.values,
        &DataType::Timestamp(TimeUnit::Nanosecond, None),
    ) else {
        return;
    };
    let Some(ts) = ts.as_any().downcast_ref::<TimestampNanosecondArray>() else {
        return;
    };
    if ts.values().windows(2).any(|w| w[1] < w[0]) {
        out.push(violation(
            PLANE_SORTED,
            i,
            format!("time field {} is not ascending", time.name),
        ));
    }
}

fn check_numeric(kind: &str, frames: &[GoFrame], out: &mut Vec<Violation>) -> Shape {
    if kind != "numeric-multi" && frames.len() > 1 {
        out.push(violation(
            PLANE_ONE_FRAME,
            1,
            format!("{} frames, readers take the first", frames.len()),
        ));
    }
    let mut numbers = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let rows = frame.fields.first().map_or(0, |f| f.values.len());
        if kind != "numeric-long" && rows != 1 {
            out.push(violation(
                PLANE_NUMERIC,
                i,
                format!("{kind} frame with {rows} rows"),
            ));
        }
        for f in &frame.fields {
            match f.kind {
                GoKind::Time => out.push(violation(
                    PLANE_NUMERIC,
                    i,
                    format!("time field {} in {kind}", f.name),
                )),
                GoKind::Number | GoKind::Bool => numbers.push((f.name.clone(), f.labels.clone())),
                _ => {}
            }
        }
    }
    if numbers.is_empty() {
        out.push(violation(PLANE_VALUE, 0, "no numeric value field"));
    }
    if kind != "numeric-long" {
        check_distinct_labels(0, numbers.iter(), out);
    }
    Shape::Numbers(numbers.len())
}

fn check_distinct_labels<'a>(
    i: usize,
    values: impl Iterator<Item = &'a (String, BTreeMap<String, String>)>,
    out: &mut Vec<Violation>,
) {
    let mut seen: BTreeMap<&BTreeMap<String, String>, &str> = BTreeMap::new();
    for (name, labels) in values {
        if let Some(other) = seen.insert(labels, name) {
            out.push(violation(
                ALERT_LABELS,
                i,
                format!("fields {other} and {name} have the same labels {labels:?}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow::array::{
        Float64Array, Int64Array, ListArray, RecordBatch, StringArray, TimestampMillisecondArray,
    };
    use arrow::datatypes::{Int32Type, Schema};
    use arrow::ipc::writer::FileWriter;

    const WIDE: &str = r#"{"type":"timeseries-wide","typeVersion":[0,1]}"#;

    fn time(values: Vec<i64>, nullable: bool) -> (ArrowField, ArrayRef) {
        let t = DataType::Timestamp(TimeUnit::Nanosecond, None);
        let a: ArrayRef = Arc::new(TimestampNanosecondArray::from(values));
        (ArrowField::new("time", t, nullable), a)
    }

    fn number(name: &str, labels: &str, values: Vec<Option<f64>>) -> (ArrowField, ArrayRef) {
        let nullable = values.iter().any(Option::is_none);
        let mut md = HashMap::new();
        if !labels.is_empty() {
            md.insert("labels".to_string(), labels.to_string());
        }
        let f = ArrowField::new(name, DataType::Float64, nullable).with_metadata(md);
        (f, Arc::new(Float64Array::from(values)))
    }

    fn ipc(meta: Option<&str>, columns: Vec<(ArrowField, ArrayRef)>) -> Vec<u8> {
        let mut md = HashMap::new();
        md.insert("name".to_string(), "A".to_string());
        md.insert("refId".to_string(), "A".to_string());
        if let Some(m) = meta {
            md.insert("meta".to_string(), m.to_string());
        }
        let (fields, arrays): (Vec<_>, Vec<_>) = columns.into_iter().unzip();
        let schema = Arc::new(Schema::new(fields).with_metadata(md));
        let batch = if arrays.is_empty() {
            RecordBatch::new_empty(schema.clone())
        } else {
            // Unchecked: some cases put nulls in a non-nullable field on purpose; the lengths
            // and types match.
            let rows = arrays[0].len();
            unsafe { RecordBatch::new_unchecked(schema.clone(), arrays, rows) }
        };
        let mut buf = Vec::new();
        let mut w = FileWriter::try_new(&mut buf, &schema).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        drop(w);
        buf
    }

    fn broken(frames: &[Vec<u8>]) -> Vec<&'static str> {
        let mut ids: Vec<&str> = check_frames(frames)
            .expect_err("the reader refuses it")
            .iter()
            .map(|v| v.rule.id)
            .collect();
        ids.dedup();
        ids
    }

    fn good_wide() -> Vec<u8> {
        ipc(
            Some(WIDE),
            vec![
                time(vec![0, 60], false),
                number("flows", r#"{"vpc":"a"}"#, vec![Some(1.0), None]),
                number("flows", r#"{"vpc":"b"}"#, vec![Some(2.0), Some(3.0)]),
            ],
        )
    }

    #[test]
    fn a_wide_frame_as_grafana_writes_it_is_read_as_its_series() {
        let labels = |v: &str| BTreeMap::from([("vpc".to_string(), v.to_string())]);
        assert_eq!(
            check_frames(&[good_wide()]),
            Ok(Shape::Series(vec![labels("a"), labels("b")]))
        );
        assert_eq!(check_frames(&[ipc(Some(WIDE), vec![])]), Ok(Shape::NoData));
        let table = ipc(None, vec![number("n", "", vec![None])]);
        assert_eq!(check_frames(&[table]), Ok(Shape::Untyped));
    }

    #[test]
    fn each_rule_refuses_the_frame_that_breaks_it() {
        let nullable_time = ipc(
            Some(WIDE),
            vec![time(vec![0], true), number("v", "", vec![Some(1.0)])],
        );
        assert_eq!(broken(&[nullable_time]), ["dataplane/time"]);

        let time_only = ipc(Some(WIDE), vec![time(vec![0, 60], false)]);
        assert_eq!(broken(&[time_only]), ["dataplane/value"]);

        let same_labels = ipc(
            Some(WIDE),
            vec![
                time(vec![0], false),
                number("pass_rate", "", vec![Some(1.0)]),
                number("failing", "", vec![Some(2.0)]),
            ],
        );
        assert_eq!(broken(&[same_labels]), ["alerting/labels"]);

        let twice = ipc(
            Some(WIDE),
            vec![
                time(vec![0], false),
                number("v", r#"{"a":"1"}"#, vec![Some(1.0)]),
                number("v", r#"{"a":"1"}"#, vec![Some(2.0)]),
            ],
        );
        assert_eq!(broken(&[twice]), ["dataplane/unique", "alerting/labels"]);

        let unsorted = ipc(
            Some(WIDE),
            vec![
                time(vec![60, 0], false),
                number("v", "", vec![Some(1.0), Some(2.0)]),
            ],
        );
        assert_eq!(broken(&[unsorted]), ["dataplane/sorted"]);

        let later_time = ipc(
            Some(WIDE),
            vec![number("v", "", vec![Some(1.0)]), time(vec![0], false)],
        );
        assert_eq!(broken(&[later_time]), ["dataplane/time-first"]);

        let text = (
            ArrowField::new("vpc", DataType::Utf8, false),
            Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
        );
        let with_text = ipc(
            Some(WIDE),
            vec![
                time(vec![0], false),
                text.clone(),
                number("v", "", vec![Some(1.0)]),
            ],
        );
        assert_eq!(broken(&[with_text]), ["dataplane/text"]);

        let old_version = ipc(
            Some(r#"{"type":"timeseries-wide","typeVersion":[0,0]}"#),
            vec![time(vec![0], false), number("v", "", vec![Some(1.0)])],
        );
        assert_eq!(broken(&[old_version]), ["dataplane/type-version"]);

        let empty = ipc(Some(WIDE), vec![]);
        assert_eq!(broken(&[empty, good_wide()]), ["dataplane/no-data"]);
        assert_eq!(broken(&[good_wide(), good_wide()]), ["dataplane/one-frame"]);
    }

    #[test]
    fn the_sdk_rules_refuse_what_the_go_sdk_misreads_or_rejects() {
        let millis = (
            ArrowField::new(
                "time",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                false,
            ),
            Arc::new(TimestampMillisecondArray::from(vec![0])) as ArrayRef,
        );
        let frame = ipc(Some(WIDE), vec![millis, number("v", "", vec![Some(1.0)])]);
        assert_eq!(broken(&[frame]), ["sdk/timestamp-ns"]);

        let hidden_null = (
            ArrowField::new("n", DataType::Int64, false),
            Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
        );
        assert_eq!(broken(&[ipc(None, vec![hidden_null])]), ["sdk/nullable"]);

        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
        let list_field = ArrowField::new("l", list.data_type().clone(), false);
        let frame = ipc(None, vec![(list_field, Arc::new(list) as ArrayRef)]);
        assert_eq!(broken(&[frame]), ["sdk/type"]);

        let frame = ipc(None, vec![number("n", r#"{"a":1}"#, vec![Some(1.0)])]);
        assert_eq!(broken(&[frame]), ["sdk/labels"]);

        let mut f = number("n", "", vec![Some(1.0)]);
        f.0 =
            f.0.with_metadata(HashMap::from([("config".into(), "[1]".into())]));
        assert_eq!(broken(&[ipc(None, vec![f])]), ["sdk/config"]);

        let frame = ipc(
            Some(r#"{"type":"timeseries-wide","typeVersion":"0.1"}"#),
            vec![],
        );
        assert_eq!(broken(&[frame]), ["sdk/meta"]);
        assert_eq!(broken(&[b"not arrow".to_vec()]), ["sdk/arrow"]);
    }

    #[test]
    fn numeric_and_multi_frames_follow_their_own_rules() {
        let multi = r#"{"type":"timeseries-multi","typeVersion":[0,1]}"#;
        let two_values = ipc(
            Some(multi),
            vec![
                time(vec![0], false),
                number("a", r#"{"x":"1"}"#, vec![Some(1.0)]),
                number("b", r#"{"x":"2"}"#, vec![Some(1.0)]),
            ],
        );
        assert_eq!(broken(&[two_values]), ["dataplane/multi-value"]);
        let numeric = r#"{"type":"numeric-wide","typeVersion":[0,1]}"#;
        let one_row = ipc(Some(numeric), vec![number("n", "", vec![Some(1.0)])]);
        assert_eq!(check_frames(&[one_row]), Ok(Shape::Numbers(1)));
        let two_rows = ipc(
            Some(numeric),
            vec![number("n", "", vec![Some(1.0), Some(2.0)])],
        );
        assert_eq!(broken(&[two_rows]), ["dataplane/numeric"]);
    }
}
