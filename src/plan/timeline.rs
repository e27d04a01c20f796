//! Plans of a resource timeline's parts: each source's records naming the resource, grouped by
//! hour, over the partitions of the range's days (and the accounts and regions asked for) only.

use super::cloudtrail::trail_scope;
use super::dns::{dns_dimension_expr, dns_scope};
use super::findings::{finding_dimension_expr, finding_scope, state_expr};
use super::{
    dimension_expr, flow_scope, measure_aggregate, output, trail_dimension_expr, whole_buckets,
    Aggregate, Expr, Literal, OrderKey, Output, OutputValue, Plan, PlanOptions, Predicate, Shape,
    TIME_BUCKET,
};
use crate::lake::source::flow_log_fields;
use crate::lake::{SourceVersion, TrailColumns};
use crate::query::{
    Dimension, DnsDimension, DnsFilters, FindingDimension, FindingFilters, FlowFilters, Measure,
    Resource, TimeWindow, TimelinePart, TimelineSource, TrailDimension, TrailFilters,
};

/// A timeline row's hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Alias of a DNS or CloudTrail group's number of records.
pub const RECORDS: &str = "records";

/// The flow groups of a timeline row (the peer and direction are read from these in `frame/`).
pub const FLOW_GROUPS: [Dimension; 8] = [
    Dimension::Account,
    Dimension::Region,
    Dimension::Direction,
    Dimension::SrcIp,
    Dimension::DstIp,
    Dimension::DstPort,
    Dimension::Protocol,
    Dimension::Action,
];
/// The flow measures of a timeline row.
pub const FLOW_MEASURES: [Measure; 3] = [Measure::Flows, Measure::Packets, Measure::Bytes];
/// The Route 53 groups of a timeline row.
pub const DNS_GROUPS: [DnsDimension; 6] = [
    DnsDimension::Account,
    DnsDimension::Region,
    DnsDimension::SrcIp,
    DnsDimension::Domain,
    DnsDimension::QueryType,
    DnsDimension::Rcode,
];
/// The interface addresses (`srcaddr`, `dstaddr`) a flow row of an ENI, instance or VPC is also
/// grouped by: where one differs from the packet's address on the resource's side, the
/// interface forwarded the packet (a NAT gateway's), and the resource's host is the other side.
pub const FLOW_INTERFACE_GROUPS: [&str; 2] = ["srcaddr", "dstaddr"];
/// The CloudTrail groups of a timeline row.
pub const TRAIL_GROUPS: [TrailDimension; 6] = [
    TrailDimension::Account,
    TrailDimension::Region,
    TrailDimension::Principal,
    TrailDimension::Service,
    TrailDimension::Operation,
    TrailDimension::Outcome,
];

/// Alias of a finding's id in a timeline row.
pub const FINDING_ID: &str = "finding_id";
/// Alias of a finding's title.
pub const FINDING_TITLE: &str = "title";
/// Alias of a finding's compliance status (NULL for findings of threats and vulnerabilities).
pub const COMPLIANCE_STATUS: &str = "compliance_status";
/// Alias of a finding's state: `ARCHIVED`, else its workflow caption (New, Resolved, …).
pub const FINDING_STATE: &str = "state";
/// The finding dimensions of a timeline row, besides its id, title, status and state.
pub const FINDING_GROUPS: [FindingDimension; 6] = [
    FindingDimension::Account,
    FindingDimension::Region,
    FindingDimension::Resource,
    FindingDimension::Severity,
    FindingDimension::Product,
    FindingDimension::Type,
];

/// The plan of one part of a timeline.
pub(super) fn plan(part: &TimelinePart, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let window = whole_buckets(window, HOUR_MS);
    match part.source {
        TimelineSource::Flows => plan_flows(part, &window, options),
        TimelineSource::Dns => plan_dns(part, &window, options),
        TimelineSource::CloudTrail => plan_trail(part, &window, options),
        TimelineSource::Findings => plan_findings(part, &window, options),
    }
}

/// Flows with the resource on either side: its address, interface, instance or VPC.
fn plan_flows(part: &TimelinePart, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let mut filters = FlowFilters {
        accounts: part.accounts.clone(),
        regions: part.regions.clone(),
        ..FlowFilters::default()
    };
    let mut instance = None;
    match &part.resource {
        Resource::Ip(ip) => filters.ips.push(*ip),
        Resource::Eni(id) => filters.enis.push(id.clone()),
        Resource::Vpc(id) => filters.vpcs.push(id.clone()),
        Resource::Instance(id) => instance = Some(id.as_str().to_string()),
    }
    let mut scope = flow_scope(&filters, window, options);
    if let Some(id) = instance {
        // Either endpoint's instance, as the flow source describes the instance of a flow.
        let side = |end: &'static str| -> Predicate {
            let column: &'static [&'static str] = match end {
                "src" => &["src_endpoint", "instance_uid"],
                _ => &["dst_endpoint", "instance_uid"],
            };
            Predicate::In(Expr::Column(column), vec![Literal::Str(id.clone())])
        };
        scope
            .filters
            .push(Predicate::Or(vec![side("src"), side("dst")]));
    }
    let time = Expr::Column(scope.cols.time_ms);
    let mut groups = FLOW_GROUPS
        .map(|d| (d.name(), dimension_expr(d, options.version)))
        .to_vec();
    if !matches!(part.resource, Resource::Ip(_)) {
        groups.extend(interface_addresses(options.version));
    }
    let measures = FLOW_MEASURES
        .map(|m| (m.name(), measure_aggregate(m, options.version)))
        .to_vec();
    let (outputs, order_by) = hourly(time, &groups, measures);
    scope.into_plan(outputs, order_by, options.max_rows + 1, table_shape())
}

/// The interface addresses as the flow log names them, [`FLOW_INTERFACE_GROUPS`] in order.
fn interface_addresses(version: SourceVersion) -> Vec<(&'static str, Expr)> {
    let fields = flow_log_fields(version);
    FLOW_INTERFACE_GROUPS
        .iter()
        .map(|name| {
            let (alias, expr) = fields
                .iter()
                .find(|(field, _)| field == name)
                .expect("the flow log names both interface addresses");
            (*alias, (*expr).into())
        })
        .collect()
}

/// Resolver queries asked by the resource: its address, instance or VPC.
fn plan_dns(part: &TimelinePart, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let mut filters = DnsFilters {
        accounts: part.accounts.clone(),
        regions: part.regions.clone(),
        ..DnsFilters::default()
    };
    let mut extra = None;
    match &part.resource {
        Resource::Ip(ip) => filters.src_ips.push(*ip),
        Resource::Vpc(id) => filters.vpcs.push(id.clone()),
        Resource::Instance(id) => {
            let instance = dns_dimension_expr(DnsDimension::Instance, options.version);
            extra = Some(Predicate::In(
                instance,
                vec![Literal::Str(id.as_str().to_string())],
            ));
        }
        Resource::Eni(_) => unreachable!("Route 53 logs name no interface; the part is skipped"),
    }
    let mut scope = dns_scope(&filters, window, options);
    scope.filters.extend(extra);
    let time = Expr::Column(scope.cols.time_ms);
    let groups = DNS_GROUPS.map(|d| (d.name(), dns_dimension_expr(d, options.version)));
    let (outputs, order_by) = hourly(time, &groups, vec![(RECORDS, Aggregate::Count)]);
    scope.into_plan(outputs, order_by, options.max_rows + 1, table_shape())
}

/// CloudTrail calls from the resource's address, or made in a session named after the
/// instance (an instance profile's role session: `…:assumed-role/<role>/<instance id>`).
fn plan_trail(part: &TimelinePart, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let mut filters = TrailFilters {
        accounts: part.accounts.clone(),
        regions: part.regions.clone(),
        ..TrailFilters::default()
    };
    let mut extra = None;
    match &part.resource {
        Resource::Ip(ip) => filters.src_ips.push(*ip),
        Resource::Instance(id) => extra = Some(session_named(id.as_str(), options.version)),
        Resource::Eni(_) | Resource::Vpc(_) => {
            unreachable!("CloudTrail names no interface or VPC; the part is skipped")
        }
    }
    let mut scope = trail_scope(&filters, window, options);
    scope.filters.extend(extra);
    let time = Expr::Column(scope.cols.time_ms);
    let groups = TRAIL_GROUPS.map(|d| (d.name(), trail_dimension_expr(d, options.version)));
    let (outputs, order_by) = hourly(time, &groups, vec![(RECORDS, Aggregate::Count)]);
    scope.into_plan(outputs, order_by, options.max_rows + 1, table_shape())
}

/// Updates of the findings whose resource is the ENI, instance or VPC: its id, or an ARN ending
/// in it (`arn:aws:ec2:…:instance/i-…`), as the finding kinds' `resources` filter matches.
fn plan_findings(part: &TimelinePart, window: &TimeWindow, options: &PlanOptions) -> Plan {
    let id = match &part.resource {
        Resource::Eni(id) | Resource::Instance(id) | Resource::Vpc(id) => id.as_str().to_string(),
        Resource::Ip(_) => {
            unreachable!("a finding's resource is never an address; the part is skipped")
        }
    };
    let filters = FindingFilters {
        accounts: part.accounts.clone(),
        regions: part.regions.clone(),
        resources: vec![id],
        ..FindingFilters::default()
    };
    let scope = finding_scope(&filters, window, options);
    let cols = scope.cols;
    let mut groups: Vec<(&'static str, Expr)> = FINDING_GROUPS
        .iter()
        .map(|d| (d.name(), finding_dimension_expr(*d, options.version)))
        .collect();
    groups.extend([
        (FINDING_ID, Expr::Column(cols.finding_uid)),
        (FINDING_TITLE, Expr::Column(cols.title)),
        (COMPLIANCE_STATUS, Expr::Column(cols.status)),
        (FINDING_STATE, state_expr(&cols)),
    ]);
    let time = Expr::Column(cols.time_ms);
    let (outputs, order_by) = hourly(time, &groups, vec![(RECORDS, Aggregate::Count)]);
    scope.into_plan(outputs, order_by, options.max_rows + 1, table_shape())
}

/// The caller's ARN ends in the session name `instance`.
fn session_named(instance: &str, version: SourceVersion) -> Predicate {
    let session = Expr::Segment {
        expr: Box::new(Expr::Column(TrailColumns::of(version).principal)),
        separator: "/",
        last: true,
    };
    Predicate::In(session, vec![Literal::Str(instance.to_string())])
}

/// The hour, the groups and the measures as outputs, ordered by hour then groups.
fn hourly(
    time: Expr,
    groups: &[(&'static str, Expr)],
    measures: Vec<(&'static str, Aggregate)>,
) -> (Vec<Output>, Vec<OrderKey>) {
    let hour = Expr::BucketMs {
        expr: Box::new(time),
        width_ms: HOUR_MS,
    };
    let mut outputs = vec![output(TIME_BUCKET, OutputValue::Group(hour))];
    outputs.extend(
        groups
            .iter()
            .map(|(alias, e)| output(alias, OutputValue::Group(e.clone()))),
    );
    outputs.extend(
        measures
            .into_iter()
            .map(|(alias, a)| output(alias, OutputValue::Aggregate(a))),
    );
    let order = std::iter::once(TIME_BUCKET)
        .chain(groups.iter().map(|(alias, _)| *alias))
        .map(OrderKey::asc)
        .collect();
    (outputs, order)
}

fn table_shape() -> Shape {
    Shape::Table {
        time_columns: vec![TIME_BUCKET],
        units: vec![("bytes", "decbytes")],
        protocol_columns: vec!["protocol"],
        count_total: false,
    }
}
