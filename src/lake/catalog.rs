//! What a Glue database holds: which Security Lake tables exist, for which source and source
//! version, directly or as Lake Formation resource links to them. Fed with the tables Glue lists;
//! knows nothing of how they were listed.

use super::{Source, SourceVersion, SOURCES};

/// A table as Glue GetTables lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlueTable {
    /// The table's name in its database.
    pub name: String,
    /// For a Lake Formation resource link, the table it links to (Glue's `TargetTable`).
    pub target: Option<TargetTable>,
}

impl GlueTable {
    /// A plain table (no link).
    pub fn named(name: impl Into<String>) -> Self {
        GlueTable {
            name: name.into(),
            target: None,
        }
    }
}

/// The table a resource link points at, possibly in another account's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetTable {
    /// The account whose Data Catalog holds it (None: Glue did not say).
    pub catalog_id: Option<String>,
    /// Its database.
    pub database: String,
    /// Its name.
    pub name: String,
}

/// A Security Lake table found in a Glue database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    /// The Glue table name (a resource link's own name: what SQL names).
    pub name: String,
    /// The Security Lake table a resource link points at; None for the table itself.
    pub target: Option<TargetTable>,
    /// The region in the name (the rollup region for rolled-up tables).
    pub region: String,
    /// The log source.
    pub source: Source,
    /// The source version.
    pub version: SourceVersion,
}

const PREFIX: &str = "amazon_security_lake_table_";

/// Reads `amazon_security_lake_table_<region>_<source>_<1_0|2_0>`; None for any other name and
/// for sources Lakewatch does not query.
pub fn parse_table_name(name: &str) -> Option<CatalogTable> {
    let rest = name.strip_prefix(PREFIX)?;
    let (rest, version) = [SourceVersion::V1, SourceVersion::V2]
        .into_iter()
        .find_map(|v| Some((rest.strip_suffix(v.suffix())?.strip_suffix('_')?, v)))?;
    let (region, source) = SOURCES.iter().find_map(|s| {
        Some((
            rest.strip_suffix(s.table_part)?.strip_suffix('_')?,
            s.source,
        ))
    })?;
    if region.is_empty() {
        return None;
    }
    Some(CatalogTable {
        name: name.to_string(),
        target: None,
        region: region.replace('_', "-"),
        source,
        version,
    })
}

/// The Security Lake tables of one Glue database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// The database.
    pub database: String,
    /// The Security Lake tables Lakewatch can query, sorted by name.
    pub tables: Vec<CatalogTable>,
}

impl Catalog {
    /// The catalogue of a database from the names of its tables (others are ignored).
    pub fn from_names<S: AsRef<str>>(database: &str, names: &[S]) -> Self {
        let tables: Vec<GlueTable> = names.iter().map(|n| GlueTable::named(n.as_ref())).collect();
        Catalog::from_tables(database, &tables)
    }

    /// The catalogue of a database from its tables: those named like Security Lake's, and
    /// resource links to such tables (read by their target's name); others are ignored.
    pub fn from_tables(database: &str, listed: &[GlueTable]) -> Self {
        let mut tables: Vec<CatalogTable> = listed.iter().filter_map(security_lake_table).collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Catalog {
            database: database.to_string(),
            tables,
        }
    }

    /// Whether a table of that name is listed.
    pub fn has(&self, table: &str) -> bool {
        self.tables.iter().any(|t| t.name == table)
    }

    /// The versions in which a source has a table, oldest first.
    pub fn versions(&self, source: Source) -> Vec<SourceVersion> {
        let mut versions: Vec<SourceVersion> = self
            .tables
            .iter()
            .filter(|t| t.source == source)
            .map(|t| t.version)
            .collect();
        versions.sort();
        versions.dedup();
        versions
    }

    /// The source version to query when the settings name none: the newest version that has a
    /// table of the first source (VPC flow), else of the next, and so on.
    pub fn preferred_version(&self) -> Option<SourceVersion> {
        SOURCES
            .iter()
            .find_map(|s| self.versions(s.source).last().copied())
    }

    /// The table of a source in a version, preferring one of `region` (a database may hold
    /// several regions' links).
    pub fn table(
        &self,
        source: Source,
        version: SourceVersion,
        region: &str,
    ) -> Option<&CatalogTable> {
        let of = || {
            self.tables
                .iter()
                .filter(move |t| t.source == source && t.version == version)
        };
        of().find(|t| t.region == region).or_else(|| of().next())
    }

    /// `vpc_flow 2.0, sh_findings 1.0`: what was found, for messages.
    pub fn describe(&self) -> String {
        if self.tables.is_empty() {
            return "no Security Lake tables".to_string();
        }
        self.tables
            .iter()
            .map(CatalogTable::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A listed table as a Security Lake one: by its own name, else by its link's target's name.
fn security_lake_table(table: &GlueTable) -> Option<CatalogTable> {
    if let Some(found) = parse_table_name(&table.name) {
        return Some(CatalogTable {
            target: table.target.clone(),
            ..found
        });
    }
    let target = table.target.as_ref()?;
    let found = parse_table_name(&target.name)?;
    Some(CatalogTable {
        name: table.name.clone(),
        target: Some(target.clone()),
        ..found
    })
}

impl CatalogTable {
    /// `vpc_flow 2.0`, or for a link `vpc_flow 2.0 via resource link `x` → `db`.`t` in account
    /// N`.
    pub fn describe(&self) -> String {
        let what = format!("{} {}", self.source.table_part(), self.version.dir());
        match &self.target {
            None => what,
            Some(t) => {
                let account = t
                    .catalog_id
                    .as_deref()
                    .map_or_else(String::new, |a| format!(" in account {a}"));
                format!(
                    "{what} via resource link `{}` → `{}`.`{}`{account}",
                    self.name, t.database, t.name
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_read_back() {
        let t = parse_table_name("amazon_security_lake_table_us_east_1_vpc_flow_2_0").unwrap();
        assert_eq!(
            (t.region.as_str(), t.source, t.version),
            ("us-east-1", Source::VpcFlow, SourceVersion::V2)
        );
        let t =
            parse_table_name("amazon_security_lake_table_ap_southeast_2_sh_findings_1_0").unwrap();
        assert_eq!(
            (t.region.as_str(), t.source, t.version),
            ("ap-southeast-2", Source::ShFindings, SourceVersion::V1)
        );
        let t =
            parse_table_name("amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_1_0").unwrap();
        assert_eq!(
            (t.region.as_str(), t.source, t.version),
            ("eu-west-1", Source::CloudTrailMgmt, SourceVersion::V1)
        );
        let t = parse_table_name("amazon_security_lake_table_us_east_1_s3_data_2_0").unwrap();
        assert_eq!(
            (t.region.as_str(), t.source, t.version),
            ("us-east-1", Source::S3Data, SourceVersion::V2)
        );
        for other in [
            "amazon_security_lake_table_us_east_1_appfabric_2_0",
            "amazon_security_lake_table_vpc_flow_2_0",
            "amazon_security_lake_table_us_east_1_vpc_flow_3_0",
            "my_table",
        ] {
            assert_eq!(parse_table_name(other), None, "{other}");
        }
    }

    #[test]
    fn the_preferred_version_follows_the_flow_table() {
        let c = Catalog::from_names(
            "db",
            &[
                "amazon_security_lake_table_us_east_1_sh_findings_2_0",
                "amazon_security_lake_table_us_east_1_vpc_flow_1_0",
                "amazon_security_lake_table_us_east_1_appfabric_1_0",
            ],
        );
        assert_eq!(c.preferred_version(), Some(SourceVersion::V1));
        assert_eq!(c.describe(), "sh_findings 2.0, vpc_flow 1.0");
        // CloudTrail alone decides the version only when neither flows nor findings are there.
        let c = Catalog::from_names(
            "db",
            &[
                "amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0",
                "amazon_security_lake_table_us_east_1_vpc_flow_1_0",
            ],
        );
        assert_eq!(c.preferred_version(), Some(SourceVersion::V1));
        assert_eq!(c.describe(), "cloud_trail_mgmt 2.0, vpc_flow 1.0");
        let c = Catalog::from_names(
            "db",
            &["amazon_security_lake_table_us_east_1_sh_findings_2_0"],
        );
        assert_eq!(c.preferred_version(), Some(SourceVersion::V2));
        assert_eq!(
            Catalog::from_names::<&str>("db", &[]).preferred_version(),
            None
        );
    }

    #[test]
    fn resource_links_are_read_by_their_target() {
        let link = |name: &str, target: &str| GlueTable {
            name: name.to_string(),
            target: Some(TargetTable {
                catalog_id: Some("123456789012".into()),
                database: "amazon_security_lake_glue_db_us_east_1".into(),
                name: target.to_string(),
            }),
        };
        let c = Catalog::from_tables(
            "security_analytics",
            &[
                link(
                    "vpc_flow",
                    "amazon_security_lake_table_us_east_1_vpc_flow_2_0",
                ),
                link("other", "sales"),
                GlueTable::named("notes"),
            ],
        );
        assert_eq!(c.tables.len(), 1);
        let t = c
            .table(Source::VpcFlow, SourceVersion::V2, "eu-west-1")
            .unwrap();
        assert_eq!(
            (t.name.as_str(), t.region.as_str()),
            ("vpc_flow", "us-east-1")
        );
        assert_eq!(
            c.describe(),
            "vpc_flow 2.0 via resource link `vpc_flow` → `amazon_security_lake_glue_db_us_east_1`.`amazon_security_lake_table_us_east_1_vpc_flow_2_0` in account 123456789012"
        );
        assert!(c.has("vpc_flow"));
        assert_eq!(
            c.table(Source::VpcFlow, SourceVersion::V1, "us-east-1"),
            None
        );
    }
}
