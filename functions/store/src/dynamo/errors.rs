//! Turning AWS SDK errors into [`StoreError`]s, with the operation and the table.
//!
//! The classification is by the service's error code (and HTTP status), in one pure function,
//! [`classify`], so it is tested on its own; transport failures (connection refused, timeouts)
//! become [`StoreError::Unavailable`].

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::StoreError;

/// What kind of failure a DynamoDB error code (or HTTP status) denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Throttled,
    Unavailable,
    Conflict,
    MissingTable,
    Denied,
    Invalid,
    Backend,
}

/// Classifies a service error by its code, falling back on the HTTP status.
pub(crate) fn classify(code: Option<&str>, status: Option<u16>) -> Kind {
    match code.unwrap_or_default() {
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "Throttling"
        | "TooManyRequestsException"
        | "LimitExceededException" => Kind::Throttled,
        "InternalServerError"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "ServiceUnavailableException" => Kind::Unavailable,
        "ConditionalCheckFailedException"
        | "TransactionConflictException"
        | "TransactionCanceledException"
        | "TransactionInProgressException"
        | "ResourceInUseException" => Kind::Conflict,
        "ResourceNotFoundException" => Kind::MissingTable,
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "MissingAuthenticationToken"
        | "MissingAuthenticationTokenException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "IncompleteSignature" => Kind::Denied,
        "ValidationException"
        | "SerializationException"
        | "ItemCollectionSizeLimitExceededException" => Kind::Invalid,
        _ => match status {
            Some(429) => Kind::Throttled,
            Some(401 | 403) => Kind::Denied,
            Some(500..=599) => Kind::Unavailable,
            _ => Kind::Backend,
        },
    }
}

/// Builds the store error of `kind`.
pub(crate) fn store_error(
    kind: Kind,
    operation: &'static str,
    table: &str,
    message: String,
) -> StoreError {
    let table = table.to_owned();
    match kind {
        Kind::Throttled => StoreError::Throttled {
            operation,
            table,
            message,
        },
        Kind::Unavailable => StoreError::Unavailable {
            operation,
            table,
            message,
        },
        Kind::Conflict => StoreError::Conflict {
            operation,
            table,
            message,
        },
        Kind::MissingTable => StoreError::MissingTable { operation, table },
        Kind::Denied => StoreError::Denied {
            operation,
            table,
            message,
        },
        Kind::Invalid => StoreError::Invalid {
            operation,
            table,
            message,
        },
        Kind::Backend => StoreError::Backend {
            operation,
            table,
            message,
        },
    }
}

/// The outcome of a conditional write that claims something once (a message, a recipient, a
/// follow-up): [`Claim::Claimed`](crate::Claim) when it went through,
/// [`Claim::Duplicate`](crate::Claim) when its condition failed, the error otherwise.
pub(crate) fn claim_outcome<T, E>(
    operation: &'static str,
    table: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<crate::Claim, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(crate::Claim::Claimed),
        Err(error) if condition_failed(&error) => Ok(crate::Claim::Duplicate),
        Err(error) => Err(from_sdk(operation, table, error)),
    }
}

/// Whether a conditional request failed its condition.
pub(crate) fn condition_failed<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Maps an SDK error of any operation.
pub(crate) fn from_sdk<E>(
    operation: &'static str,
    table: &str,
    error: SdkError<E, HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = DisplayErrorContext(&error).to_string();
    let kind = match &error {
        SdkError::TimeoutError(_) => Kind::Unavailable,
        SdkError::DispatchFailure(failure) => {
            if failure.is_user() {
                Kind::Invalid
            } else {
                Kind::Unavailable
            }
        }
        SdkError::ResponseError(_) => Kind::Unavailable,
        SdkError::ServiceError(service) => {
            classify(service.err().code(), Some(service.raw().status().as_u16()))
        }
        SdkError::ConstructionFailure(_) => {
            // Credentials that cannot be resolved surface here: a configuration problem.
            if message.contains("credentials") {
                Kind::Denied
            } else {
                Kind::Invalid
            }
        }
        _ => Kind::Backend,
    };
    store_error(kind, operation, table, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes() {
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
        ] {
            assert_eq!(classify(Some(code), Some(400)), Kind::Throttled, "{code}");
        }
        assert_eq!(classify(None, Some(429)), Kind::Throttled);
    }

    #[test]
    fn other_codes_and_statuses() {
        assert_eq!(
            classify(Some("ResourceNotFoundException"), Some(400)),
            Kind::MissingTable
        );
        assert_eq!(
            classify(Some("TransactionCanceledException"), Some(400)),
            Kind::Conflict
        );
        assert_eq!(
            classify(Some("UnrecognizedClientException"), Some(400)),
            Kind::Denied
        );
        assert_eq!(
            classify(Some("ValidationException"), Some(400)),
            Kind::Invalid
        );
        assert_eq!(classify(None, Some(503)), Kind::Unavailable);
        assert_eq!(classify(Some("SomethingNew"), Some(400)), Kind::Backend);
    }

    #[test]
    fn messages_carry_operation_and_table() {
        let error = store_error(
            Kind::MissingTable,
            "record_query",
            "votecheck",
            String::new(),
        );
        assert_eq!(
            error.to_string(),
            "record_query on votecheck: the table does not exist; create it with `votecheck store init --table votecheck`"
        );
    }
}
