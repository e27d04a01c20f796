//! `lambda_invocations`: Lambda `Invoke` calls from the CloudTrail data events — invocations
//! over time by function, principal, source address, account or region; or, as a table, the
//! functions and their callers ranked by invocations with failures and first and last call.

use super::super::data_events::DataSource;
use super::data_kind::{data_parse, data_spec};
use super::{AnyQuery, Envelope, Kind, KindSpec, QueryError};

/// `lambda_invocations`.
pub struct LambdaInvocationsKind;

impl Kind for LambdaInvocationsKind {
    fn spec(&self) -> KindSpec {
        data_spec(
            DataSource::Lambda,
            "Lambda invocations",
            "Lambda function invocations over time by function, principal or source IP; as a table, functions and their callers ranked",
        )
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        data_parse(DataSource::Lambda, query)
    }
}
