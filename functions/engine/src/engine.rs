//! [`Engine::answer`]: one message in, one [`Answer`] out, as a sequence of plain steps —
//! bound the input, choose the reply language, recognise the intent, and for questions match
//! fact-checks, retrieve passages (in the citizen's language, else in the deployment's default
//! language), abstain when nothing is confident enough, and render the reply.

use std::time::{Duration, Instant};

use votecheck_encoder::{Encoder, LayeredEmbedding, Role};
use votecheck_index::language::{
    Script, detect_among, primary_subtag, script_language, script_of, written_in,
};
use votecheck_index::{Passage, PassageIndex, PassageKind};
use votecheck_outbound::ConfirmedCommand;

use crate::EngineError;
use crate::answer::{Answer, Citation, FactCheckMatch, Intent, Outcome, Reply, Timings};
use crate::calibration::{SemanticThresholds, Thresholds, answer_evidence};
use crate::catalogue::{Catalogue, FALLBACK_LANGUAGE};
use crate::claim_form::ClaimForm;
use crate::compiled::EngineData;
use crate::intent::{IntentClassifier, IntentMatch};
use crate::judgement::clauses::clauses;
use crate::judgement::{Judgement, JudgementModel, Verdict};
use crate::jurisdiction::{JurisdictionMatcher, NamedJurisdiction};
use crate::lexicon::Lexicon;
use crate::reply::{MAX_QUOTE_CHARS, Renderer};
use crate::retrieval::{Candidate, RetrievalWeights, Retriever, Search, semantic_score};
use crate::text::shorten;

/// Longest message the engine reads; the rest is ignored (a forwarded rumour is shorter).
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Messages with fewer words than this are too short for language detection to overrule the
/// citizen's previous language.
pub const SHORT_QUESTION_WORDS: usize = 3;

/// Most citations in one reply.
pub const MAX_CITATIONS: usize = 3;

/// What the engine knows about the conversation, from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationContext {
    /// The language the citizen chose explicitly (always wins).
    pub preferred_language: Option<String>,
    /// The language of the citizen's previous messages.
    pub previous_language: Option<String>,
    /// Whether WhatsApp marked the message as forwarded (rumours are matched first).
    pub forwarded: bool,
}

/// The scores behind a decision (what calibration needs).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Trace {
    /// Confidence of the best official passage (own language or fallback), 0 when none.
    pub best_passage_confidence: f32,
    /// Semantic similarity of that passage to the question, 0 without vectors.
    pub best_passage_similarity: f32,
    /// Similarity of the best fact-check, 0 when none.
    pub best_fact_check_similarity: f32,
    /// Semantic similarity of that fact-check to the message, 0 without vectors.
    pub best_fact_check_vector_similarity: f32,
    /// Microseconds spent embedding the question (0 when it was not embedded).
    pub embedding_us: u64,
    /// The evidence that the best passage answers (its confidence without vectors; see
    /// [`answer_evidence`]).
    pub best_passage_evidence: f32,
    /// The passages that would be cited, best first, whether or not the engine answered.
    pub passages: Vec<PassageRef>,
    /// The fact-check that would be shown, whether or not it was.
    pub fact_check: Option<PassageRef>,
    /// The learned judgement of the message (with passage vectors only).
    pub judgement: Option<Verdict>,
    /// Whether the encoder reads the message poorly, so that a passage also answers when its
    /// keyword confidence alone reaches the threshold without vectors (calibration needs it).
    pub keywords_decide: bool,
}

/// Which passage a decision was about (for evaluation: is it the right one?).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PassageRef {
    /// The document's source path.
    pub source: String,
    /// The passage's heading path.
    pub section: String,
}

impl PassageRef {
    fn of(passage: &Passage) -> Self {
        PassageRef {
            source: passage.source.clone(),
            section: passage.section.clone(),
        }
    }
}

/// The answer engine over one index.
pub struct Engine {
    index: PassageIndex,
    /// The sentence encoder, when the index has passage vectors.
    encoder: Option<Encoder>,
    /// The learned judgement of questions, when the encoder is the one it was trained with.
    judgement: Option<JudgementModel>,
    /// The learned recognition of stop and delete requests (offered, never acted on) and of
    /// problem reports, beside the judgement and reading the same vectors.
    commands: Option<JudgementModel>,
    /// How keyword and semantic evidence combine.
    weights: RetrievalWeights,
    /// Question embeddings kept by text, for tools that answer the same questions many times.
    memo: Option<std::sync::Mutex<std::collections::HashMap<String, LayeredEmbedding>>>,
    catalogue: Catalogue,
    intents: IntentClassifier,
    lexicon: Lexicon,
    jurisdictions: JurisdictionMatcher,
    thresholds: Thresholds,
    /// The thresholds with passage vectors.
    semantic: SemanticThresholds,
    default_language: String,
    detectable_languages: Vec<String>,
    /// Primary subtags of the languages the corpus has documents in.
    corpus_languages: Vec<String>,
    /// Primary subtags of the languages the corpus has fact-checks in (a question in another
    /// language skips the fact-check search, a fifth of the answer time).
    fact_check_languages: Vec<String>,
    general_jurisdictions: Vec<String>,
}

/// How long the parts of opening an engine took ([`Engine::open_timed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenTimes {
    /// Opening the tantivy index and reading its manifest and passage vectors.
    pub index: Duration,
    /// Mapping the encoder's model file and checking it is the index's model.
    pub encoder: Duration,
    /// Decoding the engine's compiled data (intents, lexicon, messages, judgement).
    pub engine_data: Duration,
}

impl Engine {
    /// Opens the index in `dir` and loads the engine's data; an index with passage vectors needs
    /// the model that made them, found by [`votecheck_encoder::locate_model`].
    pub fn open(dir: &std::path::Path) -> Result<Self, EngineError> {
        Self::open_with_model(dir, &votecheck_encoder::locate_model())
    }

    /// Opens the index in `dir` with the encoder's model file at `model` (read only when the index
    /// has passage vectors).
    pub fn open_with_model(
        dir: &std::path::Path,
        model: &std::path::Path,
    ) -> Result<Self, EngineError> {
        Self::open_timed(dir, model).map(|(engine, _)| engine)
    }

    /// As [`Engine::open_with_model`], and how long each part took (the cold start's split).
    pub fn open_timed(
        dir: &std::path::Path,
        model: &std::path::Path,
    ) -> Result<(Self, OpenTimes), EngineError> {
        let started = Instant::now();
        let index = PassageIndex::open(dir)?;
        let index_time = started.elapsed();
        let started = Instant::now();
        let encoder = match &index.manifest().embedding {
            Some(info) => Some(open_encoder(model, &info.model_id)?),
            None => None,
        };
        let encoder_time = started.elapsed();
        let started = Instant::now();
        let engine = Self::with_encoder(index, encoder)?;
        let times = OpenTimes {
            index: index_time,
            encoder: encoder_time,
            engine_data: started.elapsed(),
        };
        Ok((engine, times))
    }

    /// An engine over an opened lexical-only index (an index with vectors needs
    /// [`Engine::with_encoder`]).
    pub fn new(index: PassageIndex) -> Result<Self, EngineError> {
        if let Some(info) = &index.manifest().embedding {
            return Err(EngineError::Model(format!(
                "the index in {} has passage vectors by {}: open it with that model",
                index.dir().display(),
                info.model_id
            )));
        }
        Self::with_encoder(index, None)
    }

    /// An engine over an opened index and the encoder that embedded its passages.
    pub fn with_encoder(
        index: PassageIndex,
        encoder: Option<Encoder>,
    ) -> Result<Self, EngineError> {
        match (&index.manifest().embedding, &encoder) {
            (Some(info), Some(encoder)) if info.model_id != encoder.model_id() => {
                return Err(EngineError::Model(format!(
                    "the index in {} was built with model {}, the model given is {}: rebuild the index or give its model",
                    index.dir().display(),
                    info.model_id,
                    encoder.model_id()
                )));
            }
            (Some(info), None) => {
                return Err(EngineError::Model(format!(
                    "the index in {} has passage vectors by {}: give that model",
                    index.dir().display(),
                    info.model_id
                )));
            }
            _ => {}
        }
        let data = EngineData::bundled()?;
        let catalogue = data.catalogue;
        let manifest = index.manifest();
        let default_language = manifest
            .settings
            .defaults
            .language
            .clone()
            .unwrap_or_else(|| FALLBACK_LANGUAGE.to_string());
        let mut detectable_languages: Vec<String> = catalogue.languages();
        let mut corpus_languages: Vec<String> = manifest
            .languages()
            .iter()
            .map(|language| primary_subtag(language))
            .collect();
        // `pt` and `pt-BR`, `zh-Hans` and `zh-Hant` are one language here (sorted, so adjacent).
        corpus_languages.dedup();
        for language in manifest.languages() {
            let base = primary_subtag(&language);
            if !detectable_languages.contains(&base) {
                detectable_languages.push(base);
            }
        }
        let mut fact_check_languages = Vec::new();
        for language in &corpus_languages {
            if index.count_in_language(PassageKind::FactCheck, language)? > 0 {
                fact_check_languages.push(language.clone());
            }
        }
        let jurisdictions =
            JurisdictionMatcher::with_compiled(&manifest.jurisdictions, &data.jurisdictions);
        let judgement = match &encoder {
            Some(encoder) => Some(JudgementModel::bundled()?).filter(|model| {
                model.model_id == encoder.model_id()
                    && (1..=encoder.header().config.layers).contains(&model.layer)
            }),
            None => None,
        };
        let commands = match &judgement {
            Some(main) => Some(JudgementModel::bundled_commands()?)
                .filter(|model| model.model_id == main.model_id && model.layer == main.layer),
            None => None,
        };
        Ok(Engine {
            judgement,
            commands,
            general_jurisdictions: jurisdictions.widest(),
            jurisdictions,
            catalogue,
            intents: IntentClassifier::new(data.intents),
            lexicon: Lexicon::new(data.lexicon),
            thresholds: Thresholds::calibrated()?,
            semantic: SemanticThresholds::calibrated()?,
            default_language,
            detectable_languages,
            corpus_languages,
            fact_check_languages,
            index,
            encoder,
            weights: RetrievalWeights::default(),
            memo: None,
        })
    }

    /// Replaces the retrieval weights (tuning tools and tests).
    pub fn with_weights(mut self, weights: RetrievalWeights) -> Self {
        self.weights = weights;
        self
    }

    /// Changes the retrieval weights and thresholds in place (tuning tools that sweep them over
    /// the same engine and its embedding memo). The thresholds apply with vectors and without.
    pub fn retune(&mut self, weights: RetrievalWeights, thresholds: Thresholds) {
        self.weights = weights;
        self.thresholds = thresholds;
        self.semantic = SemanticThresholds {
            answer_evidence: if thresholds.answer_confidence <= 0.0 {
                f32::MIN
            } else {
                thresholds.answer_confidence
            },
            answer_evidence_by_language: Default::default(),
            fact_check_similarity: thresholds.fact_check_similarity,
            fact_check_similarity_forwarded: thresholds.fact_check_similarity,
            fact_check_margin: thresholds.fact_check_margin,
        };
    }

    /// Replaces the thresholds used with passage vectors (calibration and tests).
    pub fn with_semantic_thresholds(mut self, thresholds: SemanticThresholds) -> Self {
        self.semantic = thresholds;
        self
    }

    /// The thresholds used with passage vectors.
    pub fn semantic_thresholds(&self) -> &SemanticThresholds {
        &self.semantic
    }

    /// The retrieval weights in use.
    pub fn weights(&self) -> RetrievalWeights {
        self.weights
    }

    /// Keeps every question's embedding, so that answering the same question again skips the
    /// encoder (tuning tools that run an eval file many times; not for serving: it grows).
    pub fn with_embedding_memo(mut self) -> Self {
        self.memo = Some(std::sync::Mutex::new(std::collections::HashMap::new()));
        self
    }

    /// The learned judgement model in use (with passage vectors and the encoder it was trained
    /// with).
    pub fn judgement_model(&self) -> Option<&JudgementModel> {
        self.judgement.as_ref()
    }

    /// Replaces or removes the judgement model (evaluation of the engine without it, tests).
    pub fn with_judgement_model(mut self, model: Option<JudgementModel>) -> Self {
        if model.is_none() {
            // Commands are judged beside the main model, from the vectors it asks for.
            self.commands = None;
        }
        self.judgement = model;
        self
    }

    /// The sentence encoder, when the index has passage vectors.
    pub fn encoder(&self) -> Option<&Encoder> {
        self.encoder.as_ref()
    }

    /// Loads the encoder's weights and runs it once, so that the first question does not pay for
    /// it (the Lambda calls this during its init phase). Nothing for a lexical-only index.
    pub fn warm_up(&self) -> Result<(), EngineError> {
        if let Some(encoder) = &self.encoder {
            encoder
                .embed(Role::Query, "warm up")
                .map_err(|error| EngineError::Model(error.to_string()))?;
        }
        Ok(())
    }

    /// The question's embedding, with the mean hidden state after the layer the judgement
    /// model reads (empty without a judgement model), when the index has vectors (`None` also
    /// if the encoder failed: the question is then answered from keywords alone).
    fn embed_question(&self, message: &str, trace: &mut Trace) -> Option<LayeredEmbedding> {
        let encoder = self.encoder.as_ref()?;
        if let Some(memo) = &self.memo
            && let Some(known) = memo.lock().ok()?.get(message)
        {
            return Some(known.clone());
        }
        let started = Instant::now();
        let vectors = match &self.judgement {
            Some(model) => encoder
                .embed_with_layer(Role::Query, message, model.layer)
                .ok()?,
            None => LayeredEmbedding {
                embedding: encoder.embed(Role::Query, message).ok()?,
                layer_mean: Vec::new(),
            },
        };
        trace.embedding_us = micros(started);
        if let Some(memo) = &self.memo
            && let Ok(mut memo) = memo.lock()
        {
            memo.insert(message.to_string(), vectors.clone());
        }
        Some(vectors)
    }

    /// For a message judged mixed: its procedural clauses, joined, with their vectors (see
    /// [`clauses`]). A clause is partisan when the judgement gives partisan and mixed together
    /// at least even odds; the procedural clauses are those before the first partisan clause,
    /// or when the message starts with one, those after the last. `None` when the clauses
    /// cannot be told apart (one clause, all partisan, none partisan): the whole message is
    /// searched then.
    fn procedural_part(
        &self,
        message: &str,
        forwarded: bool,
    ) -> Option<(String, LayeredEmbedding)> {
        let model = self.judgement.as_ref()?;
        let encoder = self.encoder.as_ref()?;
        let clauses = clauses(message);
        if clauses.len() < 2 {
            return None;
        }
        let texts: Vec<&str> = clauses.iter().map(String::as_str).collect();
        let layered = encoder
            .embed_batch_with_layer(Role::Query, &texts, model.layer)
            .ok()?;
        let partisan: Vec<bool> = layered
            .iter()
            .map(|vectors| {
                let probabilities = model.probabilities(
                    vectors.embedding.as_slice(),
                    &vectors.layer_mean,
                    forwarded,
                );
                let probability =
                    |judgement| model.row(judgement).map_or(0.0, |row| probabilities[row]);
                probability(Judgement::Partisan) + probability(Judgement::Mixed) >= 0.5
            })
            .collect();
        let first = partisan.iter().position(|&partisan| partisan)?;
        let last = partisan.iter().rposition(|&partisan| partisan)?;
        // The procedural question comes before the partisan one or after it; what trails the
        // partisan clause ("...and why", "tell me straight") is part of it.
        let span = if first > 0 {
            0..first
        } else {
            last + 1..clauses.len()
        };
        if span.is_empty() {
            return None;
        }
        let text = texts[span.clone()].join(" ");
        let vectors = if span.len() == 1 {
            layered[span.start].clone()
        } else {
            encoder
                .embed_with_layer(Role::Query, &text, model.layer)
                .ok()?
        };
        Some((text, vectors))
    }

    /// Replaces the thresholds (calibration and tests).
    pub fn with_thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// The thresholds in use.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// The index.
    pub fn index(&self) -> &PassageIndex {
        &self.index
    }

    /// The message catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The deployment's default language.
    pub fn default_language(&self) -> &str {
        &self.default_language
    }

    /// A renderer of canned replies in a language (for callers that reply without a question:
    /// rate-limit notices, media, feedback thanks).
    pub fn renderer<'a>(&'a self, language: &'a str) -> Renderer<'a> {
        Renderer {
            catalogue: &self.catalogue,
            settings: &self.index.manifest().settings,
            language,
        }
    }

    /// The question a menu topic stands for (`topic:<id>` list rows).
    pub fn topic_question(&self, topic_id: &str) -> Option<String> {
        let topic = self
            .index
            .manifest()
            .settings
            .topics
            .iter()
            .find(|topic| topic.id == topic_id)?;
        Some(
            topic
                .question
                .clone()
                .unwrap_or_else(|| topic.title.clone()),
        )
    }

    /// The language a message is in, and whether detection was sure of it.
    pub fn choose_language(&self, message: &str, context: &ConversationContext) -> (String, bool) {
        if let Some(preferred) = &context.preferred_language {
            return (preferred.clone(), true);
        }
        let words = message.split_whitespace().count();
        if let Some(tag) = script_language(message) {
            // The script decides (kana, Hangul, Han).
            return (tag.to_string(), true);
        }
        let detection = detect_among(message, &self.detectable_languages);
        let vocabulary = self
            .lexicon
            .function_word_language(message)
            .map(str::to_string)
            .or_else(|| {
                // Not decisive: let the detector choose among the languages whose function words
                // the message uses about as often as the best one.
                let votes = self.lexicon.function_word_votes(message);
                let (most_voted, best) = *votes.first()?;
                let close: Vec<String> = votes
                    .iter()
                    .filter(|(_, hits)| *hits + 1 >= best)
                    .map(|(language, _)| language.to_string())
                    .collect();
                let found = detect_among(message, &close)?;
                let hits = |tag: &str| {
                    votes
                        .iter()
                        .find(|(language, _)| *language == primary_subtag(tag))
                        .map_or(0, |(_, hits)| *hits)
                };
                // An unsure guess does not overrule a language with more function words in the
                // message. Nor is it evidence on a tie with the deployment's language: the
                // conversation's language decides, else the deployment's (below). ("how do i
                // renew my passport" and "I lost my mail ballot" met these rules through the
                // English words Tagalog lists; those are now borrowed and no vote for Tagalog.)
                // Nor when the message is only function words that several languages share
                // ("no" is Spanish and Portuguese alike): the guess among them is a coin.
                let default = primary_subtag(&self.default_language);
                let tied = votes.iter().filter(|(_, hits)| *hits == best).count();
                if found.reliable {
                    Some(found.tag)
                } else if (hits(&default) == best && hits(&found.tag) == best)
                    || (tied > 1 && self.lexicon.has_only_function_words(message))
                {
                    None
                } else if hits(&found.tag) == best {
                    Some(found.tag)
                } else {
                    Some(most_voted.to_string())
                }
            });
        match (detection, vocabulary, &context.previous_language) {
            // The message's function words are decisive evidence.
            (_, Some(language), _) => (language, true),
            // A reliable detection of a long enough message overrules the conversation.
            (Some(found), None, _) if found.reliable && words >= SHORT_QUESTION_WORDS => {
                (found.tag, true)
            }
            // Short or uncertain: keep the conversation's language.
            (_, None, Some(previous)) => (previous.clone(), false),
            // A first message: the detector's guess, when it is reliable.
            (Some(found), None, None) if found.reliable => (found.tag, true),
            _ => (self.default_language.clone(), false),
        }
    }

    /// Languages whose function words a message uses about equally (Spanish and Portuguese share
    /// many): the candidates when the evidence is not decisive.
    fn close_languages(&self, message: &str) -> Vec<String> {
        if self.lexicon.function_word_language(message).is_some() {
            return Vec::new();
        }
        let votes = self.lexicon.function_word_votes(message);
        let Some(best) = votes.first().map(|(_, hits)| *hits) else {
            return Vec::new();
        };
        votes
            .iter()
            .filter(|(_, hits)| *hits + 1 >= best)
            .map(|(language, _)| language.to_string())
            .filter(|language| self.corpus_languages.contains(language))
            .take(3)
            .collect()
    }

    /// For a first question whose language is uncertain between close languages, the one whose
    /// passages cover the question best (the corpus is evidence too); otherwise `chosen`.
    ///
    /// A language written in another script than the message ("kya", "hai" and "ki" make Hindi
    /// in Latin letters) is kept: its passages cannot cover a romanised question, so the corpus
    /// would always prefer a language written in the message's script.
    fn language_the_corpus_answers_best(
        &self,
        message: &str,
        chosen: String,
        named: Option<&NamedJurisdiction>,
    ) -> String {
        if script_of(message).is_some_and(|script| !written_in(&chosen, script)) {
            return chosen;
        }
        let candidates = self.close_languages(message);
        if candidates.len() < 2 || !candidates.contains(&primary_subtag(&chosen)) {
            return chosen;
        }
        let retriever = Retriever::with_weights(&self.index, self.weights);
        let best_confidence = |language: &str| {
            let expansion = self.lexicon.expand(message, language);
            retriever
                .passages(&Search {
                    text: message,
                    language,
                    passage_languages: vec![language.to_string()],
                    expansion: expansion.text.clone(),
                    jurisdiction: named,
                    general: &self.general_jurisdictions,
                    limit: 1,
                    function_words: self.lexicon.function_words(language),
                    synonyms: &expansion.synonyms,
                    concepts: &[],
                    embedding: None,
                    semantic_languages: &[],
                })
                .ok()
                .and_then(|candidates| candidates.first().map(|candidate| candidate.confidence))
                .unwrap_or(0.0)
        };
        let mut best = (best_confidence(&chosen), chosen);
        for candidate in candidates {
            if candidate == primary_subtag(&best.1) {
                continue;
            }
            let confidence = best_confidence(&candidate);
            if confidence > best.0 {
                best = (confidence, candidate);
            }
        }
        best.1
    }

    /// Answers one message.
    pub fn answer(&self, message: &str, context: &ConversationContext) -> Answer {
        self.answer_with_trace(message, context).0
    }

    /// Answers one message and returns the scores behind the decision.
    pub fn answer_with_trace(
        &self,
        message: &str,
        context: &ConversationContext,
    ) -> (Answer, Trace) {
        let started = Instant::now();
        let mut timings = Timings::default();
        let message = bound(message);

        let step = Instant::now();
        let (mut language, sure) = self.choose_language(&message, context);
        timings.language_us = micros(step);

        let step = Instant::now();
        let intent_match = self.intents.classify(&message, &language);
        if let Some(found) = &intent_match {
            if found.intent.is_command() {
                language = self.command_language(found, context);
            } else if !sure {
                language = found.language.clone();
            }
        }
        timings.intent_us = micros(step);

        let mut trace = Trace::default();
        let mut answer = match &intent_match {
            _ if !message.chars().any(char::is_alphanumeric) => {
                let renderer = self.renderer(&language);
                let mut reply = renderer.menu();
                reply.text = format!(
                    "{}\n\n{}",
                    renderer.plain("empty_question", &[]).text,
                    reply.text
                );
                self.simple(Outcome::Menu, Intent::Menu, &language, reply)
            }
            // A partisan phrase in a message that may also ask a procedural question: the
            // judgement decides between the refusal and answering the procedural part. A
            // problem-report phrase in a rumour ("they are committing fraud with the machines,
            // forward this"): the judgement decides between the reporting line and the
            // rumour's fact-check.
            Some(found)
                if (found.intent == Intent::Partisan && self.judgement.is_some())
                    || found.intent == Intent::ReportProblem =>
            {
                let step = Instant::now();
                let named = self.jurisdictions.find(&message);
                let (answer, question_trace) =
                    self.question(&message, &language, context, named, Some(found));
                timings.retrieval_us = micros(step);
                trace = question_trace;
                answer
            }
            Some(found) => self.command(found, &language, &message),
            None => {
                let step = Instant::now();
                let named = self.jurisdictions.find(&message);
                if context.preferred_language.is_none() && context.previous_language.is_none() {
                    language =
                        self.language_the_corpus_answers_best(&message, language, named.as_ref());
                }
                let (answer, question_trace) =
                    self.question(&message, &language, context, named, None);
                timings.retrieval_us = micros(step);
                trace = question_trace;
                answer
            }
        };
        timings.total_us = micros(started);
        answer.timings = timings;
        (answer, trace)
    }

    /// The answer to a command (opt-out, opt-in, delete my data), or `None` for any other
    /// message. Cheap (no retrieval): the handler asks it before the rate limit, so that "stop"
    /// and "delete my data" are always applied.
    pub fn answer_command(&self, message: &str, context: &ConversationContext) -> Option<Answer> {
        let message = bound(message);
        let (language, _) = self.choose_language(&message, context);
        let found = self.intents.classify(&message, &language)?;
        found.intent.is_command().then(|| {
            let language = self.command_language(&found, context);
            self.command(&found, &language, &message)
        })
    }

    /// The language a command is answered in. A command phrase may be listed in several
    /// languages ("delete my data" in English and Tagalog), and a guess from three words is
    /// unreliable, so: the citizen's language when its phrases matched; else the deployment's
    /// default language when its phrases matched; else the citizen's language when known; else
    /// the language of the phrase that matched.
    fn command_language(&self, found: &IntentMatch, context: &ConversationContext) -> String {
        let citizens = context
            .preferred_language
            .as_ref()
            .or(context.previous_language.as_ref());
        let matched = |language: &str| {
            found
                .languages
                .iter()
                .any(|listed| *listed == primary_subtag(language))
        };
        match citizens {
            Some(citizens) if matched(citizens) => citizens.clone(),
            _ if matched(&self.default_language) => self.default_language.clone(),
            Some(citizens) => citizens.clone(),
            None => found.language.clone(),
        }
    }

    fn simple(&self, outcome: Outcome, intent: Intent, language: &str, reply: Reply) -> Answer {
        Answer {
            outcome,
            language: language.to_string(),
            intent,
            citations: Vec::new(),
            fact_check: None,
            fallback_language: false,
            jurisdiction: None,
            declined_partisan: false,
            reply,
            timings: Timings::default(),
        }
    }

    /// The judgement of a message with these vectors: the main model's, unless that is neither
    /// partisan nor mixed and the second model takes it for a command or a problem report.
    fn judge(&self, message: &str, vectors: &LayeredEmbedding, forwarded: bool) -> Option<Verdict> {
        let embedding = vectors.embedding.as_slice();
        let verdict = self.judgement.as_ref()?.judge_message(
            message,
            embedding,
            &vectors.layer_mean,
            forwarded,
        );
        if matches!(verdict.judgement, Judgement::Partisan | Judgement::Mixed) {
            return Some(verdict);
        }
        let offered = self.commands.as_ref().map(|commands| {
            commands.judge_message(message, embedding, &vectors.layer_mean, forwarded)
        });
        Some(match offered {
            Some(offered) if Judgement::ACTIONS.contains(&offered.judgement) => offered,
            _ => verdict,
        })
    }

    /// The reply to a message judged partisan, a greeting, small talk, a stop or delete request
    /// (offered with buttons, not acted on) or a problem report (the official line): nothing is
    /// retrieved (a partisan message never gets a citation or a fact-check).
    fn judged_without_retrieval(
        &self,
        judged: Option<Judgement>,
        language: &str,
    ) -> Option<Answer> {
        let renderer = self.renderer(language);
        let (outcome, intent, reply) = match judged? {
            Judgement::Partisan => (
                Outcome::NeutralRefusal,
                Intent::Partisan,
                renderer.neutral_refusal(),
            ),
            Judgement::Greeting => (Outcome::Menu, Intent::Greeting, renderer.menu()),
            Judgement::Command => (
                Outcome::CommandOffer,
                Intent::CommandOffer,
                renderer.command_offer(),
            ),
            Judgement::ReportProblem => (
                Outcome::ReportProblem,
                Intent::ReportProblem,
                renderer.report_problem(),
            ),
            Judgement::SmallTalk => (
                Outcome::SmallTalk,
                Intent::SmallTalk,
                renderer.plain("small_talk_thanks", &[]),
            ),
            _ => return None,
        };
        Some(self.simple(outcome, intent, language, reply))
    }

    /// The alerts menu in `language`, for the topic menu's alerts row (the command word's own
    /// answer, without a jurisdiction).
    pub fn alerts_menu(&self, language: &str) -> Answer {
        let reply = self.renderer(language).alerts_menu(None);
        self.simple(Outcome::Menu, Intent::Alerts, language, reply)
    }

    fn command(&self, found: &IntentMatch, language: &str, message: &str) -> Answer {
        let renderer = self.renderer(language);
        if found.intent == Intent::Alerts {
            // "Send me alerts for Riverside County": the topics offered are that jurisdiction's.
            let named = self.jurisdictions.find(message).map(|named| named.name);
            let reply = renderer.alerts_menu(named.as_deref());
            let mut answer = self.simple(Outcome::Menu, found.intent, language, reply);
            answer.jurisdiction = named;
            return answer;
        }
        let (outcome, reply) = match found.intent {
            Intent::OptOut => (Outcome::OptOut, renderer.plain("opt_out_confirm", &[])),
            Intent::OptIn => (Outcome::OptOut, renderer.plain("opt_in_confirm", &[])),
            Intent::DeleteMyData => (Outcome::OptOut, renderer.plain("delete_confirm", &[])),
            Intent::ReportProblem => (Outcome::ReportProblem, renderer.report_problem()),
            Intent::Partisan => (Outcome::NeutralRefusal, renderer.neutral_refusal()),
            Intent::Greeting | Intent::Menu => (Outcome::Menu, renderer.menu()),
            Intent::Alerts => unreachable!("alerts are answered above"),
            Intent::SmallTalk => {
                let key = if found.rule == "bye" {
                    "small_talk_bye"
                } else {
                    "small_talk_thanks"
                };
                (Outcome::SmallTalk, renderer.plain(key, &[]))
            }
            Intent::Question | Intent::CommandOffer => {
                unreachable!("questions and offers are not commands")
            }
        };
        self.simple(outcome, found.intent, language, reply)
    }

    /// The command a citizen confirmed with a button of [`Renderer::command_offer`], answered
    /// in `language` as the same command in words would be; the handler then applies it.
    pub fn confirmed_command(&self, command: ConfirmedCommand, language: &str) -> Answer {
        let renderer = self.renderer(language);
        let (intent, key) = match command {
            ConfirmedCommand::Stop => (Intent::OptOut, "opt_out_confirm"),
            ConfirmedCommand::Delete => (Intent::DeleteMyData, "delete_confirm"),
        };
        self.simple(Outcome::OptOut, intent, language, renderer.plain(key, &[]))
    }

    /// A question: fact-checks, then passages. A search error on the read-only index (not expected:
    /// it is memory-mapped and immutable) degrades to "no answer" rather than failing the message.
    ///
    /// `phrase` is the partisan or problem-report phrase the message contains, if any. A
    /// partisan one is refused unless the judgement finds a procedural question beside it (the
    /// procedural part is answered) or a problem report (the reporting line); a
    /// problem-report phrase gets the reporting line, except in a rumour (forwarded, or judged
    /// one) that a fact-check addresses, which gets the fact-check, and in a message judged a
    /// question that a passage answers, which gets the line and the answer.
    ///
    /// `whole_jurisdiction` is the place the whole message names (found once per message).
    fn question(
        &self,
        message: &str,
        language: &str,
        context: &ConversationContext,
        whole_jurisdiction: Option<NamedJurisdiction>,
        phrase: Option<&IntentMatch>,
    ) -> (Answer, Trace) {
        let retriever = Retriever::with_weights(&self.index, self.weights);
        let own = primary_subtag(language);
        let default = primary_subtag(&self.default_language);
        let function_words = self.lexicon.function_words(language);
        let mut trace = Trace::default();
        let vectors = self.embed_question(message, &mut trace);
        trace.judgement = vectors
            .as_ref()
            .and_then(|vectors| self.judge(message, vectors, context.forwarded));
        let judged = trace.judgement.map(|verdict| verdict.judgement);
        // A rumour, like a forwarded message, looks for its fact-check first (the threshold for
        // forwarded messages, no margin over the passages).
        let rumour = context.forwarded || judged == Some(Judgement::Rumour);
        if let Some(phrase) = phrase {
            let acts_at_once = match phrase.intent {
                // A mixed message has its procedural part answered below. Whom to vote for, in a
                // problem report ("a poll worker keeps telling voters who to vote for"), is what
                // the citizen reports, not what they ask: the judgement's reporting line, below.
                Intent::Partisan => {
                    !matches!(judged, Some(Judgement::Mixed | Judgement::ReportProblem))
                }
                // A rumour looks for its fact-check first; a question about reporting ("who do I
                // call if someone threatens me?") for the passage that answers it. A report, or
                // any message without the judgement, gets the line at once.
                Intent::ReportProblem => !rumour && judged != Some(Judgement::Question),
                _ => true,
            };
            if acts_at_once {
                return (self.command(phrase, language, message), trace);
            }
        }
        // A rumour with a problem-report phrase is searched as a rumour, whatever else the
        // judgement said, and gets the reporting line unless a fact-check addresses it; a
        // question with one gets the line, and the answer too when a passage answers it.
        let report_phrase = phrase.filter(|phrase| phrase.intent == Intent::ReportProblem);
        let searched_as = if report_phrase.is_some() && rumour {
            Some(Judgement::Rumour)
        } else {
            judged
        };
        if let Some(answer) = self.judged_without_retrieval(searched_as, language) {
            return (answer, trace);
        }
        // A mixed message is searched with its procedural clauses alone (the place it names may
        // be in the other clause: "... and who wins Ohio?").
        let procedural = (searched_as == Some(Judgement::Mixed))
            .then(|| self.procedural_part(message, context.forwarded))
            .flatten();
        let (message, jurisdiction, vectors) = match &procedural {
            Some((clauses, vectors)) => (
                clauses.as_str(),
                self.jurisdictions.find(clauses).or(whole_jurisdiction),
                Some(vectors),
            ),
            None => (message, whole_jurisdiction, vectors.as_ref()),
        };
        let embedding = vectors.map(|vectors| vectors.embedding.as_slice());
        let expansion = self.lexicon.expand(message, language);

        let mut fact_languages = vec![own.clone()];
        if default != own {
            fact_languages.push(default.clone());
        }
        fact_languages.retain(|language| self.fact_check_languages.contains(language));
        let fact_search = Search {
            text: message,
            language,
            passage_languages: fact_languages,
            expansion: expansion.text.clone(),
            jurisdiction: None,
            general: &[],
            limit: 1,
            function_words,
            synonyms: &expansion.synonyms,
            concepts: &[],
            embedding,
            semantic_languages: &self.fact_check_languages,
        };
        // Without fact-checks in the citizen's or the default language, only the encoder can
        // match a rumour (to a fact-check in another language).
        let fact_checks = if fact_search.passage_languages.is_empty()
            && (embedding.is_none() || self.fact_check_languages.is_empty())
        {
            Vec::new()
        } else {
            retriever
                .fact_checks(&fact_search, context.forwarded)
                .unwrap_or_default()
        };
        let best_fact_check = fact_checks.into_iter().next();
        trace.best_fact_check_similarity = best_fact_check.as_ref().map_or(0.0, |c| c.confidence);
        trace.best_fact_check_vector_similarity =
            best_fact_check.as_ref().map_or(0.0, |c| c.similarity);

        let own_search = Search {
            text: message,
            language,
            passage_languages: vec![own.clone()],
            expansion: expansion.text.clone(),
            jurisdiction: jurisdiction.as_ref(),
            general: &self.general_jurisdictions,
            limit: MAX_CITATIONS + 1,
            function_words,
            synonyms: &expansion.synonyms,
            concepts: &[],
            embedding,
            semantic_languages: &[],
        };
        let mut candidates = retriever.passages(&own_search).unwrap_or_default();
        // A place named in passing ("is there early voting like in America?", asked in
        // Japanese of a corpus of Japan's law) must not leave the question without passages:
        // when the named jurisdiction keeps out every passage in the citizen's language, the
        // search runs again without it, and abstention judges what it finds.
        if candidates.is_empty() && own_search.jurisdiction.is_some() {
            candidates = retriever
                .passages(&Search {
                    jurisdiction: None,
                    ..own_search
                })
                .unwrap_or_default();
        }
        // The deployment's default language stands in only when the corpus has nothing in the
        // citizen's language: a corpus with documents in that language answers from them or not
        // at all (a Japanese question must not be answered from a US state's FAQ).
        let mut fallback = false;
        if own != default && !self.corpus_languages.contains(&own) {
            let concepts = self.lexicon.concept_terms(&expansion.concepts, &default);
            // The concepts stand for only part of the question: a passage's confidence is the
            // share of the question explained by the concepts it covers.
            let shares = self.lexicon.concept_shares(&expansion, &default);
            if !concepts.is_empty() && !shares.is_empty() {
                candidates = retriever
                    .passages(&Search {
                        text: &concepts,
                        language: &default,
                        passage_languages: vec![default.clone()],
                        expansion: String::new(),
                        jurisdiction: jurisdiction.as_ref(),
                        general: &self.general_jurisdictions,
                        limit: MAX_CITATIONS + 1,
                        function_words: self.lexicon.function_words(&default),
                        synonyms: &[],
                        concepts: &shares,
                        embedding,
                        semantic_languages: &[],
                    })
                    .unwrap_or_default();
                fallback = true;
            }
        }
        trace.best_passage_confidence = candidates.first().map_or(0.0, |c| c.confidence);
        trace.best_passage_similarity = candidates.first().map_or(0.0, |c| c.similarity);
        trace.passages = candidates
            .iter()
            .take(MAX_CITATIONS)
            .map(|candidate| PassageRef::of(&candidate.passage))
            .collect();
        trace.fact_check = best_fact_check
            .as_ref()
            .map(|candidate| PassageRef::of(&candidate.passage));

        // Semantic retrieval: decide on the fused evidence, with the language's own threshold.
        let semantic = embedding.is_some();
        let (evidence, threshold, fact_similarity, fact_margin) = if semantic {
            (
                answer_evidence as fn(f32, f32) -> f32,
                self.semantic.answer_evidence_in(language),
                self.semantic.fact_check_similarity,
                self.semantic.fact_check_margin,
            )
        } else {
            (
                (|confidence, _| confidence) as fn(f32, f32) -> f32,
                self.thresholds.answer_confidence,
                self.thresholds.fact_check_similarity,
                self.thresholds.fact_check_margin,
            )
        };
        let best_evidence = candidates
            .first()
            .map_or(f32::MIN, |best| evidence(best.confidence, best.similarity));
        trace.best_passage_evidence = best_evidence.max(-9.0);
        // Writing the encoder reads poorly (romanised, or Vietnamese without its marks) scores
        // low against every passage, answering or not: there the keywords may decide alone, as
        // in an index without vectors.
        let keywords_decide = semantic && encoder_reads_poorly(message, language);
        trace.keywords_decide = keywords_decide;
        let answers = |candidate: &Candidate| {
            evidence(candidate.confidence, candidate.similarity) >= threshold
                || (keywords_decide && candidate.confidence >= self.thresholds.answer_confidence)
        };
        let citations: Vec<Citation> = candidates
            .iter()
            .enumerate()
            .filter(|(rank, candidate)| {
                *rank == 0
                    || (answers(candidate)
                        && (semantic || candidate.score >= 0.5 * candidates[0].score))
            })
            .take(MAX_CITATIONS)
            .map(|(_, candidate)| citation(candidate))
            .collect();
        // What the documents cannot answer is not answered from a passage that shares its topic.
        let confident =
            candidates.first().is_some_and(answers) && searched_as != Some(Judgement::Unanswerable);
        // The margin compares like with like: without vectors, the fact-check's similarity with
        // the best passage's confidence; with them, its fused similarity with the best
        // passage's semantic score on the same scale. A forwarded message looks for a
        // fact-check first: the margin does not apply to it.
        let passage_score = if semantic {
            semantic_score(trace.best_passage_similarity, &self.weights)
        } else {
            trace.best_passage_confidence
        };
        // A fact-check in another language than the message is found by the encoder alone,
        // without a keyword in common: enough for a rumour, not for a question the judgement
        // found no claim in ("¿cómo voto?" must not be told "Verdict: False" because a
        // Portuguese explainer on voting is close to it).
        let rumour_or_unjudged = rumour || judged.is_none();
        let fact_check_matches = best_fact_check.as_ref().filter(|candidate| {
            let same_language = primary_subtag(&candidate.passage.language) == own;
            let similar_enough = if rumour && semantic {
                candidate.confidence >= self.semantic.fact_check_similarity_forwarded
            } else {
                candidate.confidence >= fact_similarity
                    && candidate.confidence - passage_score >= fact_margin
            };
            (same_language || rumour_or_unjudged) && similar_enough
        });
        let renderer = self.renderer(language);

        let (outcome, reply, citations, fact_check) = if let Some(matched) = fact_check_matches {
            let fact_check = fact_check_match(matched);
            let supporting = confident.then(|| citations.first().cloned()).flatten();
            let reply = renderer.fact_check(&fact_check, supporting.as_ref());
            let mut cited = vec![citation(matched)];
            cited.extend(supporting);
            (Outcome::FactCheck, reply, cited, Some(fact_check))
        } else if let Some(phrase) = report_phrase {
            if !confident || searched_as == Some(Judgement::Rumour) {
                return (self.command(phrase, language, message), trace);
            }
            let reply = renderer.answer_after_report_line(&citations, fallback.then_some(language));
            (Outcome::Answer, reply, citations, None)
        } else if confident {
            let reply = renderer.answer(&citations, fallback.then_some(language));
            (Outcome::Answer, reply, citations, None)
        } else if rumour {
            // A claim no fact-check addresses: say so, and where to report it.
            (
                Outcome::NoAnswer,
                renderer.rumour_unchecked(),
                Vec::new(),
                None,
            )
        } else {
            (Outcome::NoAnswer, renderer.no_answer(), Vec::new(), None)
        };
        let declined_partisan = searched_as == Some(Judgement::Mixed);
        let reply = if declined_partisan {
            renderer.partisan_part_declined(reply)
        } else {
            reply
        };
        let answer = Answer {
            declined_partisan,
            outcome,
            language: language.to_string(),
            intent: Intent::Question,
            citations,
            fact_check,
            fallback_language: fallback && outcome == Outcome::Answer,
            jurisdiction: jurisdiction.map(|named| named.name),
            reply,
            timings: Timings::default(),
        };
        (answer, trace)
    }
}

/// Opens the encoder's model and checks that it is the one that embedded the index.
fn open_encoder(model: &std::path::Path, expected: &str) -> Result<Encoder, EngineError> {
    let encoder = Encoder::open(model).map_err(|error| EngineError::Model(error.to_string()))?;
    if encoder.model_id() != expected {
        return Err(EngineError::Model(format!(
            "the index was built with model {expected}, but {} is {}: rebuild the index or give its model",
            model.display(),
            encoder.model_id()
        )));
    }
    Ok(encoder)
}

fn micros(since: Instant) -> u64 {
    since.elapsed().as_micros() as u64
}

/// The part of a message the engine reads: at most [`MAX_MESSAGE_CHARS`] characters, without
/// control characters (training embeds messages the same way).
pub fn bound(message: &str) -> String {
    message
        .chars()
        .filter(|character| !character.is_control() || *character == '\n')
        .take(MAX_MESSAGE_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Whether the encoder reads a message poorly: a language written in another script typed in
/// Latin letters ("virginia me regester karne ki last date?"), or Vietnamese typed without its
/// marks ("o georgia kiem tra minh da dang ky cu tri chua o dau"). Such messages score 0.05 to
/// 0.1 lower against every passage than the same question in its own writing
/// (docs/answer-engine.md).
fn encoder_reads_poorly(message: &str, language: &str) -> bool {
    match script_of(message) {
        Some(Script::Latin) if !written_in(language, Script::Latin) => true,
        Some(Script::Latin) if primary_subtag(language) == "vi" => message
            .chars()
            .filter(|character| character.is_alphabetic())
            .all(|character| character.is_ascii()),
        _ => false,
    }
}

fn citation(candidate: &Candidate) -> Citation {
    let passage: &Passage = &candidate.passage;
    Citation {
        passage_id: passage.passage_id.clone(),
        source: passage.source.clone(),
        section: passage.section.clone(),
        title: passage.title.clone(),
        url: passage.url.clone(),
        snippet: shorten(&passage.text, MAX_QUOTE_CHARS),
        score: candidate.score,
        confidence: candidate.confidence,
        similarity: candidate.similarity,
        language: passage.language.clone(),
        as_of: passage.as_of().map(str::to_string),
    }
}

fn fact_check_match(candidate: &Candidate) -> FactCheckMatch {
    let passage = &candidate.passage;
    let review = passage.claim_review.clone().unwrap_or_default();
    let claim_form = ClaimForm::of(&review.claim, review.headline.as_deref());
    FactCheckMatch {
        claim_form,
        passage_id: passage.passage_id.clone(),
        source: passage.source.clone(),
        claim: review.claim,
        verdict: review.verdict,
        checked_by: review.checked_by,
        date: review.date_published,
        url: review.url,
        similarity: candidate.confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::encoder_reads_poorly;

    #[test]
    fn romanised_and_unmarked_writing_is_read_poorly() {
        for (message, language, poorly) in [
            ("virginia me regester karne ki last date?", "hi", true),
            ("nuzhno li brat s soboi pasport?", "ru", true),
            (
                "o georgia kiem tra minh da dang ky cu tri chua o dau",
                "vi",
                true,
            ),
            ("ở georgia kiểm tra đăng ký cử tri ở đâu", "vi", false),
            ("वर्जीनिया में पंजीकरण की अंतिम तिथि?", "hi", false),
            ("¿dónde voto en texas?", "es", false),
            ("where do i vote in texas", "en", false),
            ("期日前投票はどこでできますか", "ja", false),
        ] {
            assert_eq!(encoder_reads_poorly(message, language), poorly, "{message}");
        }
    }
}
