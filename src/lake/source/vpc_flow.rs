//! Amazon VPC flow logs (`VPC_FLOW`, tables `…_vpc_flow_1_0` / `_2_0`, OCSF Network Activity
//! 4001): where each flow-log field lives in the OCSF columns of each version.

use super::{
    ColumnExpr, ColumnPath, DemoGenerator, DimensionSpec, MeasureAggregate, MeasureSpec,
    PartitionColumn, RecordColumns, Source, SourceSpec, SourceVersion, Versioned, BOTH_VERSIONS,
    LAKE_PARTITIONS,
};

/// The VPC flow source.
pub static VPC_FLOW: SourceSpec = SourceSpec {
    source: Source::VpcFlow,
    api_name: "VPC_FLOW",
    table_part: "vpc_flow",
    partitions: LAKE_PARTITIONS,
    record: Versioned {
        v1: V1.record(),
        v2: V2.record(),
    },
    dimensions: &DIMENSIONS,
    measures: &MEASURES,
    demo: DemoGenerator::Flows,
    optional: false,
    versions: BOTH_VERSIONS,
};

/// Where the flow-log concepts live in the `vpc_flow` columns of a source version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowColumns {
    /// Event time as bigint epoch milliseconds (flow start).
    pub time_ms: ColumnPath,
    /// Event time as a timestamp column (v2 only; the Iceberg partition source).
    pub time_dt: Option<ColumnPath>,
    /// Account id inside the record.
    pub account_uid: ColumnPath,
    /// Region inside the record.
    pub region: ColumnPath,
    /// Flow end: bigint epoch ms in v1, a timestamp in v2.
    pub end_time: ColumnPath,
    /// Accept/reject as an id: 1 allowed, 2 denied/blocked.
    pub action_id: ColumnPath,
    /// Source address: the packet's (`pkt-srcaddr`), which is the flow log's `srcaddr` unless
    /// the interface forwards the packet (NAT gateway, endpoint), whose own address Security Lake
    /// then keeps in `intermediate_ips`. Who really talked, so filters and dimensions read it.
    pub src_ip: ColumnPath,
    /// Destination address: the packet's (`pkt-dstaddr`), as `src_ip`.
    pub dst_ip: ColumnPath,
    /// Source port (`srcport`).
    pub src_port: ColumnPath,
    /// Destination port (`dstport`).
    pub dst_port: ColumnPath,
    /// IANA protocol number (6 TCP, 17 UDP, 1 ICMP).
    pub protocol: ColumnPath,
    /// Flow direction as an id: 1 ingress, 2 egress.
    pub direction_id: ColumnPath,
    /// Traffic path as an id (`traffic-path`).
    pub boundary_id: ColumnPath,
    /// Bytes of the flow.
    pub bytes: ColumnPath,
    /// Packets of the flow.
    pub packets: ColumnPath,
}

impl FlowColumns {
    /// The column map of a version.
    pub fn of(version: SourceVersion) -> Self {
        match version {
            SourceVersion::V1 => V1,
            SourceVersion::V2 => V2,
        }
    }

    /// The record columns every source has.
    const fn record(&self) -> RecordColumns {
        RecordColumns {
            time_ms: self.time_ms,
            time_dt: self.time_dt,
            account_uid: self.account_uid,
            region: self.region,
        }
    }
}

/// v1 (OCSF 1.0.0-rc.2): epoch-ms times only, `cloud.account_uid`, `disposition_id`.
const V1: FlowColumns = FlowColumns {
    time_ms: &["time"],
    time_dt: None,
    account_uid: &["cloud", "account_uid"],
    region: &["cloud", "region"],
    end_time: &["end_time"],
    action_id: &["disposition_id"],
    src_ip: &["src_endpoint", "ip"],
    dst_ip: &["dst_endpoint", "ip"],
    src_port: &["src_endpoint", "port"],
    dst_port: &["dst_endpoint", "port"],
    protocol: &["connection_info", "protocol_num"],
    direction_id: &["connection_info", "direction_id"],
    boundary_id: &["connection_info", "boundary_id"],
    bytes: &["traffic", "bytes"],
    packets: &["traffic", "packets"],
};

/// v2 (OCSF 1.1.0): what differs from v1 — timestamp columns beside the epoch-ms ones,
/// `cloud.account.uid`, `action_id`.
const V2: FlowColumns = FlowColumns {
    time_dt: Some(&["time_dt"]),
    account_uid: &["cloud", "account", "uid"],
    end_time: &["end_time_dt"],
    action_id: &["action_id"],
    ..V1
};

/// The VPC, subnet, interface and instance of a flow are on the side its ENI is on: the source
/// endpoint for egress, the destination for ingress.
const VPC: ColumnExpr = ColumnExpr::Coalesce(&[
    ColumnExpr::Column(&["src_endpoint", "vpc_uid"]),
    ColumnExpr::Column(&["dst_endpoint", "vpc_uid"]),
]);
const SUBNET: ColumnExpr = ColumnExpr::Coalesce(&[
    ColumnExpr::Column(&["src_endpoint", "subnet_uid"]),
    ColumnExpr::Column(&["dst_endpoint", "subnet_uid"]),
]);
const ENI: ColumnExpr = ColumnExpr::Coalesce(&[
    ColumnExpr::Column(&["src_endpoint", "interface_uid"]),
    ColumnExpr::Column(&["dst_endpoint", "interface_uid"]),
]);
const INSTANCE: ColumnExpr = ColumnExpr::Coalesce(&[
    ColumnExpr::Column(&["src_endpoint", "instance_uid"]),
    ColumnExpr::Column(&["dst_endpoint", "instance_uid"]),
]);

/// `ACCEPT` / `REJECT`, from a version's action id.
const fn action(column: ColumnPath) -> ColumnExpr {
    ColumnExpr::Labels {
        column,
        cases: &[(1, "ACCEPT"), (2, "REJECT")],
        default: "UNKNOWN",
    }
}

/// `ingress` / `egress`, from a version's direction id.
const fn direction(column: ColumnPath) -> ColumnExpr {
    ColumnExpr::Labels {
        column,
        cases: &[(1, "ingress"), (2, "egress")],
        default: "unknown",
    }
}

/// A dimension that lives in the same place in both versions.
const fn dimension(name: &'static str, about: &'static str, expr: ColumnExpr) -> DimensionSpec {
    per_version(name, about, expr, expr)
}

/// A dimension in each version's place.
const fn per_version(
    name: &'static str,
    about: &'static str,
    v1: ColumnExpr,
    v2: ColumnExpr,
) -> DimensionSpec {
    DimensionSpec {
        name,
        aliases: &[],
        about,
        expr: Versioned { v1, v2 },
    }
}

/// A dimension that is one column of each version's [`FlowColumns`].
macro_rules! column_dimension {
    ($name:literal, $about:literal, $field:ident) => {
        per_version(
            $name,
            $about,
            ColumnExpr::Column(V1.$field),
            ColumnExpr::Column(V2.$field),
        )
    };
}

/// A measure that sums one column of each version's [`FlowColumns`].
macro_rules! sum_measure {
    ($name:literal, $about:literal, $field:ident, $unit:literal) => {
        MeasureSpec {
            name: $name,
            about: $about,
            aggregate: Versioned {
                v1: MeasureAggregate::Sum(V1.$field),
                v2: MeasureAggregate::Sum(V2.$field),
            },
            unit: $unit,
        }
    };
}

/// The address the flow log's `srcaddr` names: the interface's own, which Security Lake keeps
/// in `intermediate_ips` when the packet's address (`pkt-srcaddr`, in `ip`) differs from it — on
/// a NAT gateway's or an endpoint's interface — and in `ip` otherwise.
const SRC_INTERFACE_ADDR: ColumnExpr = ColumnExpr::Coalesce(&[
    ColumnExpr::FirstItem(&["src_endpoint", "intermediate_ips"]),
    ColumnExpr::Column(&["src_endpoint", "ip"]),
]);
/// `dstaddr`, as [`SRC_INTERFACE_ADDR`].
const DST_INTERFACE_ADDR: ColumnExpr = ColumnExpr::Coalesce(&[
    ColumnExpr::FirstItem(&["dst_endpoint", "intermediate_ips"]),
    ColumnExpr::Column(&["dst_endpoint", "ip"]),
]);
/// The AWS service whose published address range holds a side's packet address
/// (`pkt-src-aws-service` / `pkt-dst-aws-service`: `S3`, `DYNAMODB`, `AMAZON`, …).
const SRC_AWS_SERVICE: ColumnExpr = ColumnExpr::Column(&["src_endpoint", "svc_name"]);
const DST_AWS_SERVICE: ColumnExpr = ColumnExpr::Column(&["dst_endpoint", "svc_name"]);

/// The flow dimensions, in documentation order.
static DIMENSIONS: [DimensionSpec; 14] = [
    dimension(
        "account",
        "AWS account id",
        ColumnExpr::Partition(PartitionColumn::AccountId),
    ),
    dimension(
        "region",
        "AWS region",
        ColumnExpr::Partition(PartitionColumn::Region),
    ),
    dimension("vpc", "VPC id", VPC),
    dimension("subnet", "subnet id", SUBNET),
    DimensionSpec {
        name: "eni",
        aliases: &["interface"],
        about: "network interface (ENI) id",
        expr: Versioned::same(ENI),
    },
    column_dimension!("src_ip", "source address", src_ip),
    column_dimension!("dst_ip", "destination address", dst_ip),
    column_dimension!("dst_port", "destination port", dst_port),
    column_dimension!("protocol", "IANA protocol number", protocol),
    per_version(
        "action",
        "ACCEPT / REJECT",
        action(V1.action_id),
        action(V2.action_id),
    ),
    per_version(
        "direction",
        "ingress / egress",
        direction(V1.direction_id),
        direction(V2.direction_id),
    ),
    dimension(
        "boundary",
        "traffic path (OCSF boundary)",
        ColumnExpr::Column(&["connection_info", "boundary"]),
    ),
    DimensionSpec {
        name: "src_aws_service",
        aliases: &["pkt_src_aws_service"],
        about: "AWS service of the source address (pkt-src-aws-service)",
        expr: Versioned::same(SRC_AWS_SERVICE),
    },
    DimensionSpec {
        name: "dst_aws_service",
        aliases: &["pkt_dst_aws_service"],
        about: "AWS service of the destination address (pkt-dst-aws-service)",
        expr: Versioned::same(DST_AWS_SERVICE),
    },
];

/// The flow measures, in documentation order.
static MEASURES: [MeasureSpec; 3] = [
    sum_measure!("bytes", "bytes of the matching flows", bytes, "decbytes"),
    sum_measure!("packets", "packets of the matching flows", packets, "short"),
    MeasureSpec {
        name: "flows",
        about: "the number of flow records",
        aggregate: Versioned::same(MeasureAggregate::Count),
        unit: "short",
    },
];

/// Every field of a flow record as the VPC flow-log format names it (what a flow search shows),
/// and where it lives in a version.
pub fn flow_log_fields(version: SourceVersion) -> Vec<(&'static str, ColumnExpr)> {
    let cols = FlowColumns::of(version);
    let column = ColumnExpr::Column;
    vec![
        ("start", column(cols.time_ms)),
        ("end", column(cols.end_time)),
        ("srcaddr", SRC_INTERFACE_ADDR),
        ("srcport", column(cols.src_port)),
        ("dstaddr", DST_INTERFACE_ADDR),
        ("dstport", column(cols.dst_port)),
        ("pkt-srcaddr", column(cols.src_ip)),
        ("pkt-dstaddr", column(cols.dst_ip)),
        ("protocol", column(cols.protocol)),
        (
            "protocol-name",
            ColumnExpr::Labels {
                column: cols.protocol,
                cases: &[
                    (1, "ICMP"),
                    (6, "TCP"),
                    (17, "UDP"),
                    (47, "GRE"),
                    (50, "ESP"),
                    (58, "ICMPv6"),
                ],
                default: "other",
            },
        ),
        ("packets", column(cols.packets)),
        ("bytes", column(cols.bytes)),
        ("action", action(cols.action_id)),
        ("flow-direction", direction(cols.direction_id)),
        ("log-status", column(&["status_code"])),
        ("account-id", column(cols.account_uid)),
        ("region", column(cols.region)),
        ("az-id", column(&["cloud", "zone"])),
        ("vpc-id", VPC),
        ("subnet-id", SUBNET),
        ("interface-id", ENI),
        ("instance-id", INSTANCE),
        ("tcp-flags", column(&["connection_info", "tcp_flags"])),
        ("traffic-path", column(cols.boundary_id)),
        ("pkt-src-aws-service", SRC_AWS_SERVICE),
        ("pkt-dst-aws-service", DST_AWS_SERVICE),
    ]
}
