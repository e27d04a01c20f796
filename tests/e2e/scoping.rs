//! Per-team scoping through the plugin binary: `allowedAccounts` and `allowedSources` bound every
//! kind, variable and raw SQL of a datasource; without them nothing changes.

use std::collections::BTreeSet;

use crate::common::{plugin, query, records, rows, settings};
use lakewatch::grafana_host::{HostResponse, PluginProcess};
use serde_json::{json, Value};

const FROM: &str = "2024-06-14T00:00:00Z";
const TO: &str = "2024-06-14T12:00:00Z";

fn accounts() -> Vec<String> {
    let set: BTreeSet<&str> = records().iter().map(|r| r.account_id.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

async fn ask(p: &PluginProcess, s: &Value, q: Value) -> HostResponse {
    let mut answer = p
        .query(s, &[query("A", q, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    answer.remove("A").unwrap()
}

fn values(a: &HostResponse, column: &str) -> BTreeSet<String> {
    assert_eq!(a.error, "");
    rows(&a.frames[0])
        .iter()
        .filter_map(|r| r.get(column).and_then(|v| v.as_str()).map(str::to_string))
        .collect()
}

#[tokio::test]
async fn allowed_accounts_bound_every_kind_variable_and_sql() {
    let p = plugin().await;
    let all = accounts();
    assert!(all.len() >= 2, "the fixture lake has several accounts");
    let (mine, other) = (&all[0], &all[1]);
    let mut scoped = settings("2");
    scoped["allowedAccounts"] = json!([mine]);

    // A series by account: only the allowed one.
    let a = ask(
        &p,
        &scoped,
        json!({"kind": "flow_volume", "group_by": ["account"]}),
    )
    .await;
    assert_eq!(a.error, "");
    let labels: BTreeSet<String> = a.frames[0].fields[1..]
        .iter()
        .map(|f| f.labels["account"].clone())
        .collect();
    assert_eq!(labels, BTreeSet::from([mine.clone()]));
    // Naming another account is refused.
    let a = ask(
        &p,
        &scoped,
        json!({"kind": "top_talkers", "filters": {"accounts": [other]}}),
    )
    .await;
    assert_eq!(
        a.error,
        format!("account {other} is outside this datasource's accounts (setting `allowedAccounts`: {mine}); pick one of those")
    );
    // Variables list only what is allowed; tables and coverage hold only it.
    let a = ask(
        &p,
        &scoped,
        json!({"kind": "variable", "values": "accounts"}),
    )
    .await;
    assert_eq!(a.error, "");
    let listed: Vec<Value> = a.frames[0].fields[0].values.clone();
    assert_eq!(listed, vec![json!(mine)]);
    let a = ask(&p, &scoped, json!({"kind": "coverage"})).await;
    assert_eq!(values(&a, "account"), BTreeSet::from([mine.clone()]));
    // Raw SQL: $__partitionFilter names the allowed accounts; SQL without it is refused.
    let sql = "SELECT DISTINCT accountid FROM $__table WHERE $__partitionFilter";
    let a = ask(&p, &scoped, json!({"kind": "sql", "rawSql": sql})).await;
    assert_eq!(values(&a, "accountid"), BTreeSet::from([mine.clone()]));
    let sql = "SELECT DISTINCT accountid FROM $__table WHERE eventday = '20240614'";
    let a = ask(&p, &scoped, json!({"kind": "sql", "rawSql": sql})).await;
    assert_eq!(
        a.error,
        format!("this datasource reads only the accounts {mine} (setting `allowedAccounts`), and the SQL does not restrict the account in every SELECT that reads the lake; add `AND $__partitionFilter` to its WHERE clause")
    );
    // Without the setting, the same SQL sees every account.
    let a = ask(&p, &settings("2"), json!({"kind": "sql", "rawSql": sql})).await;
    assert_eq!(values(&a, "accountid"), all.iter().cloned().collect());
}

#[tokio::test]
async fn allowed_sources_bound_what_a_datasource_reads() {
    let p = plugin().await;
    let mut flows_only = settings("2");
    flows_only["allowedSources"] = json!(["vpc_flow"]);
    let a = ask(&p, &flows_only, json!({"kind": "compliance_status"})).await;
    assert_eq!(
        a.error,
        "this datasource does not read sh_findings (setting `allowedSources`: vpc_flow); use a datasource that may, or ask an admin"
    );
    let sql = "SELECT count(*) AS n FROM $__table(sh_findings) WHERE $__partitionFilter";
    let a = ask(&p, &flows_only, json!({"kind": "sql", "rawSql": sql})).await;
    assert_eq!(
        a.error,
        "this datasource does not read sh_findings (setting `allowedSources`: vpc_flow); use a datasource that may, or ask an admin"
    );
    let a = ask(&p, &flows_only, json!({"kind": "flow_volume"})).await;
    assert_eq!(a.error, "");
    // The CloudTrail kinds and table are a source like the others.
    for q in [
        json!({"kind": "api_activity"}),
        json!({"kind": "auth_events"}),
        json!({"kind": "iam_changes"}),
        json!({"kind": "variable", "values": "principals"}),
        json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(cloud_trail_mgmt) WHERE $__partitionFilter"}),
    ] {
        let a = ask(&p, &flows_only, q.clone()).await;
        assert_eq!(
            a.error,
            "this datasource does not read cloud_trail_mgmt (setting `allowedSources`: vpc_flow); use a datasource that may, or ask an admin",
            "{q}"
        );
    }
    let mut trail_only = settings("2");
    trail_only["allowedSources"] = json!("CLOUD_TRAIL_MGMT");
    let a = ask(&p, &trail_only, json!({"kind": "top_principals"})).await;
    assert_eq!(a.error, "");
    let a = ask(&p, &trail_only, json!({"kind": "flow_volume"})).await;
    assert_eq!(
        a.error,
        "this datasource does not read vpc_flow (setting `allowedSources`: cloud_trail_mgmt); use a datasource that may, or ask an admin"
    );
    // So are the Route 53 kinds, variables and table.
    for q in [
        json!({"kind": "dns_queries"}),
        json!({"kind": "new_domains"}),
        json!({"kind": "dns_tunneling"}),
        json!({"kind": "variable", "values": "domains"}),
        json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(route53) WHERE $__partitionFilter"}),
    ] {
        let a = ask(&p, &trail_only, q.clone()).await;
        assert_eq!(
            a.error,
            "this datasource does not read route53 (setting `allowedSources`: cloud_trail_mgmt); use a datasource that may, or ask an admin",
            "{q}"
        );
    }
    let mut dns_only = settings("2");
    dns_only["allowedSources"] = json!("route53");
    let a = ask(&p, &dns_only, json!({"kind": "top_domains"})).await;
    assert_eq!(a.error, "");
    // And the WAF kinds, variables and table.
    for q in [
        json!({"kind": "waf_requests"}),
        json!({"kind": "top_blocked", "by": "rules"}),
        json!({"kind": "rate_limited"}),
        json!({"kind": "variable", "values": "web_acls"}),
        json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(waf) WHERE $__partitionFilter"}),
    ] {
        let a = ask(&p, &dns_only, q.clone()).await;
        assert_eq!(
            a.error,
            "this datasource does not read waf (setting `allowedSources`: route53); use a datasource that may, or ask an admin",
            "{q}"
        );
    }
    let mut web_only = settings("2");
    web_only["allowedSources"] = json!(["waf"]);
    let a = ask(&p, &web_only, json!({"kind": "top_blocked"})).await;
    assert_eq!(a.error, "");
    assert!(
        !a.frames[0].fields.is_empty(),
        "the fixture lake has WAF logs"
    );
    let a = ask(&p, &web_only, json!({"kind": "dns_queries"})).await;
    assert_eq!(
        a.error,
        "this datasource does not read route53 (setting `allowedSources`: waf); use a datasource that may, or ask an admin"
    );
    // So are the data-event kinds, variables and tables, and the EKS audit table.
    for (q, source) in [
        (json!({"kind": "s3_data_access"}), "s3_data"),
        (
            json!({"kind": "lambda_invocations", "format": "table"}),
            "lambda_execution",
        ),
        (json!({"kind": "variable", "values": "buckets"}), "s3_data"),
        (
            json!({"kind": "variable", "values": "functions"}),
            "lambda_execution",
        ),
        (
            json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(s3_data) WHERE $__partitionFilter"}),
            "s3_data",
        ),
        (
            json!({"kind": "sql", "rawSql": "SELECT count(*) AS n FROM $__table(eks_audit) WHERE $__partitionFilter"}),
            "eks_audit",
        ),
    ] {
        let a = ask(&p, &trail_only, q.clone()).await;
        assert_eq!(
            a.error,
            format!("this datasource does not read {source} (setting `allowedSources`: cloud_trail_mgmt); use a datasource that may, or ask an admin"),
            "{q}"
        );
    }
    let mut data_only = settings("1");
    data_only["allowedSources"] = json!("s3_data, LAMBDA_EXECUTION");
    for q in [
        json!({"kind": "s3_data_access", "format": "table"}),
        json!({"kind": "lambda_invocations"}),
    ] {
        let a = ask(&p, &data_only, q.clone()).await;
        assert_eq!(a.error, "", "{q}");
    }
    let mut bad = settings("2");
    bad["allowedSources"] = json!(["cloudtrail"]);
    let a = ask(&p, &bad, json!({"kind": "flow_volume"})).await;
    assert_eq!(
        a.error,
        "datasource setting `allowedSources` has the value \"cloudtrail\": expected a Security Lake source: vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution or eks_audit"
    );
}
