//! AWS SDK configuration from the datasource settings: the credential method, an optional role
//! to assume (with an external id, through STS), the region and an endpoint override.

use aws_config::{BehaviorVersion, Region as SdkRegion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;

use crate::settings::{AthenaSettings, AuthMethod};

/// The session name of assumed-role sessions (shows in CloudTrail).
pub const SESSION_NAME: &str = "lakewatch-grafana";

/// The SDK configuration for Athena settings.
pub async fn sdk_config(settings: &AthenaSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(SdkRegion::new(settings.region.clone()));
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint.clone());
    }
    loader = match &settings.auth {
        AuthMethod::Default => loader,
        AuthMethod::Keys {
            access_key,
            secret_key,
            session_token,
        } => loader.credentials_provider(Credentials::new(
            access_key.expose(),
            secret_key.expose(),
            session_token.as_ref().map(|t| t.expose().to_string()),
            None,
            "lakewatch-settings",
        )),
        AuthMethod::Profile(name) => loader.profile_name(name),
    };
    let base = loader.load().await;
    match &settings.assume_role_arn {
        None => base,
        Some(role) => {
            let mut provider = aws_config::sts::AssumeRoleProvider::builder(role.clone())
                .session_name(SESSION_NAME)
                .region(SdkRegion::new(settings.region.clone()));
            if let Some(id) = &settings.external_id {
                provider = provider.external_id(id.clone());
            }
            let provider = provider.configure(&base).build().await;
            base.into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build()
        }
    }
}
