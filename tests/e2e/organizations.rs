//! End-to-end: account names from AWS Organizations (`organizationAccountNames`), the
//! organisation walked through the real SDK on moto, the names on the frames of an Athena panel.

use std::collections::BTreeMap;

use crate::athena::{workgroup_with_results, DATABASE, FINDINGS_V2, FLOW_V2};
use crate::common::moto::{
    athena_v2_settings, cells, flow_volume_result, hour, probe_result, Moto, DEFAULT_ACCOUNT, FROM,
    KEY, REGION, TO,
};
use crate::common::query;
use aws_sdk_organizations::types::OrganizationFeatureSet;
use serde_json::json;

/// The CloudTrail management events table, so that the health check has nothing to say of it.
const TRAIL_V2: &str = "amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0";

/// The Route 53 Resolver query logs table, for the same reason.
const DNS_V2: &str = "amazon_security_lake_table_us_east_1_route53_2_0";

/// Creates the organisation: `prod-payments` in the OU `Workloads`, `sandbox` under the root.
/// Returns their ids.
async fn organization(moto: &Moto) -> (String, String) {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config(KEY).await);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let roots = org.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_string();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("Workloads")
        .send()
        .await
        .unwrap();
    let ou = ou.organizational_unit().unwrap().id().unwrap().to_string();
    let mut ids = Vec::new();
    for name in ["prod-payments", "sandbox"] {
        let created = org
            .create_account()
            .email(format!("{name}@example.com"))
            .account_name(name)
            .send()
            .await
            .unwrap();
        let status = created.create_account_status().unwrap();
        ids.push(status.account_id().unwrap().to_string());
    }
    org.move_account()
        .account_id(&ids[0])
        .source_parent_id(&root)
        .destination_parent_id(&ou)
        .send()
        .await
        .unwrap();
    (ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn accounts_are_named_from_the_organization_and_account_names_win() {
    let moto = Moto::start();
    workgroup_with_results(&moto).await;
    moto.seed_glue(KEY, DATABASE, &[FLOW_V2, FINDINGS_V2, TRAIL_V2, DNS_V2])
        .await;
    let p = crate::common::plugin().await;
    let settings = |extra: serde_json::Value| {
        let mut s = athena_v2_settings(
            &moto,
            json!({"workgroup": "lakewatch", "organizationAccountNames": true}),
        );
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    };

    // No organisation yet: the datasource works, the health check says why nothing is named.
    moto.seed_athena(DEFAULT_ACCOUNT, REGION, &[probe_result()]);
    let (status, message) = p.check_health(&settings(json!({}))).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert!(
        message.contains(", amazon_security_lake_glue_db_us_east_1 (cloud_trail_mgmt 2.0, route53 2.0, sh_findings 2.0, vpc_flow 2.0); no account names: the datasource's AWS account is not in an organization, so AWS Organizations names no accounts; name them with accountNames or turn organizationAccountNames off; no waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row"),
        "{message}"
    );

    let (prod, sandbox) = organization(&moto).await;
    moto.seed_athena(DEFAULT_ACCOUNT, REGION, &[probe_result()]);
    let (status, message) = p.check_health(&settings(json!({}))).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert!(
        message.contains("(cloud_trail_mgmt 2.0, route53 2.0, sh_findings 2.0, vpc_flow 2.0); AWS Organizations names 3 accounts in 1 OU; no waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row"),
        "the two accounts and the management account: {message}"
    );

    // A panel by account: the organisation's names, the datasource's own name for sandbox,
    // and an account the organisation does not know keeps its id alone.
    let stranger = "999988887777";
    moto.seed_athena(
        DEFAULT_ACCOUNT,
        REGION,
        &[flow_volume_result(vec![
            cells(&[&hour(0), &prod, "10"]),
            cells(&[&hour(0), &sandbox, "20"]),
            cells(&[&hour(1), stranger, "30"]),
        ])],
    );
    let with_own_name =
        settings(json!({"accountNames": {sandbox.clone(): "sandbox-by-the-admin"}}));
    let q = json!({"kind": "flow_volume", "group_by": ["account"]});
    let answer = p
        .query(&with_own_name, &[query("A", q, FROM, TO, 3_600_000)], &[])
        .await
        .unwrap();
    assert_eq!(answer["A"].error, "");
    let labels: Vec<BTreeMap<String, String>> = answer["A"].frames[0].fields[1..]
        .iter()
        .map(|f| f.labels.clone().into_iter().collect())
        .collect();
    let label = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut want = vec![
        label(&[
            ("account", &prod),
            ("account_name", "prod-payments"),
            ("account_ou", "Workloads"),
        ]),
        label(&[
            ("account", &sandbox),
            ("account_name", "sandbox-by-the-admin"),
        ]),
        label(&[("account", stranger)]),
    ];
    want.sort();
    let mut got = labels;
    got.sort();
    assert_eq!(got, want);
    p.stop().await;
}

/// An organisation wider than one walk may read: the walk stops at its request bound, keeps
/// what it found and says so.
#[tokio::test]
async fn a_walk_stops_at_its_request_bound_and_says_so() {
    let moto = Moto::start();
    workgroup_with_results(&moto).await;
    moto.seed_glue(KEY, DATABASE, &[FLOW_V2, FINDINGS_V2, TRAIL_V2, DNS_V2])
        .await;
    organization(&moto).await;
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config(KEY).await);
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    // 2 requests per OU (its accounts, its child OUs): 110 more OUs need over 200.
    for i in 0..110 {
        org.create_organizational_unit()
            .parent_id(&root)
            .name(format!("team-{i:03}"))
            .send()
            .await
            .unwrap();
    }
    let p = crate::common::plugin().await;
    let settings = athena_v2_settings(
        &moto,
        json!({"workgroup": "lakewatch", "organizationAccountNames": true}),
    );
    moto.seed_athena(DEFAULT_ACCOUNT, REGION, &[probe_result()]);
    let (status, message) = p.check_health(&settings).await.unwrap();
    assert_eq!(status, 1, "{message}");
    assert!(
        message.contains(
            "(the walk stopped at its bound of 200 requests: the rest keep their ids); no waf 2.0, s3_data 2.0, lambda_execution 2.0, eks_audit 2.0 tables (queries that read them fail until those sources are enabled in Security Lake); a one-row"
        ),
        "{message}"
    );
    p.stop().await;
}
