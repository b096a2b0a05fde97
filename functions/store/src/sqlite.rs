//! [`SqliteStore`]: the embedded store for local use (`votecheck serve`, `votecheck report` on a
//! local file), so that nothing local needs AWS.
//!
//! One SQLite file (bundled SQLite, WAL mode, 5-second busy timeout so a reader process and the
//! preview server can share it). The connection sits behind a mutex and every call runs on
//! tokio's blocking pool, so the async handler never blocks its worker threads. One table per
//! record kind, keyed like the DynamoDB items (`(citizen, query_id)`...), with the same expiry
//! rules: readers ignore expired rows; [`SqliteStore::purge_expired`] deletes them, since SQLite
//! has no TTL.
//!
//! ```no_run
//! # async fn example() -> Result<(), votecheck_store::StoreError> {
//! use votecheck_store::{SqliteStore, Store, StoreConfig};
//! let store = SqliteStore::open("target/votecheck.sqlite3", StoreConfig::default())?;
//! println!("{}", store.describe());
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::contact::SealedContact;
use crate::follow_up::{FollowUp, FollowUpPage, validate_follow_up};
use crate::sends::{
    AlertFunnel, AlertRun, DeliveryStage, SendOutcome, SendState, advance, validate_alert_id,
    validate_run,
};
use crate::store::{
    merge_moved_preferences, preferences_expire_at, validate_delivery_failure, validate_feedback,
    validate_message_id, validate_query_record, validate_window,
};
use crate::subscription::{
    AudienceMember, AudiencePage, AudienceQuery, Subscription, Topic, validate_audience_query,
    validate_subscription,
};
use crate::time::window_start;
use crate::{
    CitizenKey, Claim, DeliveryFailure, Feedback, IdentityLink, MessageKey, Preferences,
    QueryRecord, Store, StoreConfig, StoreError, redact,
};

/// The schema version this code writes, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS message_claims (
    message_id TEXT PRIMARY KEY NOT NULL,
    claimed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queries (
    citizen TEXT NOT NULL,
    query_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    language TEXT NOT NULL,
    intent TEXT NOT NULL,
    outcome TEXT NOT NULL,
    question_redacted TEXT NOT NULL,
    passage_ids TEXT NOT NULL,
    scores TEXT NOT NULL,
    fact_check_id TEXT,
    corpus_version TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    forwarded INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (citizen, query_id)
);
CREATE INDEX IF NOT EXISTS queries_by_time ON queries (at, query_id);
CREATE TABLE IF NOT EXISTS feedback (
    citizen TEXT NOT NULL,
    query_id TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (citizen, query_id)
);
CREATE INDEX IF NOT EXISTS feedback_by_time ON feedback (at, query_id);
CREATE TABLE IF NOT EXISTS preferences (
    citizen TEXT PRIMARY KEY NOT NULL,
    language TEXT,
    opted_out INTEGER NOT NULL,
    last_seen INTEGER,
    expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS rate_counters (
    citizen TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (citizen, window_start)
);
CREATE TABLE IF NOT EXISTS identities (
    id TEXT PRIMARY KEY NOT NULL,
    citizen TEXT NOT NULL,
    expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS identities_by_citizen ON identities (citizen);
CREATE TABLE IF NOT EXISTS subscriptions (
    citizen TEXT NOT NULL,
    topic TEXT NOT NULL,
    language TEXT NOT NULL,
    jurisdiction TEXT,
    contact TEXT,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (citizen, topic)
);
CREATE INDEX IF NOT EXISTS subscriptions_by_audience ON subscriptions (topic, language, citizen);
CREATE TABLE IF NOT EXISTS alert_runs (
    alert_id TEXT PRIMARY KEY NOT NULL,
    topic TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    enqueued INTEGER NOT NULL,
    progress TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_runs_by_start ON alert_runs (started_at, alert_id);
CREATE TABLE IF NOT EXISTS alert_sends (
    alert_id TEXT NOT NULL,
    citizen TEXT NOT NULL,
    state TEXT NOT NULL,
    code INTEGER,
    message TEXT,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (alert_id, citizen)
);
CREATE INDEX IF NOT EXISTS alert_sends_by_message ON alert_sends (message);
CREATE INDEX IF NOT EXISTS alert_sends_by_citizen ON alert_sends (citizen);
CREATE TABLE IF NOT EXISTS alert_counts (
    alert_id TEXT NOT NULL,
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (alert_id, name)
);
CREATE TABLE IF NOT EXISTS follow_ups (
    citizen TEXT NOT NULL,
    query_id TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    contact TEXT,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    done_at INTEGER,
    fact_check_id TEXT,
    PRIMARY KEY (citizen, query_id)
);
CREATE TABLE IF NOT EXISTS delivery_failures (
    citizen TEXT NOT NULL,
    message_id TEXT NOT NULL,
    error_code INTEGER NOT NULL,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (citizen, message_id)
);
";

const QUERY_COLUMNS: &str = "query_id, at, citizen, language, intent, outcome, question_redacted, \
     passage_ids, scores, fact_check_id, corpus_version, latency_ms, forwarded, expires_at";

/// The embedded store: one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
    config: Arc<StoreConfig>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode, with the schema in place.
    /// Idempotent: opening an existing store keeps its data.
    pub fn open(path: impl AsRef<Path>, config: StoreConfig) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let table = path.display().to_string();
        let fail = |error: rusqlite::Error| map_error("open", &table, error);
        let connection = Connection::open(&path).map_err(fail)?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(fail)?;
        let journal_mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
            .map_err(fail)?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend {
                operation: "open",
                table,
                message: format!("could not switch to WAL mode (journal mode is {journal_mode})"),
            });
        }
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Invalid {
                operation: "open",
                table,
                message: format!(
                    "schema version {version} is newer than this program's {SCHEMA_VERSION}; use a newer votecheck"
                ),
            });
        }
        connection.execute_batch(SCHEMA).map_err(fail)?;
        // A file whose subscriptions table predates sealed contacts gets the column (additive:
        // older readers ignore it).
        let has_contact: bool = connection
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('subscriptions') WHERE name = 'contact'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(fail)?
            > 0;
        if !has_contact {
            connection
                .execute_batch("ALTER TABLE subscriptions ADD COLUMN contact TEXT")
                .map_err(fail)?;
        }
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(fail)?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            path: Arc::new(path),
            config: Arc::new(config),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration this store writes with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Deletes every expired row (SQLite has no TTL) and returns how many went. Readers already
    /// ignore them; this reclaims the space and keeps the retention promise on disk.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.run("purge_expired", move |connection| {
            let transaction = connection.transaction()?;
            let mut deleted = 0;
            for table in [
                "message_claims",
                "queries",
                "feedback",
                "rate_counters",
                "delivery_failures",
                "subscriptions",
                "alert_sends",
                "follow_ups",
            ] {
                deleted += transaction.execute(
                    &format!("DELETE FROM {table} WHERE expires_at <= ?1"),
                    params![now],
                )? as u64;
            }
            for table in ["preferences", "identities"] {
                deleted += transaction.execute(
                    &format!(
                        "DELETE FROM {table} WHERE expires_at IS NOT NULL AND expires_at <= ?1"
                    ),
                    params![now],
                )? as u64;
            }
            transaction.commit()?;
            Ok(deleted)
        })
        .await
    }

    /// Runs `work` on the blocking pool with the connection, mapping errors with context.
    async fn run<T, F>(&self, operation: &'static str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        let table = self.path.display().to_string();
        let table_for_error = table.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
            // back), so a poisoned lock is still usable.
            let mut connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut connection).map_err(|error| map_error(operation, &table, error))
        })
        .await
        .map_err(|join_error| StoreError::Backend {
            operation,
            table: table_for_error,
            message: format!("the blocking task failed: {join_error}"),
        })?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn claim_message(&self, message_id: &str, now: i64) -> Result<Claim, StoreError> {
        validate_message_id(message_id)?;
        let message_id = message_id.to_owned();
        let expires_at = self.config.claim_expires_at(now);
        self.run("claim_message", move |connection| {
            // Inserts, or takes over an expired claim; a live claim makes the upsert a no-op.
            let changed = connection.execute(
                "INSERT INTO message_claims (message_id, claimed_at, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (message_id) DO UPDATE
                 SET claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
                 WHERE message_claims.expires_at <= excluded.claimed_at",
                params![message_id, now, expires_at],
            )?;
            Ok(if changed == 1 {
                Claim::Claimed
            } else {
                Claim::Duplicate
            })
        })
        .await
    }

    async fn release_message(&self, message_id: &str) -> Result<(), StoreError> {
        validate_message_id(message_id)?;
        let message_id = message_id.to_owned();
        self.run("release_message", move |connection| {
            connection.execute(
                "DELETE FROM message_claims WHERE message_id = ?1",
                params![message_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn record_query(&self, record: &QueryRecord) -> Result<(), StoreError> {
        validate_query_record(record)?;
        let record = QueryRecord {
            question_redacted: redact(&record.question_redacted),
            ..record.clone()
        };
        let passage_ids = json(&record.passage_ids);
        let scores = json(&record.scores);
        self.run("record_query", move |connection| {
            connection.execute(
                &format!(
                    "INSERT OR REPLACE INTO queries ({QUERY_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    record.query_id,
                    record.at,
                    record.citizen.as_str(),
                    record.language,
                    record.intent,
                    record.outcome,
                    record.question_redacted,
                    passage_ids,
                    scores,
                    record.fact_check_id,
                    record.corpus_version,
                    record.latency_ms,
                    record.forwarded,
                    record.expires_at,
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn query(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        now: i64,
    ) -> Result<Option<QueryRecord>, StoreError> {
        let citizen = citizen.as_str().to_owned();
        let query_id = query_id.to_owned();
        self.run("query", move |connection| {
            connection
                .query_row(
                    &format!(
                        "SELECT {QUERY_COLUMNS} FROM queries
                         WHERE citizen = ?1 AND query_id = ?2 AND expires_at > ?3"
                    ),
                    params![citizen, query_id, now],
                    query_from_row,
                )
                .optional()
        })
        .await
    }

    async fn preferences(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Option<Preferences>, StoreError> {
        let citizen = citizen.as_str().to_owned();
        self.run("preferences", move |connection| {
            read_preferences(connection, &citizen, Some(now))
        })
        .await
    }

    async fn save_preferences(
        &self,
        citizen: &CitizenKey,
        preferences: &Preferences,
    ) -> Result<(), StoreError> {
        let citizen = citizen.as_str().to_owned();
        let preferences = preferences.clone();
        let expires_at = preferences_expire_at(&preferences, &self.config);
        self.run("save_preferences", move |connection| {
            write_preferences(connection, &citizen, &preferences, expires_at)
        })
        .await
    }

    async fn move_citizen(&self, from: &CitizenKey, to: &CitizenKey) -> Result<(), StoreError> {
        if from == to {
            return Ok(());
        }
        let from = from.as_str().to_owned();
        let to = to.as_str().to_owned();
        let config = Arc::clone(&self.config);
        self.run("move_citizen", move |connection| {
            let transaction = connection.transaction()?;
            // Subscriptions move too; where both keys have one for a topic, the moving one wins
            // (as the old language does).
            transaction.execute(
                "INSERT OR REPLACE INTO subscriptions
                 (citizen, topic, language, jurisdiction, contact, at, expires_at)
                 SELECT ?2, topic, language, jurisdiction, contact, at, expires_at
                 FROM subscriptions WHERE citizen = ?1",
                params![from, to],
            )?;
            transaction.execute(
                "DELETE FROM subscriptions WHERE citizen = ?1",
                params![from],
            )?;
            let Some(moving) = read_preferences(&transaction, &from, None)? else {
                return transaction.commit();
            };
            let existing = read_preferences(&transaction, &to, None)?;
            let merged = merge_moved_preferences(moving, existing);
            let expires_at = preferences_expire_at(&merged, &config);
            write_preferences(&transaction, &to, &merged, expires_at)?;
            transaction.execute("DELETE FROM preferences WHERE citizen = ?1", params![from])?;
            transaction.commit()
        })
        .await
    }

    async fn record_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        validate_feedback(feedback)?;
        let feedback = feedback.clone();
        let expires_at = self.config.expires_at(feedback.at);
        self.run("record_feedback", move |connection| {
            connection.execute(
                "INSERT OR REPLACE INTO feedback (citizen, query_id, helpful, at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    feedback.citizen.as_str(),
                    feedback.query_id,
                    feedback.helpful,
                    feedback.at,
                    expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn count_message(
        &self,
        citizen: &CitizenKey,
        now: i64,
        window_seconds: i64,
    ) -> Result<u64, StoreError> {
        validate_window(now, window_seconds)?;
        let citizen = citizen.as_str().to_owned();
        let start = window_start(now, window_seconds);
        let expires_at = start + window_seconds;
        self.run("count_message", move |connection| {
            let count: i64 = connection.query_row(
                "INSERT INTO rate_counters (citizen, window_start, count, expires_at)
                 VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT (citizen, window_start) DO UPDATE SET count = count + 1
                 RETURNING count",
                params![citizen, start, expires_at],
                |row| row.get(0),
            )?;
            Ok(count as u64)
        })
        .await
    }

    async fn delete_citizen(&self, citizen: &CitizenKey) -> Result<u64, StoreError> {
        let citizen = citizen.as_str().to_owned();
        self.run("delete_citizen", move |connection| {
            let transaction = connection.transaction()?;
            // The citizen's own key, and the keys of the ids linked to them (records kept under
            // an id's key before it was linked).
            let mut keys: Vec<String> = transaction
                .prepare("SELECT id FROM identities WHERE citizen = ?1")?
                .query_map(params![citizen], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            keys.retain(|key| *key != citizen);
            keys.push(citizen.clone());
            let mut deleted = 0;
            for key in &keys {
                for table in [
                    "queries",
                    "feedback",
                    "preferences",
                    "delivery_failures",
                    "subscriptions",
                    "alert_sends",
                    "follow_ups",
                ] {
                    deleted += transaction.execute(
                        &format!("DELETE FROM {table} WHERE citizen = ?1"),
                        params![key],
                    )? as u64;
                }
            }
            deleted += transaction.execute(
                "DELETE FROM identities WHERE citizen = ?1",
                params![citizen],
            )? as u64;
            transaction.commit()?;
            Ok(deleted)
        })
        .await
    }

    async fn link_identity(
        &self,
        id: &CitizenKey,
        citizen: &CitizenKey,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let id = id.as_str().to_owned();
        let citizen = citizen.as_str().to_owned();
        self.run("link_identity", move |connection| {
            connection.execute(
                "INSERT OR REPLACE INTO identities (id, citizen, expires_at) VALUES (?1, ?2, ?3)",
                params![id, citizen, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn identity(
        &self,
        id: &CitizenKey,
        now: i64,
    ) -> Result<Option<IdentityLink>, StoreError> {
        let id = id.as_str().to_owned();
        self.run("identity", move |connection| {
            let row: Option<(String, Option<i64>)> = connection
                .query_row(
                    "SELECT citizen, expires_at FROM identities
                     WHERE id = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                    params![id, now],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            row.map(|(citizen, expires_at)| {
                let citizen = CitizenKey::from_stored(&citizen)
                    .map_err(|error| conversion_error(0, error))?;
                Ok(IdentityLink {
                    citizen,
                    expires_at,
                })
            })
            .transpose()
        })
        .await
    }

    async fn unlink_identity(&self, id: &CitizenKey) -> Result<(), StoreError> {
        let id = id.as_str().to_owned();
        self.run("unlink_identity", move |connection| {
            connection.execute("DELETE FROM identities WHERE id = ?1", params![id])?;
            Ok(())
        })
        .await
    }

    async fn record_delivery_failure(&self, failure: &DeliveryFailure) -> Result<(), StoreError> {
        validate_delivery_failure(failure)?;
        let failure = failure.clone();
        let expires_at = self.config.expires_at(failure.at);
        self.run("record_delivery_failure", move |connection| {
            connection.execute(
                "INSERT OR REPLACE INTO delivery_failures
                 (citizen, message_id, error_code, at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    failure.citizen.as_str(),
                    failure.message_id,
                    failure.error_code,
                    failure.at,
                    expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn queries_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        self.run("queries_between", move |connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {QUERY_COLUMNS} FROM queries
                 WHERE at >= ?1 AND at < ?2 AND expires_at > ?3
                 ORDER BY at, query_id"
            ))?;
            let records = statement
                .query_map(params![from, to, now], query_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(records)
        })
        .await
    }

    async fn feedback_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<Feedback>, StoreError> {
        self.run("feedback_between", move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT query_id, citizen, helpful, at FROM feedback
                 WHERE at >= ?1 AND at < ?2 AND expires_at > ?3
                 ORDER BY at, query_id",
            )?;
            let feedback = statement
                .query_map(params![from, to, now], |row| {
                    Ok(Feedback {
                        query_id: row.get(0)?,
                        citizen: citizen_from_row(row, 1)?,
                        helpful: row.get(2)?,
                        at: row.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(feedback)
        })
        .await
    }

    async fn subscribe(&self, subscription: &Subscription) -> Result<(), StoreError> {
        validate_subscription(subscription)?;
        let subscription = subscription.clone();
        self.run("subscribe", move |connection| {
            connection.execute(
                "INSERT OR REPLACE INTO subscriptions
                 (citizen, topic, language, jurisdiction, contact, at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    subscription.citizen.as_str(),
                    subscription.topic.as_str(),
                    subscription.language,
                    subscription.jurisdiction,
                    subscription.contact.as_ref().map(SealedContact::as_str),
                    subscription.at,
                    subscription.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn unsubscribe(&self, citizen: &CitizenKey, topic: Topic) -> Result<bool, StoreError> {
        let citizen = citizen.as_str().to_owned();
        self.run("unsubscribe", move |connection| {
            let deleted = connection.execute(
                "DELETE FROM subscriptions WHERE citizen = ?1 AND topic = ?2",
                params![citizen, topic.as_str()],
            )?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn unsubscribe_all(&self, citizen: &CitizenKey) -> Result<u64, StoreError> {
        let citizen = citizen.as_str().to_owned();
        self.run("unsubscribe_all", move |connection| {
            let transaction = connection.transaction()?;
            let mut deleted = 0;
            // Every topic subscription, and every pending follow-up: "stop" ends them all.
            for statement in [
                "DELETE FROM subscriptions WHERE citizen = ?1",
                "DELETE FROM follow_ups WHERE citizen = ?1 AND done_at IS NULL",
            ] {
                deleted += transaction.execute(statement, params![citizen])? as u64;
            }
            transaction.commit()?;
            Ok(deleted)
        })
        .await
    }

    async fn subscriptions(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        let key = citizen.clone();
        self.run("subscriptions", move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT topic, language, jurisdiction, at, expires_at, contact FROM subscriptions
                 WHERE citizen = ?1 AND expires_at > ?2",
            )?;
            let mut subscriptions = statement
                .query_map(params![key.as_str(), now], |row| {
                    let topic: String = row.get(0)?;
                    Ok(Subscription {
                        citizen: key.clone(),
                        topic: Topic::parse(&topic).ok_or_else(|| {
                            conversion_error(
                                0,
                                StoreError::InvalidInput {
                                    what: "stored topic",
                                    input: topic.clone(),
                                    expected: "a known topic".to_owned(),
                                },
                            )
                        })?,
                        language: row.get(1)?,
                        jurisdiction: row.get(2)?,
                        contact: row
                            .get::<_, Option<String>>(5)?
                            .map(SealedContact::from_stored),
                        at: row.get(3)?,
                        expires_at: row.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            subscriptions.sort_by_key(|subscription| subscription.topic);
            Ok(subscriptions)
        })
        .await
    }

    async fn audience_page(
        &self,
        query: &AudienceQuery,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<AudiencePage, StoreError> {
        validate_audience_query(query, limit)?;
        // The cursor is the last citizen key of the previous page: pages follow the index's
        // (topic, language, citizen) order.
        let after = match cursor {
            None => String::new(),
            Some(cursor) => CitizenKey::from_stored(cursor)
                .map_err(|_| StoreError::InvalidInput {
                    what: "audience cursor",
                    input: cursor.chars().take(80).collect(),
                    expected: "the `next` of a page of this store".to_owned(),
                })?
                .as_str()
                .to_owned(),
        };
        let query = query.clone();
        self.run("audience_page", move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT citizen, jurisdiction, contact FROM subscriptions
                 WHERE topic = ?1 AND language = ?2 AND citizen > ?3 AND expires_at > ?4
                   AND (?5 IS NULL OR jurisdiction = ?5)
                 ORDER BY citizen LIMIT ?6",
            )?;
            let mut members = statement
                .query_map(
                    params![
                        query.topic.as_str(),
                        query.language,
                        after,
                        now,
                        query.jurisdiction,
                        i64::from(limit) + 1
                    ],
                    |row| {
                        Ok(AudienceMember {
                            citizen: citizen_from_row(row, 0)?,
                            jurisdiction: row.get(1)?,
                            contact: row
                                .get::<_, Option<String>>(2)?
                                .map(SealedContact::from_stored),
                        })
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            let next = (members.len() > limit as usize).then(|| {
                members.truncate(limit as usize);
                members
                    .last()
                    .map(|member| member.citizen.as_str().to_owned())
                    .unwrap_or_default()
            });
            Ok(AudiencePage { members, next })
        })
        .await
    }

    async fn start_alert_run(&self, run: &AlertRun) -> Result<Option<AlertRun>, StoreError> {
        validate_run(run)?;
        let run = run.clone();
        self.run("start_alert_run", move |connection| {
            let transaction = connection.transaction()?;
            let existing = read_run(&transaction, &run.alert_id)?;
            if existing.is_none() {
                write_run(&transaction, &run)?;
            }
            transaction.commit()?;
            Ok(existing)
        })
        .await
    }

    async fn save_alert_run(&self, run: &AlertRun) -> Result<(), StoreError> {
        validate_run(run)?;
        let run = run.clone();
        self.run("save_alert_run", move |connection| {
            write_run(connection, &run)
        })
        .await
    }

    async fn claim_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Claim, StoreError> {
        validate_alert_id(alert_id)?;
        let (alert_id, citizen) = (alert_id.to_owned(), citizen.as_str().to_owned());
        let expires_at = self.config.expires_at(now);
        self.run("claim_send", move |connection| {
            // Inserts, or takes over a claim past its expiry; a live one makes it a no-op.
            let changed = connection.execute(
                "INSERT INTO alert_sends (alert_id, citizen, state, at, expires_at)
                 VALUES (?1, ?2, 'claimed', ?3, ?4)
                 ON CONFLICT (alert_id, citizen) DO UPDATE
                 SET state = 'claimed', code = NULL, message = NULL, at = excluded.at,
                     expires_at = excluded.expires_at
                 WHERE alert_sends.expires_at <= excluded.at",
                params![alert_id, citizen, now, expires_at],
            )?;
            Ok(if changed == 1 {
                Claim::Claimed
            } else {
                Claim::Duplicate
            })
        })
        .await
    }

    async fn release_send(&self, alert_id: &str, citizen: &CitizenKey) -> Result<(), StoreError> {
        validate_alert_id(alert_id)?;
        let (alert_id, citizen) = (alert_id.to_owned(), citizen.as_str().to_owned());
        self.run("release_send", move |connection| {
            connection.execute(
                "DELETE FROM alert_sends WHERE alert_id = ?1 AND citizen = ?2 AND state = 'claimed'",
                params![alert_id, citizen],
            )?;
            Ok(())
        })
        .await
    }

    async fn record_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        outcome: &SendOutcome,
        at: i64,
    ) -> Result<(), StoreError> {
        validate_alert_id(alert_id)?;
        let (alert_id, citizen) = (alert_id.to_owned(), citizen.as_str().to_owned());
        let (state, counter) = outcome.state();
        let message = match outcome {
            SendOutcome::Accepted { message } => Some(message.as_str().to_owned()),
            _ => None,
        };
        self.run("record_send", move |connection| {
            let transaction = connection.transaction()?;
            // Only a claimed recipient moves: a second record of the same send counts nothing.
            let changed = transaction.execute(
                "UPDATE alert_sends SET state = ?3, code = ?4, message = ?5, at = ?6
                 WHERE alert_id = ?1 AND citizen = ?2 AND state = 'claimed'",
                params![alert_id, citizen, state.as_str(), state.code(), message, at],
            )?;
            if changed == 1 {
                count(&transaction, &alert_id, &[counter])?;
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn record_status(
        &self,
        message: &MessageKey,
        stage: DeliveryStage,
        at: i64,
    ) -> Result<Option<String>, StoreError> {
        let message = message.as_str().to_owned();
        self.run("record_status", move |connection| {
            let transaction = connection.transaction()?;
            let found: Option<(String, String, String, Option<i64>)> = transaction
                .query_row(
                    "SELECT alert_id, citizen, state, code FROM alert_sends WHERE message = ?1",
                    params![message],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                )
                .optional()?;
            let Some((alert_id, citizen, state, code)) = found else {
                return Ok(None);
            };
            let current = SendState::parse(&state, code).ok_or_else(|| {
                conversion_error(
                    2,
                    std::io::Error::other(format!("unknown send state `{state}`")),
                )
            })?;
            let Some((next, counters)) = advance(current, stage) else {
                return Ok(Some(alert_id));
            };
            transaction.execute(
                "UPDATE alert_sends SET state = ?3, code = ?4, at = ?5
                 WHERE alert_id = ?1 AND citizen = ?2",
                params![alert_id, citizen, next.as_str(), next.code(), at],
            )?;
            count(&transaction, &alert_id, &counters)?;
            transaction.commit()?;
            Ok(Some(alert_id))
        })
        .await
    }

    async fn alert_funnels_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<AlertFunnel>, StoreError> {
        self.run("alert_funnels_between", move |connection| {
            let ids: Vec<String> = connection
                .prepare(
                    "SELECT alert_id FROM alert_runs WHERE started_at >= ?1 AND started_at < ?2
                     ORDER BY started_at, alert_id",
                )?
                .query_map(params![from, to], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            let mut funnels = Vec::with_capacity(ids.len());
            for id in ids {
                let Some(run) = read_run(connection, &id)? else {
                    continue;
                };
                let counts: Vec<(String, u64)> = connection
                    .prepare("SELECT name, count FROM alert_counts WHERE alert_id = ?1")?
                    .query_map(params![id], |row| {
                        Ok((row.get(0)?, row.get::<_, i64>(1)?.max(0) as u64))
                    })?
                    .collect::<Result<_, _>>()?;
                funnels.push(AlertFunnel::from_counts(&run, counts));
            }
            Ok(funnels)
        })
        .await
    }

    async fn request_follow_up(&self, follow_up: &FollowUp) -> Result<(), StoreError> {
        validate_follow_up(follow_up)?;
        let follow_up = follow_up.clone();
        self.run("request_follow_up", move |connection| {
            connection.execute(
                "INSERT OR REPLACE INTO follow_ups
                 (citizen, query_id, question, language, contact, at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    follow_up.citizen.as_str(),
                    follow_up.query_id,
                    follow_up.question,
                    follow_up.language,
                    follow_up.contact.as_ref().map(SealedContact::as_str),
                    follow_up.at,
                    follow_up.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn pending_follow_ups(
        &self,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<FollowUpPage, StoreError> {
        if limit == 0 || limit > crate::subscription::MAX_PAGE_SIZE {
            return Err(StoreError::InvalidInput {
                what: "follow-up page size",
                input: limit.to_string(),
                expected: format!("1 to {}", crate::subscription::MAX_PAGE_SIZE),
            });
        }
        // The cursor is the last `citizen#query` read.
        let after = cursor.unwrap_or_default().to_owned();
        self.run("pending_follow_ups", move |connection| {
            let mut rows: Vec<FollowUp> = connection
                .prepare(
                    "SELECT citizen, query_id, question, language, contact, at, expires_at
                     FROM follow_ups
                     WHERE done_at IS NULL AND expires_at > ?1 AND citizen || '#' || query_id > ?2
                     ORDER BY citizen || '#' || query_id LIMIT ?3",
                )?
                .query_map(params![now, after, i64::from(limit) + 1], |row| {
                    Ok(FollowUp {
                        citizen: citizen_from_row(row, 0)?,
                        query_id: row.get(1)?,
                        question: row.get(2)?,
                        language: row.get(3)?,
                        contact: row
                            .get::<_, Option<String>>(4)?
                            .map(SealedContact::from_stored),
                        at: row.get(5)?,
                        expires_at: row.get(6)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let next = if rows.len() > limit as usize {
                rows.truncate(limit as usize);
                rows.last()
                    .map(|last| format!("{}#{}", last.citizen, last.query_id))
            } else {
                None
            };
            Ok(FollowUpPage {
                follow_ups: rows,
                next,
            })
        })
        .await
    }

    async fn complete_follow_up(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        fact_check_id: &str,
        now: i64,
    ) -> Result<Claim, StoreError> {
        let (citizen, query_id, fact_check_id) = (
            citizen.as_str().to_owned(),
            query_id.to_owned(),
            fact_check_id.to_owned(),
        );
        self.run("complete_follow_up", move |connection| {
            let changed = connection.execute(
                "UPDATE follow_ups SET done_at = ?3, fact_check_id = ?4
                 WHERE citizen = ?1 AND query_id = ?2 AND done_at IS NULL AND expires_at > ?3",
                params![citizen, query_id, now, fact_check_id],
            )?;
            Ok(if changed == 1 {
                Claim::Claimed
            } else {
                Claim::Duplicate
            })
        })
        .await
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.path.display())
    }
}

/// Reads an alert's run.
fn read_run(connection: &Connection, alert_id: &str) -> Result<Option<AlertRun>, rusqlite::Error> {
    connection
        .query_row(
            "SELECT topic, started_at, finished_at, enqueued, progress FROM alert_runs
             WHERE alert_id = ?1",
            params![alert_id],
            |row| {
                let topic: String = row.get(0)?;
                let progress: String = row.get(4)?;
                Ok(AlertRun {
                    alert_id: alert_id.to_owned(),
                    topic: Topic::parse(&topic).ok_or_else(|| {
                        conversion_error(
                            0,
                            std::io::Error::other(format!("unknown topic `{topic}`")),
                        )
                    })?,
                    started_at: row.get(1)?,
                    finished_at: row.get(2)?,
                    enqueued: row.get::<_, i64>(3)?.max(0) as u64,
                    progress: serde_json::from_str(&progress)
                        .map_err(|error| conversion_error(4, error))?,
                })
            },
        )
        .optional()
}

/// Saves (replaces) an alert's run.
fn write_run(connection: &Connection, run: &AlertRun) -> Result<(), rusqlite::Error> {
    connection.execute(
        "INSERT OR REPLACE INTO alert_runs
         (alert_id, topic, started_at, finished_at, enqueued, progress)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            run.alert_id,
            run.topic.as_str(),
            run.started_at,
            run.finished_at,
            i64::try_from(run.enqueued).unwrap_or(i64::MAX),
            json(&run.progress)
        ],
    )?;
    Ok(())
}

/// Adds one to each of an alert's funnel counters.
fn count(
    connection: &Connection,
    alert_id: &str,
    counters: &[String],
) -> Result<(), rusqlite::Error> {
    for name in counters {
        connection.execute(
            "INSERT INTO alert_counts (alert_id, name, count) VALUES (?1, ?2, 1)
             ON CONFLICT (alert_id, name) DO UPDATE SET count = count + 1",
            params![alert_id, name],
        )?;
    }
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("vectors of strings and finite numbers serialise")
}

fn read_preferences(
    connection: &Connection,
    citizen: &str,
    now: Option<i64>,
) -> Result<Option<Preferences>, rusqlite::Error> {
    connection
        .query_row(
            "SELECT language, opted_out, last_seen FROM preferences
             WHERE citizen = ?1 AND (?2 IS NULL OR expires_at IS NULL OR expires_at > ?2)",
            params![citizen, now],
            |row| {
                Ok(Preferences {
                    language: row.get(0)?,
                    opted_out: row.get(1)?,
                    last_seen: row.get(2)?,
                })
            },
        )
        .optional()
}

fn write_preferences(
    connection: &Connection,
    citizen: &str,
    preferences: &Preferences,
    expires_at: Option<i64>,
) -> Result<(), rusqlite::Error> {
    connection.execute(
        "INSERT OR REPLACE INTO preferences (citizen, language, opted_out, last_seen, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            citizen,
            preferences.language,
            preferences.opted_out,
            preferences.last_seen,
            expires_at
        ],
    )?;
    Ok(())
}

fn conversion_error(
    column: usize,
    error: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(error))
}

fn citizen_from_row(row: &Row<'_>, column: usize) -> Result<CitizenKey, rusqlite::Error> {
    let stored: String = row.get(column)?;
    CitizenKey::from_stored(&stored).map_err(|error| conversion_error(column, error))
}

fn query_from_row(row: &Row<'_>) -> Result<QueryRecord, rusqlite::Error> {
    let passage_ids: String = row.get(7)?;
    let scores: String = row.get(8)?;
    Ok(QueryRecord {
        query_id: row.get(0)?,
        at: row.get(1)?,
        citizen: citizen_from_row(row, 2)?,
        language: row.get(3)?,
        intent: row.get(4)?,
        outcome: row.get(5)?,
        question_redacted: row.get(6)?,
        passage_ids: serde_json::from_str(&passage_ids).map_err(|e| conversion_error(7, e))?,
        scores: serde_json::from_str(&scores).map_err(|e| conversion_error(8, e))?,
        fact_check_id: row.get(9)?,
        corpus_version: row.get(10)?,
        latency_ms: row.get(11)?,
        forwarded: row.get(12)?,
        expires_at: row.get(13)?,
    })
}

/// Maps a SQLite error to the store's error, with the operation and the database path.
fn map_error(operation: &'static str, table: &str, error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let table = table.to_owned();
    let message = error.to_string();
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable {
            operation,
            table,
            message,
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            StoreError::Unavailable {
                operation,
                table,
                message: format!("{message}; check that the directory exists and is writable"),
            }
        }
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict {
            operation,
            table,
            message,
        },
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            operation,
            table,
            message,
        },
        _ => match error {
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt {
                operation,
                table,
                message,
            },
            _ => StoreError::Backend {
                operation,
                table,
                message,
            },
        },
    }
}
