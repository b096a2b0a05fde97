//! The engine and handler being served. Everything a handler needs except the engine is built
//! once ([`HandlerParts`]); after a corpus rebuild a new engine is opened and a new handler
//! swapped in, while requests already running finish on the old one.

use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use votecheck_engine::Engine;
use votecheck_store::{Store, StoreConfig};
use votecheck_webhook::{AnswerObserver, Handler, ReplySender, Secrets};

/// What every handler of this server shares.
#[derive(Clone)]
pub struct HandlerParts {
    /// The conversation store.
    pub store: Arc<dyn Store>,
    /// Sends (or captures) replies.
    pub sender: Arc<dyn ReplySender>,
    /// The webhook secrets.
    pub secrets: Secrets,
    /// Retention and rate limit.
    pub store_config: StoreConfig,
    /// Sees every answer (for the console's traces).
    pub observer: Arc<dyn AnswerObserver>,
    /// How long one webhook may take.
    pub time_budget: std::time::Duration,
}

/// An engine and the handler that answers with it.
pub struct Live {
    /// The answer engine over the index being served.
    pub engine: Arc<Engine>,
    /// The webhook handler over that engine.
    pub handler: Arc<Handler>,
}

impl HandlerParts {
    /// Opens the index in `dir` and builds a handler over it.
    pub fn open(&self, dir: &Path) -> anyhow::Result<Live> {
        let engine = Arc::new(
            Engine::open(dir).with_context(|| format!("opening the index in {}", dir.display()))?,
        );
        let handler = Handler::new(
            engine.clone(),
            self.store.clone(),
            self.sender.clone(),
            self.secrets.clone(),
            self.store_config.clone(),
        )
        .with_observer(self.observer.clone())
        .with_time_budget(self.time_budget);
        Ok(Live {
            engine,
            handler: Arc::new(handler),
        })
    }
}

/// The current [`Live`], replaceable while serving.
pub struct LiveSlot {
    current: RwLock<Arc<Live>>,
}

impl LiveSlot {
    /// A slot that serves `live` until it is replaced.
    pub fn new(live: Live) -> Self {
        LiveSlot {
            current: RwLock::new(Arc::new(live)),
        }
    }

    /// The engine and handler to use for one request.
    pub fn get(&self) -> Arc<Live> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Serves `live` from now on.
    pub fn replace(&self, live: Live) {
        let live = Arc::new(live);
        match self.current.write() {
            Ok(mut current) => *current = live,
            Err(poisoned) => *poisoned.into_inner() = live,
        }
    }
}
