//! S3 GetObject of a query's result object, the CSV file Athena writes to its result location:
//! read as it streams in, and cut at a row cap.

use super::client::{aws_error, SdkAthena};
use crate::engine::result_csv::RecordEnds;
use crate::engine::EngineError;

impl SdkAthena {
    /// The bytes of the result object at `location` (`s3://bucket/key`), up to the end of
    /// record number `max_records` (the header counts as one) when given
    /// ([`super::api::AthenaApi::result_object`]).
    pub(super) async fn download_result(
        &self,
        location: &str,
        max_records: Option<usize>,
    ) -> Result<Vec<u8>, EngineError> {
        let (bucket, key) = location
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(|| {
                EngineError::Execution(format!(
                    "Athena's result location {location} is not s3://bucket/key"
                ))
            })?;
        let out = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| aws_error("GetObject", e))?;
        let mut body = out.body;
        let mut bytes = Vec::new();
        let mut ends = RecordEnds::default();
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| EngineError::Execution(format!("reading {location}: {e}")))?
        {
            let start = bytes.len();
            bytes.extend_from_slice(&chunk);
            if let Some(end) = max_records.and_then(|max| ends.feed(&chunk, max)) {
                // Dropping the body closes the connection: the rest is never downloaded.
                bytes.truncate(start + end);
                break;
            }
        }
        Ok(bytes)
    }
}
