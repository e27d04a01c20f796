//! CheckHealth for Athena: the credentials' identity, the workgroup and its result location,
//! and each Security Lake table in Glue. The first setup problem found is a [`HealthProblem`],
//! which tells the user what to do about it.

use super::api::{DatabaseAccess, TableAccess};
use super::AthenaEngine;
use crate::engine::EngineError;
use crate::lake::catalog::Catalog;
use crate::lake::{Source, SourceVersion};
use crate::plan::TableRef;

/// A setup problem the health check found. Each is found from what the API answered: a typed
/// answer, which the SDK client derives from the error's type or code (only a missing
/// workgroup needs the error's message too: see `client.rs`).
#[derive(Debug, thiserror::Error)]
enum HealthProblem {
    /// STS GetCallerIdentity failed: no credentials, wrong or expired ones, or a role that
    /// cannot be assumed. Whatever the error, the credentials are what to look at.
    #[error("the AWS credentials do not work ({0}); check the authentication method, the keys or profile, and the role to assume")]
    CredentialsFailed(EngineError),
    /// GetWorkGroup: no such workgroup.
    #[error("the Athena workgroup {workgroup} does not exist in {region}; create it, or set the workgroup setting to one that exists (primary is the default)")]
    WorkgroupMissing { workgroup: String, region: String },
    /// GetWorkGroup: the workgroup is DISABLED.
    #[error("the Athena workgroup {workgroup} is disabled; enable it or choose another")]
    WorkgroupDisabled { workgroup: String },
    /// Neither the workgroup nor the settings give a query result location.
    #[error("the Athena workgroup {workgroup} has no query result location and the datasource sets none; set outputLocation (s3://…) or give the workgroup a result location")]
    OutputLocationMissing { workgroup: String },
    /// Glue GetTables: no such database.
    #[error("the Glue database {database} does not exist in {region}; Security Lake creates it in each region it collects in: check the rollup region setting and that Security Lake is enabled there")]
    GlueDatabaseMissing { database: String, region: String },
    /// Glue GetTables: access denied (IAM or Lake Formation).
    #[error("access denied listing the tables of the Glue database {database}: grant {identity} Lake Formation DESCRIBE on the database {database}")]
    GlueDatabaseDenied { database: String, identity: String },
    /// Glue GetTable: access denied (Lake Formation).
    #[error("access denied on the Glue table {database}.{table}: grant {identity} Lake Formation SELECT and DESCRIBE on the table {table} in the database {database} (Security Lake subscribers get these grants with query access)")]
    GlueTableDenied {
        database: String,
        table: String,
        identity: String,
    },
    /// Glue GetTable: no table of the name the `tables` setting gives.
    #[error("the table {table} (setting `tables.{}`) was not found in the Glue database {database}; set it to a table of {database}, or leave it empty to let Lakewatch find the table", .lake_source.table_part())]
    NamedTableMissing {
        database: String,
        table: String,
        lake_source: Source,
    },
    /// Glue GetTable: no Security Lake table of the source version set, but one of another.
    #[error("the table {table} was not found in the Glue database {database}; the database has the source version {version} table of {}: set the source version setting to {version}", .lake_source.api_name())]
    OtherVersionOnly {
        database: String,
        table: String,
        lake_source: Source,
        version: SourceVersion,
    },
    /// Glue GetTable: no Security Lake table of the source in any version.
    #[error("the table {table} was not found in the Glue database {database}; enable the {} source in Security Lake for {region}, or choose the rollup region whose database has it", .lake_source.api_name())]
    SourceMissing {
        database: String,
        table: String,
        lake_source: Source,
        region: String,
    },
}

impl From<HealthProblem> for EngineError {
    fn from(problem: HealthProblem) -> Self {
        EngineError::Health {
            message: problem.to_string(),
        }
    }
}

impl AthenaEngine {
    /// What the engine finds (identity, workgroup, result location, tables by database), or
    /// the first setup problem.
    pub(super) async fn health(&self, tables: &[TableRef]) -> Result<String, EngineError> {
        let s = &self.settings;
        let who = self
            .api
            .identity()
            .await
            .map_err(HealthProblem::CredentialsFailed)?;
        let results = self.result_location().await?;
        let mut found = Vec::new();
        let mut databases: Vec<String> = tables.iter().map(TableRef::database).collect();
        databases.dedup();
        for database in databases {
            let catalog = self.catalog(&database, &who).await?;
            for table in tables.iter().filter(|t| t.database() == database) {
                self.check_table(&catalog, &database, table, &who).await?;
            }
            found.push(format!("{database} ({})", catalog.describe()));
        }
        let mut report = format!(
            "Athena in {} as {who}, workgroup {} (results to {results}), {}",
            s.region,
            s.workgroup,
            found.join("; ")
        );
        if let Some(organization) = &self.organization {
            // Names are labels: queries work without them, so this is said, not failed.
            match organization.get(true).await {
                Ok(org) => report.push_str(&format!("; {}", org.describe())),
                Err(e) => report.push_str(&format!("; no account names: {e}")),
            }
        }
        Ok(report)
    }

    /// Where query results go: the settings' location, else the workgroup's. The workgroup
    /// has to exist and be enabled.
    async fn result_location(&self) -> Result<String, EngineError> {
        let s = &self.settings;
        let workgroup = s.workgroup.clone();
        let Some(found) = self.api.workgroup(&s.workgroup).await? else {
            let region = s.region.clone();
            return Err(HealthProblem::WorkgroupMissing { workgroup, region }.into());
        };
        if !found.enabled {
            return Err(HealthProblem::WorkgroupDisabled { workgroup }.into());
        }
        let location = s.output_location.clone().or(found.output_location);
        location.ok_or_else(|| HealthProblem::OutputLocationMissing { workgroup }.into())
    }

    /// What a Glue database holds.
    async fn catalog(&self, database: &str, who: &str) -> Result<Catalog, EngineError> {
        let database = database.to_string();
        let problem = match self.api.database_tables(&database).await? {
            DatabaseAccess::Tables(tables) => return Ok(Catalog::from_tables(&database, &tables)),
            DatabaseAccess::Missing => HealthProblem::GlueDatabaseMissing {
                database,
                region: self.settings.region.clone(),
            },
            DatabaseAccess::Denied(_) => HealthProblem::GlueDatabaseDenied {
                database,
                identity: who.to_string(),
            },
        };
        Err(problem.into())
    }

    /// Whether a table the query reads is there. GetTables leaves out the tables Lake
    /// Formation hides from the credentials, so a table it did not list is described with
    /// GetTable, which tells a denied table from a missing one.
    async fn check_table(
        &self,
        catalog: &Catalog,
        database: &str,
        table: &TableRef,
        who: &str,
    ) -> Result<(), EngineError> {
        let name = table.table();
        if catalog.has(&name) {
            return Ok(());
        }
        let (database, lake_source) = (database.to_string(), table.source);
        let problem = match self.api.glue_table(&database, &name).await? {
            TableAccess::Found => return Ok(()),
            TableAccess::Denied(_) => HealthProblem::GlueTableDenied {
                database,
                table: name,
                identity: who.to_string(),
            },
            TableAccess::Missing if name != table.conventional_table() => {
                HealthProblem::NamedTableMissing {
                    database,
                    table: name,
                    lake_source,
                }
            }
            TableAccess::Missing => match catalog.versions(lake_source).last() {
                Some(&version) => HealthProblem::OtherVersionOnly {
                    database,
                    table: name,
                    lake_source,
                    version,
                },
                None => HealthProblem::SourceMissing {
                    database,
                    table: name,
                    lake_source,
                    region: table.home_region.clone(),
                },
            },
        };
        Err(problem.into())
    }
}
