//! A flow search's rows as Grafana log lines, for Explore's logs view: one line per flow record,
//! newest first, written the way flow-log users read them, a REJECT at warning level.

use arrow::array::{Array, StringArray};
use arrow::datatypes::{DataType, TimeUnit};

use super::encode::FrameError;
use super::{array, Field, Frame};

/// The columns of a line, in the order it shows them (flow-log field names).
const LINE: [&str; 12] = [
    "action",
    "protocol-name",
    "srcaddr",
    "srcport",
    "dstaddr",
    "dstport",
    "bytes",
    "packets",
    "flow-direction",
    "interface-id",
    "vpc-id",
    "account-id",
];

/// The flow search `table` as a `log-lines` frame (timestamp, body, severity, id); the table's
/// meta goes with it.
pub fn flow_log_lines_frame(mut table: Frame) -> Result<Frame, FrameError> {
    let start = table.values_as("start", &DataType::Timestamp(TimeUnit::Millisecond, None))?;
    let texts: Vec<StringArray> = LINE
        .iter()
        .map(|name| text_column(&table, name))
        .collect::<Result<_, _>>()?;
    let region = text_column(&table, "region")?;
    let rows = table.rows();
    let cell = |c: &StringArray, row: usize| {
        if c.is_valid(row) && !c.value(row).is_empty() {
            c.value(row).to_string()
        } else {
            "-".to_string()
        }
    };
    let body: StringArray = (0..rows)
        .map(|row| Some(line(&texts, row, &cell, &cell(&region, row))))
        .collect();
    let severity: StringArray = (0..rows)
        .map(|row| Some(severity(&cell(&texts[0], row))))
        .collect();
    let id: StringArray = (0..rows).map(|row| Some(row.to_string())).collect();
    table.fields = vec![
        Field::new("timestamp", start),
        Field::new("body", array(body)),
        Field::new("severity", array(severity)),
        Field::new("id", array(id)),
    ];
    table.meta.frame_type = Some("log-lines");
    table.meta.preferred_visualisation = Some("logs");
    Ok(table)
}

/// `ACCEPT TCP 10.0.1.17:51234 → 52.1.2.3:443 1200 bytes 12 packets egress eni-… vpc-… 1111… us-east-1`
fn line(
    texts: &[StringArray],
    row: usize,
    cell: &dyn Fn(&StringArray, usize) -> String,
    region: &str,
) -> String {
    let c = |i: usize| cell(&texts[i], row);
    format!(
        "{} {} {}:{} → {}:{} {} bytes {} packets {} {} {} {} {region}",
        c(0),
        c(1),
        c(2),
        c(3),
        c(4),
        c(5),
        c(6),
        c(7),
        c(8),
        c(9),
        c(10),
        c(11)
    )
}

/// Denied traffic stands out in the logs view.
fn severity(action: &str) -> String {
    match action {
        "REJECT" => "warning",
        "ACCEPT" => "info",
        _ => "unknown",
    }
    .to_string()
}

fn text_column(table: &Frame, name: &str) -> Result<StringArray, FrameError> {
    let values = table.values_as(name, &DataType::Utf8)?;
    Ok(values
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8")
        .clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::TimestampMillisecondArray;

    #[test]
    fn each_record_is_a_line_and_a_reject_a_warning() {
        let text = |v: &[Option<&str>]| array(StringArray::from(v.to_vec()));
        let mut fields = vec![Field::new(
            "start",
            array(TimestampMillisecondArray::from(vec![2_000, 1_000])),
        )];
        let values: [(&str, [Option<&str>; 2]); 12] = [
            ("action", [Some("REJECT"), Some("ACCEPT")]),
            ("protocol-name", [Some("TCP"), Some("ICMP")]),
            ("srcaddr", [Some("45.155.205.17"), Some("10.0.0.5")]),
            ("srcport", [Some("40022"), None]),
            ("dstaddr", [Some("10.0.0.10"), Some("10.0.0.6")]),
            ("dstport", [Some("22"), None]),
            ("bytes", [Some("44"), Some("84")]),
            ("packets", [Some("1"), Some("1")]),
            ("flow-direction", [Some("ingress"), Some("egress")]),
            ("interface-id", [Some("eni-1"), Some("eni-2")]),
            ("vpc-id", [Some("vpc-1"), Some("vpc-1")]),
            ("account-id", [Some("111122223333"), Some("111122223333")]),
        ];
        for (name, v) in values {
            fields.push(Field::new(name, text(&v)));
        }
        fields.push(Field::new(
            "region",
            text(&[Some("us-east-1"), Some("us-east-1")]),
        ));
        let frame = flow_log_lines_frame(Frame::new("A", fields)).unwrap();
        assert_eq!(frame.meta.frame_type, Some("log-lines"));
        let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["timestamp", "body", "severity", "id"]);
        let body = frame.fields[1]
            .values
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(
            body.value(0),
            "REJECT TCP 45.155.205.17:40022 → 10.0.0.10:22 44 bytes 1 packets ingress eni-1 vpc-1 111122223333 us-east-1"
        );
        assert_eq!(
            body.value(1),
            "ACCEPT ICMP 10.0.0.5:- → 10.0.0.6:- 84 bytes 1 packets egress eni-2 vpc-1 111122223333 us-east-1"
        );
        let severity = frame.fields[2]
            .values
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!((severity.value(0), severity.value(1)), ("warning", "info"));
    }
}
