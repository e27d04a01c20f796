//! Annotation rows → one frame in the shape Grafana's annotation support reads: `time`,
//! `timeEnd` (NULL for a point), `text` and `tags` (comma-separated), then typed columns for
//! tables and for filtering.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde_json::json;

use super::encode::FrameError;
use super::{column, Field, Frame};
use crate::plan::{
    EventAnnotation, ACTIVE_COLUMNS, AUTH_COLUMNS, FIRST_SEEN, IAM_CHANGE_COLUMNS, LAST_SEEN,
    UPDATED,
};
use crate::query::Dimension;

/// Which annotation rows a result holds and how to word them.
#[derive(Debug, Clone)]
pub enum AnnotationOptions {
    /// Status changes: columns `account`, `region`, `control`, `resource`, `previous_status`,
    /// `status`, `updated` (epoch ms), `resource_arn`, `finding`.
    StatusChanges,
    /// Silences: the key columns, `last_record` and `next_record` (epoch ms, NULL when the
    /// group sent nothing more up to the range end).
    FlowSilence {
        /// Key columns, in order.
        keys: Vec<Dimension>,
        /// The range end, epoch ms: where a silence still going on ends.
        to_ms: i64,
    },
    /// Single events: one point annotation per row of an event table.
    Events(EventAnnotation),
}

/// A row's text column by name (empty when NULL).
type RowValue<'a> = &'a dyn Fn(&str) -> String;

/// How the rows of one event table read as annotations.
struct EventWording {
    /// The table's columns, as its kind lists them.
    columns: &'static [&'static str],
    /// The column whose time the annotation is at.
    at: &'static str,
    /// Further epoch-millisecond columns, kept as times.
    times: &'static [&'static str],
    /// The annotation's text from the row's text columns.
    text: fn(RowValue) -> String,
    /// Its tags.
    tags: fn(RowValue) -> Vec<String>,
}

const IAM_CHANGE: EventWording = EventWording {
    columns: &IAM_CHANGE_COLUMNS,
    at: "time",
    times: &[],
    text: iam_change_text,
    tags: |v| vec!["iam".into(), v("operation"), v("outcome"), v("account")],
};

const SIGN_IN: EventWording = EventWording {
    columns: &AUTH_COLUMNS,
    at: "time",
    times: &[],
    text: sign_in_text,
    tags: |v| {
        let mut tags = vec!["sign-in".to_string(), v("outcome")];
        if v("mfa") == "no" {
            tags.push("no-mfa".into());
        }
        if v("principal_type") == "Root" {
            tags.push("root".into());
        }
        tags.push(v("account"));
        tags
    },
};

const NEW_FINDING: EventWording = EventWording {
    columns: &ACTIVE_COLUMNS,
    at: FIRST_SEEN,
    times: &[UPDATED, LAST_SEEN],
    text: new_finding_text,
    tags: |v| vec!["finding".into(), v("severity"), v("product"), v("account")],
};

impl EventWording {
    /// The columns kept as text: every column but the times, in the table's order.
    fn texts(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .copied()
            .filter(|c| *c != self.at && !self.times.contains(c))
            .collect()
    }
}

fn wording(event: EventAnnotation) -> &'static EventWording {
    match event {
        EventAnnotation::IamChanges => &IAM_CHANGE,
        EventAnnotation::SignIns => &SIGN_IN,
        EventAnnotation::NewFindings => &NEW_FINDING,
    }
}

/// The annotation text of an IAM change: who did what to whom, and a failure's error.
pub fn iam_change_text(v: RowValue) -> String {
    let target = match v("target").as_str() {
        "" => String::new(),
        t => format!(" on {t}"),
    };
    let failed = match v("outcome").as_str() {
        "Failure" => format!(", failed: {}", v("error_code")),
        _ => String::new(),
    };
    format!(
        "IAM {} by {}{target} ({}){failed}",
        v("operation"),
        v("principal"),
        v("account")
    )
}

/// The annotation text of a console sign-in: who, from where, whether it worked and used MFA.
pub fn sign_in_text(v: RowValue) -> String {
    let mfa = if v("mfa") == "no" {
        "without MFA"
    } else {
        "with MFA"
    };
    let outcome = match v("outcome").as_str() {
        "Failure" => "failed console sign-in",
        _ => "console sign-in",
    };
    let who = match v("principal_type").as_str() {
        "Root" => format!("root ({})", v("principal")),
        _ => v("principal"),
    };
    format!(
        "{} by {who} from {} {mfa} ({} {})",
        capitalised(outcome),
        v("src_ip"),
        v("account"),
        v("region")
    )
}

/// The annotation text of a new finding: severity, product and title, then what it is about.
pub fn new_finding_text(v: RowValue) -> String {
    format!(
        "{} {} finding: {} — {} ({} {})",
        v("severity"),
        v("product"),
        v("title"),
        v("resource"),
        v("account"),
        v("region")
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn texts(batch: &RecordBatch, name: &str) -> Result<StringArray, FrameError> {
    let c = cast(column(batch, name)?, &DataType::Utf8)?;
    Ok(c.as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8")
        .clone())
}

fn ints(batch: &RecordBatch, name: &str) -> Result<Int64Array, FrameError> {
    let c = cast(column(batch, name)?, &DataType::Int64)?;
    Ok(c.as_any()
        .downcast_ref::<Int64Array>()
        .expect("cast to Int64")
        .clone())
}

fn text_at(c: &StringArray, i: usize) -> Option<String> {
    (!c.is_null(i)).then(|| c.value(i).to_string())
}

fn int_at(c: &Int64Array, i: usize) -> Option<i64> {
    (!c.is_null(i)).then(|| c.value(i))
}

/// A duration in words: `75 min`, `3 h 20 min`, `2 d 4 h`.
pub fn duration_text(minutes: i64) -> String {
    if minutes < 120 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            m => format!("{} h {m} min", minutes / 60),
        }
    } else {
        match (minutes / 60) % 24 {
            0 => format!("{} d", minutes / 1440),
            h => format!("{} d {h} h", minutes / 1440),
        }
    }
}

/// The annotation text of a status change.
pub fn status_change_text(
    control: &str,
    resource: &str,
    account: &str,
    region: &str,
    previous: &str,
    status: &str,
) -> String {
    format!("{control} {resource} ({account} {region}): {previous} → {status}")
}

/// The annotation text of a silence: the group's most specific keys, then its account and
/// region in parentheses; "still silent" when no record followed before the range end.
pub fn silence_text(keys: &[(Dimension, Option<String>)], minutes: i64, ongoing: bool) -> String {
    let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_string());
    let what: Vec<String> = keys
        .iter()
        .filter(|(d, _)| !matches!(d, Dimension::Account | Dimension::Region))
        .map(|(_, v)| value(v))
        .collect();
    let place: Vec<String> = keys
        .iter()
        .filter(|(d, _)| matches!(d, Dimension::Account | Dimension::Region))
        .map(|(_, v)| value(v))
        .collect();
    let from = match (what.is_empty(), place.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!(" from {}", place.join(" ")),
        (false, true) => format!(" from {}", what.join(" / ")),
        (false, false) => format!(" from {} ({})", what.join(" / "), place.join(" ")),
    };
    let tail = if ongoing {
        " (still silent at the end of the range)"
    } else {
        ""
    };
    format!("No flow logs{from} for {}{tail}", duration_text(minutes))
}

/// The annotation frame of `batches`.
pub fn annotation_frame(
    ref_id: &str,
    batches: &[RecordBatch],
    options: &AnnotationOptions,
) -> Result<Frame, FrameError> {
    let fields = match options {
        AnnotationOptions::StatusChanges => status_change_fields(batches)?,
        AnnotationOptions::FlowSilence { keys, to_ms } => silence_fields(batches, keys, *to_ms)?,
        AnnotationOptions::Events(event) => event_fields(batches, wording(*event))?,
    };
    let mut frame = Frame::new(ref_id, fields);
    frame.meta.preferred_visualisation = Some("table");
    Ok(frame)
}

fn string_field(name: &str, values: Vec<Option<String>>) -> Field {
    Field::new(name, Arc::new(StringArray::from(values)) as ArrayRef)
}

fn time_field(name: &str, values: Vec<Option<i64>>) -> Field {
    Field::new(
        name,
        Arc::new(TimestampMillisecondArray::from(values)) as ArrayRef,
    )
}

/// The four fields Grafana's annotation support reads, in its order.
fn grafana_fields(
    time: Vec<Option<i64>>,
    end: Vec<Option<i64>>,
    text: Vec<Option<String>>,
    tags: Vec<Option<String>>,
) -> Vec<Field> {
    vec![
        time_field("time", time),
        time_field("timeEnd", end),
        string_field("text", text),
        string_field("tags", tags),
    ]
}

fn status_change_fields(batches: &[RecordBatch]) -> Result<Vec<Field>, FrameError> {
    const TEXT_COLUMNS: [&str; 8] = [
        "account",
        "region",
        "control",
        "resource",
        "previous_status",
        "status",
        "resource_arn",
        "finding",
    ];
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); TEXT_COLUMNS.len()];
    let (mut time, mut text, mut tags) = (Vec::new(), Vec::new(), Vec::new());
    for batch in batches {
        let arrays: Vec<StringArray> = TEXT_COLUMNS
            .iter()
            .map(|c| texts(batch, c))
            .collect::<Result<_, _>>()?;
        let updated = ints(batch, crate::plan::UPDATED)?;
        for i in 0..batch.num_rows() {
            let row: Vec<Option<String>> = arrays.iter().map(|a| text_at(a, i)).collect();
            let v = |k: usize| row[k].clone().unwrap_or_default();
            time.push(int_at(&updated, i));
            text.push(Some(status_change_text(
                &v(2),
                &v(3),
                &v(0),
                &v(1),
                &v(4),
                &v(5),
            )));
            tags.push(Some([v(2), v(5), v(0), v(1)].join(",")));
            for (k, value) in row.into_iter().enumerate() {
                columns[k].push(value);
            }
        }
    }
    let n = time.len();
    let mut fields = grafana_fields(time, vec![None; n], text, tags);
    fields.extend(
        TEXT_COLUMNS
            .iter()
            .zip(columns)
            .map(|(name, values)| string_field(name, values)),
    );
    Ok(fields)
}

fn event_fields(batches: &[RecordBatch], wording: &EventWording) -> Result<Vec<Field>, FrameError> {
    let names = wording.texts();
    let mut texts_out: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    let mut times_out: Vec<Vec<Option<i64>>> = vec![Vec::new(); wording.times.len()];
    let (mut time, mut text, mut tags) = (Vec::new(), Vec::new(), Vec::new());
    for batch in batches {
        let at = ints(batch, wording.at)?;
        let text_arrays: Vec<StringArray> = names
            .iter()
            .map(|c| texts(batch, c))
            .collect::<Result<_, _>>()?;
        let time_arrays: Vec<Int64Array> = wording
            .times
            .iter()
            .map(|c| ints(batch, c))
            .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            let row: Vec<Option<String>> = text_arrays.iter().map(|a| text_at(a, i)).collect();
            let value = |name: &str| {
                names
                    .iter()
                    .position(|c| *c == name)
                    .and_then(|k| row[k].clone())
                    .unwrap_or_default()
            };
            time.push(int_at(&at, i));
            text.push(Some((wording.text)(&value)));
            let row_tags: Vec<String> = (wording.tags)(&value)
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect();
            tags.push(Some(row_tags.join(",")));
            for (k, v) in row.into_iter().enumerate() {
                texts_out[k].push(v);
            }
            for (k, a) in time_arrays.iter().enumerate() {
                times_out[k].push(int_at(a, i));
            }
        }
    }
    let n = time.len();
    let mut fields = grafana_fields(time, vec![None; n], text, tags);
    fields.extend(
        names
            .iter()
            .zip(texts_out)
            .map(|(name, values)| string_field(name, values)),
    );
    fields.extend(
        wording
            .times
            .iter()
            .zip(times_out)
            .map(|(name, values)| time_field(name, values)),
    );
    Ok(fields)
}

fn silence_fields(
    batches: &[RecordBatch],
    keys: &[Dimension],
    to_ms: i64,
) -> Result<Vec<Field>, FrameError> {
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); keys.len()];
    let (mut time, mut end, mut text, mut tags) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut minutes, mut ongoing) = (Vec::new(), Vec::new());
    for batch in batches {
        let arrays: Vec<StringArray> = keys
            .iter()
            .map(|d| texts(batch, d.name()))
            .collect::<Result<_, _>>()?;
        let last = ints(batch, crate::plan::GAP_START)?;
        let next = ints(batch, crate::plan::GAP_NEXT)?;
        for i in 0..batch.num_rows() {
            let Some(start) = int_at(&last, i) else {
                continue;
            };
            let following = int_at(&next, i);
            let stop = following.unwrap_or(to_ms);
            let gap_minutes = (stop - start) / 60_000;
            let row: Vec<(Dimension, Option<String>)> = keys
                .iter()
                .zip(&arrays)
                .map(|(d, a)| (*d, text_at(a, i)))
                .collect();
            time.push(Some(start));
            end.push(Some(stop));
            text.push(Some(silence_text(&row, gap_minutes, following.is_none())));
            let mut tag: Vec<String> = vec!["silent".to_string()];
            tag.extend(row.iter().filter_map(|(_, v)| v.clone()));
            if following.is_none() {
                tag.push("ongoing".to_string());
            }
            tags.push(Some(tag.join(",")));
            minutes.push(Some(gap_minutes));
            ongoing.push(Some(following.is_none()));
            for (k, (_, value)) in row.into_iter().enumerate() {
                columns[k].push(value);
            }
        }
    }
    let mut fields = grafana_fields(time, end, text, tags);
    fields.extend(
        keys.iter()
            .zip(columns)
            .map(|(d, values)| string_field(d.name(), values)),
    );
    let mut minutes = Field::new(
        "silent_minutes",
        Arc::new(Int64Array::from(minutes)) as ArrayRef,
    );
    minutes.config = Some(json!({"unit": "m"}));
    fields.push(minutes);
    fields.push(Field::new(
        "ongoing",
        Arc::new(BooleanArray::from(ongoing)) as ArrayRef,
    ));
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(75), "75 min");
        assert_eq!(duration_text(120), "2 h");
        assert_eq!(duration_text(200), "3 h 20 min");
        assert_eq!(duration_text(2 * 1440), "2 d");
        assert_eq!(duration_text(3 * 1440 + 5 * 60 + 7), "3 d 5 h");
    }

    #[test]
    fn silence_text_names_the_group() {
        let keys = [
            (Dimension::Account, Some("111122223333".to_string())),
            (Dimension::Region, Some("us-east-1".to_string())),
            (Dimension::Vpc, Some("vpc-0abc".to_string())),
        ];
        assert_eq!(
            silence_text(&keys, 75, false),
            "No flow logs from vpc-0abc (111122223333 us-east-1) for 75 min"
        );
        assert_eq!(
            silence_text(&keys[..2], 61, true),
            "No flow logs from 111122223333 us-east-1 for 61 min (still silent at the end of the range)"
        );
        assert_eq!(silence_text(&[], 90, false), "No flow logs for 90 min");
    }
}
