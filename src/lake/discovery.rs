//! Where a datasource's tables are: the Glue database and each source's table. The settings win
//! when they name them; else Security Lake's own database for the rollup region when it holds
//! the tables; else the first database the credentials can see that holds Security Lake tables
//! or Lake Formation resource links to them (a subscriber's or delegated admin's own database).
//!
//! Glue calls per resolution: one GetTables (every page) when the database is named or Security
//! Lake's own has the tables; otherwise that GetTables, GetDatabases pages, and one GetTables per
//! database looked into (at most [`MAX_DATABASES`]).

use std::fmt;

use super::catalog::{Catalog, GlueTable};
use super::{database_name, LakeNames, Source, SourceVersion, SOURCES};
use crate::failure::EngineError;

/// The Glue calls discovery makes.
#[async_trait::async_trait]
pub trait GlueCatalog: Send + Sync {
    /// One page of GetDatabases: the names and the next page's token.
    async fn database_page(
        &self,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), EngineError>;
    /// GetTables, every page: a database's tables; None when the database does not exist.
    async fn glue_tables(&self, database: &str) -> Result<Option<Vec<GlueTable>>, EngineError>;
}

/// Most databases discovery lists and looks into (each costs a GetTables call); past it, the
/// message asks for the `database` setting.
pub const MAX_DATABASES: usize = 100;

/// Most database names a message lists.
pub const MAX_NAMED: usize = 20;

/// What a datasource asks for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// The names its settings give.
    pub names: &'a LakeNames,
    /// The rollup region (Security Lake's database and table names carry it).
    pub home_region: &'a str,
    /// The source version its settings set; None: the newest the database has.
    pub version: Option<SourceVersion>,
    /// Ask Glue again rather than reuse an earlier answer (the health check does).
    pub refresh: bool,
}

/// How the database was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The `database` setting named it.
    Setting,
    /// Security Lake's own database for the rollup region.
    SecurityLake,
    /// Found by looking through the databases the credentials can see.
    Discovered,
}

/// Where the tables are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// How the database was chosen.
    pub origin: Origin,
    /// The database and the Security Lake tables (or links to them) it holds.
    pub catalog: Catalog,
    /// The source version to query.
    pub version: SourceVersion,
    /// Whether the version was read from the tables found (the settings set none).
    pub version_discovered: bool,
    /// The database and each source's table (None: none found; Security Lake's name then
    /// stands, and the health check says it is missing).
    pub names: LakeNames,
}

impl Resolution {
    /// How the database was chosen, for the health message.
    pub fn origin_text(&self) -> String {
        let database = &self.catalog.database;
        match self.origin {
            Origin::Setting => format!("database {database} from the `database` setting"),
            Origin::SecurityLake => format!("database {database} (Security Lake's own)"),
            Origin::Discovered => format!(
                "database {database} found among the Glue databases (set `database` to skip the search)"
            ),
        }
    }
}

/// The databases the credentials can see, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Their names, in Glue's order.
    pub names: Vec<String>,
    /// Whether the listing stopped at [`MAX_DATABASES`].
    pub cut: bool,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.names.is_empty() {
            return f.write_str("the credentials see no Glue databases");
        }
        let named: Vec<String> = self
            .names
            .iter()
            .take(MAX_NAMED)
            .map(|n| format!("`{n}`"))
            .collect();
        let first = if self.cut {
            format!(" (the first {MAX_DATABASES})")
        } else {
            String::new()
        };
        write!(f, "databases seen{first}: {}", named.join(", "))?;
        match self.names.len().saturating_sub(MAX_NAMED) {
            0 => Ok(()),
            more => write!(f, " and {more} more"),
        }
    }
}

/// Why no database could be chosen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DiscoveryError {
    /// The `database` setting names a database Glue does not have (or does not show).
    #[error("the Glue database `{database}` (setting `database`) does not exist or the credentials cannot see it ({seen}); set `database` to one of them, or grant the role Lake Formation DESCRIBE on `{database}`")]
    DatabaseMissing {
        /// The setting's value.
        database: String,
        /// What Glue showed.
        seen: Seen,
    },
    /// No database holds Security Lake tables or links to them.
    #[error("no Security Lake tables found: the Glue database `{default}` does not exist in {region}, and no other database holds Security Lake tables or resource links to them ({seen}); check the rollup region setting and that Security Lake is enabled there, or set `database` to the database that holds the tables (and grant the role Lake Formation DESCRIBE on it)")]
    NothingFound {
        /// Security Lake's name for the region's database.
        default: String,
        /// The rollup region.
        region: String,
        /// What Glue showed.
        seen: Seen,
    },
    /// Security Lake's own database is missing and the databases could not be listed to look
    /// further (a role may query without glue:GetDatabases).
    #[error("the Glue database `{default}` does not exist in {region}, and Lakewatch could not list the Glue databases to look for the Security Lake tables elsewhere ({cause}); set `database` to the database that holds the tables or resource links to them, or allow the role glue:GetDatabases")]
    ListingFailed {
        /// Security Lake's name for the region's database.
        default: String,
        /// The rollup region.
        region: String,
        /// The failed call.
        cause: EngineError,
    },
    /// A Glue call failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl DiscoveryError {
    /// Who has to act: the admin for what Glue does not hold, else whoever the failed call
    /// names.
    pub fn fault(&self) -> crate::failure::Fault {
        match self {
            DiscoveryError::Engine(e) => e.fault(),
            _ => crate::failure::Fault::User,
        }
    }
}

/// Finds the database and tables a datasource queries.
pub async fn resolve(
    glue: &dyn GlueCatalog,
    wanted: Wanted<'_>,
) -> Result<Resolution, DiscoveryError> {
    let (catalog, origin) = match &wanted.names.database {
        Some(database) => match glue.glue_tables(database).await? {
            Some(tables) => (Catalog::from_tables(database, &tables), Origin::Setting),
            None => {
                return Err(DiscoveryError::DatabaseMissing {
                    database: database.clone(),
                    seen: list_databases(glue).await?,
                })
            }
        },
        None => find_database(glue, wanted.home_region).await?,
    };
    Ok(choose_tables(catalog, origin, wanted))
}

/// Security Lake's own database when it holds the tables, else the first database that does
/// (one with the rollup region's tables first), else Security Lake's own when it exists at all.
async fn find_database(
    glue: &dyn GlueCatalog,
    region: &str,
) -> Result<(Catalog, Origin), DiscoveryError> {
    let default = database_name(region);
    let own = glue
        .glue_tables(&default)
        .await?
        .map(|tables| Catalog::from_tables(&default, &tables));
    if let Some(own) = own.as_ref().filter(|c| !c.tables.is_empty()) {
        return Ok((own.clone(), Origin::SecurityLake));
    }
    let seen = match list_databases(glue).await {
        Ok(seen) => seen,
        Err(cause) if own.is_none() => {
            return Err(DiscoveryError::ListingFailed {
                default,
                region: region.to_string(),
                cause,
            })
        }
        Err(e) => return Err(e.into()),
    };
    let mut other_region = None;
    for database in seen.names.iter().filter(|d| **d != default) {
        // A database the role may not describe is skipped, not fatal: others may serve.
        let tables = match glue.glue_tables(database).await {
            Ok(Some(tables)) => tables,
            Ok(None) => continue,
            Err(e) => {
                tracing::debug!(%database, error = %e, "skipped in table discovery");
                continue;
            }
        };
        let catalog = Catalog::from_tables(database, &tables);
        if catalog.tables.iter().any(|t| t.region == region) {
            return Ok((catalog, Origin::Discovered));
        }
        if other_region.is_none() && !catalog.tables.is_empty() {
            other_region = Some(catalog);
        }
    }
    match (other_region, own) {
        (Some(catalog), _) => Ok((catalog, Origin::Discovered)),
        (None, Some(own)) => Ok((own, Origin::SecurityLake)),
        (None, None) => Err(DiscoveryError::NothingFound {
            default,
            region: region.to_string(),
            seen,
        }),
    }
}

/// GetDatabases page by page, up to [`MAX_DATABASES`] names.
async fn list_databases(glue: &dyn GlueCatalog) -> Result<Seen, EngineError> {
    let mut names = Vec::new();
    let mut next = None;
    loop {
        let (page, token) = glue.database_page(next).await?;
        names.extend(page);
        if names.len() > MAX_DATABASES {
            names.truncate(MAX_DATABASES);
            return Ok(Seen { names, cut: true });
        }
        match token {
            Some(token) if !token.is_empty() => next = Some(token),
            _ => return Ok(Seen { names, cut: false }),
        }
    }
}

/// Each source's table in the chosen database, and the version to query.
fn choose_tables(catalog: Catalog, origin: Origin, wanted: Wanted<'_>) -> Resolution {
    let found = wanted.version.is_none().then(|| {
        let version_of = |source: Source| match wanted.names.named_table(source) {
            Some(name) => catalog
                .tables
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.version),
            None => catalog.versions(source).last().copied(),
        };
        SOURCES.iter().find_map(|s| version_of(s.source))
    });
    let found = found.flatten();
    let version = wanted.version.or(found).unwrap_or(SourceVersion::V2);
    let mut names = LakeNames {
        database: Some(catalog.database.clone()),
        ..LakeNames::default()
    };
    for source in SOURCES.iter().map(|s| s.source) {
        let name = match wanted.names.named_table(source) {
            Some(name) => Some(name.to_string()),
            None => catalog
                .table(source, version, wanted.home_region)
                .map(|t| t.name.clone()),
        };
        names.set_table(source, name);
    }
    Resolution {
        origin,
        catalog,
        version,
        version_discovered: found.is_some(),
        names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::catalog::TargetTable;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A catalogue in memory that counts its calls and serves databases two per page.
    #[derive(Default)]
    struct FakeGlue {
        databases: BTreeMap<String, Vec<GlueTable>>,
        calls: AtomicUsize,
        /// GetDatabases is denied.
        denied: bool,
    }

    impl FakeGlue {
        fn with(mut self, database: &str, tables: Vec<GlueTable>) -> Self {
            self.databases.insert(database.to_string(), tables);
            self
        }
    }

    #[async_trait::async_trait]
    impl GlueCatalog for FakeGlue {
        async fn database_page(
            &self,
            next: Option<String>,
        ) -> Result<(Vec<String>, Option<String>), EngineError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.denied {
                return Err(EngineError::Aws {
                    action: "GetDatabases",
                    message: "AccessDeniedException: not authorized".into(),
                    fault: crate::failure::Fault::User,
                });
            }
            let start: usize = next.map_or(0, |n| n.parse().unwrap());
            let names: Vec<String> = self.databases.keys().skip(start).take(2).cloned().collect();
            let more = start + 2 < self.databases.len();
            Ok((names, more.then(|| (start + 2).to_string())))
        }

        async fn glue_tables(&self, database: &str) -> Result<Option<Vec<GlueTable>>, EngineError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(self.databases.get(database).cloned())
        }
    }

    const FLOW: &str = "amazon_security_lake_table_us_east_1_vpc_flow_2_0";
    const FINDINGS_V1: &str = "amazon_security_lake_table_us_east_1_sh_findings_1_0";
    const OWN: &str = "amazon_security_lake_glue_db_us_east_1";

    fn link(name: &str, target: &str) -> GlueTable {
        GlueTable {
            name: name.into(),
            target: Some(TargetTable {
                catalog_id: Some("999988887777".into()),
                database: OWN.into(),
                name: target.into(),
            }),
        }
    }

    async fn resolve_with(
        glue: &FakeGlue,
        names: &LakeNames,
        version: Option<SourceVersion>,
    ) -> Result<Resolution, DiscoveryError> {
        resolve(
            glue,
            Wanted {
                names,
                home_region: "us-east-1",
                version,
                refresh: false,
            },
        )
        .await
    }

    #[tokio::test]
    async fn security_lake_s_own_database_wins_with_one_call() {
        let glue = FakeGlue::default()
            .with("analytics", vec![link("vpc_flow", FLOW)])
            .with(OWN, vec![GlueTable::named(FLOW)]);
        let r = resolve_with(&glue, &LakeNames::default(), None)
            .await
            .unwrap();
        assert_eq!(r.origin, Origin::SecurityLake);
        assert_eq!(r.names.database.as_deref(), Some(OWN));
        assert_eq!(r.names.vpc_flow.as_deref(), Some(FLOW));
        assert_eq!(r.names.sh_findings, None);
        assert_eq!((r.version, r.version_discovered), (SourceVersion::V2, true));
        assert_eq!(glue.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn resource_links_are_discovered_in_another_database() {
        let glue = FakeGlue::default()
            .with("aaa", vec![GlueTable::named("notes")])
            .with("bbb", vec![])
            .with(
                "security_analytics",
                vec![
                    link("flows", FLOW),
                    link("findings", FINDINGS_V1),
                    GlueTable::named("notes"),
                ],
            );
        let r = resolve_with(&glue, &LakeNames::default(), None)
            .await
            .unwrap();
        assert_eq!(r.origin, Origin::Discovered);
        assert_eq!(r.names.database.as_deref(), Some("security_analytics"));
        assert_eq!(r.names.vpc_flow.as_deref(), Some("flows"));
        // The version follows the flow table; findings have no v2 link.
        assert_eq!(r.version, SourceVersion::V2);
        assert_eq!(r.names.sh_findings, None);
        // GetTables on the own database, two GetDatabases pages, three GetTables.
        assert_eq!(glue.calls.load(Ordering::SeqCst), 6);
        let r = resolve_with(&glue, &LakeNames::default(), Some(SourceVersion::V1))
            .await
            .unwrap();
        assert_eq!(
            (r.names.vpc_flow, r.names.sh_findings.as_deref()),
            (None, Some("findings"))
        );
    }

    #[tokio::test]
    async fn named_database_and_tables_win() {
        let glue = FakeGlue::default()
            .with(OWN, vec![GlueTable::named(FLOW)])
            .with("mine", vec![link("f", FINDINGS_V1), GlueTable::named("x")]);
        let names = LakeNames {
            database: Some("mine".into()),
            vpc_flow: Some("x".into()),
            sh_findings: Some("f".into()),
            cloud_trail_mgmt: None,
            route53: None,
            waf: None,
            s3_data: None,
            lambda_execution: None,
            eks_audit: None,
        };
        let r = resolve_with(&glue, &names, None).await.unwrap();
        assert_eq!(r.origin, Origin::Setting);
        assert_eq!(r.names, names);
        // `x` is not a Security Lake table: the version comes from the findings link.
        assert_eq!((r.version, r.version_discovered), (SourceVersion::V1, true));
        assert_eq!(glue.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn nothing_found_lists_what_was_seen() {
        let glue = FakeGlue::default()
            .with("default", vec![GlueTable::named("notes")])
            .with("sales", vec![]);
        let e = resolve_with(&glue, &LakeNames::default(), None)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no Security Lake tables found: the Glue database `amazon_security_lake_glue_db_us_east_1` does not exist in us-east-1, and no other database holds Security Lake tables or resource links to them (databases seen: `default`, `sales`); check the rollup region setting and that Security Lake is enabled there, or set `database` to the database that holds the tables (and grant the role Lake Formation DESCRIBE on it)"
        );
        let names = LakeNames {
            database: Some("nosuch".into()),
            ..LakeNames::default()
        };
        let e = resolve_with(&glue, &names, None).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "the Glue database `nosuch` (setting `database`) does not exist or the credentials cannot see it (databases seen: `default`, `sales`); set `database` to one of them, or grant the role Lake Formation DESCRIBE on `nosuch`"
        );
    }

    #[tokio::test]
    async fn a_denied_listing_asks_for_the_database_setting() {
        let glue = FakeGlue {
            denied: true,
            ..FakeGlue::default()
        };
        let e = resolve_with(&glue, &LakeNames::default(), None)
            .await
            .unwrap_err();
        assert_eq!(e.fault(), crate::failure::Fault::User);
        assert_eq!(
            e.to_string(),
            "the Glue database `amazon_security_lake_glue_db_us_east_1` does not exist in us-east-1, and Lakewatch could not list the Glue databases to look for the Security Lake tables elsewhere (AWS GetDatabases failed: AccessDeniedException: not authorized); set `database` to the database that holds the tables or resource links to them, or allow the role glue:GetDatabases"
        );
    }

    #[tokio::test]
    async fn the_listing_is_bounded() {
        let mut glue = FakeGlue::default();
        for i in 0..MAX_DATABASES + 5 {
            glue = glue.with(&format!("db{i:03}"), vec![]);
        }
        let e = resolve_with(&glue, &LakeNames::default(), None)
            .await
            .unwrap_err();
        let DiscoveryError::NothingFound { seen, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!((seen.names.len(), seen.cut), (MAX_DATABASES, true));
        assert!(
            e.to_string()
                .contains("(databases seen (the first 100): `db000`, `db001`,"),
            "{e}"
        );
        assert!(e.to_string().contains("`db019` and 80 more); check"), "{e}");
    }
}
