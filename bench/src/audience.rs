//! `audience`: what reading an alert's audience costs on the local store, the part of a fan-out
//! that happens before any message is sent: N synthetic subscribers (each with a sealed
//! address) written to an embedded SQLite store, then read back with `Store::audience_page` in
//! pages of 1,000 and every address opened, on one core. The peer, in the same run and over the
//! same file, is one plain `SELECT` of the same rows: the floor any paging scheme sits above.
//!
//! Prints subscribers written per second, subscribers read per second (paged, and the peer), and
//! addresses opened per second; nothing is asserted.

use std::time::Instant;

use anyhow::Context;
use votecheck_store::contact::{ContactAddress, ContactSealer};
use votecheck_store::{
    AudienceQuery, CitizenKey, DAY_SECONDS, SqliteStore, Store, StoreConfig, Subscription, Topic,
};

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct AudienceFigures {
    pub subscribers: usize,
    pub written_per_second: f64,
    pub paged_per_second: f64,
    pub pages: usize,
    pub peer_select_per_second: f64,
    pub opened_per_second: f64,
}

/// Writes `subscribers` subscriptions, then reads and opens them all.
pub fn run(subscribers: usize) -> anyhow::Result<AudienceFigures> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let directory = tempfile::tempdir().context("a temporary directory")?;
    let path = directory.path().join("audience.sqlite3");
    let store = SqliteStore::open(&path, StoreConfig::default()).context("opening the store")?;
    let sealer = ContactSealer::from_salt(b"benchmark salt");
    let now = 1_790_000_000;

    let started = Instant::now();
    runtime.block_on(async {
        for n in 0..subscribers {
            let number = format!("1555{n:07}");
            let subscription = Subscription {
                citizen: CitizenKey::derive(b"benchmark salt", &number),
                topic: Topic::ElectionDay,
                language: "es".to_owned(),
                jurisdiction: None,
                contact: Some(sealer.seal(&ContactAddress::PhoneNumber(number))?),
                at: now,
                expires_at: now + 30 * DAY_SECONDS,
            };
            store.subscribe(&subscription).await?;
        }
        Ok::<_, votecheck_store::StoreError>(())
    })?;
    let written_per_second = subscribers as f64 / started.elapsed().as_secs_f64();

    let query = AudienceQuery {
        topic: Topic::ElectionDay,
        language: "es".to_owned(),
        jurisdiction: None,
    };
    let started = Instant::now();
    let mut members = Vec::with_capacity(subscribers);
    let mut pages = 0;
    runtime.block_on(async {
        let mut cursor: Option<String> = None;
        loop {
            let page = store
                .audience_page(&query, cursor.as_deref(), 1_000, now)
                .await?;
            pages += 1;
            members.extend(page.members);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok::<_, votecheck_store::StoreError>(()),
            }
        }
    })?;
    let paged_per_second = members.len() as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        members.len() == subscribers,
        "read {} of {subscribers} subscribers",
        members.len()
    );

    let started = Instant::now();
    let mut opened = 0;
    for member in &members {
        if let Some(contact) = &member.contact {
            sealer.open(contact)?;
            opened += 1;
        }
    }
    let opened_per_second = opened as f64 / started.elapsed().as_secs_f64();

    // The peer: one SELECT of the same rows through a second connection, no paging.
    let connection = rusqlite::Connection::open(&path).context("opening the file for the peer")?;
    let started = Instant::now();
    let mut statement = connection.prepare(
        "SELECT citizen, jurisdiction, contact FROM subscriptions
         WHERE topic = 'election_day' AND language = 'es' AND expires_at > ?1",
    )?;
    let rows = statement
        .query_map([now], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let peer_select_per_second = rows.len() as f64 / started.elapsed().as_secs_f64();

    Ok(AudienceFigures {
        subscribers,
        written_per_second,
        paged_per_second,
        pages,
        peer_select_per_second,
        opened_per_second,
    })
}

/// Prints the figures.
pub fn print(figures: &AudienceFigures) {
    println!(
        "audience of {} subscribers (SQLite, one core)",
        figures.subscribers
    );
    println!(
        "  subscribe (sealed address)   {:>12.0} /s",
        figures.written_per_second
    );
    println!(
        "  read in pages of 1,000       {:>12.0} /s  ({} pages)",
        figures.paged_per_second, figures.pages
    );
    println!(
        "  peer: one plain SELECT       {:>12.0} /s",
        figures.peer_select_per_second
    );
    println!(
        "  open sealed addresses        {:>12.0} /s",
        figures.opened_per_second
    );
}
