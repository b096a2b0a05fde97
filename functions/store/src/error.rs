//! [`StoreError`], the one error type of the store, for both backends.
//!
//! Every variant says which operation failed (`claim_message`, `record_query`, `create_table`...)
//! against which table (the DynamoDB table name, or the SQLite database path), so that a log line
//! or a CLI message is actionable on its own. The variants are what a caller decides on:
//!
//! | variant | what the webhook handler does |
//! |---|---|
//! | [`Throttled`](StoreError::Throttled) | the request was refused for capacity: answer 5xx so WhatsApp redelivers later |
//! | [`Unavailable`](StoreError::Unavailable) | unreachable, timed out, or the service failed: same |
//! | [`Conflict`](StoreError::Conflict) | a concurrent write won (transaction conflict): retry once or redeliver |
//! | [`MissingTable`](StoreError::MissingTable) | configuration: run `votecheck store init --table NAME` |
//! | [`Denied`](StoreError::Denied) | credentials or IAM policy: fix the deployment |
//! | [`Invalid`](StoreError::Invalid) / [`InvalidInput`](StoreError::InvalidInput) | a bug or bad input: do not retry |
//! | [`Corrupt`](StoreError::Corrupt) | a stored item does not decode: a bug or a foreign writer |
//! | [`Backend`](StoreError::Backend) | anything else, with the backend's own message |

/// What went wrong in the store, with the operation and the table (or database file) it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend refused the request for capacity (DynamoDB `ProvisionedThroughputExceeded`,
    /// `ThrottlingException`, `RequestLimitExceeded`) even after the bounded retries.
    #[error(
        "{operation} on {table}: throttled by the store ({message}); retry later, or check the table's capacity and account limits"
    )]
    Throttled {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
        /// The backend's description.
        message: String,
    },
    /// The backend could not be reached or did not answer in time (connection refused, DNS,
    /// timeouts, 5xx), after the bounded retries; for SQLite, the database stayed locked.
    #[error(
        "{operation} on {table}: store unavailable ({message}); check the endpoint, the network and that the service is up"
    )]
    Unavailable {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
        /// The backend's description.
        message: String,
    },
    /// A concurrent write conflicted with this one (a cancelled transaction, a failed condition
    /// that is not part of the operation's normal outcome).
    #[error(
        "{operation} on {table}: conflicting concurrent write ({message}); retry the operation"
    )]
    Conflict {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
        /// The backend's description.
        message: String,
    },
    /// The table does not exist.
    #[error(
        "{operation} on {table}: the table does not exist; create it with `votecheck store init --table {table}`"
    )]
    MissingTable {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
    },
    /// The credentials were refused or lack permission for this operation.
    #[error(
        "{operation} on {table}: access denied ({message}); check the credentials and the IAM policy for this table"
    )]
    Denied {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
        /// The backend's description.
        message: String,
    },
    /// The backend rejected the request as malformed (a bug in this crate, or a table whose keys do
    /// not match [`crate::table_definition`]).
    #[error("{operation} on {table}: invalid request ({message})")]
    Invalid {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
        /// The backend's description.
        message: String,
    },
    /// A stored item could not be decoded into its record type.
    #[error("{operation} on {table}: stored item does not decode ({message})")]
    Corrupt {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
        /// The backend's description.
        message: String,
    },
    /// A value given to the store (or to a helper such as [`crate::report::parse_since`]) is not
    /// acceptable.
    #[error("invalid {what} {input:?}: expected {expected}")]
    InvalidInput {
        /// What the value is for.
        what: &'static str,
        /// The value given.
        input: String,
        /// What would be accepted.
        expected: String,
    },
    /// Any other backend failure, with the backend's own description.
    #[error("{operation} on {table}: {message}")]
    Backend {
        /// What the store was doing (`put_query`, `claim_message`...).
        operation: &'static str,
        /// The table (or SQLite file).
        table: String,
        /// The backend's description.
        message: String,
    },
}

impl StoreError {
    /// Whether retrying later (for the webhook: letting WhatsApp redeliver) may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Throttled { .. }
                | StoreError::Unavailable { .. }
                | StoreError::Conflict { .. }
        )
    }

    /// The operation that failed, when the error concerns one.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            StoreError::Throttled { operation, .. }
            | StoreError::Unavailable { operation, .. }
            | StoreError::Conflict { operation, .. }
            | StoreError::MissingTable { operation, .. }
            | StoreError::Denied { operation, .. }
            | StoreError::Invalid { operation, .. }
            | StoreError::Corrupt { operation, .. }
            | StoreError::Backend { operation, .. } => Some(operation),
            StoreError::InvalidInput { .. } => None,
        }
    }
}
