//! The sender's throughput: a token bucket at the instance's share of the business number's rate
//! (`governor`'s GCRA, lock-free), plus a shared pause after WhatsApp answers that the number or
//! a recipient is over its limit (130429 throughput, 131056 pair rate): every send of the
//! instance waits it out, and each further throttle doubles it, from 1 s up to 60 s; a success
//! resets it.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// The first pause after a throttle.
pub const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause.
pub const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Paces one sender instance.
pub struct Limiter {
    bucket: Option<DefaultDirectRateLimiter>,
    /// One send at a time waits for a token: waiting sends queue here instead of all waking
    /// at each token time and finding it taken (half the limiter's CPU in the fan-out bench).
    turn: tokio::sync::Mutex<()>,
    pause: Mutex<Pause>,
}

struct Pause {
    until: Option<Instant>,
    next: Duration,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Limiter")
            .field("limited", &self.bucket.is_some())
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// At most `rate` messages a second (a fraction is fine: 40.5); 0 or less: no limit. The
    /// bucket holds a tenth of a second's worth (at least one), so a burst never goes far over
    /// the rate.
    pub fn per_second(rate: f64) -> Self {
        let bucket = (rate > 0.0 && rate.is_finite()).then(|| {
            let burst =
                NonZeroU32::new((rate / 10.0).ceil().max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
            let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rate))
                .expect("a positive rate gives a positive period")
                .allow_burst(burst);
            RateLimiter::direct(quota)
        });
        Limiter {
            bucket,
            turn: tokio::sync::Mutex::new(()),
            pause: Mutex::new(Pause {
                until: None,
                next: FIRST_PAUSE,
            }),
        }
    }

    /// Waits until one message may go: past any pause, then for a token.
    pub async fn ready(&self) {
        loop {
            let until = self.lock().until;
            match until {
                Some(until) if until > Instant::now() => {
                    tokio::time::sleep_until(until.into()).await;
                }
                _ => break,
            }
        }
        if let Some(bucket) = &self.bucket {
            let _turn = self.turn.lock().await;
            bucket.until_ready().await;
        }
    }

    /// WhatsApp said the sends are over a limit: pause every send, longer each time in a row.
    /// Returns the pause.
    pub fn throttled(&self) -> Duration {
        let mut pause = self.lock();
        let length = pause.next;
        let until = Instant::now() + length;
        pause.until = Some(pause.until.map_or(until, |current| current.max(until)));
        pause.next = (length * 2).min(MAX_PAUSE);
        length
    }

    /// A send went through: the next throttle pauses briefly again.
    pub fn succeeded(&self) {
        self.lock().next = FIRST_PAUSE;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pause> {
        self.pause
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paces_to_the_rate_and_pauses_after_a_throttle() {
        let limiter = Limiter::per_second(200.0);
        let started = Instant::now();
        for _ in 0..60 {
            limiter.ready().await;
        }
        // 60 tokens at 200/s with a burst of 20: at least 40 waited for, 0.2 s.
        assert!(
            started.elapsed() >= Duration::from_millis(190),
            "{:?}",
            started.elapsed()
        );

        assert_eq!(limiter.throttled(), FIRST_PAUSE);
        assert_eq!(limiter.throttled(), FIRST_PAUSE * 2);
        limiter.succeeded();
        assert_eq!(limiter.throttled(), FIRST_PAUSE);

        let unlimited = Limiter::per_second(0.0);
        let started = Instant::now();
        for _ in 0..10_000 {
            unlimited.ready().await;
        }
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
