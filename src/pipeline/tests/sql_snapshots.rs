//! Exact SQL of every query kind, for both dialects and both source versions.

use crate::pipeline::{render_sql, PanelRequest};
use crate::settings::Settings;
use crate::sql::Dialect;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn sql(query: Value, from: &str, to: &str, dialect: Dialect, version: &str) -> String {
    // What SQL may read is checked apart (tests/e2e/sql.rs); here only the expansion counts.
    let settings =
        Settings::from_json(&json!({"sourceVersion": version, "rawSql": "any"})).unwrap();
    let json = serde_json::to_vec(&query).unwrap();
    render_sql(
        &settings,
        dialect,
        &PanelRequest {
            ref_id: "A",
            json: &json,
            from: t(from),
            to: t(to),
            interval_ms: 60_000,
            max_data_points: 1000,
        },
    )
    .unwrap()
}

fn all_dialects(name: &str, query: Value, from: &str, to: &str) {
    for (dialect, dname) in [(Dialect::Athena, "athena"), (Dialect::Local, "local")] {
        for version in ["1", "2"] {
            insta::assert_snapshot!(
                format!("{name}__{dname}_v{version}"),
                sql(query.clone(), from, to, dialect, version)
            );
        }
    }
}

#[test]
fn flow_volume_by_account_one_day() {
    all_dialects(
        "flow_volume_by_account",
        json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"]}),
        "2024-06-01T00:00:00Z",
        "2024-06-01T23:59:59.999Z",
    );
}

#[test]
fn flow_volume_every_dimension_and_filter() {
    all_dialects(
        "flow_volume_every_filter",
        json!({"kind": "flow_volume", "measure": "packets",
               "group_by": ["region", "vpc", "subnet", "eni", "src_ip", "dst_ip", "dst_port", "protocol", "action", "direction", "boundary"],
               "filters": {"accounts": ["111122223333", "444455556666"], "regions": ["us-east-1"],
                           "vpcs": ["vpc-0a1b2c3d4e5f60718"], "subnets": ["subnet-0a1b2c3d"], "enis": ["eni-0a1b2c3d4e5f60718"],
                           "ip": ["10.0.1.17", "2001:db8::1"], "src_ip": ["10.0.1.18"], "dst_ip": ["52.1.2.3"],
                           "dst_ports": [443, 8443], "protocols": ["tcp"], "action": "REJECT", "direction": "ingress",
                           "boundary": ["internet gateway"]},
               "limit": 10}),
        "2024-06-30T22:00:00Z",
        "2024-07-01T02:00:00Z",
    );
}

/// The v5 fields: which AWS service's address range each side's packet address is in.
#[test]
fn flow_volume_by_aws_service() {
    all_dialects(
        "flow_volume_by_aws_service",
        json!({"kind": "flow_volume", "group_by": ["vpc", "dst_aws_service"],
               "filters": {"src_aws_service": "amazon", "dst_aws_service": ["S3", "DYNAMODB"]}}),
        "2024-06-01T00:00:00Z",
        "2024-06-01T23:59:59.999Z",
    );
}

#[test]
fn flow_volume_flows_over_a_long_range_uses_between() {
    all_dialects(
        "flow_volume_flows_45_days",
        json!({"kind": "flow_volume", "measure": "flows"}),
        "2023-12-01T06:00:00Z",
        "2024-01-14T06:00:00Z",
    );
}

const DAY_FROM: &str = "2024-06-01T00:00:00Z";
const DAY_TO: &str = "2024-06-01T23:59:59.999Z";

#[test]
fn top_talkers_by_source_and_by_either_side() {
    all_dialects(
        "top_talkers_src",
        json!({"kind": "top_talkers", "by": "src_ip", "measure": "bytes", "limit": 10}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "top_talkers_either",
        json!({"kind": "top_talkers", "by": "either", "measure": "packets", "limit": 5,
               "filters": {"ip": ["10.0.0.0/8"], "exclude_ips": ["10.9.9.9"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn top_pairs_ports_and_interfaces() {
    all_dialects(
        "top_pairs",
        json!({"kind": "top_pairs", "filters": {"dst_ip": ["2001:db8::/32"], "protocols": ["udp"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "top_ports",
        json!({"kind": "top_ports", "measure": "flows"}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "top_interfaces_by_vpc",
        json!({"kind": "top_interfaces", "group_by": ["account", "vpc"]}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn rejected_threats_and_egress() {
    all_dialects(
        "rejected_over_time",
        json!({"kind": "rejected", "group_by": ["dst_port"], "limit": 5}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "rejected_top_sources",
        json!({"kind": "rejected", "view": "top_sources", "limit": 20}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "port_scan",
        json!({"kind": "port_scan", "threshold": 25, "window_minutes": 10}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "internet_egress",
        json!({"kind": "internet_egress", "own_cidrs": ["198.51.100.0/24"]}),
        DAY_FROM,
        DAY_TO,
    );
}

/// The detections against a baseline read the whole days before the range too.
#[test]
fn baseline_detections() {
    all_dialects(
        "egress_anomaly_by_eni",
        json!({"kind": "egress_anomaly", "by": "eni", "baseline_days": 3,
               "own_cidrs": ["198.51.100.0/24"], "filters": {"accounts": ["111122223333"]}}),
        "2024-06-01T10:30:00Z",
        "2024-06-01T23:59:59.999Z",
    );
    all_dialects(
        "beaconing",
        json!({"kind": "beaconing", "min_contacts": 10, "max_jitter_percent": 15,
               "filters": {"vpcs": ["vpc-0a1b2c3d"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "new_external_peers",
        json!({"kind": "new_external_peers", "baseline_days": 3, "own_cidrs": ["198.51.100.0/24"]}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn flow_search_every_field() {
    all_dialects(
        "flow_search",
        json!({"kind": "flow_search", "limit": 50,
               "filters": {"ip": "10.0.1.0/24", "dst_ports": ["22"], "protocols": ["tcp"], "action": "reject",
                           "accounts": ["111122223333"], "regions": ["eu-west-1"]}}),
        "2024-06-01T10:00:00Z",
        "2024-06-01T11:00:00Z",
    );
}

#[test]
fn coverage_and_freshness_look_back_from_the_range_end() {
    all_dialects(
        "coverage_silent",
        json!({"kind": "coverage", "silent_for_minutes": 60, "format": "series"}),
        "2024-06-15T11:00:00Z",
        "2024-06-15T12:00:00Z",
    );
    all_dialects(
        "freshness",
        json!({"kind": "freshness", "lookback_days": 2, "filters": {"regions": ["us-east-1"]}}),
        "2024-06-15T11:00:00Z",
        "2024-06-15T12:00:00Z",
    );
}

#[test]
fn compliance_status_and_counts_newest_row_per_finding() {
    all_dialects(
        "compliance_status_table",
        json!({"kind": "compliance_status", "controls": ["EC2.6"], "config_rule": "flow-logs-central-bucket",
               "statuses": ["FAILED"], "lookback_days": 3,
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1", "eu-west-1"],
                           "vpcs": ["vpc-0a1b2c3d4e5f60718"]}}),
        "2024-06-01T00:00:00Z",
        "2024-06-10T12:00:00Z",
    );
    all_dialects(
        "compliance_status_counts",
        json!({"kind": "compliance_status", "view": "counts"}),
        "2024-06-01T00:00:00Z",
        "2024-06-10T12:00:00Z",
    );
}

#[test]
fn compliance_over_time_reads_state_changes_from_the_look_back() {
    all_dialects(
        "compliance_over_time",
        json!({"kind": "compliance_over_time", "controls": ["EC2.6", "EC2.10"], "group_by": ["account", "control"]}),
        "2024-06-08T00:00:00Z",
        "2024-06-10T00:00:00Z",
    );
}

#[test]
fn sql_kind_expands_every_macro_per_dialect() {
    all_dialects(
        "sql_every_macro",
        json!({"kind": "sql", "format": "time_series",
               "rawSql": "SELECT $__timeGroupAlias(time_dt, 5m, 0), $__timeGroup(time, '5m') AS bucket, region, count(*) AS flows\nFROM $__table(vpc_flow)\nWHERE $__partitionFilter\n  AND $__timeFilter(time_dt) AND $__timeFilter(time)\n  AND $__unixEpochFilter(end_time)\n  AND time_dt BETWEEN $__timeFrom() AND $__timeTo()\n  AND $__in(src_endpoint.ip, src_ip) AND region IN ($region) AND dst_endpoint.port IN (${port})\n  AND $__in(cloud.account.uid, account)\n  -- $__table and $region stay as written in comments\n  AND status_code <> '$__timeFrom()'\nGROUP BY 1, 2, 3\nORDER BY 1",
               "filters": {"accounts": ["111122223333", "444455556666"], "regions": ["us-east-1"]},
               "variables": {"src_ip": ["10.0.1.17", "2001:db8::1"], "region": "us-east-1",
                             "port": [443, "8443"], "account": "$__all"}}),
        "2024-06-30T22:00:00+02:00",
        "2024-07-01T02:00:00Z",
    );
    all_dialects(
        "sql_findings_database",
        json!({"kind": "sql",
               "rawSql": "SELECT count(*) AS n FROM $__table(sh_findings) AS f, $__database.other WHERE $__partitionFilter AND $__interval_ms > 0",
               "filters": {}}),
        "2023-12-01T06:00:00Z",
        "2024-01-14T06:00:00Z",
    );
}

#[test]
fn variable_kind_lists_distinct_values_in_the_range() {
    all_dialects(
        "variable_vpcs",
        json!({"kind": "variable", "values": "vpcs", "filters": {"accounts": ["111122223333"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "variable_controls",
        json!({"kind": "variable", "values": "controls", "filters": {"regions": ["eu-west-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn annotations_of_status_changes_and_flow_log_silences() {
    all_dialects(
        "annotations_control_status_changes",
        json!({"kind": "annotations", "event": "control_status_changes", "control": "EC2.6",
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"], "vpcs": ["vpc-0a1b2c3d4e5f60718"]}}),
        "2024-06-10T00:00:00Z",
        "2024-06-11T00:00:00Z",
    );
    all_dialects(
        "annotations_flow_logs_silent",
        json!({"kind": "annotations", "event": "flow_logs_silent", "silent_for_minutes": 75,
               "group_by": ["account", "region", "vpc"], "lookback_days": 2,
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"], "vpcs": ["vpc-0a1b2c3d4e5f60718"]}}),
        "2024-06-10T00:00:00Z",
        "2024-06-11T00:00:00Z",
    );
    all_dialects(
        "annotations_flow_logs_silent_ungrouped",
        json!({"kind": "annotations", "event": "flow_logs_silent", "group_by": []}),
        "2024-06-10T00:00:00Z",
        "2024-06-10T06:00:00Z",
    );
}

/// The single-event annotations read their kinds' event tables: IAM changes, sign-ins without
/// MFA, findings first observed in the range (newest update per finding, at or above High).
#[test]
fn annotations_of_iam_changes_sign_ins_and_new_findings() {
    all_dialects(
        "annotations_iam_changes",
        json!({"kind": "annotations", "event": "iam_changes",
               "filters": {"accounts": ["111122223333"], "principals": ["arn:aws:iam::111122223333:user/carol"]}}),
        "2024-06-10T00:00:00Z",
        "2024-06-11T00:00:00Z",
    );
    all_dialects(
        "annotations_sign_ins_without_mfa",
        json!({"kind": "annotations", "event": "sign_ins", "filters": {"mfa": "false", "regions": ["us-east-1"]}}),
        "2024-06-10T00:00:00Z",
        "2024-06-11T00:00:00Z",
    );
    all_dialects(
        "annotations_new_findings",
        json!({"kind": "annotations", "event": "new_findings",
               "filters": {"accounts": ["111122223333"], "products": ["GuardDuty"]}}),
        "2024-06-10T00:00:00Z",
        "2024-06-11T00:00:00Z",
    );
}

/// Athena SQL on a datasource whose settings name the Glue database and the flow table (a
/// resource link): the planned query and `$__database`/`$__table` follow them.
#[test]
fn named_database_and_tables_on_athena() {
    let settings = Settings::from_json(&json!({"engine": "athena", "sourceVersion": "2",
        "database": "security_analytics", "tables": {"vpc_flow": "vpc_flow_link"}}))
    .unwrap();
    let render = |query: Value| {
        let json = serde_json::to_vec(&query).unwrap();
        render_sql(
            &settings,
            Dialect::Athena,
            &PanelRequest {
                ref_id: "A",
                json: &json,
                from: t("2024-06-01T00:00:00Z"),
                to: t("2024-06-01T23:59:59.999Z"),
                interval_ms: 60_000,
                max_data_points: 1000,
            },
        )
        .unwrap()
    };
    insta::assert_snapshot!(
        "named_database__flow_volume",
        render(json!({"kind": "flow_volume", "measure": "bytes", "group_by": ["account"]}))
    );
    insta::assert_snapshot!(
        "named_database__raw_sql_macros",
        render(json!({"kind": "sql", "rawSql":
            "SELECT count(*) FROM $__table(vpc_flow) f JOIN $__database.vpc_flow_link g ON true JOIN $__table(sh_findings) s ON true WHERE $__partitionFilter"}))
    );
}

#[test]
fn api_activity_over_time_with_every_filter() {
    all_dialects(
        "api_activity_every_filter",
        json!({"kind": "api_activity", "measure": "failures",
               "group_by": ["service", "operation", "principal", "principal_type", "src_ip", "outcome", "error_code", "class"],
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1", "eu-west-1"],
                           "services": ["iam", "sts.amazonaws.com"], "operations": ["CreateAccessKey"],
                           "principals": ["arn:aws:iam::111122223333:user/carol"], "principal_names": "carol",
                           "principal_types": ["iamuser"], "access_keys": ["AKIAIOSFODNN7EXAMPLE"],
                           "src_ip": ["203.0.113.0/24", "2001:db8::/32"], "exclude_ip": "198.51.100.23",
                           "outcome": "failure", "error_codes": ["AccessDenied"]},
               "limit": 5}),
        "2024-06-30T22:00:00Z",
        "2024-07-01T02:00:00Z",
    );
    all_dialects(
        "api_activity_distinct_principals",
        json!({"kind": "api_activity", "measure": "principals", "group_by": ["account"]}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn top_principals_with_failures_and_source_ips() {
    all_dialects(
        "top_principals",
        json!({"kind": "top_principals", "measure": "source_ips", "limit": 25,
               "filters": {"principal_types": ["Root", "IAMUser"], "regions": ["us-east-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn auth_events_as_sign_ins_and_as_series() {
    all_dialects(
        "auth_events",
        json!({"kind": "auth_events", "limit": 50,
               "filters": {"accounts": ["111122223333"], "outcome": "success", "mfa": false,
                           "principal_types": "Root", "src_ip": ["5.188.62.0/24"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "auth_events_series",
        json!({"kind": "auth_events", "format": "series", "filters": {"mfa": "no", "outcome": "success"}}),
        "2024-06-15T11:00:00Z",
        "2024-06-15T12:00:00Z",
    );
}

#[test]
fn sql_kind_reads_the_cloudtrail_table_pruned() {
    all_dialects(
        "sql_cloud_trail",
        json!({"kind": "sql",
               "rawSql": "SELECT api.operation, count(*) AS calls FROM $__table(cloud_trail_mgmt) WHERE $__partitionFilter GROUP BY 1",
               "filters": {"accounts": ["111122223333"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn access_denied_and_iam_changes() {
    all_dialects(
        "access_denied",
        json!({"kind": "access_denied", "filters": {"services": ["s3", "iam"], "regions": ["us-east-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "iam_changes",
        json!({"kind": "iam_changes", "limit": 20,
               "filters": {"accounts": ["111122223333"], "principals": ["arn:aws:iam::111122223333:user/carol"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn dns_queries_over_time_with_every_filter() {
    all_dialects(
        "dns_queries_every_filter",
        json!({"kind": "dns_queries", "measure": "sources",
               "group_by": ["domain", "query_type", "rcode", "vpc", "src_ip", "instance"],
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"],
                           "domains": ["API.example.com", "_dmarc.example.org."], "query_types": ["a", "TXT"],
                           "rcodes": ["nxdomain"], "vpcs": ["vpc-0a1b2c3d"],
                           "src_ip": ["10.0.0.0/8"], "exclude_ip": "10.0.0.5"},
               "limit": 5}),
        "2024-06-30T22:00:00Z",
        "2024-07-01T02:00:00Z",
    );
}

#[test]
fn domain_rankings_failed_lookups_and_new_domains() {
    all_dialects(
        "top_domains",
        json!({"kind": "top_domains", "measure": "sources", "filters": {"regions": ["us-east-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "nxdomain",
        json!({"kind": "nxdomain", "filters": {"accounts": ["111122223333"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "new_domains",
        json!({"kind": "new_domains", "baseline_days": 3, "format": "series"}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn dns_tunneling_counts_long_labels_per_parent() {
    all_dialects(
        "dns_tunneling",
        json!({"kind": "dns_tunneling", "min_label_length": 40, "min_subdomains": 10,
               "filters": {"query_types": ["TXT"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn findings_over_time_at_each_findings_newest_update() {
    all_dialects(
        "findings_every_filter",
        json!({"kind": "findings", "group_by": ["severity", "product"], "min_severity": "Low",
               "filters": {"accounts": ["123456789012"], "regions": ["us-east-1"], "products": ["GuardDuty"],
                           "types": ["TTPs/Command and Control/Backdoor:EC2-C&CActivity.B"], "resources": ["i-0abc123"]}}),
        "2024-06-14T00:00:00Z",
        "2024-06-14T23:59:59Z",
    );
}

#[test]
fn active_findings_as_a_table_and_as_series() {
    all_dialects(
        "active_findings_table",
        json!({"kind": "active_findings", "filters": {"product": "Inspector"}}),
        "2024-06-14T00:00:00Z",
        "2024-06-14T23:59:59Z",
    );
    all_dialects(
        "active_findings_series",
        json!({"kind": "active_findings", "min_severity": "High", "format": "series"}),
        "2024-06-14T00:00:00Z",
        "2024-06-14T23:59:59Z",
    );
}

/// A kind of a source with a table in version 2 only (WAF), in both dialects.
fn v2_dialects(name: &str, query: Value, from: &str, to: &str) {
    for (dialect, dname) in [(Dialect::Athena, "athena"), (Dialect::Local, "local")] {
        insta::assert_snapshot!(
            format!("{name}__{dname}_v2"),
            sql(query.clone(), from, to, dialect, "2")
        );
    }
}

#[test]
fn waf_requests_over_time_with_every_filter() {
    v2_dialects(
        "waf_requests_every_filter",
        json!({"kind": "waf_requests", "measure": "clients",
               "group_by": ["action", "rule", "rule_type", "web_acl", "country", "src_ip", "path", "host", "method"],
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"],
                           "web_acls": ["arn:aws:wafv2:us-east-1:111122223333:regional/webacl/shop/1a2b"],
                           "actions": ["block", "CAPTCHA"], "rules": ["AWS-AWSManagedRulesCommonRuleSet"],
                           "rule_types": ["managed_rule_group"], "countries": ["de"],
                           "hosts": ["Shop.Example.com"], "paths": ["/wp-login.php"], "methods": ["get"],
                           "src_ip": ["203.0.113.0/24"], "exclude_ip": "203.0.113.5"},
               "limit": 5}),
        "2024-06-30T22:00:00Z",
        "2024-07-01T02:00:00Z",
    );
}

#[test]
fn waf_rankings_blocked_and_rate_limited() {
    v2_dialects(
        "top_blocked",
        json!({"kind": "top_blocked", "by": "uris", "filters": {"regions": ["us-east-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
    v2_dialects(
        "rate_limited",
        json!({"kind": "rate_limited", "format": "series", "filters": {"accounts": ["111122223333"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn resource_timeline_parts_of_an_address_and_an_instance() {
    all_dialects(
        "resource_timeline_address",
        json!({"kind": "resource_timeline", "resource": "10.1.1.11",
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "resource_timeline_instance",
        json!({"kind": "resource_timeline", "resource": "i-0abc1234def567890"}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn resource_timeline_findings_of_a_vpc_and_an_eni() {
    all_dialects(
        "resource_timeline_findings_vpc",
        json!({"kind": "resource_timeline", "resource": "vpc-0a1b2c3d", "sources": ["findings"],
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "resource_timeline_findings_eni",
        json!({"kind": "resource_timeline", "resource": "eni-0a1b2c3d4e5f60718", "sources": ["findings"]}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn s3_data_access_over_time_and_as_a_table() {
    all_dialects(
        "s3_data_access_every_filter",
        json!({"kind": "s3_data_access", "measure": "principals",
               "group_by": ["bucket", "operation", "access", "src_ip"],
               "filters": {"accounts": ["111122223333"], "regions": ["us-east-1"],
                           "buckets": ["customer-exports-111122223333"], "operations": ["GetObject", "PutObject"],
                           "principals": ["arn:aws:iam::111122223333:user/carol"], "access": "read",
                           "outcome": "success", "src_ip": ["5.188.62.0/24"], "exclude_ip": "10.0.0.0/8"},
               "limit": 5}),
        "2024-06-30T22:00:00Z",
        "2024-07-01T02:00:00Z",
    );
    all_dialects(
        "s3_data_access_table",
        json!({"kind": "s3_data_access", "format": "table", "limit": 50,
               "filters": {"buckets": "customer-exports-111122223333"}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn lambda_invocations_over_time_and_as_a_table() {
    all_dialects(
        "lambda_invocations_by_function",
        json!({"kind": "lambda_invocations", "group_by": ["function", "principal"],
               "filters": {"functions": ["orders-api"], "regions": ["us-east-1"], "outcome": "failure"}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "lambda_invocations_table",
        json!({"kind": "lambda_invocations", "format": "table", "measure": "failures",
               "filters": {"accounts": ["111122223333"]}}),
        DAY_FROM,
        DAY_TO,
    );
}

#[test]
fn sql_kind_reads_the_data_event_tables_pruned() {
    all_dialects(
        "sql_s3_data",
        json!({"kind": "sql",
               "rawSql": "SELECT api.operation, count(*) AS calls FROM $__table(s3_data) WHERE $__partitionFilter GROUP BY 1",
               "filters": {"accounts": ["111122223333"]}}),
        DAY_FROM,
        DAY_TO,
    );
    all_dialects(
        "sql_lambda_execution",
        json!({"kind": "sql",
               "rawSql": "SELECT count(*) AS invocations FROM $__table(lambda_execution) WHERE $__partitionFilter"}),
        DAY_FROM,
        DAY_TO,
    );
    v2_dialects(
        "sql_eks_audit",
        json!({"kind": "sql",
               "rawSql": "SELECT activity_name, count(*) AS requests FROM $__table(eks_audit) WHERE $__partitionFilter GROUP BY 1",
               "filters": {"regions": ["us-east-1"]}}),
        DAY_FROM,
        DAY_TO,
    );
}
