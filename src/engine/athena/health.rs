//! CheckHealth for Athena: the credentials' identity, the workgroup and its result location,
//! and each Security Lake table in Glue.

use super::api::TableAccess;
use super::AthenaEngine;
use crate::engine::EngineError;
use crate::lake::catalog::Catalog;
use crate::plan::TableRef;

impl AthenaEngine {
    /// What the engine finds, or the first setup problem with what to do about it.
    pub(super) async fn health(&self, tables: &[TableRef]) -> Result<String, EngineError> {
        let s = &self.settings;
        let who = self.api.identity().await.map_err(|e| EngineError::Health {
            message: format!("the AWS credentials do not work ({e}); check the authentication method, the keys or profile, and the role to assume"),
        })?;
        let workgroup = self.api.workgroup(&s.workgroup).await?.ok_or_else(|| {
            EngineError::Health {
                message: format!(
                    "the Athena workgroup {} does not exist in {}; create it, or set the workgroup setting to one that exists (primary is the default)",
                    s.workgroup, s.region
                ),
            }
        })?;
        if !workgroup.enabled {
            return Err(EngineError::Health {
                message: format!(
                    "the Athena workgroup {} is disabled; enable it or choose another",
                    s.workgroup
                ),
            });
        }
        let results = s
            .output_location
            .clone()
            .or(workgroup.output_location)
            .ok_or_else(|| EngineError::Health {
                message: format!(
                    "the Athena workgroup {} has no query result location and the datasource sets none; set outputLocation (s3://…) or give the workgroup a result location",
                    s.workgroup
                ),
            })?;
        let who_short = who.clone();
        let mut found = Vec::new();
        let mut databases: Vec<String> = tables.iter().map(TableRef::database).collect();
        databases.dedup();
        for database in databases {
            let names = match self.api.glue_tables(&database).await {
                Ok(Some(names)) => names,
                Ok(None) => {
                    return Err(EngineError::Health {
                        message: format!(
                            "the Glue database {database} does not exist in {}; Security Lake creates it in each region it collects in: check the rollup region setting and that Security Lake is enabled there",
                            s.region
                        ),
                    })
                }
                Err(e) if e.to_string().contains("AccessDenied") => {
                    return Err(EngineError::Health {
                        message: format!(
                            "access denied listing the tables of the Glue database {database}: grant {who_short} Lake Formation DESCRIBE on the database {database}"
                        ),
                    })
                }
                Err(e) => return Err(e),
            };
            let catalog = Catalog::from_tables(&database, &names);
            for table in tables.iter().filter(|t| t.database() == database) {
                let name = table.table();
                if catalog.has(&name) {
                    continue;
                }
                match self.api.glue_table(&database, &name).await? {
                    TableAccess::Found => {}
                    TableAccess::Denied(_) => {
                        return Err(EngineError::Health {
                            message: format!(
                                "access denied on the Glue table {database}.{name}: grant {who_short} Lake Formation SELECT and DESCRIBE on the table {name} in the database {database} (Security Lake subscribers get these grants with query access)"
                            ),
                        })
                    }
                    TableAccess::Missing if name != table.conventional_table() => {
                        return Err(EngineError::Health {
                            message: format!(
                                "the table {name} (setting `tables.{}`) was not found in the Glue database {database}; set it to a table of {database}, or leave it empty to let Lakewatch find the table",
                                table.source.table_part()
                            ),
                        });
                    }
                    TableAccess::Missing => {
                        let others = catalog.versions(table.source);
                        let hint = match others.last() {
                            Some(v) => format!(
                                "the database has the source version {v} table of {}: set the source version setting to {v}",
                                table.source.api_name()
                            ),
                            None => format!(
                                "enable the {} source in Security Lake for {}, or choose the rollup region whose database has it",
                                table.source.api_name(),
                                table.home_region
                            ),
                        };
                        return Err(EngineError::Health {
                            message: format!(
                                "the table {name} was not found in the Glue database {database}; {hint}"
                            ),
                        });
                    }
                }
            }
            found.push(format!("{database} ({})", catalog.describe()));
        }
        Ok(format!(
            "Athena in {} as {who}, workgroup {} (results to {results}), {}",
            s.region,
            s.workgroup,
            found.join("; ")
        ))
    }
}
