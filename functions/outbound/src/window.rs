//! WhatsApp's customer-service window, as one rule: for 24 hours after a citizen's last message
//! a business may send them any message; outside that window, only an approved template. An
//! alert or a late fact-check verdict goes free-form to a citizen who wrote recently and as a
//! template to everyone else ([`choose`]).
//!
//! ```
//! use votecheck_outbound::window::{WINDOW_SECONDS, choose, within_window};
//! use votecheck_outbound::{OutboundContent, Template};
//!
//! let last_message = 1_790_000_000;
//! assert!(within_window(Some(last_message), last_message + WINDOW_SECONDS - 1));
//! assert!(!within_window(Some(last_message), last_message + WINDOW_SECONDS));
//! assert!(!within_window(None, last_message));
//!
//! let text = OutboundContent::Text { body: "Polls close at 8 p.m.".into() };
//! let template = Template { name: "election_day".into(), language: "en".into(), body_parameters: vec![] };
//! let late = choose(text, template, Some(last_message), last_message + 2 * WINDOW_SECONDS);
//! assert!(matches!(late, OutboundContent::Template(_)));
//! ```

use crate::{OutboundContent, Template};

/// The window's length: 24 hours, in seconds.
pub const WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// Whether a free-form message may go to a citizen whose last message arrived at `last_seen`
/// (Unix seconds; `None`: never, as far as the store knows) at `now`. A `last_seen` slightly
/// ahead of `now` (clocks differ) counts as within.
pub fn within_window(last_seen: Option<i64>, now: i64) -> bool {
    last_seen.is_some_and(|seen| now.saturating_sub(seen) < WINDOW_SECONDS)
}

/// `free_form` inside the window, `template` outside it.
pub fn choose(
    free_form: OutboundContent,
    template: Template,
    last_seen: Option<i64>,
    now: i64,
) -> OutboundContent {
    if within_window(last_seen, now) {
        free_form
    } else {
        OutboundContent::Template(template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_of_the_window() {
        let seen = 1_000_000;
        let text = || OutboundContent::Text {
            body: "Your polling place moved.".into(),
        };
        let template = || Template {
            name: "polling_place_moved".into(),
            language: "en".into(),
            body_parameters: vec!["Lincoln School".into()],
        };
        for (now, inside) in [
            (seen, true),
            (seen - 30, true),
            (seen + WINDOW_SECONDS - 1, true),
            (seen + WINDOW_SECONDS, false),
            (seen + 30 * WINDOW_SECONDS, false),
        ] {
            assert_eq!(within_window(Some(seen), now), inside, "{now}");
            let chosen = choose(text(), template(), Some(seen), now);
            assert_eq!(chosen == text(), inside, "{now}");
            assert_eq!(
                chosen == OutboundContent::Template(template()),
                !inside,
                "{now}"
            );
        }
        assert_eq!(
            choose(text(), template(), None, seen),
            OutboundContent::Template(template())
        );
        assert!(!within_window(Some(i64::MIN), i64::MAX));
    }
}
