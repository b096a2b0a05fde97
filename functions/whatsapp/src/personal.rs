//! [`Personal`]: a value that is a citizen's personal data and must never reach a log.
//!
//! The webhook payload carries phone numbers (`from`, `wa_id`, `recipient_id`), business-scoped
//! user ids, profile names, message text and locations. The [`payload`](crate::payload) types hold
//! each of them in a `Personal`, whose `Debug` prints `<redacted>`, so `{:?}` of any payload value
//! (which is what ends up in logs) is safe by construction. Reading the value is explicit:
//! [`Personal::expose`] or [`Personal::into_inner`].
//!
//! ```
//! use votecheck_whatsapp::Personal;
//! let number = Personal::new("15550101234".to_owned());
//! assert_eq!(format!("{number:?}"), "<redacted>");
//! assert_eq!(number.expose(), "15550101234");
//! ```

use std::fmt;

/// A citizen's personal data (phone number, user id, name, text, location): `Debug` redacts it.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Personal<T = String>(T);

impl<T> Personal<T> {
    /// Wraps a personal value.
    pub fn new(value: T) -> Self {
        Personal(value)
    }

    /// The value itself, for code that needs it (hashing, replying); never for logs.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Personal<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let name = Personal::new("Test Citizen".to_owned());
        assert_eq!(format!("{name:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(name.clone())), "Some(<redacted>)");
        assert_eq!(format!("{:#?}", Personal::new(40.4168_f64)), "<redacted>");
        assert_eq!(name.into_inner(), "Test Citizen");
    }
}
