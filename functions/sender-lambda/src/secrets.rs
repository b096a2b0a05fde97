//! The sender's two secrets, loaded once at cold start: the Graph API access token and the id
//! salt (which opens subscribers' sealed addresses and names accepted messages). From SSM
//! Parameter Store (one `GetParameters` of the two SecureStrings under the deployment's prefix,
//! through the AWS SDK configuration the other clients share) or, for local use and tests, from
//! plain environment variables. Never logged.

use anyhow::{Context, bail};

use crate::config::{SSM_ACCESS_TOKEN, SSM_ID_SALT, SecretSource};

/// The sender's secrets.
pub struct SenderSecrets {
    /// The Graph API access token.
    pub access_token: String,
    /// The deployment's id salt.
    pub id_salt: Vec<u8>,
}

/// Loads the secrets from where the configuration says.
pub async fn load_secrets(
    source: &SecretSource,
    sdk: &aws_config::SdkConfig,
) -> anyhow::Result<SenderSecrets> {
    match source {
        SecretSource::Environment => {
            let get =
                |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
            Ok(SenderSecrets {
                access_token: get("WHATSAPP_ACCESS_TOKEN")?,
                id_salt: get("VOTECHECK_ID_SALT")?.into_bytes(),
            })
        }
        SecretSource::Ssm { prefix } => {
            let names = [SSM_ACCESS_TOKEN, SSM_ID_SALT].map(|name| format!("{prefix}/{name}"));
            let output = aws_sdk_ssm::Client::new(sdk)
                .get_parameters()
                .set_names(Some(names.to_vec()))
                .with_decryption(true)
                .send()
                .await
                .map_err(|problem| {
                    anyhow::anyhow!("{}", aws_sdk_ssm::error::DisplayErrorContext(problem))
                })
                .with_context(|| {
                    format!(
                        "reading the secrets under {prefix} from SSM Parameter Store failed (check the function's ssm:GetParameters on {prefix}/{SSM_ACCESS_TOKEN} and {prefix}/{SSM_ID_SALT})"
                    )
                })?;
            let value = |full: &str| -> anyhow::Result<String> {
                match output
                    .parameters()
                    .iter()
                    .find(|parameter| parameter.name() == Some(full))
                    .and_then(|parameter| parameter.value())
                {
                    Some(value) if !value.is_empty() => Ok(value.to_owned()),
                    _ => bail!("the SSM parameter {full} is missing or empty"),
                }
            };
            Ok(SenderSecrets {
                access_token: value(&names[0])?,
                id_salt: value(&names[1])?.into_bytes(),
            })
        }
    }
}
