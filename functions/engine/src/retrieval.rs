//! Finding the passages that answer a question, and how sure we are.
//!
//! [`Retriever::passages`] searches the index with the question (the same analyzers as the
//! builder; headings weigh more than body text, function words less than content words), adds
//! the lexicon's synonyms at a lower weight, drops passages of another jurisdiction than the one
//! the question names (and prefers the corpus's widest jurisdiction when it names none), weighs
//! every candidate's confidence from the inverted index before loading any, collapses
//! near-duplicates (the same section cut in overlapping passages, or the same text published twice)
//! and scores each remaining passage's **confidence**: the share of the question's information
//! the passage covers, where each question term weighs its inverse document frequency (so "how",
//! "do", "I" weigh little and "absentee" a lot), from 0 (nothing) to 1 (every term). Unlike BM25
//! scores, confidences compare across questions, which is what abstention needs.
//!
//! [`Retriever::fact_checks`] does the same over fact-checks and scores their **similarity** to
//! the message: the harmonic mean of how much of the message the claim covers and how much of the
//! claim the message covers ([`claim_similarity`]).

use std::collections::HashSet;

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use votecheck_index::schema::jurisdiction_key;
use votecheck_index::{
    FieldWeights, IndexError, Passage, PassageIndex, PassageKind, SearchRequest,
};

use crate::jurisdiction::{NamedJurisdiction, match_form};
use crate::lexicon::{ConceptShare, FunctionWords};

/// How much a synonym from the lexicon weighs against a word the citizen typed.
pub const EXPANSION_WEIGHT: f32 = 0.4;

/// Near-duplicate passages share at least this share of their terms.
pub const NEAR_DUPLICATE_OVERLAP: f32 = 0.8;

/// How many fact-checks to compare with a message (by BM25, and as many by the encoder).
pub const FACT_CHECK_CANDIDATES: usize = 8;

/// How many hits to consider before filtering and collapsing (passages are loaded lazily).
const CANDIDATES: usize = 16;

/// Weight of a function word ("how", "the", "です") relative to its inverse document frequency.
pub const FUNCTION_WORD_WEIGHT: f32 = 0.1;

/// Weight of a function word in the search query, relative to a content word. Higher than
/// [`FUNCTION_WORD_WEIGHT`]: in BM25 a function word still tells a heading that is phrased like
/// the question ("Do I have to ...") from one that is not, but at full weight such headings
/// outrank the passage that has the question's rarer words ("stamp", "envelope"). Chosen on the
/// eval sets (0.2 to 0.5 all help; see docs/answer-engine.md).
pub const QUERY_FUNCTION_WORD_WEIGHT: f32 = 0.3;

/// Weight of the clause that prefers, when a question names no place, the passages of the
/// corpus's widest jurisdiction (the United States guide over one state's page): twice a title
/// match on the jurisdiction's name. Chosen on the shared eval set (see docs/answer-engine.md).
pub const GENERAL_JURISDICTION_WEIGHT: f32 = 3.0;

/// Added to the ranking score of a passage of the corpus's widest jurisdiction when the question
/// names no place: what the BM25 query's [`GENERAL_JURISDICTION_WEIGHT`] does for keyword
/// candidates, for those the encoder found (fifty states' pages phrased like the question are
/// each a little more similar to it than the national guide that answers for everyone).
pub const GENERAL_PLACE_PREFERENCE: f32 = 1.0;

/// Share of the final ranking score that comes from confidence (the rest from BM25, normalised
/// by the best hit's score).
pub const CONFIDENCE_IN_RANKING: f32 = 0.7;

/// Added to the ranking score of a passage of the very jurisdiction the question names, so that
/// Texas's page comes before a United States page that answers about as well.
pub const OWN_JURISDICTION_PREFERENCE: f32 = 0.1;

/// A passage with its retrieval score and confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The passage.
    pub passage: Passage,
    /// BM25 score of the combined query (0 for a passage only the encoder found).
    pub score: f32,
    /// Share of the question's IDF weight the passage covers (for passages), or lexical
    /// similarity to the message (for fact-checks), 0 to 1.
    pub confidence: f32,
    /// Cosine similarity of the passage's vector with the question's (0 without vectors).
    pub similarity: f32,
}

/// A search to run.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// The question (or the forwarded message).
    pub text: &'a str,
    /// The question's language, for the stemmed fields.
    pub language: &'a str,
    /// Only passages in these languages (by primary subtag).
    pub passage_languages: Vec<String>,
    /// Extra terms at [`EXPANSION_WEIGHT`] (lexicon synonyms, translated concepts).
    pub expansion: String,
    /// The jurisdiction the question names: passages of the corpus's other jurisdictions are
    /// left out (those of wider jurisdictions, and those without one, stay).
    pub jurisdiction: Option<&'a NamedJurisdiction>,
    /// When the question names no jurisdiction: the corpus's widest ones (see
    /// [`crate::jurisdiction::JurisdictionMatcher::widest`]), whose passages are preferred.
    pub general: &'a [String],
    /// How many candidates to return.
    pub limit: usize,
    /// The question language's function words: they weigh [`FUNCTION_WORD_WEIGHT`] in
    /// confidence and [`QUERY_FUNCTION_WORD_WEIGHT`] in the query.
    pub function_words: FunctionWords<'a>,
    /// Lexicon synonyms of terms the question used: a passage that uses a synonym covers the
    /// question's term.
    pub synonyms: &'a [(String, Vec<String>)],
    /// When not empty, the question is in another language than the passages, and confidence is
    /// the share of the question explained by the concepts a passage covers (see
    /// [`crate::lexicon::Expansion::concept_shares`]) instead of the share of its terms.
    pub concepts: &'a [ConceptShare],
    /// The question's embedding, when the index has passage vectors: the encoder's nearest
    /// passages join the keyword candidates, and similarity weighs in the ranking.
    pub embedding: Option<&'a [f32]>,
    /// Languages the encoder's nearest passages may be in, when wider than `passage_languages`
    /// (the encoder compares across languages: a rumour told in English finds the Spanish
    /// fact-check of the same claim). Empty: `passage_languages`.
    pub semantic_languages: &'a [String],
}

/// How many of the encoder's nearest passages join the keyword candidates.
const DENSE_CANDIDATES: usize = 16;

/// Weight of semantic similarity in a passage's ranking: the ranking adds
/// `DENSE_IN_RANKING * (similarity - best similarity) / DENSE_SPREAD`, so the nearest passage
/// gets nothing and one `DENSE_SPREAD` less similar loses `DENSE_IN_RANKING`. Chosen on the
/// held-out dev split (docs/answer-engine.md).
pub const DENSE_IN_RANKING: f32 = 1.0;

/// See [`DENSE_IN_RANKING`]: the e5 similarities of the passages that answer a question and of
/// those that do not are a few hundredths apart.
pub const DENSE_SPREAD: f32 = 0.05;

/// Weight of semantic similarity in a fact-check's similarity to a message (the rest is the
/// lexical [`claim_similarity`]); the semantic part is `(similarity - CLAIM_SIMILARITY_FLOOR) /
/// (1 - CLAIM_SIMILARITY_FLOOR)`, clamped to 0..1.
pub const DENSE_IN_CLAIM_MATCH: f32 = 1.0;

/// Similarity below which a fact-check's vector says nothing about a message.
pub const CLAIM_SIMILARITY_FLOOR: f32 = 0.8;

/// Share of a fact-check's ranking that comes from its BM25 score relative to the best one (the
/// rest from its similarity to the message): BM25 over the review's whole text finds the check
/// of a rumour told in other words than its claim. Fact-checks in every language get it.
pub const BM25_IN_CLAIM_RANKING: f32 = 0.3;

/// The weights that combine keyword and semantic evidence (the constants above; tools that
/// tune them on dev data replace them).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RetrievalWeights {
    /// [`CONFIDENCE_IN_RANKING`].
    pub confidence_in_ranking: f32,
    /// [`DENSE_IN_RANKING`].
    pub dense_in_ranking: f32,
    /// [`DENSE_SPREAD`].
    pub dense_spread: f32,
    /// [`DENSE_IN_CLAIM_MATCH`].
    pub dense_in_claim_match: f32,
    /// [`CLAIM_SIMILARITY_FLOOR`].
    pub claim_similarity_floor: f32,
    /// [`BM25_IN_CLAIM_RANKING`].
    pub bm25_in_claim_ranking: f32,
    /// [`FACT_CHECK_CANDIDATES`].
    pub fact_check_candidates: usize,
    /// [`GENERAL_PLACE_PREFERENCE`].
    pub general_place_preference: f32,
}

impl Default for RetrievalWeights {
    fn default() -> Self {
        RetrievalWeights {
            confidence_in_ranking: CONFIDENCE_IN_RANKING,
            dense_in_ranking: DENSE_IN_RANKING,
            dense_spread: DENSE_SPREAD,
            dense_in_claim_match: DENSE_IN_CLAIM_MATCH,
            claim_similarity_floor: CLAIM_SIMILARITY_FLOOR,
            bm25_in_claim_ranking: BM25_IN_CLAIM_RANKING,
            fact_check_candidates: FACT_CHECK_CANDIDATES,
            general_place_preference: GENERAL_PLACE_PREFERENCE,
        }
    }
}

/// A passage candidate before its passage is loaded: what ranks it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighed {
    /// Where the passage is in the index.
    pub address: tantivy::DocAddress,
    /// BM25 score (0 for a passage only the encoder found).
    pub score: f32,
    /// Share of the question the passage covers (see [`Candidate::confidence`]).
    pub confidence: f32,
    /// Cosine similarity with the question (0 without vectors).
    pub similarity: f32,
    /// Whether the passage belongs to the jurisdiction the question names.
    pub own_place: bool,
    /// Whether, for a question that names no place, the passage belongs to one of the corpus's
    /// widest jurisdictions (the BM25 query prefers them too; this carries the preference to
    /// passages only the encoder found).
    pub general_place: bool,
}

/// The candidates of one passage search, and the best BM25 score and similarity among them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeighedCandidates {
    /// The candidates, best first.
    pub candidates: Vec<Weighed>,
    /// The best retrieval score.
    pub best_score: f32,
    /// The best embedding similarity.
    pub best_similarity: f32,
}

impl WeighedCandidates {
    /// The ranking score of a candidate: BM25 relative to the best hit, confidence, the named
    /// jurisdiction's preference and, with vectors, similarity relative to the nearest passage.
    pub fn ranking(&self, candidate: &Weighed, weights: &RetrievalWeights, semantic: bool) -> f32 {
        let preference = if candidate.own_place {
            OWN_JURISDICTION_PREFERENCE
        } else if candidate.general_place {
            weights.general_place_preference
        } else {
            0.0
        };
        let similarity = if semantic {
            weights.dense_in_ranking * (candidate.similarity - self.best_similarity)
                / weights.dense_spread
        } else {
            0.0
        };
        (1.0 - weights.confidence_in_ranking) * candidate.score / self.best_score.max(f32::EPSILON)
            + weights.confidence_in_ranking * candidate.confidence
            + preference
            + similarity
    }
}

/// Searches one index.
pub struct Retriever<'a> {
    index: &'a PassageIndex,
    weights: RetrievalWeights,
}

struct QuestionTerms {
    weighted: Vec<(String, f32)>,
    total: f32,
}

impl<'a> Retriever<'a> {
    /// A retriever over an index.
    pub fn new(index: &'a PassageIndex) -> Self {
        Retriever {
            index,
            weights: RetrievalWeights::default(),
        }
    }

    /// A retriever with other weights (tuning tools).
    pub fn with_weights(index: &'a PassageIndex, weights: RetrievalWeights) -> Self {
        Retriever { index, weights }
    }

    fn query(&self, search: &Search<'_>, kind: PassageKind) -> Option<Box<dyn Query>> {
        let request = |text: &str, weights: FieldWeights| SearchRequest {
            text: text.to_string(),
            language: Some(search.language.to_string()),
            kind: Some(kind),
            languages: search.passage_languages.clone(),
            jurisdiction: None,
            weights,
            limit: CANDIDATES,
        };
        // Only fact-checks have a claim: searching other passages, its clauses could only find
        // what the kind filter drops, and each costs a term lookup.
        let weights = match kind {
            PassageKind::FactCheck => FieldWeights::default(),
            PassageKind::Passage => FieldWeights {
                claim: 0.0,
                ..FieldWeights::default()
            },
        };
        let term_weight = |term: &str| {
            if search.function_words.contains(term) {
                QUERY_FUNCTION_WORD_WEIGHT
            } else {
                1.0
            }
        };
        let main = self
            .index
            .query_weighing_terms(&request(search.text, weights), term_weight);
        let expansion = if search.expansion.trim().is_empty() {
            None
        } else {
            self.index
                .query_weighing_terms(&request(&search.expansion, weights), term_weight)
        };
        let query: Box<dyn Query> = match (main, expansion) {
            (Some(main), Some(expansion)) => Box::new(BooleanQuery::new(vec![
                (Occur::Should, main),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(expansion, EXPANSION_WEIGHT)),
                ),
            ])),
            (Some(main), None) => main,
            (None, Some(expansion)) => Box::new(BoostQuery::new(expansion, EXPANSION_WEIGHT)),
            (None, None) => return None,
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
        match search.jurisdiction {
            Some(named) => {
                // The place's own passages score as if they named it in their title: they are
                // about it whatever name they use ("California" on a Russian page asked about
                // "Калифорния"), and without this a page written in the question's script
                // for the wider jurisdiction can keep them out of the candidates.
                clauses.push((
                    Occur::Should,
                    self.jurisdiction_query(&named.name, FieldWeights::default().title),
                ));
                // Other jurisdictions are left out in the query itself, so that every candidate
                // it returns is admissible (filtering afterwards would leave few of them).
                clauses.extend(
                    named
                        .excluded
                        .iter()
                        .map(|other| (Occur::MustNot, self.jurisdiction_query(other, 1.0))),
                );
            }
            // A question that names no place is best answered by what applies everywhere: without
            // this, fifty states' near-identical pages can fill the candidates and push out the
            // general guide that answers it.
            None => clauses.extend(search.general.iter().map(|general| {
                (
                    Occur::Should,
                    self.jurisdiction_query(general, GENERAL_JURISDICTION_WEIGHT),
                )
            })),
        }
        if clauses.len() == 1 {
            return clauses.pop().map(|(_, query)| query);
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// Passages of a jurisdiction (as the corpus writes it), scoring `boost` when they match.
    fn jurisdiction_query(&self, jurisdiction: &str, boost: f32) -> Box<dyn Query> {
        let field = self.index.schema().jurisdiction_key;
        let term = Term::from_field_text(field, &jurisdiction_key(jurisdiction));
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            boost,
        ))
    }

    fn question_terms(
        &self,
        searcher: &tantivy::Searcher,
        language: &str,
        text: &str,
        function_terms: &HashSet<String>,
    ) -> QuestionTerms {
        let mut seen = HashSet::new();
        let weighted: Vec<(String, f32)> = self
            .index
            .language_terms(language, text)
            .into_iter()
            .filter(|term| seen.insert(term.clone()))
            .map(|term| {
                let mut weight = self.index.language_idf(searcher, language, &term);
                if function_terms.contains(&term) {
                    weight *= FUNCTION_WORD_WEIGHT;
                }
                (term, weight)
            })
            .collect();
        let total = weighted.iter().map(|(_, idf)| idf).sum();
        QuestionTerms { weighted, total }
    }

    /// The question's terms that are part of the place name it used ("テキ", "キサ", "サス" of
    /// "テキサス"), and whether they count. A passage of the named jurisdiction covers them,
    /// whatever name it uses, and one of a wider jurisdiction does not (Texas's page is about
    /// Texas, the United States page is not). When the named jurisdiction is not within another
    /// of the corpus ("États-Unis" in a United States corpus), the name says nothing about which
    /// passage answers, so its terms are left out of the question instead.
    fn place_terms(question: &mut QuestionTerms, named: Option<&NamedJurisdiction>) -> Vec<String> {
        let Some(named) = named else {
            return Vec::new();
        };
        let place: String = named.named_as.split_whitespace().collect();
        let is_place = |term: &str| {
            let form: String = match_form(term).split_whitespace().collect();
            !form.is_empty() && place.contains(&form)
        };
        if named.wider.is_empty() {
            question.weighted.retain(|(term, _)| !is_place(term));
            question.total = question.weighted.iter().map(|(_, idf)| idf).sum();
            return Vec::new();
        }
        question
            .weighted
            .iter()
            .filter(|(term, _)| is_place(term))
            .map(|(term, _)| term.clone())
            .collect()
    }

    fn coverage(&self, question: &QuestionTerms, passage_terms: &HashSet<String>) -> f32 {
        if question.total <= 0.0 {
            return 0.0;
        }
        let covered: f32 = question
            .weighted
            .iter()
            .filter(|(term, _)| passage_terms.contains(term))
            .map(|(_, idf)| idf)
            .sum();
        covered / question.total
    }

    fn term_set(&self, language: &str, text: &str) -> HashSet<String> {
        self.index
            .language_terms(language, text)
            .into_iter()
            .collect()
    }

    /// The question's synonym pairs as index terms: (terms the question used, alternatives).
    fn synonym_terms(
        &self,
        language: &str,
        synonyms: &[(String, Vec<String>)],
    ) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
        synonyms
            .iter()
            .map(|(used, others)| {
                let alternatives = others
                    .iter()
                    .map(|other| self.index.language_terms(language, other))
                    .filter(|terms| !terms.is_empty())
                    .collect();
                (self.index.language_terms(language, used), alternatives)
            })
            .collect()
    }

    /// The passage's terms plus the question's terms it covers through a synonym.
    fn with_synonyms(
        mut terms: HashSet<String>,
        synonyms: &[(Vec<String>, Vec<Vec<String>>)],
    ) -> HashSet<String> {
        for (used, alternatives) in synonyms {
            let covered = alternatives
                .iter()
                .any(|alternative| alternative.iter().all(|term| terms.contains(term)));
            if covered {
                terms.extend(used.iter().cloned());
            }
        }
        terms
    }

    /// Adds the encoder's `limit` nearest passages of `kind` (in the search's languages, none of
    /// a jurisdiction the question rules out) to the keyword candidates `top`, with a BM25 score
    /// of 0, and returns every candidate's similarity (all 0 without an embedding).
    fn with_nearest(
        &self,
        searcher: &tantivy::Searcher,
        search: &Search<'_>,
        kind: PassageKind,
        limit: usize,
        top: &mut Vec<(f32, tantivy::DocAddress)>,
    ) -> Result<Vec<f32>, IndexError> {
        let Some(embedding) = search.embedding else {
            return Ok(vec![0.0; top.len()]);
        };
        let excluded = search
            .jurisdiction
            .map(|named| named.excluded.clone())
            .unwrap_or_default();
        let languages = if search.semantic_languages.is_empty() {
            &search.passage_languages
        } else {
            search.semantic_languages
        };
        let filter = self.index.filter(kind, languages, &excluded);
        for (_, address) in self
            .index
            .nearest(searcher, embedding, filter.as_ref(), limit)?
        {
            if !top.iter().any(|(_, known)| *known == address) {
                top.push((0.0, address));
            }
        }
        let addresses: Vec<_> = top.iter().map(|(_, address)| *address).collect();
        Ok(self.index.similarities(&addresses, embedding))
    }

    /// Every candidate of a passage search — the [`CANDIDATES`] best BM25 hits and the
    /// [`DENSE_CANDIDATES`] nearest passages — with what ranks it, read from the inverted index
    /// and the vectors without loading any passage.
    pub fn weigh(
        &self,
        searcher: &tantivy::Searcher,
        search: &Search<'_>,
    ) -> Result<WeighedCandidates, IndexError> {
        let Some(query) = self.query(search, PassageKind::Passage) else {
            return Ok(WeighedCandidates::default());
        };
        let mut top = self
            .index
            .top_addresses(searcher, query.as_ref(), CANDIDATES)?;
        let best_score = top
            .first()
            .map_or(1.0, |(score, _)| score.max(f32::EPSILON));
        let similarities = self.with_nearest(
            searcher,
            search,
            PassageKind::Passage,
            DENSE_CANDIDATES,
            &mut top,
        )?;
        let best_similarity = similarities.iter().copied().fold(f32::MIN, f32::max);
        let mut question = self.question_terms(
            searcher,
            search.language,
            search.text,
            search.function_words.stems,
        );
        let place_terms = Self::place_terms(&mut question, search.jurisdiction);
        let synonyms = self.synonym_terms(search.language, search.synonyms);
        let concepts: Vec<(Vec<Vec<String>>, f32)> = search
            .concepts
            .iter()
            .map(|concept| {
                let phrases = concept
                    .phrases
                    .iter()
                    .map(|phrase| self.index.language_terms(search.language, phrase))
                    .filter(|terms| !terms.is_empty())
                    .collect();
                (phrases, concept.share)
            })
            .collect();

        // Every term whose presence matters, looked up once for all candidates.
        let mut vocabulary: Vec<String> = question
            .weighted
            .iter()
            .map(|(term, _)| term.clone())
            .collect();
        for (_, alternatives) in &synonyms {
            vocabulary.extend(alternatives.iter().flatten().cloned());
        }
        for (phrases, _) in &concepts {
            vocabulary.extend(phrases.iter().flatten().cloned());
        }
        let mut seen = HashSet::new();
        vocabulary.retain(|term| seen.insert(term.clone()));
        let addresses: Vec<_> = top.iter().map(|(_, address)| *address).collect();
        let present =
            self.index
                .terms_present(searcher, search.language, &addresses, &vocabulary)?;
        let own_place = match search.jurisdiction {
            Some(named) => self
                .index
                .in_jurisdiction(searcher, &addresses, &named.name)?,
            None => vec![false; addresses.len()],
        };
        let mut general_place = vec![false; addresses.len()];
        if search.jurisdiction.is_none() {
            for general in search.general {
                let found = self.index.in_jurisdiction(searcher, &addresses, general)?;
                for (place, found) in general_place.iter_mut().zip(found) {
                    *place |= found;
                }
            }
        }

        let mut candidates = Vec::with_capacity(top.len());
        for (at, (score, address)) in top.iter().enumerate() {
            let terms: HashSet<String> = vocabulary
                .iter()
                .zip(&present[at])
                .filter(|(_, present)| **present)
                .map(|(term, _)| term.clone())
                .collect();
            let confidence = if concepts.is_empty() {
                let mut covered = Self::with_synonyms(terms, &synonyms);
                if own_place[at] {
                    covered.extend(place_terms.iter().cloned());
                }
                self.coverage(&question, &covered)
            } else {
                concept_coverage(&concepts, &terms)
            };
            candidates.push(Weighed {
                address: *address,
                score: *score,
                confidence,
                similarity: similarities[at],
                own_place: own_place[at],
                general_place: general_place[at],
            });
        }
        Ok(WeighedCandidates {
            candidates,
            best_score,
            best_similarity,
        })
    }

    /// Official passages for a question, best first, with confidences.
    ///
    /// Every one of the [`CANDIDATES`] best BM25 hits is weighed: which of the question's terms
    /// (and synonyms, and concepts) it has is read from the inverted index, which is cheap, and
    /// gives its confidence and ranking score. Only then are passages loaded, best first, until
    /// `limit` of them are kept that are neither of another jurisdiction nor near-duplicates of
    /// one kept before.
    pub fn passages(&self, search: &Search<'_>) -> Result<Vec<Candidate>, IndexError> {
        let searcher = self.index.searcher();
        let weighed = self.weigh(&searcher, search)?;
        let mut ranked: Vec<(f32, &Weighed)> = weighed
            .candidates
            .iter()
            .map(|candidate| {
                let ranking = weighed.ranking(candidate, &self.weights, search.embedding.is_some());
                (ranking, candidate)
            })
            .collect();
        // Stable: equal rankings keep BM25 order.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));

        let mut kept: Vec<(Candidate, HashSet<String>)> = Vec::new();
        let mut sections_seen = HashSet::new();
        for (_, candidate) in ranked {
            if kept.len() >= search.limit {
                break;
            }
            let passage = self.index.passage_at(&searcher, candidate.address)?;
            if let (Some(named), Some(own)) = (search.jurisdiction, passage.jurisdiction.as_deref())
                && !named.admits(own)
            {
                continue;
            }
            if !sections_seen.insert((passage.source.clone(), passage.section.clone())) {
                continue;
            }
            let terms = self.term_set(
                search.language,
                &format!("{}\n{}\n{}", passage.title, passage.section, passage.text),
            );
            if kept
                .iter()
                .any(|(_, other)| overlap(&terms, other) >= NEAR_DUPLICATE_OVERLAP)
            {
                continue;
            }
            kept.push((
                Candidate {
                    passage,
                    score: candidate.score,
                    confidence: candidate.confidence,
                    similarity: candidate.similarity,
                },
                terms,
            ));
        }
        Ok(kept.into_iter().map(|(candidate, _)| candidate).collect())
    }

    /// Fact-checks for a message, most similar first. A forwarded message is a copy of a rumour,
    /// often with more around it, so for one the claim's coverage by the message weighs more.
    pub fn fact_checks(
        &self,
        search: &Search<'_>,
        forwarded: bool,
    ) -> Result<Vec<Candidate>, IndexError> {
        let Some(query) = self.query(search, PassageKind::FactCheck) else {
            return Ok(Vec::new());
        };
        let searcher = self.index.searcher();
        let mut top = self.index.top_addresses(
            &searcher,
            query.as_ref(),
            self.weights.fact_check_candidates,
        )?;
        let similarities = self.with_nearest(
            &searcher,
            search,
            PassageKind::FactCheck,
            self.weights.fact_check_candidates,
            &mut top,
        )?;
        let question = self.question_terms(
            &searcher,
            search.language,
            search.text,
            search.function_words.stems,
        );
        let question_set: HashSet<String> = question
            .weighted
            .iter()
            .map(|(term, _)| term.clone())
            .collect();
        let best_score = top
            .iter()
            .map(|(score, _)| *score)
            .fold(f32::EPSILON, f32::max);
        let mut candidates = Vec::new();
        for ((score, address), similarity) in top.into_iter().zip(similarities) {
            let passage = self.index.passage_at(&searcher, address)?;
            let Some(review) = &passage.claim_review else {
                continue;
            };
            let claim = self.question_terms(
                &searcher,
                search.language,
                &review.claim,
                search.function_words.stems,
            );
            let mut claim_terms: HashSet<String> = claim
                .weighted
                .iter()
                .map(|(term, _)| term.clone())
                .collect();
            if let Some(headline) = &review.headline {
                claim_terms.extend(self.term_set(search.language, headline));
            }
            let message_covered = self.coverage(&question, &claim_terms);
            let claim_covered = self.coverage(&claim, &question_set);
            let lexical = claim_similarity(message_covered, claim_covered, forwarded);
            // Keywords say something only within a language: a fact-check in another language
            // (found by the encoder) is judged and ranked by its similarity alone.
            let same_language = votecheck_index::language::primary_subtag(&passage.language)
                == votecheck_index::language::primary_subtag(search.language);
            let confidence = match search.embedding {
                Some(_) if same_language => {
                    fused_claim_similarity(lexical, similarity, &self.weights)
                }
                Some(_) => semantic_score(similarity, &self.weights),
                None => lexical,
            };
            // BM25 weighs in whatever the fact-check's language: names and loanwords match
            // across languages ("Riverside", "WhatsApp"), and a check in another language
            // ranked by its similarity alone lost to a less similar one in the message's
            // language that had the best BM25 score.
            let ranking = (1.0 - self.weights.bm25_in_claim_ranking) * confidence
                + self.weights.bm25_in_claim_ranking * score / best_score;
            candidates.push((
                ranking,
                Candidate {
                    passage,
                    score,
                    confidence,
                    similarity,
                },
            ));
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        candidates.truncate(search.limit);
        Ok(candidates
            .into_iter()
            .map(|(_, candidate)| candidate)
            .collect())
    }
}

/// How close a message is to a claim, from how much of the message the claim covers and how much
/// of the claim the message covers: their harmonic mean, so that both must be substantial (a
/// question that merely shares a topic word with a claim covers little of the claim). A forwarded
/// message is a copy of a rumour, often with more text around it, so for one the claim's side
/// counts twice as much.
pub fn claim_similarity(message_covered: f32, claim_covered: f32, forwarded: bool) -> f32 {
    let (message_weight, claim_weight) = if forwarded { (1.0, 2.0) } else { (1.0, 1.0) };
    if message_covered <= 0.0 || claim_covered <= 0.0 {
        return 0.0;
    }
    (message_weight + claim_weight)
        / (message_weight / message_covered + claim_weight / claim_covered)
}

/// A fact-check's similarity to a message from its lexical similarity and the cosine similarity
/// of their vectors (see [`DENSE_IN_CLAIM_MATCH`]).
pub fn fused_claim_similarity(lexical: f32, similarity: f32, weights: &RetrievalWeights) -> f32 {
    let fused = weights.dense_in_claim_match * semantic_score(similarity, weights)
        + (1.0 - weights.dense_in_claim_match) * lexical;
    // Either kind of evidence is enough: a rumour that repeats the claim's words is that claim
    // however the encoder rates it.
    fused.max(lexical)
}

/// A cosine similarity on the 0..1 scale of claim matching: 0 at
/// [`CLAIM_SIMILARITY_FLOOR`] and below, 1 for identical vectors.
pub fn semantic_score(similarity: f32, weights: &RetrievalWeights) -> f32 {
    let floor = weights.claim_similarity_floor;
    ((similarity - floor) / (1.0 - floor)).clamp(0.0, 1.0)
}

/// The share of a question explained by the concepts a passage covers: a concept is covered
/// when the passage has every term of one of its phrases.
fn concept_coverage(concepts: &[(Vec<Vec<String>>, f32)], passage_terms: &HashSet<String>) -> f32 {
    concepts
        .iter()
        .filter(|(phrases, _)| {
            phrases
                .iter()
                .any(|phrase| phrase.iter().all(|term| passage_terms.contains(term)))
        })
        .map(|(_, share)| share)
        .sum::<f32>()
        .min(1.0)
}

/// Share of the smaller term set found in the other.
fn overlap(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f32 / smaller as f32
}
