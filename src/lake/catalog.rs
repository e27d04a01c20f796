//! What a Glue database holds: which Security Lake tables exist, for which source and source
//! version. Fed with the table names Glue lists; knows nothing of how they were listed.

use super::{Source, SourceVersion};

/// A Security Lake table found in a Glue database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    /// The Glue table name.
    pub name: String,
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
    let (region, source) = [Source::VpcFlow, Source::ShFindings]
        .into_iter()
        .find_map(|s| Some((rest.strip_suffix(s.table_part())?.strip_suffix('_')?, s)))?;
    if region.is_empty() {
        return None;
    }
    Some(CatalogTable {
        name: name.to_string(),
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
        let mut tables: Vec<CatalogTable> = names
            .iter()
            .filter_map(|n| parse_table_name(n.as_ref()))
            .collect();
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
    /// VPC flow table, else the newest that has a findings table.
    pub fn preferred_version(&self) -> Option<SourceVersion> {
        let newest = |source| self.versions(source).last().copied();
        newest(Source::VpcFlow).or_else(|| newest(Source::ShFindings))
    }

    /// `vpc_flow 2.0, sh_findings 1.0`: what was found, for messages.
    pub fn describe(&self) -> String {
        if self.tables.is_empty() {
            return "no Security Lake tables".to_string();
        }
        self.tables
            .iter()
            .map(|t| format!("{} {}", t.source.table_part(), t.version.dir()))
            .collect::<Vec<_>>()
            .join(", ")
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
        for other in [
            "amazon_security_lake_table_us_east_1_route53_2_0",
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
                "amazon_security_lake_table_us_east_1_route53_1_0",
            ],
        );
        assert_eq!(c.preferred_version(), Some(SourceVersion::V1));
        assert_eq!(c.describe(), "sh_findings 2.0, vpc_flow 1.0");
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
}
