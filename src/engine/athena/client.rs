//! The SDK clients behind [`AthenaApi`]: Athena's query and workgroup calls, STS for the
//! identity, and the conversion of SDK errors every call shares. The Glue calls are in
//! `glue.rs`, the S3 calls in `s3_tree.rs` and `result_object.rs`.

use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::operation::get_work_group::GetWorkGroupError;
use aws_sdk_athena::types::{
    QueryExecutionContext, QueryExecutionState, ResultConfiguration, ResultReuseByAgeConfiguration,
    ResultReuseConfiguration, WorkGroupState,
};

use super::api::{
    AthenaApi, DatabaseAccess, Page, State, Status, TableAccess, Workgroup, PAGE_ROWS,
};
use crate::engine::{EngineError, Fault};
use crate::settings::AthenaSettings;

/// An SDK error as an [`EngineError`], with who has to act on it.
pub(super) fn aws_error<E: std::error::Error>(action: &'static str, e: E) -> EngineError {
    let message = DisplayErrorContext(&e).to_string();
    let fault = if message.contains("dispatch failure") || message.contains("io error") {
        // The endpoint could not be reached: network or endpoint setting.
        Fault::User
    } else if message.contains("AccessDenied")
        || message.contains("not authorized")
        || message.contains("InvalidRequest")
        || message.contains("UnrecognizedClient")
        || message.contains("credentials")
    {
        Fault::User
    } else {
        Fault::Plugin
    };
    EngineError::Aws {
        action,
        message,
        fault,
    }
}

/// The SDK clients as an [`AthenaApi`].
pub(crate) struct SdkAthena {
    pub(super) athena: aws_sdk_athena::Client,
    pub(super) sts: aws_sdk_sts::Client,
    pub(super) glue: aws_sdk_glue::Client,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) settings: AthenaSettings,
}

impl SdkAthena {
    /// Clients for the settings.
    pub(crate) fn new(config: &aws_config::SdkConfig, settings: AthenaSettings) -> Self {
        SdkAthena {
            athena: aws_sdk_athena::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            glue: aws_sdk_glue::Client::new(config),
            // Path-style addressing: endpoint overrides (VPC endpoints, test servers) are
            // often addresses that bucket subdomains cannot be put in front of.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(settings.endpoint.is_some())
                    .build(),
            ),
            settings,
        }
    }

    /// Result reuse for StartQueryExecution, when the settings allow it.
    fn result_reuse(&self) -> Option<ResultReuseConfiguration> {
        let minutes = self.settings.result_reuse_minutes?;
        let by_age = ResultReuseByAgeConfiguration::builder()
            .enabled(true)
            .max_age_in_minutes(minutes as i32)
            .build();
        Some(
            ResultReuseConfiguration::builder()
                .result_reuse_by_age_configuration(by_age)
                .build(),
        )
    }
}

/// Whether GetWorkGroup failed for want of the workgroup. Athena reports it as an
/// InvalidRequestException, its error for any bad input, with no error code of its own: only
/// the message (`WorkGroup nosuch is not found.`) tells this case apart.
fn is_missing_workgroup(e: &GetWorkGroupError) -> bool {
    matches!(e, GetWorkGroupError::InvalidRequestException(e)
        if e.message().is_some_and(|m| m.contains("not found")))
}

/// Athena's state name → [`State`]; a state Athena adds later counts as still queued.
fn state(s: Option<&QueryExecutionState>) -> State {
    match s {
        Some(QueryExecutionState::Queued) => State::Queued,
        Some(QueryExecutionState::Running) => State::Running,
        Some(QueryExecutionState::Succeeded) => State::Succeeded,
        Some(QueryExecutionState::Failed) => State::Failed,
        Some(QueryExecutionState::Cancelled) => State::Cancelled,
        _ => State::Queued,
    }
}

#[async_trait::async_trait]
impl AthenaApi for SdkAthena {
    async fn start(&self, sql: &str, token: &str) -> Result<String, EngineError> {
        let out = self
            .athena
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.settings.workgroup)
            // Table names in the SQL are database.table: the catalog they resolve in is the
            // datasource's (a catalog other than AwsDataCatalog is registered in Athena).
            .query_execution_context(
                QueryExecutionContext::builder()
                    .catalog(&self.settings.catalog)
                    .build(),
            )
            .client_request_token(token)
            .set_result_configuration(
                self.settings
                    .output_location
                    .as_ref()
                    .map(|out| ResultConfiguration::builder().output_location(out).build()),
            )
            .set_result_reuse_configuration(self.result_reuse())
            .send()
            .await
            .map_err(|e| aws_error("StartQueryExecution", e))?;
        out.query_execution_id()
            .map(str::to_string)
            .ok_or_else(|| EngineError::Execution("Athena returned no query execution id".into()))
    }

    async fn status(&self, id: &str) -> Result<Status, EngineError> {
        let out = self
            .athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| aws_error("GetQueryExecution", e))?;
        let exec = out.query_execution();
        let status = exec.and_then(|e| e.status());
        let stats = exec.and_then(|e| e.statistics());
        let non_negative = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
        Ok(Status {
            state: state(status.and_then(|s| s.state())),
            reason: status
                .and_then(|s| {
                    s.athena_error()
                        .and_then(|e| e.error_message())
                        .or(s.state_change_reason())
                })
                .map(str::to_string),
            scanned_bytes: non_negative(stats.and_then(|s| s.data_scanned_in_bytes())),
            engine_ms: non_negative(stats.and_then(|s| s.engine_execution_time_in_millis())),
            queue_ms: non_negative(stats.and_then(|s| s.query_queue_time_in_millis())),
            result_location: exec
                .and_then(|e| e.result_configuration())
                .and_then(|r| r.output_location())
                .map(str::to_string),
        })
    }

    async fn page(&self, id: &str, next: Option<String>) -> Result<Page, EngineError> {
        let out = self
            .athena
            .get_query_results()
            .query_execution_id(id)
            .max_results(PAGE_ROWS as i32)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| aws_error("GetQueryResults", e))?;
        let set = out.result_set();
        let columns = set
            .and_then(|s| s.result_set_metadata())
            .map(|m| {
                m.column_info()
                    .iter()
                    .map(|c| (c.name().to_string(), c.r#type().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let rows = set
            .map(|s| {
                s.rows()
                    .iter()
                    .map(|r| {
                        r.data()
                            .iter()
                            .map(|d| d.var_char_value().map(str::to_string))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page {
            columns,
            rows,
            next: out.next_token().map(str::to_string),
        })
    }

    async fn stop(&self, id: &str) -> Result<(), EngineError> {
        self.athena
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| aws_error("StopQueryExecution", e))?;
        Ok(())
    }

    async fn identity(&self) -> Result<String, EngineError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("GetCallerIdentity", e))?;
        Ok(out.arn().unwrap_or("an unnamed identity").to_string())
    }

    async fn workgroup(&self, name: &str) -> Result<Option<Workgroup>, EngineError> {
        let out = match self.athena.get_work_group().work_group(name).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(is_missing_workgroup) => return Ok(None),
            Err(e) => return Err(aws_error("GetWorkGroup", e)),
        };
        Ok(out.work_group().map(|w| Workgroup {
            enabled: w.state().is_none_or(|s| *s == WorkGroupState::Enabled),
            output_location: w
                .configuration()
                .and_then(|c| c.result_configuration())
                .and_then(|r| r.output_location())
                .map(str::to_string),
        }))
    }

    async fn glue_table(&self, database: &str, table: &str) -> Result<TableAccess, EngineError> {
        self.describe_table(database, table).await
    }

    async fn database_tables(&self, database: &str) -> Result<DatabaseAccess, EngineError> {
        self.list_database(database).await
    }

    async fn result_object(
        &self,
        location: &str,
        max_records: Option<usize>,
    ) -> Result<Vec<u8>, EngineError> {
        self.download_result(location, max_records).await
    }

    async fn table_location(
        &self,
        database: &str,
        table: &str,
    ) -> Result<Option<String>, EngineError> {
        self.storage_location(database, table).await
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_athena::operation::get_work_group::GetWorkGroupError;
    use aws_sdk_athena::types::error::{InternalServerException, InvalidRequestException};

    use super::is_missing_workgroup;

    #[test]
    fn a_missing_workgroup_is_an_invalid_request_saying_so() {
        let invalid = |message: &str| {
            GetWorkGroupError::InvalidRequestException(
                InvalidRequestException::builder().message(message).build(),
            )
        };
        assert!(is_missing_workgroup(&invalid(
            "WorkGroup nosuch is not found."
        )));
        assert!(!is_missing_workgroup(&invalid(
            "1 validation error detected: Value 'a b' at 'workGroup' failed to satisfy constraint"
        )));
        let internal = GetWorkGroupError::InternalServerException(
            InternalServerException::builder()
                .message("not found")
                .build(),
        );
        assert!(!is_missing_workgroup(&internal));
    }
}
