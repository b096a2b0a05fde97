//! Opening an index read-only and searching it.
//!
//! [`PassageIndex::open`] reads the manifest, refuses an index of another schema version, opens
//! tantivy through a [`ReadOnlyDirectory`] with the same analyzers the builder used, and keeps one
//! reader for the life of the process (open it once at start-up, then search from any thread).
//! [`PassageIndex::search`] runs a [`SearchRequest`]: the question's terms over the plain fields
//! (headings weigh more than body text) and the stemmed fields of the question's language,
//! restricted by optional filters (kind, languages, jurisdiction).
//!
//! ```no_run
//! use votecheck_index::{PassageIndex, SearchRequest};
//! let index = PassageIndex::open(std::path::Path::new("index"))?;
//! for hit in index.search(&SearchRequest::new("where do I vote?").language("en"))? {
//!     println!("{:.2} {} {}", hit.score, hit.passage.source, hit.passage.section);
//! }
//! # Ok::<(), votecheck_index::IndexError>(())
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::{DocAddress, DocSet, Index, IndexReader, ReloadPolicy, Score, TantivyDocument, Term};

use crate::analysis::{TEXT_TOKENIZER, register_analyzers, stemmed_tokenizer_name, terms_with};
use crate::error::IndexError;
use crate::language::{primary_subtag, stemmed_field_key};
use crate::manifest::Manifest;
use crate::passage::{Passage, PassageKind};
use crate::read_only_directory::ReadOnlyDirectory;
use crate::schema::{IndexSchema, jurisdiction_key};
use crate::vectors::{PassageVectors, VECTORS_FILE};

/// Weight of each field group in a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldWeights {
    /// Document title.
    pub title: f32,
    /// Section heading path.
    pub section: f32,
    /// Passage text.
    pub body: f32,
    /// The claim of a fact-check.
    pub claim: f32,
    /// Multiplier for the stemmed fields relative to the plain ones.
    pub stemmed: f32,
}

impl Default for FieldWeights {
    fn default() -> Self {
        FieldWeights {
            title: 1.5,
            section: 2.0,
            body: 1.0,
            claim: 1.5,
            stemmed: 0.7,
        }
    }
}

/// What to search for.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The question or claim, as typed.
    pub text: String,
    /// Language of the question (BCP 47), for the stemmed fields.
    pub language: Option<String>,
    /// Only passages of this kind.
    pub kind: Option<PassageKind>,
    /// Only passages whose language has one of these primary subtags.
    pub languages: Vec<String>,
    /// Only passages of this jurisdiction (compared after normalisation).
    pub jurisdiction: Option<String>,
    /// Field weights.
    pub weights: FieldWeights,
    /// Number of hits to return.
    pub limit: usize,
}

impl SearchRequest {
    /// A request for `text` with default weights and 10 hits.
    pub fn new(text: impl Into<String>) -> Self {
        SearchRequest {
            text: text.into(),
            language: None,
            kind: None,
            languages: Vec::new(),
            jurisdiction: None,
            weights: FieldWeights::default(),
            limit: 10,
        }
    }

    /// Sets the question's language.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Restricts to one kind of passage.
    pub fn kind(mut self, kind: PassageKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Restricts to passages in these languages.
    pub fn languages(mut self, languages: Vec<String>) -> Self {
        self.languages = languages;
        self
    }

    /// Restricts to one jurisdiction.
    pub fn jurisdiction(mut self, jurisdiction: impl Into<String>) -> Self {
        self.jurisdiction = Some(jurisdiction.into());
        self
    }

    /// Sets the number of hits.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// BM25 score (sum over fields and terms).
    pub score: Score,
    /// The passage.
    pub passage: Passage,
}

/// An index opened for reading.
pub struct PassageIndex {
    dir: PathBuf,
    schema: IndexSchema,
    manifest: Manifest,
    index: Index,
    reader: IndexReader,
    tokenizers: TokenizerManager,
    vectors: Option<PassageVectors>,
}

impl std::fmt::Debug for PassageIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassageIndex")
            .field("dir", &self.dir)
            .field("corpus_version", &self.manifest.corpus_version())
            .finish()
    }
}

impl PassageIndex {
    /// Opens the index in `dir` without writing anything to it.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        // Refuses an index of another schema version.
        let manifest = Manifest::read(dir)?;
        let open_error = |source| IndexError::Open {
            dir: dir.to_path_buf(),
            source,
        };
        let directory = ReadOnlyDirectory::open(dir)
            .map_err(|error| open_error(tantivy::TantivyError::from(error)))?;
        let vectors = match &manifest.embedding {
            Some(_) => Some(read_vectors(dir, &directory)?),
            None => None,
        };
        let mut index = Index::open(directory).map_err(open_error)?;
        let tokenizers = TokenizerManager::default();
        register_analyzers(&tokenizers);
        index.set_tokenizers(tokenizers.clone());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(open_error)?;
        let passage_index = PassageIndex {
            dir: dir.to_path_buf(),
            schema: IndexSchema::new(),
            manifest,
            index,
            reader,
            tokenizers,
            vectors,
        };
        passage_index.check_vectors()?;
        Ok(passage_index)
    }

    /// Rows of `vectors.bin` are the documents of the index's one segment, in order.
    fn check_vectors(&self) -> Result<(), IndexError> {
        let (Some(vectors), Some(info)) = (&self.vectors, &self.manifest.embedding) else {
            return Ok(());
        };
        let searcher = self.reader.searcher();
        let segments = searcher.segment_readers();
        let reason = if segments.len() != 1 {
            Some(format!("{} segments, expected one", segments.len()))
        } else if segments[0].max_doc() as usize != vectors.rows() || info.rows != vectors.rows() {
            Some(format!(
                "{} rows for {} passages ({} in the manifest)",
                vectors.rows(),
                segments[0].max_doc(),
                info.rows
            ))
        } else if info.dimensions != vectors.dimensions() {
            Some(format!(
                "{} dimensions, the manifest says {}",
                vectors.dimensions(),
                info.dimensions
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => Err(IndexError::Vectors {
                dir: self.dir.clone(),
                reason,
            }),
            None => Ok(()),
        }
    }

    /// The passage vectors, when the index has them.
    pub fn vectors(&self) -> Option<&PassageVectors> {
        self.vectors.as_ref()
    }

    /// The passages matching `filter` most similar to a unit-length query vector, best first, as
    /// (similarity, address). Empty for an index without vectors.
    pub fn nearest(
        &self,
        searcher: &tantivy::Searcher,
        query: &[f32],
        filter: &dyn Query,
        limit: usize,
    ) -> Result<Vec<(f32, DocAddress)>, IndexError> {
        let Some(vectors) = &self.vectors else {
            return Ok(Vec::new());
        };
        let mut rows = Vec::new();
        let weight = filter.weight(tantivy::query::EnableScoring::disabled_from_searcher(
            searcher,
        ))?;
        // One segment (checked at open): a document id is a row.
        weight.for_each_no_score(searcher.segment_reader(0), &mut |docs| {
            rows.extend_from_slice(docs)
        })?;
        Ok(vectors
            .nearest(query, rows, limit)
            .into_iter()
            .map(|(row, similarity)| (similarity, DocAddress::new(0, row)))
            .collect())
    }

    /// The similarity of the passage at each address with a unit-length query vector (0 without
    /// vectors).
    pub fn similarities(&self, addresses: &[DocAddress], query: &[f32]) -> Vec<f32> {
        addresses
            .iter()
            .map(|address| {
                self.vectors
                    .as_ref()
                    .map_or(0.0, |vectors| vectors.similarity(address.doc_id, query))
            })
            .collect()
    }

    /// A filter of passages by kind, languages (primary subtags; empty: any) and jurisdictions
    /// left out (as the corpus writes them), for [`PassageIndex::nearest`].
    pub fn filter(
        &self,
        kind: PassageKind,
        languages: &[String],
        excluded_jurisdictions: &[String],
    ) -> Box<dyn Query> {
        let schema = &self.schema;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, term_query(schema.kind, kind.as_str()))];
        if !languages.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> =
                unique(languages.iter().map(|tag| primary_subtag(tag)).collect())
                    .iter()
                    .map(|base| (Occur::Should, term_query(schema.language_base, base)))
                    .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        for jurisdiction in excluded_jurisdictions {
            clauses.push((
                Occur::MustNot,
                term_query(schema.jurisdiction_key, &jurisdiction_key(jurisdiction)),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// The manifest of the index.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The schema's field handles.
    pub fn schema(&self) -> &IndexSchema {
        &self.schema
    }

    /// The directory the index was opened from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The underlying tantivy index (for callers that build their own queries).
    pub fn tantivy_index(&self) -> &Index {
        &self.index
    }

    /// A searcher over the index (cheap; take one per question).
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// Inverse document frequency of a plain-analyzed term in the passage text, BM25 style:
    /// rare terms weigh more; a term no passage contains gets the highest weight.
    pub fn body_idf(&self, searcher: &tantivy::Searcher, term: &str) -> f32 {
        self.idf(searcher, self.schema.body, term)
    }

    /// Inverse document frequency of a term in the stemmed body field of `language` (falls back
    /// to the plain body field for languages without a stemmer).
    pub fn language_idf(&self, searcher: &tantivy::Searcher, language: &str, term: &str) -> f32 {
        let field = stemmed_field_key(language)
            .map_or(self.schema.body, |key| self.schema.body_stemmed[key]);
        self.idf(searcher, field, term)
    }

    fn idf(&self, searcher: &tantivy::Searcher, field: Field, term: &str) -> f32 {
        let documents = searcher.num_docs() as f32;
        let frequency = searcher
            .doc_freq(&Term::from_field_text(field, term))
            .unwrap_or(0) as f32;
        (1.0 + (documents - frequency + 0.5) / (frequency + 0.5)).ln()
    }

    /// The terms the analyzer of `language` makes of a text: stemmed where the language has a
    /// stemmer, plain otherwise (what confidence compares).
    pub fn language_terms(&self, language: &str, text: &str) -> Vec<String> {
        if stemmed_field_key(language).is_some() {
            self.stemmed_terms(language, text)
        } else {
            self.plain_terms(text)
        }
    }

    /// Number of passages in the index.
    pub fn passage_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The terms the plain analyzer makes of a text.
    pub fn plain_terms(&self, text: &str) -> Vec<String> {
        let mut analyzer = self.analyzer(TEXT_TOKENIZER);
        terms_with(&mut analyzer, text)
    }

    /// The terms the stemmed analyzer of `language` makes of a text (none when the language has
    /// no stemmer).
    pub fn stemmed_terms(&self, language: &str, text: &str) -> Vec<String> {
        match stemmed_field_key(language) {
            Some(key) => {
                let mut analyzer = self.analyzer(&stemmed_tokenizer_name(key));
                terms_with(&mut analyzer, text)
            }
            None => Vec::new(),
        }
    }

    fn analyzer(&self, name: &str) -> TextAnalyzer {
        self.tokenizers
            .get(name)
            .expect("register_analyzers registers every analyzer the schema names")
    }

    /// Builds the tantivy query of a request (`None` when the text has no searchable term).
    pub fn query(&self, request: &SearchRequest) -> Option<Box<dyn Query>> {
        self.query_weighing_terms(request, |_| 1.0)
    }

    /// [`PassageIndex::query`] with each term's clauses boosted by `term_weight(term)` (plain
    /// and stemmed forms alike): a caller that knows a language's function words ("how", "do",
    /// "の") can make them weigh little, so that a heading full of them does not outrank a
    /// passage that has the question's content words.
    pub fn query_weighing_terms(
        &self,
        request: &SearchRequest,
        term_weight: impl Fn(&str) -> f32,
    ) -> Option<Box<dyn Query>> {
        let schema = &self.schema;
        let weights = request.weights;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let plain = unique(self.plain_terms(&request.text));
        let plain_fields = [
            (schema.title, weights.title),
            (schema.section, weights.section),
            (schema.body, weights.body),
            (schema.claim, weights.claim),
        ];
        push_term_clauses(&mut should, &plain, &plain_fields, &term_weight);
        if let Some(language) = &request.language
            && let Some(key) = stemmed_field_key(language)
        {
            let stemmed = unique(self.stemmed_terms(language, &request.text));
            let heading_weight = weights.stemmed * (weights.title + weights.section) / 2.0;
            let stemmed_fields = [
                (schema.heading_stemmed[key], heading_weight),
                (schema.body_stemmed[key], weights.stemmed * weights.body),
            ];
            push_term_clauses(&mut should, &stemmed, &stemmed_fields, &term_weight);
        }
        if should.is_empty() {
            return None;
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if let Some(kind) = request.kind {
            clauses.push((Occur::Must, term_query(schema.kind, kind.as_str())));
        }
        if !request.languages.is_empty() {
            let any_language: Vec<(Occur, Box<dyn Query>)> = unique(
                request
                    .languages
                    .iter()
                    .map(|tag| primary_subtag(tag))
                    .collect(),
            )
            .iter()
            .map(|base| (Occur::Should, term_query(schema.language_base, base)))
            .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_language))));
        }
        if let Some(jurisdiction) = &request.jurisdiction {
            clauses.push((
                Occur::Must,
                term_query(schema.jurisdiction_key, &jurisdiction_key(jurisdiction)),
            ));
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// Runs a request and returns the hits, best first.
    pub fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>, IndexError> {
        let Some(query) = self.query(request) else {
            return Ok(Vec::new());
        };
        self.search_query(query.as_ref(), request.limit)
    }

    /// Runs a prepared query.
    pub fn search_query(
        &self,
        query: &dyn Query,
        limit: usize,
    ) -> Result<Vec<SearchHit>, IndexError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            hits.push(SearchHit {
                score,
                passage: self.schema.to_passage(&document),
            });
        }
        Ok(hits)
    }

    /// How many passages of `kind` the index has in a language (primary subtag).
    pub fn count_in_language(
        &self,
        kind: PassageKind,
        language: &str,
    ) -> Result<usize, IndexError> {
        let query = BooleanQuery::new(vec![
            (Occur::Must, term_query(self.schema.kind, kind.as_str())),
            (
                Occur::Must,
                term_query(self.schema.language_base, &primary_subtag(language)),
            ),
        ]);
        Ok(self.reader.searcher().search(&query, &Count)?)
    }

    /// The best `limit` matches of a query as (score, address), without loading any passage.
    pub fn top_addresses(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        limit: usize,
    ) -> Result<Vec<(Score, tantivy::DocAddress)>, IndexError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        Ok(searcher.search(query, &TopDocs::with_limit(limit).order_by_score())?)
    }

    /// Which of `terms` (made by [`PassageIndex::language_terms`] for `language`) the passage at
    /// each address has anywhere in its title, section path or text: `present[a][t]` for
    /// `addresses[a]` and `terms[t]`. Read from the inverted index, without loading the passages,
    /// so that a search can weigh many candidates for the price of a few term lookups.
    ///
    /// The answer is exact for passages in `language` (their stemmed fields are made with its
    /// analyzer); for passages in another language it says nothing useful.
    pub fn terms_present(
        &self,
        searcher: &tantivy::Searcher,
        language: &str,
        addresses: &[DocAddress],
        terms: &[String],
    ) -> Result<Vec<Vec<bool>>, IndexError> {
        let fields = match stemmed_field_key(language) {
            Some(key) => vec![
                self.schema.heading_stemmed[key],
                self.schema.body_stemmed[key],
            ],
            None => vec![self.schema.title, self.schema.section, self.schema.body],
        };
        presence(searcher, addresses, &fields, terms)
    }

    /// Whether the passage at each address belongs to `jurisdiction` (compared after
    /// normalisation), read from the inverted index like [`PassageIndex::terms_present`].
    pub fn in_jurisdiction(
        &self,
        searcher: &tantivy::Searcher,
        addresses: &[DocAddress],
        jurisdiction: &str,
    ) -> Result<Vec<bool>, IndexError> {
        let key = [jurisdiction_key(jurisdiction)];
        let present = presence(searcher, addresses, &[self.schema.jurisdiction_key], &key)?;
        Ok(present.into_iter().map(|terms| terms[0]).collect())
    }

    /// The passage stored at an address.
    pub fn passage_at(
        &self,
        searcher: &tantivy::Searcher,
        address: tantivy::DocAddress,
    ) -> Result<Passage, IndexError> {
        let document: TantivyDocument = searcher.doc(address)?;
        Ok(self.schema.to_passage(&document))
    }

    /// The passage with this id, if the index has one (citation links in the preview console).
    pub fn passage_by_id(&self, passage_id: &str) -> Result<Option<Passage>, IndexError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.schema.passage_id, passage_id),
            IndexRecordOption::Basic,
        );
        let top = self.top_addresses(&searcher, &query, 1)?;
        match top.first() {
            Some((_, address)) => Ok(Some(self.passage_at(&searcher, *address)?)),
            None => Ok(None),
        }
    }

    /// Every passage in the index, in index order (for exports and benchmarks).
    pub fn all_passages(&self) -> Result<Vec<Passage>, IndexError> {
        let searcher = self.reader.searcher();
        let mut passages = Vec::with_capacity(searcher.num_docs() as usize);
        for segment in searcher.segment_readers() {
            let store = segment
                .get_store_reader(16)
                .map_err(tantivy::TantivyError::from)?;
            for doc_id in segment.doc_ids_alive() {
                let document: TantivyDocument = store.get(doc_id)?;
                passages.push(self.schema.to_passage(&document));
            }
        }
        passages.sort_by(|a, b| (&a.source, a.position).cmp(&(&b.source, b.position)));
        Ok(passages)
    }
}

fn read_vectors(dir: &Path, directory: &ReadOnlyDirectory) -> Result<PassageVectors, IndexError> {
    let invalid = |reason: String| IndexError::Vectors {
        dir: dir.to_path_buf(),
        reason,
    };
    use tantivy::directory::Directory;
    let bytes = directory
        .open_read(Path::new(VECTORS_FILE))
        .map_err(|error| invalid(error.to_string()))?
        .read_bytes()
        .map_err(|error| invalid(error.to_string()))?;
    PassageVectors::from_bytes(bytes).map_err(invalid)
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// `present[a][t]`: whether the document at `addresses[a]` has `terms[t]` in one of `fields`.
fn presence(
    searcher: &tantivy::Searcher,
    addresses: &[DocAddress],
    fields: &[Field],
    terms: &[String],
) -> Result<Vec<Vec<bool>>, IndexError> {
    let mut present = vec![vec![false; terms.len()]; addresses.len()];
    // Postings are read forwards: visit each segment's addresses in document order.
    let mut order: Vec<usize> = (0..addresses.len()).collect();
    order.sort_by_key(|&at| (addresses[at].segment_ord, addresses[at].doc_id));
    for group in order.chunk_by(|a, b| addresses[*a].segment_ord == addresses[*b].segment_ord) {
        let segment = searcher.segment_reader(addresses[group[0]].segment_ord);
        for field in fields {
            let inverted = segment.inverted_index(*field)?;
            for (position, term) in terms.iter().enumerate() {
                let term = Term::from_field_text(*field, term);
                let Some(mut postings) = inverted
                    .read_postings(&term, IndexRecordOption::Basic)
                    .map_err(tantivy::TantivyError::from)?
                else {
                    continue;
                };
                for &at in group {
                    let doc = addresses[at].doc_id;
                    if postings.doc() < doc {
                        postings.seek(doc);
                    }
                    if postings.doc() == doc {
                        present[at][position] = true;
                    }
                }
            }
        }
    }
    Ok(present)
}

fn push_term_clauses(
    clauses: &mut Vec<(Occur, Box<dyn Query>)>,
    terms: &[String],
    fields: &[(Field, f32)],
    term_weight: &impl Fn(&str) -> f32,
) {
    for term in terms {
        let term_weight = term_weight(term);
        for (field, weight) in fields {
            let weight = weight * term_weight;
            if weight <= 0.0 {
                continue;
            }
            let query = TermQuery::new(
                Term::from_field_text(*field, term),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(query), weight)),
            ));
        }
    }
}

fn unique(terms: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    terms
        .into_iter()
        .filter(|term| seen.insert(term.clone()))
        .collect()
}
