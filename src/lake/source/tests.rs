//! Every description is complete for both versions and agrees with the tables the demo
//! generator writes.

use std::collections::BTreeSet;

use arrow::datatypes::{DataType, Schema};

use super::*;

const VERSIONS: [SourceVersion; 2] = [SourceVersion::V1, SourceVersion::V2];

#[test]
fn sources_are_listed_once_and_keyed_to_themselves() {
    let parts: BTreeSet<&str> = SOURCES.iter().map(|s| s.table_part).collect();
    let apis: BTreeSet<&str> = SOURCES.iter().map(|s| s.api_name).collect();
    assert_eq!(parts.len(), SOURCES.len(), "table parts are unique");
    assert_eq!(apis.len(), SOURCES.len(), "API names are unique");
    for spec in SOURCES {
        assert!(
            std::ptr::eq(spec.source.spec(), spec),
            "{}",
            spec.table_part
        );
        assert_eq!(spec.api_name.to_ascii_lowercase(), spec.table_part);
        assert!(!spec.partitions.is_empty(), "{}", spec.table_part);
    }
}

#[test]
fn every_dimension_and_measure_is_named_once_and_placed_in_both_versions() {
    for spec in SOURCES {
        let mut names = BTreeSet::new();
        for d in spec.dimensions {
            for name in std::iter::once(&d.name).chain(d.aliases) {
                assert!(names.insert(*name), "{}: {name} twice", spec.table_part);
            }
            assert!(!d.about.is_empty(), "{}.{}", spec.table_part, d.name);
            for version in VERSIONS {
                let expr = d.expr.of(version);
                let placed = matches!(expr, ColumnExpr::Partition(_)) || !expr.columns().is_empty();
                assert!(placed, "{}.{} v{version}", spec.table_part, d.name);
                assert!(expr.columns().iter().all(|p| !p.is_empty()));
            }
        }
        let mut measures = BTreeSet::new();
        for m in spec.measures {
            assert!(
                measures.insert(m.name),
                "{}: {} twice",
                spec.table_part,
                m.name
            );
            assert!(!m.unit.is_empty() && !m.about.is_empty(), "{}", m.name);
            for version in VERSIONS {
                if let MeasureAggregate::Sum(path)
                | MeasureAggregate::CountWhere { column: path, .. } = m.aggregate.of(version)
                {
                    assert!(
                        !path.is_empty(),
                        "{}.{} v{version}",
                        spec.table_part,
                        m.name
                    );
                }
            }
        }
        let record = spec.record.of(SourceVersion::V2);
        assert!(
            record.time_dt.is_some(),
            "v2 tables are Iceberg, partitioned on time_dt"
        );
    }
}

#[test]
fn source_names_parse_in_table_and_api_spelling() {
    assert_eq!(parse_source("vpc_flow"), Ok(Source::VpcFlow));
    assert_eq!(parse_source("'SH_FINDINGS'"), Ok(Source::ShFindings));
    assert_eq!(parse_source("Vpc_Flow"), Ok(Source::VpcFlow));
    assert_eq!(parse_source("Cloud_Trail_Mgmt"), Ok(Source::CloudTrailMgmt));
    assert_eq!(
        parse_source("cloud_trail"),
        Err(
            "expected a Security Lake source: vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution or eks_audit"
                .to_string()
        )
    );
    assert_eq!(parse_source("WAF"), Ok(Source::Waf));
    assert_eq!(parse_source("S3_DATA"), Ok(Source::S3Data));
    assert_eq!(
        parse_source("lambda_execution"),
        Ok(Source::LambdaExecution)
    );
    assert_eq!(parse_source("eks_audit"), Ok(Source::EksAudit));
    assert_eq!(parse_source("ROUTE53"), Ok(Source::Route53));
    assert_eq!(
        source_names(" or "),
        "vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution or eks_audit"
    );
}

/// The Arrow schema the demo generator writes for a source (no partition columns).
fn demo_schema(generator: DemoGenerator, version: SourceVersion) -> std::sync::Arc<Schema> {
    match generator {
        DemoGenerator::Flows => crate::demo::flow_batch(version, &[]),
        DemoGenerator::Findings => crate::demo::findings_batch(version, &[]),
        DemoGenerator::Trail => crate::demo::trail_batch(version, &[]),
        DemoGenerator::Dns => crate::demo::dns_batch(version, &[]),
        DemoGenerator::Waf => crate::demo::waf_batch(&[]),
        DemoGenerator::S3Data | DemoGenerator::Lambda => {
            crate::demo::data_event_batch(version, &[])
        }
        DemoGenerator::Absent => return std::sync::Arc::new(Schema::empty()),
    }
    .expect("an empty batch encodes")
    .schema()
}

/// The type of a nested column, walking struct fields.
fn column_type(schema: &Schema, path: ColumnPath) -> Option<DataType> {
    let mut ty = schema.field_with_name(path[0]).ok()?.data_type().clone();
    for part in &path[1..] {
        ty = match ty {
            DataType::Struct(fields) => fields.find(part)?.1.data_type().clone(),
            _ => return None,
        };
    }
    Some(ty)
}

/// Whether an expression reads only columns the schema has, of the right kind.
fn resolves(schema: &Schema, expr: &ColumnExpr) -> bool {
    match expr {
        ColumnExpr::Partition(_) => true,
        ColumnExpr::Column(path)
        | ColumnExpr::Labels { column: path, .. }
        | ColumnExpr::Segment { column: path, .. }
        | ColumnExpr::AfterFirst { column: path, .. } => column_type(schema, path).is_some(),
        ColumnExpr::Flag { column, .. } => {
            matches!(column_type(schema, column), Some(DataType::Boolean))
        }
        ColumnExpr::Coalesce(any) => any.iter().all(|e| resolves(schema, e)),
        ColumnExpr::MapValue { map, .. } => {
            matches!(column_type(schema, map), Some(DataType::Map(..)))
        }
        ColumnExpr::FirstItem(list) => match column_type(schema, list) {
            Some(DataType::List(item)) => item.data_type() == &DataType::Utf8,
            _ => false,
        },
        ColumnExpr::FirstOf { list, field } | ColumnExpr::ArnPart { list, field, .. } => {
            match column_type(schema, list) {
                Some(DataType::List(item)) => {
                    matches!(item.data_type(), DataType::Struct(f) if f.find(field).is_some())
                }
                _ => false,
            }
        }
    }
}

/// Everything a source's description and its typed column map place in a version.
fn described(spec: &SourceSpec, version: SourceVersion) -> Vec<ColumnExpr> {
    let record = spec.record.of(version);
    let mut paths = vec![record.time_ms, record.account_uid, record.region];
    paths.extend(record.time_dt);
    let mut exprs_of_measures = Vec::new();
    for m in spec.measures {
        match m.aggregate.of(version) {
            MeasureAggregate::Sum(path) | MeasureAggregate::CountWhere { column: path, .. } => {
                paths.push(path)
            }
            MeasureAggregate::CountDistinct(expr) => exprs_of_measures.push(expr),
            _ => {}
        }
    }
    let mut exprs: Vec<ColumnExpr> = spec.dimensions.iter().map(|d| d.expr.of(version)).collect();
    exprs.extend(exprs_of_measures);
    match spec.source {
        Source::VpcFlow => {
            let c = FlowColumns::of(version);
            paths.extend([
                c.end_time,
                c.action_id,
                c.src_port,
                c.direction_id,
                c.boundary_id,
            ]);
            exprs.extend(flow_log_fields(version).into_iter().map(|(_, e)| e));
        }
        Source::ShFindings => {
            let c = FindingColumns::of(version);
            paths.extend([c.finding_uid, c.status]);
            exprs.extend([c.resource_uid, c.resource_type, c.record_state]);
        }
        Source::Route53 => {
            let c = crate::lake::DnsColumns::of(version);
            paths.extend([c.rcode, c.rcode_id, c.hostname, c.answers]);
        }
        Source::Waf => {
            let c = super::waf::COLUMNS;
            paths.extend([c.user_agent, c.response_code, c.disposition_id]);
        }
        Source::EksAudit => return Vec::new(),
        Source::S3Data | Source::LambdaExecution => {
            let c = DataColumns::of(version);
            paths.extend([c.activity_id, c.trail.operation, c.trail.status_id]);
        }
        Source::CloudTrailMgmt => {
            let c = TrailColumns::of(version);
            paths.extend([
                c.class_uid,
                c.service,
                c.operation,
                c.error_code,
                c.error_message,
                c.status_id,
                c.principal,
                c.principal_id,
                c.principal_name,
                c.principal_type,
                c.access_key,
                c.session_issuer,
                c.invoked_by,
                c.src_ip,
                c.src_domain,
                c.user_agent,
                c.target_user,
                c.request_uid,
                c.event_uid,
            ]);
            exprs.push(ColumnExpr::Flag {
                column: c.session_mfa,
                yes: "yes",
                no: "no",
                unknown: "unknown",
            });
            exprs.push(ColumnExpr::Flag {
                column: c.mfa,
                yes: "yes",
                no: "no",
                unknown: "unknown",
            });
        }
    }
    exprs.extend(paths.into_iter().map(ColumnExpr::Column));
    exprs
}

#[test]
fn every_described_column_is_in_the_demo_tables_of_its_version() {
    for spec in SOURCES {
        for version in VERSIONS {
            let schema = demo_schema(spec.demo, version);
            let missing = ColumnExpr::Column(&["cloud", "no_such"]);
            assert!(!resolves(&schema, &missing), "the check can fail");
            for expr in described(spec, version) {
                assert!(
                    resolves(&schema, &expr),
                    "{} v{version}: {expr:?} is not in the demo table",
                    spec.table_part,
                );
            }
        }
    }
}

#[test]
fn waf_has_a_table_in_source_version_2_only() {
    assert!(Source::Waf.has_version(SourceVersion::V2));
    assert_eq!(Source::Waf.check_version(SourceVersion::V2), Ok(()));
    assert_eq!(
        Source::Waf.check_version(SourceVersion::V1),
        Err("WAF logs exist only in source version 2: Security Lake has no waf_1_0 table, and this datasource reads source version 1; use a datasource set to source version 2".to_string())
    );
    assert!(SOURCES
        .iter()
        .filter(|s| s.source != Source::Waf && s.source != Source::EksAudit)
        .all(|s| s.source.check_version(SourceVersion::V1).is_ok()));
    assert_eq!(
        Source::EksAudit.check_version(SourceVersion::V1),
        Err("EKS_AUDIT logs exist only in source version 2: Security Lake has no eks_audit_1_0 table, and this datasource reads source version 1; use a datasource set to source version 2".to_string())
    );
}
