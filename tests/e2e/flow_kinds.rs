//! End-to-end: every flow query kind through the real plugin binary, on both source versions,
//! each table checked row by row against a brute-force computation over the generated records.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use crate::common::{ask, plugin, query, records, rows, settings, t};
use lakewatch::demo::{FlowAction, FlowDirection, FlowRecord};
use lakewatch::frame::DecodedFrame;
use lakewatch::net::{is_public, Cidr};
use serde_json::{json, Value};

const FROM: &str = "2024-06-13T00:00:00Z";
const TO: &str = "2024-06-14T23:59:59.999Z";

fn in_range(r: &FlowRecord, from: &str, to: &str) -> bool {
    (t(from).timestamp_millis()..=t(to).timestamp_millis()).contains(&r.start_ms)
}

/// Whether an address column holds an address inside `block` (NULL and `-` never are).
fn within(block: &Cidr, addr: Option<IpAddr>) -> bool {
    addr.is_some_and(|a| block.contains(a))
}

/// A group key column as SQL sees it: NULL is `None`.
pub(crate) type Key = Option<String>;

pub(crate) fn port_key(port: Option<i32>) -> Key {
    port.map(|p| p.to_string())
}

pub(crate) fn field<'a>(frame: &'a DecodedFrame, name: &str) -> &'a lakewatch::frame::DecodedField {
    frame
        .fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| {
            panic!(
                "field {name} in {:?}",
                frame.fields.iter().map(|f| &f.name).collect::<Vec<_>>()
            )
        })
}

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) bytes: i64,
    pub(crate) packets: i64,
    pub(crate) flows: i64,
}

impl Totals {
    pub(crate) fn add(&mut self, r: &FlowRecord) {
        self.bytes += r.bytes;
        self.packets += r.packets;
        self.flows += 1;
    }
}

/// Brute-force top N: groups by `key`, ranks by bytes (desc) then key (asc), keeps `n`.
fn brute_top(
    n: usize,
    keys: impl Fn(&FlowRecord) -> Vec<Vec<Key>>,
    keep: impl Fn(&FlowRecord) -> bool,
    rank: impl Fn(&Totals) -> i64,
) -> Vec<(Vec<Key>, Totals)> {
    let mut groups: HashMap<Vec<Key>, Totals> = HashMap::new();
    for r in records() {
        if in_range(r, FROM, TO) && keep(r) {
            for key in keys(r) {
                groups.entry(key).or_default().add(r);
            }
        }
    }
    let mut all: Vec<_> = groups.into_iter().collect();
    all.sort_by(|a, b| rank(&b.1).cmp(&rank(&a.1)).then(sql_order(&a.0, &b.0)));
    all.truncate(n);
    all
}

/// How SQL orders the key columns: numbers as numbers, text byte-wise, NULL last (the default
/// of ascending order in Trino and DataFusion); protocol names sort as their numbers do (ICMP 1 <
/// TCP 6 < UDP 17).
pub(crate) fn sql_order(a: &[Key], b: &[Key]) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Greater, Less};
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => Greater,
            (Some(_), None) => Less,
            (Some(x), Some(y)) => match (x.parse::<i64>(), y.parse::<i64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => x.cmp(y),
            },
        };
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

pub(crate) fn table_top(frame: &DecodedFrame, key_cols: &[&str]) -> Vec<(Vec<Key>, Totals)> {
    for m in ["bytes", "packets", "flows"] {
        assert_eq!(field(frame, m).type_name, "number", "{m} stays a number");
    }
    rows(frame)
        .into_iter()
        .map(|row| {
            let key = key_cols
                .iter()
                .map(|c| match &row[*c] {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect();
            let n = |c: &str| row[c].as_i64().unwrap();
            (
                key,
                Totals {
                    bytes: n("bytes"),
                    packets: n("packets"),
                    flows: n("flows"),
                },
            )
        })
        .collect()
}

pub(crate) fn protocol_name(p: i32) -> Key {
    Some(match p {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        other => other.to_string(),
    })
}

#[tokio::test]
async fn top_tables_match_brute_force() {
    let p = plugin().await;
    for version in ["1", "2"] {
        // Top talkers by source.
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_talkers", "by": "src_ip", "limit": 7}),
            FROM,
            TO,
        )
        .await;
        assert_eq!(frame.meta["preferredVisualisationType"], "table");
        let want = brute_top(7, |r| vec![vec![r.src_addr.clone()]], |_| true, |t| t.bytes);
        assert_eq!(
            table_top(&frame, &["src_ip"]),
            want,
            "v{version} src talkers"
        );

        // Top talkers on either side, inside 10.0.0.0/8, by packets.
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_talkers", "by": "either", "measure": "packets", "limit": 6,
                   "filters": {"ip": ["10.0.0.0/8"]}}),
            FROM,
            TO,
        )
        .await;
        let block = Cidr::parse("10.0.0.0/8").unwrap();
        let want = brute_top(
            6,
            |r| vec![vec![r.src_addr.clone()], vec![r.dst_addr.clone()]],
            |r| within(&block, r.src_ip()) || within(&block, r.dst_ip()),
            |t| t.packets,
        );
        assert_eq!(
            table_top(&frame, &["ip"]),
            want,
            "v{version} either talkers"
        );

        // Top pairs.
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_pairs", "limit": 5}),
            FROM,
            TO,
        )
        .await;
        let want = brute_top(
            5,
            |r| {
                vec![vec![
                    r.src_addr.clone(),
                    r.dst_addr.clone(),
                    port_key(r.dst_port),
                    protocol_name(r.protocol),
                ]]
            },
            |_| true,
            |t| t.bytes,
        );
        assert_eq!(
            table_top(&frame, &["src_ip", "dst_ip", "dst_port", "protocol"]),
            want,
            "v{version} pairs"
        );

        // Top ports by flows, and top VPCs by bytes within one account.
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_ports", "limit": 8}),
            FROM,
            TO,
        )
        .await;
        let want = brute_top(
            8,
            |r| vec![vec![port_key(r.dst_port), protocol_name(r.protocol)]],
            |_| true,
            |t| t.flows,
        );
        assert_eq!(
            table_top(&frame, &["dst_port", "protocol"]),
            want,
            "v{version} ports"
        );
        let account = records()[0].account_id.clone();
        let frame = ask(
            &p,
            version,
            json!({"kind": "top_interfaces", "group_by": ["vpc"], "filters": {"accounts": [account]}}),
            FROM,
            TO,
        )
        .await;
        let want = brute_top(
            10,
            |r| vec![vec![Some(r.vpc_id.clone())]],
            |r| r.account_id == account,
            |t| t.bytes,
        );
        assert_eq!(table_top(&frame, &["vpc"]), want, "v{version} vpcs");
        let frame = ask(&p, version, json!({"kind": "top_subnets"}), FROM, TO).await;
        let want = brute_top(
            10,
            |r| vec![vec![Some(r.vpc_id.clone()), Some(r.subnet_id.clone())]],
            |_| true,
            |t| t.bytes,
        );
        assert_eq!(
            table_top(&frame, &["vpc", "subnet"]),
            want,
            "v{version} subnets"
        );

        // Rejected: top sources of denied traffic.
        let frame = ask(
            &p,
            version,
            json!({"kind": "rejected", "view": "top_sources"}),
            FROM,
            TO,
        )
        .await;
        let want = brute_top(
            10,
            |r| vec![vec![r.src_addr.clone()]],
            |r| r.action == FlowAction::Reject,
            |t| t.flows,
        );
        assert!(!want.is_empty(), "the lake has rejected flows");
        assert_eq!(table_top(&frame, &["src_ip"]), want, "v{version} rejected");

        // Internet egress: egress to public addresses outside the user's own block.
        let own = "52.0.0.0/8";
        let own_block = Cidr::parse(own).unwrap();
        let frame = ask(
            &p,
            version,
            json!({"kind": "internet_egress", "own_cidrs": [own], "limit": 10}),
            FROM,
            TO,
        )
        .await;
        let want = brute_top(
            10,
            |r| vec![vec![Some(r.vpc_id.clone()), r.dst_addr.clone()]],
            |r| {
                r.direction == FlowDirection::Egress
                    && r.dst_ip()
                        .is_some_and(|a| is_public(a) && !own_block.contains(a))
            },
            |t| t.bytes,
        );
        assert!(!want.is_empty(), "the lake has internet egress");
        assert_eq!(
            table_top(&frame, &["vpc", "dst_ip"]),
            want,
            "v{version} egress"
        );

        // Exposed services: accepted flows from internet sources to sensitive ports.
        let frame = ask(
            &p,
            version,
            json!({"kind": "exposed_services", "own_cidrs": [own]}),
            FROM,
            TO,
        )
        .await;
        let sensitive = lakewatch::query::kinds::SENSITIVE_PORTS;
        let want = brute_top(
            50,
            |r| {
                vec![vec![
                    Some(r.vpc_id.clone()),
                    r.dst_addr.clone(),
                    port_key(r.dst_port),
                    protocol_name(r.protocol),
                ]]
            },
            |r| {
                r.action == FlowAction::Accept
                    && r.dst_port.is_some_and(|p| sensitive.contains(&(p as u16)))
                    && r.src_ip()
                        .is_some_and(|a| is_public(a) && !own_block.contains(a))
            },
            |t| t.flows,
        );
        assert!(
            !want.is_empty(),
            "the lake has services exposed to the internet"
        );
        assert_eq!(
            table_top(&frame, &["vpc", "dst_ip", "dst_port", "protocol"]),
            want,
            "v{version} exposed services"
        );
    }
}

/// The v5 flow-log fields: the AWS service of a destination (grouped and filtered), and what a
/// NAT gateway's interface logs for a packet it forwards — its own address as `dstaddr`, the
/// internet host the packet is for as `pkt-dstaddr` (which filters and dimensions read).
#[tokio::test]
async fn aws_services_and_forwarded_packets_match_brute_force() {
    let p = plugin().await;
    let by_service = |r: &FlowRecord| {
        vec![vec![
            Some(r.vpc_id.clone()),
            r.dst_aws_service.map(String::from),
        ]]
    };
    let egress = |r: &FlowRecord| r.direction == FlowDirection::Egress;
    let want = brute_top(8, by_service, egress, |t| t.bytes);
    assert!(
        want.iter().any(|(k, _)| k[1].as_deref() == Some("S3")),
        "S3 traffic among the top groups: {want:?}"
    );
    let s3_only = brute_top(
        8,
        by_service,
        |r| egress(r) && r.dst_aws_service == Some("S3"),
        |t| t.bytes,
    );
    let nat = records()
        .iter()
        .find(|r| in_range(r, FROM, TO) && r.dst_interface_addr.is_some())
        .expect("a NAT gateway record in the range")
        .clone();
    for version in ["1", "2"] {
        let cases = [
            (json!({"direction": "egress"}), &want),
            (
                json!({"direction": "egress", "dst_aws_service": "s3"}),
                &s3_only,
            ),
        ];
        for (filters, want) in cases {
            let frame = ask(
                &p,
                version,
                json!({"kind": "top_interfaces", "group_by": ["vpc", "dst_aws_service"],
                       "limit": 8, "filters": filters}),
                FROM,
                TO,
            )
            .await;
            let got = table_top(&frame, &["vpc", "dst_aws_service"]);
            assert_eq!(&got, want, "v{version} {filters}");
        }

        let frame = ask(
            &p,
            version,
            json!({"kind": "flow_search", "limit": 10000,
                   "filters": {"enis": nat.eni_id, "dst_ip": nat.dst_addr}}),
            FROM,
            TO,
        )
        .await;
        let found = rows(&frame)
            .into_iter()
            .find(|row| {
                row["start"].as_str().map(|s| t(s).timestamp_millis()) == Some(nat.start_ms)
                    && row["srcaddr"] == json!(nat.src_addr)
            })
            .unwrap_or_else(|| panic!("v{version}: the NAT record {nat:?} in the search"));
        assert_eq!(
            found["dstaddr"],
            json!(nat.dst_interface_addr),
            "v{version}"
        );
        assert_eq!(found["pkt-dstaddr"], json!(nat.dst_addr), "v{version}");
        assert_eq!(found["pkt-srcaddr"], json!(nat.src_addr), "v{version}");
        assert_eq!(
            found["pkt-dst-aws-service"],
            json!(nat.dst_aws_service),
            "v{version}"
        );
        assert_eq!(found["flow-direction"], json!("ingress"), "v{version}");
    }
}

/// The text of a node graph's address: a flow without one is the node `(no address)`.
fn node_name(address: &Key) -> String {
    match address.as_deref() {
        Some(a) if !a.is_empty() && a != "-" => a.to_string(),
        _ => lakewatch::frame::NO_ADDRESS.to_string(),
    }
}

#[tokio::test]
async fn top_pairs_as_a_node_graph_draws_the_top_conversations() {
    let p = plugin().await;
    for version in ["1", "2"] {
        let q = json!({"kind": "top_pairs", "limit": 12, "format": "node_graph"});
        let answer = p
            .query(&settings(version), &[query("A", q, FROM, TO, 60_000)], &[])
            .await
            .unwrap();
        let a = &answer["A"];
        assert_eq!(a.error, "", "v{version}");
        let names: Vec<&str> = a.frames.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["nodes", "edges"], "v{version}");
        for frame in &a.frames {
            assert_eq!(frame.meta["preferredVisualisationType"], "nodeGraph");
        }
        let want = brute_top(
            12,
            |r| {
                vec![vec![
                    r.src_addr.clone(),
                    r.dst_addr.clone(),
                    port_key(r.dst_port),
                    protocol_name(r.protocol),
                ]]
            },
            |_| true,
            |t| t.bytes,
        );
        // Every conversation is an edge, largest first, with its bytes and flows.
        let edges: Vec<(String, String, i64, i64)> = rows(&a.frames[1])
            .iter()
            .map(|e| {
                let text = |k: &str| e[k].as_str().unwrap().to_string();
                let number = |k: &str| e[k].as_f64().unwrap() as i64;
                (
                    text("source"),
                    text("target"),
                    number("mainstat"),
                    number("secondarystat"),
                )
            })
            .collect();
        let expected: Vec<(String, String, i64, i64)> = want
            .iter()
            .map(|(k, t)| (node_name(&k[0]), node_name(&k[1]), t.bytes, t.flows))
            .collect();
        assert_eq!(edges, expected, "v{version} edges");
        // Every address is a node with what it sent and received over those conversations.
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for (src, dst, bytes, _) in &expected {
            *totals.entry(src.clone()).or_default() += bytes;
            *totals.entry(dst.clone()).or_default() += bytes;
        }
        let nodes: BTreeMap<String, i64> = rows(&a.frames[0])
            .iter()
            .map(|n| {
                let id = n["id"].as_str().unwrap().to_string();
                (id, n["mainstat"].as_f64().unwrap() as i64)
            })
            .collect();
        assert_eq!(nodes, totals, "v{version} nodes");
        let unit = &a.frames[0]
            .fields
            .iter()
            .find(|f| f.name == "mainstat")
            .unwrap()
            .config;
        assert_eq!(unit.as_ref().unwrap()["unit"], "decbytes");
    }
}

#[tokio::test]
async fn rejected_over_time_is_a_wide_series_of_denied_flows() {
    let p = plugin().await;
    let hour = 3_600_000;
    for version in ["1", "2"] {
        let answer = p
            .query(
                &settings(version),
                &[query("R", json!({"kind": "rejected"}), FROM, TO, hour)],
                &[],
            )
            .await
            .unwrap();
        let frame = &answer["R"].frames[0];
        assert_eq!(answer["R"].error, "");
        assert_eq!(frame.meta["type"], "timeseries-wide");
        let total: i64 = frame.fields[1]
            .values
            .iter()
            .map(|v| v.as_i64().unwrap())
            .sum();
        let want = records()
            .iter()
            .filter(|r| in_range(r, FROM, TO) && r.action == FlowAction::Reject)
            .count() as i64;
        assert_eq!(total, want, "v{version}");
    }
}

/// Per (window, source): distinct ports, distinct hosts, flows, first and last start. Like SQL's
/// `COUNT(DISTINCT …)`, the sets leave NULL out.
type ScanWindow = (BTreeSet<i32>, BTreeSet<String>, i64, i64, i64);

#[tokio::test]
async fn port_scans_match_brute_force() {
    let p = plugin().await;
    let threshold = 3;
    // Brute force: distinct destination ports per source within 60-minute windows.
    let width = 3_600_000;
    let mut seen: BTreeMap<(i64, Key), ScanWindow> = BTreeMap::new();
    for r in records().iter().filter(|r| in_range(r, FROM, TO)) {
        let e = seen
            .entry((r.start_ms.div_euclid(width) * width, r.src_addr.clone()))
            .or_insert_with(|| (BTreeSet::new(), BTreeSet::new(), 0, i64::MAX, i64::MIN));
        e.0.extend(r.dst_port);
        e.1.extend(r.dst_addr.clone());
        e.2 += 1;
        e.3 = e.3.min(r.start_ms);
        e.4 = e.4.max(r.start_ms);
    }
    let mut want: Vec<_> = seen
        .into_iter()
        .filter(|(_, v)| v.0.len() > threshold)
        .map(|((w, src), v)| (v.0.len() as i64, w, src, v.1.len() as i64, v.2, v.3, v.4))
        .collect();
    want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    want.truncate(100);
    assert!(!want.is_empty(), "the lake has scans");
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "port_scan", "threshold": threshold, "window_minutes": 60}),
            FROM,
            TO,
        )
        .await;
        assert_eq!(field(&frame, "window_start").type_name, "time");
        assert_eq!(field(&frame, "first_seen").type_name, "time");
        let ms = |v: &Value| t(v.as_str().unwrap()).timestamp_millis();
        let got: Vec<_> = rows(&frame)
            .iter()
            .map(|r| {
                (
                    r["ports"].as_i64().unwrap(),
                    ms(&r["window_start"]),
                    r["src_ip"].as_str().map(str::to_string),
                    r["hosts"].as_i64().unwrap(),
                    r["flows"].as_i64().unwrap(),
                    ms(&r["first_seen"]),
                    ms(&r["last_seen"]),
                )
            })
            .collect();
        assert_eq!(got, want, "v{version}");
    }
}

#[tokio::test]
async fn flow_search_returns_every_field_newest_first_with_the_total() {
    let p = plugin().await;
    let r0 = records()
        .iter()
        .find(|r| in_range(r, FROM, TO) && r.action == FlowAction::Accept && r.protocol == 6)
        .unwrap()
        .clone();
    // The /16 around the record's own (VPC-side) address.
    let own = match r0.direction {
        FlowDirection::Egress => &r0.src_addr,
        FlowDirection::Ingress => &r0.dst_addr,
    };
    let octets: Vec<&str> = own.as_deref().unwrap().split('.').collect();
    let block = format!("{}.{}.0.0/16", octets[0], octets[1]);
    let cidr = Cidr::parse(&block).unwrap();
    let keep = |r: &FlowRecord| {
        in_range(r, FROM, TO)
            && (within(&cidr, r.src_ip()) || within(&cidr, r.dst_ip()))
            && r.protocol == 6
            && r.account_id == r0.account_id
    };
    let mut want: Vec<&FlowRecord> = records().iter().filter(|r| keep(r)).collect();
    want.sort_by(|a, b| {
        b.start_ms
            .cmp(&a.start_ms)
            .then(a.interface_src_addr().cmp(&b.interface_src_addr()))
            .then(a.src_port.cmp(&b.src_port))
            .then(a.interface_dst_addr().cmp(&b.interface_dst_addr()))
            .then(a.dst_port.cmp(&b.dst_port))
            .then(b.bytes.cmp(&a.bytes))
    });
    let total = want.len();
    assert!(total > 5, "enough matches: {total}");
    let limit = 5;
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "flow_search", "limit": limit,
                   "filters": {"ip": block, "protocols": "tcp", "accounts": [r0.account_id]}}),
            FROM,
            TO,
        )
        .await;
        let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "start",
                "end",
                "srcaddr",
                "srcport",
                "dstaddr",
                "dstport",
                "pkt-srcaddr",
                "pkt-dstaddr",
                "protocol",
                "protocol-name",
                "packets",
                "bytes",
                "action",
                "flow-direction",
                "log-status",
                "account-id",
                "region",
                "az-id",
                "vpc-id",
                "subnet-id",
                "interface-id",
                "instance-id",
                "tcp-flags",
                "traffic-path",
                "pkt-src-aws-service",
                "pkt-dst-aws-service"
            ]
        );
        assert_eq!(field(&frame, "start").type_name, "time");
        assert_eq!(field(&frame, "end").type_name, "time");
        assert_eq!(field(&frame, "bytes").type_name, "number");
        assert_eq!(frame.meta["custom"]["totalMatches"], json!(total));
        assert_eq!(
            frame.meta["notices"][0]["text"],
            format!("Showing the {limit} newest of {total} matching flows; narrow the filters or raise the limit to see more.")
        );
        let got = rows(&frame);
        assert_eq!(got.len(), limit);
        for (row, r) in got.iter().zip(&want) {
            let ms = |v: &Value| t(v.as_str().unwrap()).timestamp_millis();
            assert_eq!(ms(&row["start"]), r.start_ms);
            assert_eq!(ms(&row["end"]), r.end_ms);
            assert_eq!(row["srcaddr"], json!(r.interface_src_addr()));
            assert_eq!(row["dstaddr"], json!(r.interface_dst_addr()));
            assert_eq!(row["pkt-srcaddr"], json!(r.src_addr));
            assert_eq!(row["pkt-dstaddr"], json!(r.dst_addr));
            assert_eq!(row["srcport"], json!(r.src_port));
            assert_eq!(row["dstport"], json!(r.dst_port));
            assert_eq!(row["protocol"], json!(6));
            assert_eq!(row["protocol-name"], json!("TCP"));
            assert_eq!(row["bytes"], json!(r.bytes));
            assert_eq!(row["packets"], json!(r.packets));
            assert_eq!(
                row["action"],
                json!(match r.action {
                    FlowAction::Accept => "ACCEPT",
                    FlowAction::Reject => "REJECT",
                })
            );
            assert_eq!(
                row["flow-direction"],
                json!(match r.direction {
                    FlowDirection::Ingress => "ingress",
                    FlowDirection::Egress => "egress",
                })
            );
            assert_eq!(row["log-status"], json!("OK"));
            assert_eq!(row["account-id"], json!(r.account_id));
            assert_eq!(row["region"], json!(r.region));
            assert_eq!(row["az-id"], json!(r.zone));
            assert_eq!(row["vpc-id"], json!(r.vpc_id));
            assert_eq!(row["subnet-id"], json!(r.subnet_id));
            assert_eq!(row["interface-id"], json!(r.eni_id));
            assert_eq!(row["instance-id"], json!(r.instance_id));
            assert_eq!(row["tcp-flags"], json!(r.tcp_flags));
            assert_eq!(row["traffic-path"], json!(r.boundary_id));
            assert_eq!(row["pkt-src-aws-service"], json!(r.src_aws_service));
            assert_eq!(row["pkt-dst-aws-service"], json!(r.dst_aws_service));
        }

        // The same search as log lines for Explore: one line per record, newest first.
        let frame = ask(
            &p,
            version,
            json!({"kind": "flow_search", "limit": limit, "format": "logs",
                   "filters": {"ip": block, "protocols": "tcp", "accounts": [r0.account_id]}}),
            FROM,
            TO,
        )
        .await;
        assert_eq!(frame.meta["type"], "log-lines");
        assert_eq!(frame.meta["preferredVisualisationType"], "logs");
        let names: Vec<&str> = frame.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["timestamp", "body", "severity", "id"]);
        let lines = rows(&frame);
        assert_eq!(lines.len(), limit);
        for (line, r) in lines.iter().zip(&want) {
            let text = |v: Option<&str>| v.unwrap_or("-").to_string();
            let port = |p: Option<i32>| p.map_or_else(|| "-".into(), |p| p.to_string());
            let (action, severity, direction) = match (r.action, r.direction) {
                (FlowAction::Accept, d) => ("ACCEPT", "info", d),
                (FlowAction::Reject, d) => ("REJECT", "warning", d),
            };
            let direction = match direction {
                FlowDirection::Ingress => "ingress",
                FlowDirection::Egress => "egress",
            };
            let body = format!(
                "{action} TCP {}:{} → {}:{} {} bytes {} packets {direction} {} {} {} {}",
                text(r.interface_src_addr()),
                port(r.src_port),
                text(r.interface_dst_addr()),
                port(r.dst_port),
                r.bytes,
                r.packets,
                r.eni_id,
                r.vpc_id,
                r.account_id,
                r.region
            );
            assert_eq!(
                t(line["timestamp"].as_str().unwrap()).timestamp_millis(),
                r.start_ms
            );
            assert_eq!(line["body"], json!(body), "v{version}");
            assert_eq!(line["severity"], json!(severity));
        }
    }
}

#[tokio::test]
async fn bad_addresses_and_fields_are_per_query_errors() {
    let p = plugin().await;
    let cases = [
        (
            json!({"kind": "flow_search", "filters": {"ip": ["10.0.0.0/33"]}}),
            "query field `filters.ip[0]` has the value \"10.0.0.0/33\": the prefix length must be a whole number from 0 to 32 for this address family",
        ),
        (
            json!({"kind": "top_talkers", "filters": {"src_ip": "10.0.0.1' OR 1=1 --"}}),
            "query field `filters.src_ip[0]` has the value \"10.0.0.1' OR 1=1 --\": not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32",
        ),
        (
            json!({"kind": "top_talkers", "by": "sideways"}),
            "query field `by` has the value \"sideways\": expected src_ip, dst_ip or either",
        ),
        (
            json!({"kind": "port_scan", "threshold": 0}),
            "query field `threshold` has the value 0: expected a whole number from 1 to 65535",
        ),
        (
            json!({"kind": "internet_egress", "own_cidrs": ["fd00::/129"]}),
            "query field `own_cidrs[0]` has the value \"fd00::/129\": the prefix length must be a whole number from 0 to 128 for this address family",
        ),
        (
            json!({"kind": "rejected", "view": "pie"}),
            "query field `view` has the value \"pie\": expected over_time or top_sources",
        ),
    ];
    let mut queries: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(i, (q, _))| query(&format!("E{i}"), q.clone(), FROM, TO, 60_000))
        .collect();
    queries.push(query("OK", json!({"kind": "top_ports"}), FROM, TO, 60_000));
    let answer = p.query(&settings("2"), &queries, &[]).await.unwrap();
    for (i, (_, message)) in cases.iter().enumerate() {
        let a = &answer[&format!("E{i}")];
        assert_eq!(a.error, *message);
        assert_eq!(a.status, 400);
    }
    assert_eq!(answer["OK"].error, "");
    assert!(!answer["OK"].frames[0].fields[0].values.is_empty());
}

/// Brute force: the last record start per group within the look-back window ending at `to`.
fn last_seen(
    to: &str,
    days: i64,
    key: impl Fn(&FlowRecord) -> Vec<String>,
) -> Vec<(Vec<String>, i64, i64)> {
    let end = t(to).timestamp_millis();
    // The look-back starts at the UTC midnight `days` before the end.
    let begin = (end - days * 86_400_000).div_euclid(86_400_000) * 86_400_000;
    let mut groups: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
    for r in records() {
        if (begin..=end).contains(&r.start_ms) {
            let e = groups.entry(key(r)).or_insert((i64::MIN, 0));
            e.0 = e.0.max(r.start_ms);
            e.1 += 1;
        }
    }
    let mut out: Vec<_> = groups.into_iter().map(|(k, (l, n))| (k, l, n)).collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    out
}

/// Minutes from the start of the look-back (the UTC midnight `days` before `to`) to `to`.
fn lookback_minutes(to: &str, days: i64) -> f64 {
    let end = t(to).timestamp_millis();
    let begin = (end - days * 86_400_000).div_euclid(86_400_000) * 86_400_000;
    ((end - begin) / 60_000) as f64
}

fn minutes(to: &str, last: i64) -> f64 {
    ((t(to).timestamp_millis() - last) as f64 / 60_000.0 * 10.0).round() / 10.0
}

#[tokio::test]
async fn coverage_finds_the_silent_vpc_as_a_table_and_as_alertable_series() {
    let p = plugin().await;
    let cfg = common::config();
    let (silent_account, silent_region, silent_vpc, stop) = lakewatch::demo::silent_vpc(&cfg);
    let (new_account, new_region, new_vpc, _) = lakewatch::demo::unlogged_vpc(&cfg);
    let unlogged = vec![new_account, new_region, new_vpc];
    let to = "2024-06-15T12:00:00Z";
    let from = "2024-06-15T11:00:00Z";
    let vpc_key = |r: &FlowRecord| vec![r.account_id.clone(), r.region.clone(), r.vpc_id.clone()];
    let all = last_seen(to, 7, vpc_key);
    let silent: Vec<_> = all
        .iter()
        .filter(|(_, last, _)| *last < t(to).timestamp_millis() - 60 * 60_000)
        .cloned()
        .collect();
    assert!(
        silent.iter().any(|(k, last, _)| k
            == &vec![
                silent_account.clone(),
                silent_region.clone(),
                silent_vpc.clone()
            ]
            && *last < stop.timestamp_millis()),
        "the silent VPC is silent: {silent:?}"
    );
    for version in ["1", "2"] {
        // Every VPC, longest-silent first.
        let frame = ask(&p, version, json!({"kind": "coverage"}), from, to).await;
        let got: Vec<_> = rows(&frame)
            .iter()
            .map(|r| {
                (
                    vec![
                        r["account"].as_str().unwrap().to_string(),
                        r["region"].as_str().unwrap().to_string(),
                        r["vpc"].as_str().unwrap().to_string(),
                    ],
                    r["last_seen"].as_str().map(|s| t(s).timestamp_millis()),
                    r["flows"].as_i64().unwrap(),
                    r["minutes_since"].as_f64().unwrap(),
                )
            })
            .collect();
        // First the VPC that EC2.6 findings know of but that never sent a flow record: silent
        // for at least the 7-day look-back.
        let want: Vec<_> = std::iter::once((unlogged.clone(), None, 0, lookback_minutes(to, 7)))
            .chain(
                all.iter()
                    .map(|(k, l, n)| (k.clone(), Some(*l), *n, minutes(to, *l))),
            )
            .collect();
        assert_eq!(got, want, "v{version}");
        assert!(frame.meta["notices"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Looked back 7 days (from 2024-06-08 00:00 UTC, "));
        // With the cache on, the look-back's closed days run as day slices: the same rows.
        let mut cached = common::settings(version);
        cached["cacheTtlSeconds"] = json!(300);
        let answer = p
            .query(
                &cached,
                &[common::query(
                    "A",
                    json!({"kind": "coverage"}),
                    from,
                    to,
                    60_000,
                )],
                &[],
            )
            .await
            .unwrap();
        let sliced = &answer["A"].frames[0];
        assert_eq!(
            sliced.meta["custom"]["daySlices"],
            json!({"slices": 8, "reused": 0, "closed": 8}),
            "v{version}"
        );
        assert_eq!(rows(sliced), rows(&frame), "v{version} in day slices");

        // The alert rule's query: silent for more than an hour, one labelled number per VPC.
        let frame = ask(
            &p,
            version,
            json!({"kind": "coverage", "silent_for_minutes": 60, "format": "series"}),
            from,
            to,
        )
        .await;
        assert_eq!(frame.meta["type"], "timeseries-wide");
        assert_eq!(frame.fields[0].type_name, "time");
        assert_eq!(
            frame.fields[0].values,
            vec![json!("2024-06-15T12:00:00.000Z")]
        );
        let got: Vec<_> = frame.fields[1..]
            .iter()
            .map(|f| {
                assert_eq!(f.type_name, "number");
                (
                    vec![
                        f.labels["account"].clone(),
                        f.labels["region"].clone(),
                        f.labels["vpc"].clone(),
                    ],
                    f.values[0].as_f64().unwrap(),
                )
            })
            .collect();
        let want: Vec<_> = std::iter::once((unlogged.clone(), lookback_minutes(to, 7)))
            .chain(silent.iter().map(|(k, l, _)| (k.clone(), minutes(to, *l))))
            .collect();
        assert_eq!(got, want, "v{version}");
    }
}

#[tokio::test]
async fn freshness_per_account_and_region_matches_brute_force() {
    let p = plugin().await;
    let to = "2024-06-12T08:30:00Z";
    let want = last_seen(to, 2, |r| vec![r.account_id.clone(), r.region.clone()]);
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "freshness", "lookback_days": 2}),
            "2024-06-12T08:00:00Z",
            to,
        )
        .await;
        let got: Vec<_> = rows(&frame)
            .iter()
            .map(|r| {
                (
                    vec![
                        r["account"].as_str().unwrap().to_string(),
                        r["region"].as_str().unwrap().to_string(),
                    ],
                    t(r["last_seen"].as_str().unwrap()).timestamp_millis(),
                    r["flows"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "v{version}");
        let custom = &frame.meta["custom"];
        assert_eq!(
            custom["partitionsRead"],
            json!(2 * 2 * 3),
            "2 accounts × 2 regions × 3 days"
        );
    }
}

#[tokio::test]
async fn either_side_ports_and_unknown_fields_are_noticed() {
    let p = plugin().await;
    let want: i64 = records()
        .iter()
        .filter(|r| {
            in_range(r, FROM, TO)
                && (r.src_port == Some(5432) || r.dst_port == Some(5432))
                && r.protocol == 6
        })
        .map(|r| r.bytes)
        .sum();
    assert!(want > 0);
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "flow_volume", "mesure": "packets",
                   "filters": {"ports": [5432], "protocol": "tcp", "acounts": ["111122223333"]}}),
            FROM,
            TO,
        )
        .await;
        let total: i64 = frame.fields[1]
            .values
            .iter()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(
            total, want,
            "v{version}: bytes (the misspelt measure is ignored)"
        );
        assert_eq!(
            frame.meta["notices"][0]["text"],
            "Ignored query fields Lakewatch does not know: mesure, filters.acounts. Check their spelling (docs/queries.md lists every field)."
        );
    }
}

#[tokio::test]
async fn excluding_an_address_keeps_the_flows_that_have_none() {
    let p = plugin().await;
    let hour = 3_600_000;
    let excluded = records()
        .iter()
        .find(|r| in_range(r, FROM, TO) && r.dst_addr.is_none())
        .and_then(|r| r.src_addr.clone())
        .expect("the messy lake has flows without a destination");
    let want = records()
        .iter()
        .filter(|r| {
            in_range(r, FROM, TO)
                && r.src_addr.as_ref() != Some(&excluded)
                && r.dst_addr.as_ref() != Some(&excluded)
        })
        .count() as i64;
    assert!(records().iter().any(|r| in_range(r, FROM, TO)
        && r.dst_addr.is_none()
        && r.src_addr.as_ref() != Some(&excluded)));
    for version in ["1", "2"] {
        let q = json!({"kind": "flow_volume", "measure": "flows",
                       "filters": {"exclude_ips": [excluded.clone(), "10.200.0.0/16"]}});
        let answer = p
            .query(&settings(version), &[query("X", q, FROM, TO, hour)], &[])
            .await
            .unwrap();
        assert_eq!(answer["X"].error, "");
        let total: i64 = answer["X"].frames[0].fields[1]
            .values
            .iter()
            .map(|v| v.as_i64().unwrap_or(0))
            .sum();
        assert_eq!(total, want, "v{version}");
    }
}

/// The flow-search dashboard's boxes as Grafana sends them: a typed, comma-separated list of
/// blocks of both families, a typed port, a protocol list, "All" for the action and empty boxes.
#[tokio::test]
async fn flow_search_follows_what_a_viewer_types() {
    let p = plugin().await;
    let blocks = [
        Cidr::parse("10.0.0.0/8").unwrap(),
        Cidr::parse("fd00::/8").unwrap(),
    ];
    let keep = |r: &FlowRecord| {
        in_range(r, FROM, TO)
            && blocks
                .iter()
                .any(|b| within(b, r.src_ip()) || within(b, r.dst_ip()))
            && (r.src_port == Some(443) || r.dst_port == Some(443))
            && r.protocol == 6
    };
    let total = records().iter().filter(|r| keep(r)).count();
    assert!(
        records().iter().any(|r| keep(r) && r.is_ipv6()),
        "IPv6 flows match too"
    );
    for version in ["1", "2"] {
        let frame = ask(
            &p,
            version,
            json!({"kind": "flow_search", "limit": 5,
                   "filters": {"ip": "10.0.0.0/8, fd00::/8", "src_ip": "", "dst_ip": "", "ports": "443",
                               "protocols": ["tcp"], "action": "$__all", "accounts": ["$__all"],
                               "regions": ["$__all"], "vpcs": ["$__all"]}}),
            FROM,
            TO,
        )
        .await;
        assert_eq!(
            frame.meta["custom"]["totalMatches"],
            json!(total),
            "v{version}"
        );
        assert_eq!(rows(&frame).len(), 5);
    }
}

#[tokio::test]
async fn account_names_label_series_and_name_table_rows_beside_the_ids() {
    let p = plugin().await;
    let (named, unnamed) = ("111122223333", "444455556666");
    let mut s = settings("2");
    s["accountNames"] = json!({named: {"name": "prod-payments", "ou": "Workloads/Prod"}});
    let answer = p
        .query(
            &s,
            &[
                query(
                    "S",
                    json!({"kind": "flow_volume", "group_by": ["account"]}),
                    FROM,
                    TO,
                    3_600_000,
                ),
                query(
                    "T",
                    json!({"kind": "top_interfaces", "group_by": ["account", "vpc"]}),
                    FROM,
                    TO,
                    60_000,
                ),
            ],
            &[],
        )
        .await
        .unwrap();
    let series = &answer["S"].frames[0];
    for f in &series.fields[1..] {
        let named_here = f.labels["account"] == named;
        assert_eq!(
            f.labels.contains_key("account_name"),
            named_here,
            "{:?}",
            f.labels
        );
        if named_here {
            assert_eq!(f.labels["account_name"], "prod-payments");
            assert_eq!(f.labels["account_ou"], "Workloads/Prod");
        }
    }
    let table = rows(&answer["T"].frames[0]);
    assert!(table
        .iter()
        .any(|r| r["account"] == unnamed && r["account_name"].is_null()));
    assert!(table
        .iter()
        .filter(|r| r["account"] == named)
        .all(|r| r["account_name"] == "prod-payments" && r["account_ou"] == "Workloads/Prod"));
    let names: Vec<&str> = answer["T"].frames[0]
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(&names[..3], ["account", "account_name", "account_ou"]);
    let bad = p
        .check_health(&json!({"engine": "local", "accountNames": {"1234": "x"}}))
        .await
        .unwrap();
    assert_eq!(
        bad.1,
        "datasource setting `accountNames` has the value \"1234\": an AWS account id is 12 digits, e.g. 111122223333"
    );
}
