//! Loading the secrets once at cold start: from SSM Parameter Store (SecureString, decrypted, one
//! `GetParameters` call for the four names under the deployment's prefix) or, for local use and
//! tests, from plain environment variables. Secrets are never logged.

use anyhow::{Context, bail};

use crate::config::{
    SSM_ACCESS_TOKEN, SSM_APP_SECRET, SSM_ID_SALT, SSM_VERIFY_TOKEN, SecretSource,
};
use crate::handler::Secrets;

/// The secrets plus the Graph API access token.
pub struct LoadedSecrets {
    /// The secrets the handler needs.
    pub handler: Secrets,
    /// The Graph API access token.
    pub access_token: String,
}

/// Loads the secrets from where the configuration says.
pub async fn load_secrets(source: &SecretSource) -> anyhow::Result<LoadedSecrets> {
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
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .http_client(votecheck_store::dynamo::client::http_client())
                .load()
                .await;
            let client = aws_sdk_ssm::Client::new(&sdk);
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
                .with_context(|| {
                    format!("reading the secrets under {prefix} from SSM Parameter Store")
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
