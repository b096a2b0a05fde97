//! One identity per citizen, whatever ids WhatsApp sends.
//!
//! WhatsApp names a citizen by their phone number (`wa_id`), by a business-scoped user id
//! (BSUID, `US.…`), or by both, and which ones a payload carries varies: some carry both, some
//! only one, and since 2026 a citizen may have no visible number at all. Keying records by
//! whichever id came would split one person in two: an opt-out given by number ignored when the
//! BSUID arrives, a rate limit that resets, "delete my data" that leaves half behind.
//!
//! The rule: every id is hashed ([`CitizenKey::derive`]) and **linked** to one citizen key in the
//! store ([`Store::link_identity`]). The first time a citizen is seen, their key is the hash of
//! their BSUID when the payload has one, else of their number (the keys stored before links
//! existed, so earlier records stay theirs). Every message resolves its ids through their links
//! ([`resolve`]): an id already linked names the citizen; an id not yet linked is linked to that
//! citizen (bringing along any preferences kept under its own key, such as an opt-out); when two
//! ids were two citizens until a payload carried both, they become one (the one named by the
//! BSUID), preferences merged and the other's records reachable for deletion. A change of number
//! ([`change_ids`]) links the new ids and unlinks the ones given up, so that whoever gets the old
//! number next is someone else. Links expire like preferences (never while opted out) and
//! delete-my-data removes them with everything kept under the linked ids.

use tracing::error;
use votecheck_store::{CitizenKey, DAY_SECONDS, Store};
use votecheck_whatsapp::Sender;

/// The hashed ids of a sender: the business-scoped user id's first, then the phone number's.
pub fn ids_of(salt: &[u8], sender: &Sender) -> Vec<CitizenKey> {
    [sender.user_id.as_deref(), sender.wa_id.as_deref()]
        .into_iter()
        .flatten()
        .map(|id| CitizenKey::derive(salt, id))
        .collect()
}

/// A resolved citizen: their key, and the ids of this payload with the expiry of their links.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The key the citizen's records are kept under.
    pub citizen: CitizenKey,
    /// The ids of the payload that are linked to `citizen`, with their links' expiry.
    links: Vec<(CitizenKey, Option<i64>)>,
}

impl Identity {
    /// The expiry the citizen's links have now (that of the first link).
    fn expires_at(&self) -> Option<Option<i64>> {
        self.links.first().map(|(_, expires_at)| *expires_at)
    }
}

/// Resolves the citizen a payload's `ids` name (see the module), linking ids not linked yet. A
/// store that fails leaves the first id's own key: the citizen still gets an answer.
pub async fn resolve(
    store: &dyn Store,
    ids: &[CitizenKey],
    now: i64,
    new_links_expire_at: i64,
) -> Option<Identity> {
    let first = ids.first()?.clone();
    let mut found = Vec::new();
    for id in ids {
        match store.identity(id, now).await {
            Ok(link) => found.push(link),
            Err(problem) => {
                error!(%problem, "resolving the citizen's identity failed; using the id's key");
                return Some(Identity {
                    citizen: first,
                    links: Vec::new(),
                });
            }
        }
    }
    let (citizen, expires_at) = found
        .iter()
        .flatten()
        .next()
        .map(|link| (link.citizen.clone(), link.expires_at))
        .unwrap_or((first, Some(new_links_expire_at)));
    let mut identity = Identity {
        citizen,
        links: Vec::new(),
    };
    for (id, link) in ids.iter().zip(found) {
        match link {
            Some(link) if link.citizen == identity.citizen => {
                identity.links.push((id.clone(), link.expires_at))
            }
            other => {
                let previous = other.map_or_else(|| id.clone(), |link| link.citizen);
                attach(store, &identity.citizen, id, &previous, expires_at).await;
                identity.links.push((id.clone(), expires_at));
            }
        }
    }
    Some(identity)
}

/// Links `id` (until now `previous`: its own key, or another citizen) to `citizen`: the
/// preferences kept under `previous` join the citizen's, and `previous` itself becomes one of
/// the citizen's ids, so that delete-my-data finds what is kept under it.
async fn attach(
    store: &dyn Store,
    citizen: &CitizenKey,
    id: &CitizenKey,
    previous: &CitizenKey,
    expires_at: Option<i64>,
) {
    if previous != citizen {
        if let Err(problem) = store.move_citizen(previous, citizen).await {
            error!(%problem, "merging a citizen's preferences failed");
        }
        if previous != id
            && let Err(problem) = store.link_identity(previous, citizen, expires_at).await
        {
            error!(%problem, "linking a citizen's identities failed");
        }
    }
    if let Err(problem) = store.link_identity(id, citizen, expires_at).await {
        error!(%problem, "linking a citizen's id failed");
    }
}

/// Keeps the links of a citizen who wrote: they expire as the preferences do (`expires_at`,
/// never while opted out). Written only when that changes the stored expiry by a day or more.
pub async fn refresh(store: &dyn Store, identity: &Identity, expires_at: Option<i64>) {
    for (id, stored) in &identity.links {
        let stale = match (stored, expires_at) {
            (Some(stored), Some(wanted)) => (wanted - stored).abs() >= DAY_SECONDS,
            (None, None) => false,
            _ => true,
        };
        if stale && let Err(problem) = store.link_identity(id, &identity.citizen, expires_at).await
        {
            error!(%problem, "refreshing a citizen's link failed");
        }
    }
}

/// The citizen's ids changed (a new number, a new business-scoped user id): the new ids are
/// linked to them and the ids given up are unlinked. When the citizen was keyed by an id they
/// gave up, their preferences move to the first new id's key, which becomes theirs: whoever
/// writes from the old number next starts afresh. Past queries stay under the old key until
/// they expire.
pub async fn change_ids(
    store: &dyn Store,
    identity: &Identity,
    old_ids: &[CitizenKey],
    new_ids: &[CitizenKey],
    now: i64,
) {
    let Some(first_new) = new_ids.first() else {
        return;
    };
    let given_up: Vec<&CitizenKey> = old_ids.iter().filter(|id| !new_ids.contains(id)).collect();
    let expires_at = identity.expires_at().flatten();
    let citizen = if given_up.contains(&&identity.citizen) {
        if let Err(problem) = store.move_citizen(&identity.citizen, first_new).await {
            error!(%problem, "moving a citizen's preferences failed");
        }
        first_new.clone()
    } else {
        identity.citizen.clone()
    };
    for id in new_ids {
        let previous = match store.identity(id, now).await {
            Ok(Some(link)) if link.citizen == citizen => continue,
            Ok(Some(link)) => link.citizen,
            Ok(None) => id.clone(),
            Err(problem) => {
                error!(%problem, "reading a citizen's link failed");
                id.clone()
            }
        };
        attach(store, &citizen, id, &previous, expires_at).await;
    }
    for id in given_up {
        if let Err(problem) = store.unlink_identity(id).await {
            error!(%problem, "unlinking a given-up id failed");
        }
    }
}
