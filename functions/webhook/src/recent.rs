//! [`RecentMessages`]: the message ids this process has taken on, so that a redelivery reaching
//! the same process is recognised even when the store could not record the claim.
//!
//! The store's claim is the real dedupe (it holds across Lambda instances and for the claim
//! window); this is the fallback for when the store is unavailable: without it, every
//! redelivery of a message answered without a claim would be answered again. It holds keyed
//! 64-bit hashes, never the ids themselves (a WhatsApp message id carries the sender's
//! number), with a key chosen at random per process, and forgets the oldest beyond its capacity.
//!
//! ```
//! use votecheck_webhook::recent::RecentMessages;
//!
//! let recent = RecentMessages::with_capacity(2);
//! assert!(recent.take("wamid.A"));
//! assert!(!recent.take("wamid.A")); // a redelivery
//! recent.forget("wamid.A"); // nothing was sent: let the next delivery answer it
//! assert!(recent.take("wamid.A"));
//! ```

use std::collections::{HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;

/// How many message ids a process remembers by default: a warm Lambda instance answers a few
/// per second at most, so this covers hours of traffic in about 100 KB.
pub const DEFAULT_CAPACITY: usize = 8_192;

/// Message ids (as keyed hashes) taken on by this process, oldest first.
pub struct RecentMessages {
    hasher: std::collections::hash_map::RandomState,
    capacity: usize,
    taken: Mutex<(HashSet<u64>, VecDeque<u64>)>,
}

impl Default for RecentMessages {
    fn default() -> Self {
        RecentMessages::with_capacity(DEFAULT_CAPACITY)
    }
}

impl RecentMessages {
    /// A memory of at most `capacity` ids (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        RecentMessages {
            hasher: std::collections::hash_map::RandomState::new(),
            capacity: capacity.max(1),
            taken: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }

    /// Takes `message_id` on: `true` the first time, `false` while it is remembered.
    pub fn take(&self, message_id: &str) -> bool {
        let hash = self.hasher.hash_one(message_id);
        let mut guard = match self.taken.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (set, order) = &mut *guard;
        if !set.insert(hash) {
            return false;
        }
        order.push_back(hash);
        while order.len() > self.capacity {
            if let Some(oldest) = order.pop_front() {
                set.remove(&oldest);
            }
        }
        true
    }

    /// Forgets `message_id`, so that its next delivery is taken on again.
    pub fn forget(&self, message_id: &str) {
        let hash = self.hasher.hash_one(message_id);
        let mut guard = match self.taken.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (set, order) = &mut *guard;
        if set.remove(&hash) {
            order.retain(|kept| *kept != hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_up_to_its_capacity_then_forgets_the_oldest() {
        let recent = RecentMessages::with_capacity(2);
        assert!(recent.take("a"));
        assert!(recent.take("b"));
        assert!(!recent.take("a"));
        assert!(recent.take("c"));
        assert!(recent.take("a"), "the oldest was forgotten");
        assert!(!recent.take("c"));
    }
}
