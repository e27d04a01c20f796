//! S3 prefixes as a [`FolderTree`]: the folder listings that scan estimates walk, one
//! ListObjectsV2 request per page.

use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;

use super::client::{aws_error, SdkAthena};
use crate::engine::EngineError;
use crate::lake::estimate::FolderTree;

/// `s3://bucket/prefix` → (bucket, prefix ending in `/` unless empty).
fn s3_folder(url: &str) -> Result<(String, String), EngineError> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| {
        EngineError::Execution(format!("the table location {url} is not an s3:// URL"))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    };
    Ok((bucket.to_string(), prefix))
}

impl SdkAthena {
    /// Every page of ListObjectsV2 under a folder (`s3://bucket/prefix`), each handed to `page`
    /// with the folder's prefix; with `folders_only`, `/` delimits (sub-folders come back as
    /// common prefixes).
    async fn list(
        &self,
        folder: &str,
        folders_only: bool,
        mut page: impl FnMut(&ListObjectsV2Output, &str),
    ) -> Result<(), EngineError> {
        let (bucket, prefix) = s3_folder(folder)?;
        let mut next = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&bucket)
                .prefix(&prefix)
                .set_delimiter(folders_only.then(|| "/".to_string()))
                .set_continuation_token(next)
                .send()
                .await
                .map_err(|e| aws_error("ListObjectsV2", e))?;
            page(&out, &prefix);
            match out.next_continuation_token() {
                Some(token) if out.is_truncated() == Some(true) => next = Some(token.to_string()),
                _ => return Ok(()),
            }
        }
    }
}

/// S3 prefixes as folders.
#[async_trait::async_trait]
impl FolderTree for SdkAthena {
    fn remote(&self) -> bool {
        true
    }

    async fn folders(&self, folder: &str) -> Result<Vec<String>, EngineError> {
        let mut names = Vec::new();
        self.list(folder, true, |out, prefix| {
            names.extend(out.common_prefixes().iter().filter_map(|p| {
                let name = p.prefix()?.strip_prefix(prefix)?;
                Some(name.trim_end_matches('/').to_string())
            }));
        })
        .await?;
        Ok(names)
    }

    async fn files(&self, folder: &str) -> Result<(u64, u64), EngineError> {
        let (mut files, mut bytes) = (0, 0);
        self.list(folder, false, |out, _| {
            for object in out.contents() {
                files += 1;
                bytes += object.size().unwrap_or(0).max(0) as u64;
            }
        })
        .await?;
        Ok((files, bytes))
    }
}
