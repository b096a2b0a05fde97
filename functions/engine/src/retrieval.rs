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

/// How many fact-checks to compare with a message.
const FACT_CHECK_CANDIDATES: usize = 3;

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

/// Share of the final ranking score that comes from confidence (the rest from BM25, normalised
/// by the best hit's score).
pub const CONFIDENCE_IN_RANKING: f32 = 0.5;

/// Added to the ranking score of a passage of the very jurisdiction the question names, so that
/// Texas's page comes before a United States page that answers about as well.
pub const OWN_JURISDICTION_PREFERENCE: f32 = 0.1;

/// A passage with its retrieval score and confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub passage: Passage,
    /// BM25 score of the combined query.
    pub score: f32,
    /// Share of the question's IDF weight the passage covers (for passages), or similarity to the
    /// message (for fact-checks), 0 to 1.
    pub confidence: f32,
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
}

/// Searches one index.
pub struct Retriever<'a> {
    index: &'a PassageIndex,
}

struct QuestionTerms {
    weighted: Vec<(String, f32)>,
    total: f32,
}

impl<'a> Retriever<'a> {
    /// A retriever over an index.
    pub fn new(index: &'a PassageIndex) -> Self {
        Retriever { index }
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

    /// Official passages for a question, best first, with confidences.
    ///
    /// Every one of the [`CANDIDATES`] best BM25 hits is weighed: which of the question's terms
    /// (and synonyms, and concepts) it has is read from the inverted index, which is cheap, and
    /// gives its confidence and ranking score. Only then are passages loaded, best first, until
    /// `limit` of them are kept that are neither of another jurisdiction nor near-duplicates of
    /// one kept before.
    pub fn passages(&self, search: &Search<'_>) -> Result<Vec<Candidate>, IndexError> {
        let Some(query) = self.query(search, PassageKind::Passage) else {
            return Ok(Vec::new());
        };
        let searcher = self.index.searcher();
        let top = self
            .index
            .top_addresses(&searcher, query.as_ref(), CANDIDATES)?;
        let best_score = top
            .first()
            .map_or(1.0, |(score, _)| score.max(f32::EPSILON));
        let mut question = self.question_terms(
            &searcher,
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
                .terms_present(&searcher, search.language, &addresses, &vocabulary)?;
        let own_place = match search.jurisdiction {
            Some(named) => self
                .index
                .in_jurisdiction(&searcher, &addresses, &named.name)?,
            None => vec![false; addresses.len()],
        };

        let mut weighed: Vec<(f32, f32, usize)> = Vec::with_capacity(top.len());
        for (at, (score, _)) in top.iter().enumerate() {
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
            let preference = if own_place[at] {
                OWN_JURISDICTION_PREFERENCE
            } else {
                0.0
            };
            let ranking = (1.0 - CONFIDENCE_IN_RANKING) * score / best_score
                + CONFIDENCE_IN_RANKING * confidence
                + preference;
            weighed.push((ranking, confidence, at));
        }
        // Stable: equal rankings keep BM25 order.
        weighed.sort_by(|a, b| b.0.total_cmp(&a.0));

        let mut kept: Vec<(Candidate, HashSet<String>)> = Vec::new();
        let mut sections_seen = HashSet::new();
        for (_, confidence, at) in weighed {
            if kept.len() >= search.limit {
                break;
            }
            let (score, address) = top[at];
            let passage = self.index.passage_at(&searcher, address)?;
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
                    score,
                    confidence,
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
        let top = self
            .index
            .top_addresses(&searcher, query.as_ref(), FACT_CHECK_CANDIDATES)?;
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
        let mut candidates = Vec::new();
        for (score, address) in top {
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
            let similarity = claim_similarity(message_covered, claim_covered, forwarded);
            candidates.push(Candidate {
                passage,
                score,
                confidence: similarity,
            });
        }
        candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        candidates.truncate(search.limit);
        Ok(candidates)
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
