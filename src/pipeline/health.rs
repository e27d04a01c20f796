//! The datasource's health check: its setup and tables as the engine sees them, then one tiny
//! query pruned like every panel's.

use chrono::Utc;

use crate::engine::{Engine, EngineRequest};
use crate::lake::discovery::Origin;
use crate::settings::Settings;

use super::{prepare, required_tables, resolve_lake, PanelRequest, QueryFailure};

/// The health check: the engine's own checks of its setup and the lake's tables (after source
/// version discovery), then a tiny pruned query. Ok: what was found; Err: what is wrong and what
/// to do.
pub async fn health(engine: &dyn Engine, mut settings: Settings) -> Result<String, String> {
    let resolution = resolve_lake(engine, &mut settings, true)
        .await
        .map_err(|e| e.to_string())?;
    let discovered = resolution.as_ref().is_some_and(|r| r.version_discovered);
    let origin = resolution
        .as_ref()
        .filter(|r| r.origin != Origin::SecurityLake)
        .map_or_else(String::new, |r| format!("; {}", r.origin_text()));
    let found = engine
        .check(&required_tables(&settings))
        .await
        .map_err(|e| e.to_string())?;
    let missing = resolution.as_ref().map_or_else(String::new, |r| {
        missing_optional(&r.catalog, settings.source_version)
    });
    let took = probe(engine, &settings).await.map_err(|f| f.message)?;
    Ok(format!(
        "Lakewatch is ready: {found}{missing}; {took}; source version {}{}, tables in {}{origin}",
        settings.source_version,
        if discovered { " (discovered)" } else { "" },
        settings.home_region
    ))
}

/// `; no cloud_trail_mgmt 2.0 table (…)`: the optional sources the database lacks in the
/// version queried, whose queries (kinds, variables, raw SQL) fail until an admin enables them.
fn missing_optional(
    catalog: &crate::lake::catalog::Catalog,
    version: crate::lake::SourceVersion,
) -> String {
    let missing: Vec<String> = crate::lake::SOURCES
        .iter()
        .filter(|s| s.optional && s.source.has_version(version))
        .filter(|s| !catalog.versions(s.source).contains(&version))
        .map(|s| format!("{} {}", s.table_part, version.dir()))
        .collect();
    if missing.is_empty() {
        return String::new();
    }
    let (table, them) = if missing.len() == 1 {
        ("table", "that read it fail until the source is")
    } else {
        ("tables", "that read them fail until those sources are")
    };
    format!(
        "; no {} {table} (queries {them} enabled in Security Lake)",
        missing.join(", ")
    )
}

/// The health check's tiny query: a one-row flow search over the last hour, pruned like every
/// panel's; returns what it took, for the health message.
async fn probe(engine: &dyn Engine, settings: &Settings) -> Result<String, QueryFailure> {
    let to = Utc::now();
    let request = PanelRequest {
        ref_id: "health",
        json: br#"{"kind":"flow_search","limit":1}"#,
        from: to - chrono::Duration::hours(1),
        to,
        interval_ms: 60_000,
        max_data_points: 60,
    };
    let prepared = prepare(settings, engine.dialect(), &request)?;
    let output = engine
        .run(&EngineRequest {
            ref_id: "health".into(),
            sql: prepared.sql,
            tables: vec![prepared.plan.table.clone()],
            settled: false,
            row_limit: None,
        })
        .await
        .map_err(|e| QueryFailure {
            ref_id: "health".into(),
            fault: e.fault(),
            message: format!("the test query (one flow of the last hour) failed: {e}"),
        })?;
    Ok(format!(
        "a one-row flow search over the last hour took {} ms",
        output.elapsed.as_millis()
    ))
}
