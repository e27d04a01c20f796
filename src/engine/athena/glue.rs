//! The Glue calls: GetTable for a table's access and storage location (through resource links),
//! GetTables and GetDatabases for discovery and the health check.

use aws_sdk_glue::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_glue::operation::get_tables::GetTablesError;
use aws_sdk_glue::types::Table;

use super::api::{DatabaseAccess, TableAccess};
use super::client::{aws_error, SdkAthena};
use crate::engine::EngineError;
use crate::lake::catalog::{GlueTable, TargetTable};
use crate::lake::discovery::GlueCatalog;

/// A denial by IAM or Lake Formation. Glue's GetTable and GetTables do not model it as an error
/// of their own, so only its code tells it apart.
fn is_denied<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("AccessDeniedException")
}

/// A GetTables table as discovery sees it: its name and, for a resource link, its target.
fn listed(t: &Table) -> GlueTable {
    GlueTable {
        name: t.name().to_string(),
        target: t.target_table().and_then(|target| {
            Some(TargetTable {
                catalog_id: target.catalog_id().map(str::to_string),
                database: target.database_name()?.to_string(),
                name: target.name()?.to_string(),
            })
        }),
    }
}

impl SdkAthena {
    /// Glue GetTable: the table, or why there is none (missing, or denied by Lake Formation).
    async fn get_table(
        &self,
        catalog_id: Option<&str>,
        database: &str,
        table: &str,
    ) -> Result<Result<Table, TableAccess>, EngineError> {
        match self
            .glue
            .get_table()
            .set_catalog_id(catalog_id.map(str::to_string))
            .database_name(database)
            .name(table)
            .send()
            .await
        {
            Ok(out) => Ok(out.table.ok_or(TableAccess::Missing)),
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_entity_not_found_exception() => Ok(Err(TableAccess::Missing)),
                Some(s) if is_denied(s) => Ok(Err(TableAccess::Denied(
                    s.message().unwrap_or("").to_string(),
                ))),
                _ => Err(aws_error("GetTable", e)),
            },
        }
    }

    /// Whether a table can be described ([`super::api::AthenaApi::glue_table`]).
    pub(super) async fn describe_table(
        &self,
        database: &str,
        table: &str,
    ) -> Result<TableAccess, EngineError> {
        Ok(match self.get_table(None, database, table).await? {
            Ok(_) => TableAccess::Found,
            Err(access) => access,
        })
    }

    /// A table's S3 storage location ([`super::api::AthenaApi::table_location`]).
    pub(super) async fn storage_location(
        &self,
        database: &str,
        table: &str,
    ) -> Result<Option<String>, EngineError> {
        let mut found = self.get_table(None, database, table).await?.ok();
        // A resource link has no storage of its own: its target (perhaps in another account's
        // catalogue) has.
        if let Some(target) = found.as_ref().and_then(|t| t.target_table()) {
            let (Some(db), Some(name)) = (target.database_name(), target.name()) else {
                return Ok(None);
            };
            found = self.get_table(target.catalog_id(), db, name).await?.ok();
        }
        Ok(found.and_then(|t| {
            t.storage_descriptor()
                .and_then(|d| d.location())
                .filter(|l| l.starts_with("s3://"))
                .map(str::to_string)
        }))
    }

    /// Glue GetTables, every page: a database's tables; None when it does not exist.
    async fn get_tables(
        &self,
        database: &str,
    ) -> Result<Option<Vec<GlueTable>>, SdkError<GetTablesError>> {
        let mut tables = Vec::new();
        let mut next = None;
        loop {
            let request = self
                .glue
                .get_tables()
                .database_name(database)
                .set_next_token(next);
            let out = match request.send().await {
                Err(e)
                    if e.as_service_error()
                        .is_some_and(GetTablesError::is_entity_not_found_exception) =>
                {
                    return Ok(None)
                }
                other => other?,
            };
            tables.extend(out.table_list().iter().map(listed));
            match out.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_string()),
                _ => return Ok(Some(tables)),
            }
        }
    }

    /// A database's tables, or whether it is missing or denied
    /// ([`super::api::AthenaApi::database_tables`]).
    pub(super) async fn list_database(
        &self,
        database: &str,
    ) -> Result<DatabaseAccess, EngineError> {
        match self.get_tables(database).await {
            Ok(Some(tables)) => Ok(DatabaseAccess::Tables(tables)),
            Ok(None) => Ok(DatabaseAccess::Missing),
            Err(e) if is_denied(&e) => Ok(DatabaseAccess::Denied(
                e.message().unwrap_or("").to_string(),
            )),
            Err(e) => Err(aws_error("GetTables", e)),
        }
    }
}

/// Glue's databases and tables, for discovery.
#[async_trait::async_trait]
impl GlueCatalog for SdkAthena {
    async fn database_page(
        &self,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), EngineError> {
        let out = self
            .glue
            .get_databases()
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| aws_error("GetDatabases", e))?;
        let names = out.database_list().iter().map(|d| d.name().to_string());
        Ok((names.collect(), out.next_token().map(str::to_string)))
    }

    async fn glue_tables(&self, database: &str) -> Result<Option<Vec<GlueTable>>, EngineError> {
        self.get_tables(database)
            .await
            .map_err(|e| aws_error("GetTables", e))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_glue::error::ErrorMetadata;
    use aws_sdk_glue::operation::get_tables::GetTablesError;

    use super::is_denied;

    fn error(code: &str, message: &str) -> GetTablesError {
        GetTablesError::generic(ErrorMetadata::builder().code(code).message(message).build())
    }

    #[test]
    fn a_denial_is_told_by_its_code_not_its_text() {
        let denied = error(
            "AccessDeniedException",
            "Insufficient Lake Formation permission(s) on amazon_security_lake_glue_db_us_east_1",
        );
        assert!(is_denied(&denied));
        let other = error(
            "InternalServiceException",
            "AccessDenied was not the problem",
        );
        assert!(!is_denied(&other));
    }
}
