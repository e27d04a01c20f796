//! `s3_data_access`: S3 object calls from the CloudTrail data events — reads and writes over time
//! by bucket, operation, read/write, principal, source address, account or region; or, as a
//! table, who touched which bucket from where and how ("who read this bucket"), ranked by calls
//! with failures and first and last call.

use super::super::data_events::DataSource;
use super::data_kind::{data_parse, data_spec};
use super::{AnyQuery, Envelope, Kind, KindSpec, QueryError};

/// `s3_data_access`.
pub struct S3DataAccessKind;

impl Kind for S3DataAccessKind {
    fn spec(&self) -> KindSpec {
        data_spec(
            DataSource::S3,
            "S3 object access",
            "S3 object reads and writes over time by bucket, operation, principal or source IP; as a table, who read or wrote which bucket from where",
        )
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        data_parse(DataSource::S3, query)
    }
}
