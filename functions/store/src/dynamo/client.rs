//! Building the DynamoDB client for a webhook: short timeouts, bounded retries, one TLS stack.
//!
//! A WhatsApp webhook must be answered within seconds, and a redelivery is the better retry
//! than a Lambda that waits: so the client gives up quickly and lets the caller answer 5xx.
//!
//! | setting | default |
//! |---|---|
//! | connect timeout | 1 s |
//! | one attempt | 2 s |
//! | the whole operation, retries included | 5 s |
//! | retries | standard mode, at most 3 attempts, backoff from 100 ms up to 1 s |
//!
//! The HTTP client is the smithy hyper client over rustls with the `ring` crypto provider: the
//! only TLS stack in the binary (no OpenSSL, no aws-lc, whose C build also complicates
//! cross-compiling for Lambda). It trusts the Mozilla root certificates compiled into the binary
//! (`webpki-root-certs`), not the system's: reading and parsing the system's certificate files
//! took 3–4 ms of every cold start. Region, credentials and endpoint come from the SDK's usual
//! sources (`AWS_REGION`, the Lambda role's credentials, `AWS_ENDPOINT_URL_DYNAMODB` or
//! `AWS_ENDPOINT_URL` for moto_server or DynamoDB Local) unless [`ClientSettings`] sets them.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_http_client::tls;

/// How to build the client; [`ClientSettings::default`] is right for the Lambda.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// An explicit endpoint (`http://127.0.0.1:5000`); `None` follows the SDK's configuration.
    pub endpoint_url: Option<String>,
    /// An explicit region; `None` follows the SDK's configuration (`AWS_REGION`).
    pub region: Option<String>,
    /// Explicit access key id and secret (for local emulators); `None` uses the SDK's default
    /// credential chain (environment, the Lambda role...).
    pub static_credentials: Option<(String, String)>,
    /// How long to wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// How long one attempt may take.
    pub attempt_timeout: Duration,
    /// How long the whole operation may take, retries included.
    pub operation_timeout: Duration,
    /// The most attempts per operation (1 = no retry).
    pub max_attempts: u32,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            endpoint_url: None,
            region: None,
            static_credentials: None,
            connect_timeout: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(5),
            max_attempts: 3,
        }
    }
}

impl ClientSettings {
    /// Settings for a local emulator (moto_server, DynamoDB Local) at `endpoint_url`, with dummy
    /// credentials and region.
    pub fn local(endpoint_url: impl Into<String>) -> Self {
        ClientSettings {
            endpoint_url: Some(endpoint_url.into()),
            region: Some("us-east-1".to_owned()),
            static_credentials: Some(("testing".to_owned(), "testing".to_owned())),
            ..ClientSettings::default()
        }
    }
}

/// The HTTP client every AWS SDK client of votecheck uses: hyper + rustls with the `ring`
/// provider (one TLS stack; the SDKs are built without their default HTTP client), trusting the
/// compiled-in Mozilla roots.
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(compiled_in_roots())
        .build_https()
}

/// A TLS context trusting exactly the compiled-in Mozilla root certificates, made once per
/// process (the DynamoDB and SSM clients both use it). The SDK's trust store takes PEM only, so
/// the DER certificates are written as PEM.
fn compiled_in_roots() -> tls::TlsContext {
    static CONTEXT: std::sync::OnceLock<tls::TlsContext> = std::sync::OnceLock::new();
    CONTEXT.get_or_init(roots_as_pem_context).clone()
}

fn roots_as_pem_context() -> tls::TlsContext {
    use base64::Engine as _;
    let mut pem = String::new();
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        pem.push_str(&base64::engine::general_purpose::STANDARD.encode(certificate.as_ref()));
        pem.push_str("\n-----END CERTIFICATE-----\n");
    }
    tls::TlsContext::builder()
        .with_trust_store(
            tls::TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(pem),
        )
        .build()
        .expect("the compiled-in root certificates are valid PEM")
}

/// Loads the SDK configuration with `settings` and returns a DynamoDB client. Call it once per
/// process (in the Lambda's `main`) and share the client.
pub async fn dynamo_client(settings: &ClientSettings) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(settings).await)
}

/// The AWS SDK configuration every client of votecheck is built from (DynamoDB, and SSM at the
/// Lambda's cold start): [`http_client`], the connect, attempt and operation timeouts and the
/// bounded retries of `settings`, and its endpoint, region and credentials when set. Without
/// these timeouts an endpoint that accepts the connection and never answers holds a call for
/// as long as the connection stays open.
pub async fn sdk_config(settings: &ClientSettings) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .operation_attempt_timeout(settings.attempt_timeout)
                .operation_timeout(settings.operation_timeout)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(settings.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(1)),
        );
    if let Some(endpoint_url) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint_url);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some((access_key_id, secret_access_key)) = &settings.static_credentials {
        loader = loader.credentials_provider(Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "votecheck-static",
        ));
    }
    loader.load().await
}
