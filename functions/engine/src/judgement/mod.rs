//! The learned judgement of a message that no command phrase matched: is it an ordinary
//! question, a rumour, a request for a partisan opinion, a question with a partisan one attached,
//! something the official documents cannot answer, small talk, a greeting, a request to stop the
//! messages or delete the citizen's data, or a report of a problem at the polls, in words no
//! command phrase has?
//!
//! [`JudgementModel`] is a small ensemble of neural networks (each one hidden layer of rectified
//! linear units and a softmax over the judgements; their probabilities are averaged) over the
//! question's sentence embedding (the same multilingual-e5 vector retrieval uses), the mean of
//! the encoder's hidden states after one of its middle layers (the same forward pass: it keeps
//! more of how the message is worded, "who is better" against "how do I change"), and whether
//! WhatsApp marked the message as forwarded; judging costs a few small matrix-vector products.
//! It is trained on
//! labelled messages of ours ([`training`]; `bash scripts/train-judgement.sh`) and compiled in
//! as `data/compiled/judgement.postcard`, like the engine's other data. Each class has a
//! probability threshold chosen on cross-validated predictions for a stated false-positive budget
//! ([`training::FALSE_POSITIVE_BUDGETS`]); below every threshold a message is a question.
//!
//! The phrase lists of [`crate::intent`] stay in front as high-precision overrides: commands
//! (stop, delete my data) are only ever *acted on* from them. A message judged
//! [`Judgement::Command`] is not acted on: the citizen is asked which of the two they want, with
//! a button for each (a wrong guess costs one tap, never an opt-out or a deletion). Commands and
//! problem reports are judged by a second model ([`JudgementModel::bundled_commands`]): learned
//! beside the others, they cost partisan recall.
//!
//! ```no_run
//! # use votecheck_engine::judgement::{JudgementModel, Judgement};
//! let model = JudgementModel::bundled().unwrap();
//! let embedding = vec![0.0f32; model.dimensions];
//! let layer_mean = vec![0.0f32; model.dimensions];
//! let verdict = model.judge(&embedding, &layer_mean, false);
//! assert!(verdict.probability <= 1.0);
//! ```

pub mod clauses;
pub mod training;

use serde::{Deserialize, Serialize};

use crate::EngineError;

/// Where the trained model lives, relative to the engine crate.
pub const JUDGEMENT_PATH: &str = "data/compiled/judgement.postcard";

/// Where the model that recognises stop and delete requests and problem reports lives, relative
/// to the engine crate.
pub const COMMANDS_PATH: &str = "data/compiled/commands.postcard";

/// The trained model as committed.
const BUNDLED: &[u8] = include_bytes!("../../data/compiled/judgement.postcard");

/// The trained second model (stop and delete requests, problem reports) as committed.
const BUNDLED_COMMANDS: &[u8] = include_bytes!("../../data/compiled/commands.postcard");

/// What a message is, as far as the engine's decisions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// A question the official documents may answer (the default).
    Question,
    /// A claim or chain message about the election: look for its fact-check.
    Rumour,
    /// A request for an opinion, comparison, endorsement or prediction about parties,
    /// candidates, ideologies or office-holders, or campaign content: the neutral refusal.
    Partisan,
    /// A procedural question with a partisan one attached: answer the first, decline the other.
    Mixed,
    /// Something the documents cannot answer: results, counts, names, everyday topics.
    Unanswerable,
    /// Thanks, goodbye, chit-chat.
    SmallTalk,
    /// Hello.
    Greeting,
    /// A request to stop the messages or delete the citizen's data, in words no command phrase
    /// matched: the citizen is asked to confirm which, never acted on.
    Command,
    /// A problem at the polls happening now (intimidation, turned away, a closed polling place,
    /// a broken machine), in words no phrase matched: the official reporting line.
    ReportProblem,
}

impl Judgement {
    /// Every judgement, in the order the model's rows are stored.
    pub const ALL: [Judgement; 9] = [
        Judgement::Question,
        Judgement::Rumour,
        Judgement::Partisan,
        Judgement::Mixed,
        Judgement::Unanswerable,
        Judgement::SmallTalk,
        Judgement::Greeting,
        Judgement::Command,
        Judgement::ReportProblem,
    ];

    /// The judgements the second model is used for (it has every judgement).
    pub const ACTIONS: [Judgement; 2] = [Judgement::ReportProblem, Judgement::Command];

    /// The judgements of the main model: every one but [`Judgement::ACTIONS`], which a model
    /// of its own recognises (learning them beside the others cost partisan recall).
    pub const MAIN: [Judgement; 7] = [
        Judgement::Question,
        Judgement::Rumour,
        Judgement::Partisan,
        Judgement::Mixed,
        Judgement::Unanswerable,
        Judgement::SmallTalk,
        Judgement::Greeting,
    ];

    /// The order in which judgements other than [`Judgement::Question`] are acted on when
    /// several pass their thresholds: neutrality first.
    pub const PRECEDENCE: [Judgement; 8] = [
        Judgement::Partisan,
        Judgement::Mixed,
        Judgement::ReportProblem,
        Judgement::Command,
        Judgement::Greeting,
        Judgement::SmallTalk,
        Judgement::Unanswerable,
        Judgement::Rumour,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::Question => "question",
            Judgement::Rumour => "rumour",
            Judgement::Partisan => "partisan",
            Judgement::Mixed => "mixed",
            Judgement::Unanswerable => "unanswerable",
            Judgement::SmallTalk => "small_talk",
            Judgement::Greeting => "greeting",
            Judgement::Command => "command",
            Judgement::ReportProblem => "report_problem",
        }
    }
}

/// The judgement of one message, with the model's probability for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Verdict {
    /// What the message is judged to be.
    pub judgement: Judgement,
    /// The model's probability for that judgement (for a question: the question class's).
    pub probability: f32,
}

/// A trained judgement model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgementModel {
    /// The encoder whose embeddings the model reads (a model of another encoder is not used).
    pub model_id: String,
    /// The fingerprint of the labelled files it was trained on (see [`training::fingerprint`]).
    pub training_fingerprint: u64,
    /// Embedding dimensions.
    pub dimensions: usize,
    /// The encoder layer after which the mean hidden state is read (1 is the first).
    pub layer: usize,
    /// The judgements of the outputs, in order ([`Judgement::Question`] among them).
    pub classes: Vec<Judgement>,
    /// Subtracted from each feature before weighting (the training mean).
    pub feature_mean: Vec<f32>,
    /// Multiplies each centred feature (one over the training standard deviation).
    pub feature_scale: Vec<f32>,
    /// The networks whose probabilities are averaged.
    pub members: Vec<Network>,
    /// Per judgement of [`JudgementModel::classes`]: the probability from which the engine acts
    /// on it ([`Judgement::Question`]'s is unused).
    pub thresholds: Vec<f32>,
    /// What cross-validation measured at those thresholds, for people (printed by training).
    pub cross_validation: String,
}

/// One member of the ensemble: a hidden layer of rectified linear units over the features, then
/// one logit per judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Per hidden unit: the feature weights, then the bias.
    pub hidden: Vec<Vec<f32>>,
    /// Per judgement (in the model's [`JudgementModel::classes`] order): the hidden units'
    /// weights, then the bias.
    pub output: Vec<Vec<f32>>,
}

impl Network {
    /// The hidden units' activations for standardized features.
    fn activations(&self, features: &[f32]) -> Vec<f32> {
        logits(&self.hidden, features)
            .into_iter()
            .map(|value| value.max(0.0))
            .collect()
    }

    /// The probability of each judgement for standardized features.
    fn probabilities(&self, features: &[f32]) -> Vec<f32> {
        softmax(&logits(&self.output, &self.activations(features)))
    }

    fn check(&self, features: usize, classes: usize) -> Result<(), String> {
        let units = self.hidden.len();
        if units == 0 || self.hidden.iter().any(|row| row.len() != features + 1) {
            return Err(format!("a hidden layer does not read {features} features"));
        }
        if self.output.len() != classes || self.output.iter().any(|row| row.len() != units + 1) {
            return Err("an output layer does not match the judgements".into());
        }
        Ok(())
    }
}

impl JudgementModel {
    /// The main model bundled with the engine (every judgement but [`Judgement::ACTIONS`]).
    pub fn bundled() -> Result<Self, EngineError> {
        Self::decode(BUNDLED, JUDGEMENT_PATH)
    }

    /// The second model bundled with the engine: it is trained on every judgement, and only its
    /// [`Judgement::ACTIONS`] are used.
    pub fn bundled_commands() -> Result<Self, EngineError> {
        Self::decode(BUNDLED_COMMANDS, COMMANDS_PATH)
    }

    /// Decodes a model written by [`JudgementModel::encode`]; `file` names it in errors.
    pub fn decode(bytes: &[u8], file: &str) -> Result<Self, EngineError> {
        let model: JudgementModel =
            postcard::from_bytes(bytes).map_err(|error| EngineError::Data {
                file: file.to_string(),
                reason: error.to_string(),
            })?;
        model.check().map_err(|reason| EngineError::Data {
            file: file.to_string(),
            reason,
        })?;
        Ok(model)
    }

    /// Where `judgement` is among the model's outputs, if the model has it.
    pub fn row(&self, judgement: Judgement) -> Option<usize> {
        self.classes.iter().position(|class| *class == judgement)
    }

    /// The model's bytes.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a model is numbers and strings")
    }

    fn features(&self) -> usize {
        2 * self.dimensions + 1
    }

    fn check(&self) -> Result<(), String> {
        let features = self.features();
        if self.feature_mean.len() != features || self.feature_scale.len() != features {
            return Err(format!("feature statistics are not {features} long"));
        }
        if self.members.is_empty() {
            return Err("the model has no network".into());
        }
        if self.row(Judgement::Question).is_none() {
            return Err("the model has no question class".into());
        }
        for member in &self.members {
            member.check(features, self.classes.len())?;
        }
        if self.thresholds.len() != self.classes.len() {
            return Err("thresholds do not match the judgements".into());
        }
        Ok(())
    }

    /// The probability of each judgement (in [`JudgementModel::classes`] order) for a message
    /// with this embedding and mean hidden state after [`JudgementModel::layer`]. Vectors of the
    /// wrong length are a question for sure.
    pub fn probabilities(
        &self,
        embedding: &[f32],
        layer_mean: &[f32],
        forwarded: bool,
    ) -> Vec<f32> {
        if embedding.len() != self.dimensions || layer_mean.len() != self.dimensions {
            let mut certain = vec![0.0; self.classes.len()];
            if let Some(row) = self.row(Judgement::Question) {
                certain[row] = 1.0;
            }
            return certain;
        }
        let features = standardize(
            embedding,
            layer_mean,
            forwarded,
            &self.feature_mean,
            &self.feature_scale,
        );
        average(
            self.members
                .iter()
                .map(|member| member.probabilities(&features)),
        )
    }

    /// The judgement the engine acts on: the first of [`Judgement::PRECEDENCE`] whose
    /// probability reaches its threshold, else [`Judgement::Question`].
    pub fn judge(&self, embedding: &[f32], layer_mean: &[f32], forwarded: bool) -> Verdict {
        let probabilities = self.probabilities(embedding, layer_mean, forwarded);
        decide(&probabilities, &self.thresholds, &self.classes)
    }

    /// [`JudgementModel::judge`] for `message`, whose vectors these are: a message longer than
    /// [`SHORT_MESSAGE_MAX_CHARS`] never gets one of [`SHORT_MESSAGE_JUDGEMENTS`].
    pub fn judge_message(
        &self,
        message: &str,
        embedding: &[f32],
        layer_mean: &[f32],
        forwarded: bool,
    ) -> Verdict {
        let probabilities = self.probabilities(embedding, layer_mean, forwarded);
        let mut thresholds = self.thresholds.clone();
        if message.chars().count() > SHORT_MESSAGE_MAX_CHARS {
            for row in SHORT_MESSAGE_JUDGEMENTS.iter().filter_map(|j| self.row(*j)) {
                thresholds[row] = f32::INFINITY;
            }
        }
        decide(&probabilities, &thresholds, &self.classes)
    }
}

/// Longest message (in characters) that may be judged one of [`SHORT_MESSAGE_JUDGEMENTS`]: a
/// request to stop or delete, thanks or a greeting is a sentence or two (the longest of the
/// labelled ones has 96 characters). A longer message the model takes for one is outside what
/// it learned (a pasted chain, a binary blob) and is judged as if those judgements did not exist.
pub const SHORT_MESSAGE_MAX_CHARS: usize = 200;

/// The judgements only a short message gets (see [`SHORT_MESSAGE_MAX_CHARS`]).
pub const SHORT_MESSAGE_JUDGEMENTS: [Judgement; 3] = [
    Judgement::Command,
    Judgement::SmallTalk,
    Judgement::Greeting,
];

/// The judgement for `probabilities` under `thresholds`, both in the order of `classes`: the
/// first of [`Judgement::PRECEDENCE`] among them that reaches its threshold, else
/// [`Judgement::Question`].
pub fn decide(probabilities: &[f32], thresholds: &[f32], classes: &[Judgement]) -> Verdict {
    let row = |judgement: Judgement| classes.iter().position(|class| *class == judgement);
    for judgement in Judgement::PRECEDENCE {
        if let Some(row) = row(judgement)
            && probabilities[row] >= thresholds[row]
        {
            return Verdict {
                judgement,
                probability: probabilities[row],
            };
        }
    }
    Verdict {
        judgement: Judgement::Question,
        probability: row(Judgement::Question).map_or(0.0, |row| probabilities[row]),
    }
}

/// The feature vector: the embedding, the layer mean and the forwarded flag, centred and scaled.
fn standardize(
    embedding: &[f32],
    layer_mean: &[f32],
    forwarded: bool,
    mean: &[f32],
    scale: &[f32],
) -> Vec<f32> {
    raw_features(embedding, layer_mean, forwarded)
        .into_iter()
        .zip(mean.iter().zip(scale))
        .map(|(value, (mean, scale))| (value - mean) * scale)
        .collect()
}

/// The features before centring: the embedding, the layer mean, the forwarded flag.
fn raw_features(embedding: &[f32], layer_mean: &[f32], forwarded: bool) -> Vec<f32> {
    embedding
        .iter()
        .chain(layer_mean)
        .copied()
        .chain(std::iter::once(if forwarded { 1.0 } else { 0.0 }))
        .collect()
}

/// One logit per row: weights · features + bias (the row's last entry).
fn logits(weights: &[Vec<f32>], features: &[f32]) -> Vec<f32> {
    weights
        .iter()
        .map(|row| {
            let (bias, row) = row.split_last().expect("rows hold a bias");
            row.iter()
                .zip(features)
                .map(|(weight, feature)| weight * feature)
                .sum::<f32>()
                + bias
        })
        .collect()
}

/// The mean of probability vectors (all of one length).
fn average(probabilities: impl Iterator<Item = Vec<f32>>) -> Vec<f32> {
    let mut total: Vec<f32> = Vec::new();
    let mut count = 0usize;
    for member in probabilities {
        total.resize(member.len(), 0.0);
        for (slot, value) in total.iter_mut().zip(member) {
            *slot += value;
        }
        count += 1;
    }
    total
        .iter()
        .map(|value| value / count.max(1) as f32)
        .collect()
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let exps: Vec<f32> = logits.iter().map(|logit| (logit - max).exp()).collect();
    let total: f32 = exps.iter().sum();
    exps.iter().map(|value| value / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_models_decode_and_fit_the_encoder_dimensions() {
        let main = JudgementModel::bundled().unwrap();
        let commands = JudgementModel::bundled_commands().unwrap();
        assert_eq!(main.classes, Judgement::MAIN);
        assert_eq!(commands.classes, Judgement::ALL);
        for model in [main, commands] {
            assert_eq!(model.dimensions, 384);
            assert!(model.model_id.starts_with("multilingual-e5-small"));
            assert!((1..12).contains(&model.layer));
            let probabilities = model.probabilities(&vec![0.05; 384], &vec![0.1; 384], false);
            assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn a_damaged_model_is_an_error_naming_the_file() {
        let mut model = JudgementModel::bundled().unwrap();
        model.members[0].output.pop();
        let error = JudgementModel::decode(&model.encode(), JUDGEMENT_PATH).unwrap_err();
        assert!(error.to_string().contains(JUDGEMENT_PATH), "{error}");
        let error = JudgementModel::decode(b"\xff\xff", COMMANDS_PATH).unwrap_err();
        assert!(error.to_string().contains(COMMANDS_PATH), "{error}");
        let mut model = JudgementModel::bundled().unwrap();
        model.classes.retain(|class| *class != Judgement::Question);
        model.thresholds.pop();
        assert!(JudgementModel::decode(&model.encode(), JUDGEMENT_PATH).is_err());
    }

    #[test]
    fn neutrality_takes_precedence_and_below_every_threshold_is_a_question() {
        let thresholds = [0.0, 0.5, 0.4, 0.5, 0.5, 0.9, 0.9, 0.7, 0.6];
        let eight = &Judgement::ALL[..8];
        // Rows: question, rumour, partisan, mixed, unanswerable, small talk, greeting, command,
        // report.
        let cases: [(&[f32], &[Judgement], Judgement); 7] = [
            // Rumour and partisan both pass: partisan wins.
            (
                &[0.0, 0.55, 0.45, 0.0, 0.0, 0.0, 0.0, 0.0],
                eight,
                Judgement::Partisan,
            ),
            // A stop request that also reads as partisan is refused, not offered the buttons.
            (
                &[0.0, 0.0, 0.45, 0.0, 0.0, 0.0, 0.0, 0.75],
                eight,
                Judgement::Partisan,
            ),
            (
                &[0.0, 0.55, 0.0, 0.0, 0.0, 0.0, 0.0, 0.75],
                eight,
                Judgement::Command,
            ),
            // A report of a problem goes before a command.
            (
                &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.75, 0.65],
                &Judgement::ALL,
                Judgement::ReportProblem,
            ),
            (
                &[0.0, 0.0, 0.45, 0.0, 0.0, 0.0, 0.0, 0.0, 0.65],
                &Judgement::ALL,
                Judgement::Partisan,
            ),
            // A model without the actions reads the same rows up to them.
            (
                &[0.0, 0.55, 0.0, 0.0, 0.0, 0.0, 0.0],
                &Judgement::MAIN,
                Judgement::Rumour,
            ),
            (
                &[0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.0, 0.05],
                eight,
                Judgement::Question,
            ),
        ];
        for (probabilities, classes, expected) in cases {
            let verdict = decide(probabilities, &thresholds[..classes.len()], classes);
            assert_eq!(verdict.judgement, expected, "{probabilities:?}");
        }
        let verdict = decide(
            &[0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.0, 0.05],
            &thresholds[..8],
            eight,
        );
        assert_eq!(verdict.probability, 0.5);
    }

    #[test]
    fn the_bundled_judgement_is_trained_on_the_current_files() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (model, list) in [
            (JudgementModel::bundled(), training::TRAINING_FILES),
            (
                JudgementModel::bundled_commands(),
                training::COMMAND_TRAINING_FILES,
            ),
        ] {
            let files: Vec<(&str, Vec<u8>)> = list
                .iter()
                .map(|file| (*file, std::fs::read(root.join(file)).unwrap()))
                .collect();
            let named: Vec<(&str, &[u8])> = files
                .iter()
                .map(|(name, bytes)| (*name, bytes.as_slice()))
                .collect();
            assert_eq!(
                model.unwrap().training_fingerprint,
                training::fingerprint(&named),
                "the labelled files changed since the model was trained: run bash scripts/train-judgement.sh"
            );
        }
    }

    #[test]
    fn an_embedding_of_another_length_is_a_question() {
        let model = JudgementModel::bundled().unwrap();
        let verdict = model.judge(&[0.1; 10], &[0.1; 10], true);
        assert_eq!(verdict.judgement, Judgement::Question);
        let verdict = model.judge(&[0.1; 384], &[0.1; 10], true);
        assert_eq!(verdict.judgement, Judgement::Question);
        assert_eq!(verdict.probability, 1.0);
    }
}
