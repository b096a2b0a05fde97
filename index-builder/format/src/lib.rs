//! # votecheck-index: the index format
//!
//! What the index-builder writes and every reader (the Lambda, the local server, the CLI) reads,
//! in one crate that links no document parsers:
//!
//! - [`language`]: BCP 47 tags, language detection, which languages have a stemmer;
//! - [`analysis`]: the language-aware analyzers (UAX #29 words, folding, CJK bigrams, stemming);
//! - [`passage`]: the unit of retrieval, [`Passage`], and its fact-check, [`ClaimReview`];
//! - [`schema`]: the tantivy schema and the passage ⇄ document conversion;
//! - [`manifest`]: `manifest.json`, what an index was built from, and [`SCHEMA_VERSION`];
//! - [`settings`]: the deployment settings from `corpus.toml` (contact, reporting, topics);
//! - [`vectors`]: `vectors.bin`, one sentence embedding per passage, for semantic retrieval;
//! - [`read_only_directory`] and [`reader`]: open an index without writing to it, and search it.
//!
//! ```no_run
//! use votecheck_index::{PassageIndex, SearchRequest};
//! let index = PassageIndex::open(std::path::Path::new("target/sample-index"))?;
//! println!("corpus version {}", index.manifest().corpus_version());
//! let hits = index.search(&SearchRequest::new("¿dónde voto?").language("es").limit(3))?;
//! # Ok::<(), votecheck_index::IndexError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod error;
pub mod language;
pub mod manifest;
pub mod passage;
pub mod read_only_directory;
pub mod reader;
pub mod schema;
pub mod settings;
pub mod vectors;

pub use error::IndexError;
pub use manifest::{Manifest, SCHEMA_VERSION};
pub use passage::{ClaimReview, Passage, PassageKind};
pub use reader::{FieldWeights, PassageIndex, SearchHit, SearchRequest};
pub use schema::IndexSchema;
pub use settings::DeploymentSettings;
pub use vectors::{EmbeddingInfo, PassageVectors};
