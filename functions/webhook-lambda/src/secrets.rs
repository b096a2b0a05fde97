//! Loading the secrets once at cold start: from SSM Parameter Store (SecureString, decrypted, one
//! `GetParameters` call for the four names under the deployment's prefix, through the AWS SDK
//! configuration the DynamoDB client shares, with its timeouts and retries) or, for local use and tests, from plain environment variables.
//! Secrets are never logged.

use anyhow::{Context, bail};

use crate::config::{
    SSM_ACCESS_TOKEN, SSM_APP_SECRET, SSM_ID_SALT, SSM_VERIFY_TOKEN, SecretSource,
};
use votecheck_webhook::Secrets;

/// The secrets plus the Graph API access token.
pub struct LoadedSecrets {
    /// The secrets the handler needs.
    pub handler: Secrets,
    /// The Graph API access token.
    pub access_token: String,
}

/// Loads the secrets from where the configuration says; SSM is reached through `sdk`, the AWS
/// SDK configuration loaded once per cold start
/// ([`votecheck_store::dynamo::client::sdk_config`]).
pub async fn load_secrets(
    source: &SecretSource,
    sdk: &aws_config::SdkConfig,
) -> anyhow::Result<LoadedSecrets> {
    match source {
        SecretSource::Environment => {
            let get =
                |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
            Ok(LoadedSecrets {
                handler: Secrets {
                    app_secret: get("WHATSAPP_APP_SECRET")?.into_bytes(),
                    verify_token: get("WHATSAPP_VERIFY_TOKEN")?,
                    id_salt: get("VOTECHECK_ID_SALT")?.into_bytes(),
                },
                access_token: get("WHATSAPP_ACCESS_TOKEN")?,
            })
        }
        SecretSource::Ssm { prefix } => {
            // The same connect, attempt and operation timeouts and bounded retries as DynamoDB:
            // an SSM endpoint that never answers fails the cold start within seconds, with the
            // error below, instead of holding it for minutes.
            let client = aws_sdk_ssm::Client::new(sdk);
            let operation_timeout = sdk
                .timeout_config()
                .and_then(|timeouts| timeouts.operation_timeout())
                .unwrap_or_default();
            let names: Vec<String> = [
                SSM_ACCESS_TOKEN,
                SSM_APP_SECRET,
                SSM_VERIFY_TOKEN,
                SSM_ID_SALT,
            ]
            .iter()
            .map(|name| format!("{prefix}/{name}"))
            .collect();
            let output = client
                .get_parameters()
                .set_names(Some(names.clone()))
                .with_decryption(true)
                .send()
                .await
                .map_err(|problem| {
                    anyhow::anyhow!(
                        "{}",
                        aws_sdk_ssm::error::DisplayErrorContext(problem)
                    )
                })
                .with_context(|| {
                    format!(
                        "reading the secrets under {prefix} from SSM Parameter Store failed or took longer than {} s (check that the function can reach SSM: the endpoint, a VPC endpoint or NAT, and its role's ssm:GetParameters on {prefix}/*)",
                        operation_timeout.as_secs()
                    )
                })?;
            let value = |name: &str| -> anyhow::Result<String> {
                let full = format!("{prefix}/{name}");
                output
                    .parameters()
                    .iter()
                    .find(|parameter| parameter.name() == Some(full.as_str()))
                    .and_then(|parameter| parameter.value())
                    .map(str::to_string)
                    .with_context(|| format!("the SSM parameter {full} is missing (create it with `aws ssm put-parameter --type SecureString --name {full} ...`)"))
            };
            let loaded = LoadedSecrets {
                handler: Secrets {
                    app_secret: value(SSM_APP_SECRET)?.into_bytes(),
                    verify_token: value(SSM_VERIFY_TOKEN)?,
                    id_salt: value(SSM_ID_SALT)?.into_bytes(),
                },
                access_token: value(SSM_ACCESS_TOKEN)?,
            };
            if loaded.handler.app_secret.is_empty() || loaded.handler.id_salt.is_empty() {
                bail!("the app secret and the id salt under {prefix} must not be empty");
            }
            Ok(loaded)
        }
    }
}
