//! What a user's SQL may read (datasource setting `rawSql`), checked on the parsed statement:
//! with `securityLake`, every table it reads is a Security Lake table of the datasource's Glue
//! database (or a name the statement defines in its `WITH`, or a table function such as
//! `generate_series(…)`, which reads no stored data).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Query, Statement, TableFactor, Visit, Visitor};

/// The `rawSql` setting: how far a user's SQL (`kind: "sql"`) may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RawSqlReach {
    /// No user SQL at all: only the query kinds.
    Off,
    /// Only the Security Lake tables of the datasource's database.
    #[default]
    SecurityLake,
    /// Anything the engine's credentials can read.
    Any,
}

impl RawSqlReach {
    /// Parses the setting's value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(RawSqlReach::Off),
            "securityLake" => Some(RawSqlReach::SecurityLake),
            "any" => Some(RawSqlReach::Any),
            _ => None,
        }
    }
}

/// Refuses SQL that reads beyond what `reach` allows; the message names the setting and what to
/// do. `statements` is the parsed SQL ([`super::parse_statements`]), `database` the datasource's
/// Glue database and `tables` its lake tables (resolved names, which a resource link or a
/// setting may have chosen).
pub fn check(
    reach: RawSqlReach,
    database: &str,
    tables: &[String],
    statements: &Result<Vec<Statement>, String>,
) -> Result<(), String> {
    match reach {
        RawSqlReach::Any => Ok(()),
        RawSqlReach::Off => Err("this datasource does not run SQL written in a panel (setting `rawSql` is `off`); use one of the query kinds (docs/queries.md), or ask an admin to set `rawSql` to `securityLake`".to_string()),
        RawSqlReach::SecurityLake => match statements {
            Ok(s) => match tables_outside_lake(s, database, tables) {
                outside if outside.is_empty() => Ok(()),
                outside => Err(format!(
                "the SQL reads {}, which this datasource does not allow (setting `rawSql` is `securityLake`: only the Security Lake tables of {database}); read the lake through $__table, or ask an admin to set `rawSql` to `any`",
                outside.join(", ")
            )),
            },
            Err(e) => Err(format!(
                "Lakewatch could not parse the SQL to check which tables it reads ({e}); with `rawSql` at `securityLake` only SQL it can check runs: simplify the statement, or ask an admin to set `rawSql` to `any`"
            )),
        },
    }
}

/// The relations the statements read that are not Security Lake tables of `database`: its
/// `tables`, or a table named like Security Lake's.
pub fn tables_outside_lake(
    statements: &[Statement],
    database: &str,
    tables: &[String],
) -> Vec<String> {
    let mut seen = Relations::default();
    for statement in statements {
        let _ = statement.visit(&mut seen);
    }
    seen.tables
        .into_iter()
        .filter(|parts| !is_lake_table(parts, database, tables))
        .filter(|parts| !(parts.len() == 1 && seen.ctes.contains(&parts[0].to_ascii_lowercase())))
        .map(|parts| parts.join("."))
        .collect()
}

fn is_lake_table(parts: &[String], database: &str, tables: &[String]) -> bool {
    let security_lake_name = |table: &String| table.starts_with("amazon_security_lake_table_");
    match parts {
        // Unqualified, only Security Lake's distinctive names: Athena looks a bare name up in
        // its default database, where a table such as `vpc_flow` may be anything.
        [table] => security_lake_name(table),
        [db, table] => db == database && (security_lake_name(table) || tables.contains(table)),
        _ => false,
    }
}

/// The stored tables a statement names (name parts, unquoted) and the names its `WITH` clauses
/// define.
#[derive(Default)]
struct Relations {
    tables: BTreeSet<Vec<String>>,
    ctes: BTreeSet<String>,
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.to_ascii_lowercase());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, args, .. } = factor {
            // A table function (`generate_series(1, 10)`) computes rows, it reads none.
            if args.is_none() {
                let parts = name
                    .0
                    .iter()
                    .map(|p| {
                        p.as_ident()
                            .map_or_else(|| p.to_string(), |i| i.value.clone())
                    })
                    .collect();
                self.tables.insert(parts);
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "amazon_security_lake_glue_db_us_east_1";

    fn outside(sql: &str) -> Vec<String> {
        tables_outside_lake(&crate::sql::parse_statements(sql).unwrap(), DB, &[])
    }

    #[test]
    fn the_datasource_s_own_table_names_are_inside_only_in_its_database() {
        let tables = ["vpc_flow".to_string()];
        let outside = |sql: &str| {
            tables_outside_lake(
                &crate::sql::parse_statements(sql).unwrap(),
                "security_analytics",
                &tables,
            )
        };
        assert!(outside("SELECT * FROM \"security_analytics\".\"vpc_flow\"").is_empty());
        assert_eq!(outside("SELECT * FROM vpc_flow"), ["vpc_flow"]);
        assert_eq!(
            outside("SELECT * FROM other.vpc_flow JOIN security_analytics.hr ON true"),
            ["other.vpc_flow", "security_analytics.hr"]
        );
    }

    #[test]
    fn only_the_lake_tables_of_the_database_are_inside() {
        let lake = format!("\"{DB}\".\"amazon_security_lake_table_us_east_1_vpc_flow_2_0\"");
        assert!(outside(&format!("SELECT count(*) FROM {lake}")).is_empty());
        assert!(
            outside("SELECT * FROM amazon_security_lake_table_us_east_1_sh_findings_1_0")
                .is_empty()
        );
        assert!(outside(&format!("WITH f AS (SELECT * FROM {lake}) SELECT * FROM f")).is_empty());
        assert!(outside("SELECT value FROM generate_series(1, 10)").is_empty());
        assert!(outside("SELECT 1").is_empty());
        assert_eq!(
            outside("SELECT * FROM information_schema.tables"),
            ["information_schema.tables"]
        );
        assert_eq!(
            outside("SELECT * FROM other_db.amazon_security_lake_table_us_east_1_vpc_flow_2_0"),
            ["other_db.amazon_security_lake_table_us_east_1_vpc_flow_2_0"]
        );
        assert_eq!(
            outside(&format!(
                "SELECT * FROM {lake} WHERE x IN (SELECT y FROM awsdatacatalog.hr.salaries)"
            )),
            ["awsdatacatalog.hr.salaries"]
        );
        assert_eq!(
            outside(&format!(
                "SELECT * FROM {lake} a JOIN secrets b ON a.x = b.x"
            )),
            ["secrets"]
        );
        let unparsed = crate::sql::parse_statements("SELECT * FROM t WHERE (");
        let refusal = check(RawSqlReach::SecurityLake, DB, &[], &unparsed).unwrap_err();
        assert!(
            refusal.starts_with("Lakewatch could not parse the SQL"),
            "{refusal}"
        );
    }
}
