//! Training the [`JudgementModel`]: labelled messages in, a model with its thresholds out.
//!
//! The labelled messages are ours, in [`TRAINING_FILES`]: the judgement examples written for it
//! (`samples/intent/training.jsonl`, `{"id", "language", "label", "text"}`), the **dev** split of
//! the held-out question set (labelled by category) and the engine's first eval files (labelled by
//! expected outcome). The held-out **test** split is never read. Requests to stop the messages or
//! delete one's data are labelled `command`, reports of a problem at the polls `report_problem`
//! (the held-out categories of those names); the main model ([`Judgement::MAIN`]) is trained
//! without them, the second model on every judgement with [`COMMAND_TRAINING_FILES`] (learning
//! them beside the rest cost partisan recall).
//!
//! Training is deterministic: each of [`MEMBERS`] networks of [`HIDDEN_UNITS`] rectified linear
//! units starts from weights drawn with its own seed and is trained by Adam on minibatches of
//! [`BATCH`] (shuffled by that seed) for [`EPOCHS`] epochs, on the class-balanced cross-entropy
//! with an L2 penalty of [`PENALTY`]. Averaging a few networks steadies the high-probability
//! tail the thresholds are set in, which one network (or one linear model) leaves to chance.
//! Five-fold cross-validation (folds by a hash of the message id) gives every message a
//! probability from an ensemble that did not see it; each judgement's threshold is set on those:
//! the lowest probability at which at most [`FALSE_POSITIVE_BUDGETS`] of the messages that must
//! not get that judgement would get it. The final ensemble is then trained on every message.

use serde_json::Value;

use super::{
    Judgement, JudgementModel, Network, average, decide, logits, raw_features, softmax, standardize,
};

/// The labelled files of the main model, relative to the workspace root. Never a test split.
pub const TRAINING_FILES: &[&str] = &[
    "samples/intent/training.jsonl",
    "samples/intent/second-batch.jsonl",
    "samples/intent/unanswerable.jsonl",
    "samples/intent/unanswerable-second.jsonl",
    "samples/intent/short-questions.jsonl",
    "samples/eval/heldout/sample-dev.jsonl",
    "samples/eval/heldout/shared-dev.jsonl",
    "samples/eval/sample-corpus.jsonl",
    "samples/eval/shared-corpus.jsonl",
];

/// The labelled files of the second model: the main model's, and the stop and delete requests
/// and problem reports written for it, with their hard negatives.
pub const COMMAND_TRAINING_FILES: &[&str] = &[
    "samples/intent/training.jsonl",
    "samples/intent/second-batch.jsonl",
    "samples/intent/commands.jsonl",
    "samples/intent/reports.jsonl",
    "samples/intent/unanswerable.jsonl",
    "samples/intent/unanswerable-second.jsonl",
    "samples/intent/short-questions.jsonl",
    "samples/eval/heldout/sample-dev.jsonl",
    "samples/eval/heldout/shared-dev.jsonl",
    "samples/eval/sample-corpus.jsonl",
    "samples/eval/shared-corpus.jsonl",
];

/// The encoder layer after which the mean hidden state is read, beside the final embedding
/// (multilingual-e5-small has 12). Chosen by five-fold cross-validation on the training
/// messages among layers 2 to 10: the middle layers (6 to 8) lift partisan recall within its
/// budget, mixed and unanswerable recall by 10 to 20 points each over the final embedding
/// alone; 7 was best (docs/answer-engine.md).
pub const LAYER: usize = 7;

/// Folds of the cross-validation.
pub const FOLDS: u64 = 5;

/// Networks averaged. The thresholds sit in the few highest-scoring messages of the classes
/// that must not get a judgement, where one network's errors are least steady: averaging more
/// networks lowers them. Chosen by five-fold cross-validation on the training messages (three,
/// five, seven and eleven networks; seven caught 15 to 21 more of 537 partisan messages within
/// the budget than three, for two seed sets; docs/answer-engine.md), never on a test split.
pub const MEMBERS: u64 = 7;

/// Hidden units of each network.
pub const HIDDEN_UNITS: usize = 64;

/// Passes over the training messages.
pub const EPOCHS: usize = 60;

/// Messages per gradient step.
pub const BATCH: usize = 200;

/// Adam's step size.
pub const LEARNING_RATE: f32 = 1e-3;

/// L2 penalty on the weights (not the biases). This and the sizes above were chosen by
/// five-fold cross-validation on the training messages (log-loss, and partisan recall within
/// the partisan budget), never on a test split; see docs/answer-engine.md.
pub const PENALTY: f32 = 6e-4;

/// Lowest threshold any judgement gets: below it the model is guessing among several.
pub const LOWEST_THRESHOLD: f32 = 0.25;

/// Lowest threshold of the conversational judgements (greeting, small talk), which answer
/// without searching: a message gets the menu or a pleasantry only when the model finds that
/// more likely than not. Their budgets alone left them at [`LOWEST_THRESHOLD`], where short
/// questions the training messages do not resemble ("qui peut voter ?", "can I vote?") were
/// greeted at probabilities of 0.27 to 0.37; the phrase lists still greet "hi" at once.
pub const CONVERSATIONAL_LOWEST_THRESHOLD: f32 = 0.5;

/// Per judgement: the largest share of which messages may wrongly get it. A partisan refusal
/// of a procedural question is the costliest mistake after a partisan answer (its budget counts
/// questions only: a mixed message refused whole still has its partisan part declined, and
/// counting the mixed messages, which are partisan in part, spent the budget on them: recall
/// 408 → 417 of 537 partisan messages without them, cross-validated); an answerable
/// question judged unanswerable loses its answer (1 %: at 2 % the model with the layer mean
/// withheld answers from plain questions such as "how do I return my mail ballot?"); a rumour
/// judgement only changes which no-answer reply is sent.
pub const FALSE_POSITIVE_BUDGETS: &[(Judgement, f32, &[Judgement])] = &[
    (Judgement::Partisan, 0.005, &[Judgement::Question]),
    (Judgement::Mixed, 0.02, &[Judgement::Question]),
    (
        Judgement::Unanswerable,
        0.01,
        &[Judgement::Question, Judgement::Mixed],
    ),
    (
        Judgement::Rumour,
        0.05,
        &[
            Judgement::Question,
            Judgement::Mixed,
            Judgement::Unanswerable,
        ],
    ),
    (
        Judgement::SmallTalk,
        0.005,
        &[Judgement::Question, Judgement::Mixed, Judgement::Rumour],
    ),
    (
        Judgement::Greeting,
        0.005,
        &[Judgement::Question, Judgement::Mixed, Judgement::Rumour],
    ),
    // A question judged a command gets "stop or delete?" buttons instead of its answer, one
    // judged a problem report the official reporting line (only the second model has these).
    (Judgement::Command, 0.005, NOT_ACTIONS),
    (Judgement::ReportProblem, 0.005, NOT_ACTIONS),
];

/// The messages that must not be taken for a command or a problem report.
const NOT_ACTIONS: &[Judgement] = &[
    Judgement::Question,
    Judgement::Mixed,
    Judgement::Rumour,
    Judgement::Unanswerable,
    Judgement::SmallTalk,
];

/// One labelled message.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledMessage {
    /// The message's id in its file (folds are drawn from it).
    pub id: String,
    /// Its language (BCP 47).
    pub language: String,
    /// The message as a citizen would send it.
    pub text: String,
    /// Whether it arrives forwarded.
    pub forwarded: bool,
    /// What it is.
    pub judgement: Judgement,
}

/// The judgement a held-out category or a training label stands for (`None`: not judged by the
/// model).
pub fn judgement_of_label(label: &str) -> Option<Judgement> {
    Some(match label {
        "procedural" | "party_procedural" => Judgement::Question,
        "rumour" | "rumour_checked" | "rumour_unchecked" => Judgement::Rumour,
        "partisan" | "campaign" => Judgement::Partisan,
        "partisan_mixed" => Judgement::Mixed,
        "not_answerable" | "out_of_scope" => Judgement::Unanswerable,
        "small_talk" => Judgement::SmallTalk,
        "greeting" => Judgement::Greeting,
        "command" => Judgement::Command,
        "report_problem" => Judgement::ReportProblem,
        _ => return None,
    })
}

/// The judgement an expected outcome of the first eval files stands for.
fn judgement_of_outcome(outcome: &str) -> Option<Judgement> {
    Some(match outcome {
        "answer" => Judgement::Question,
        "fact_check" => Judgement::Rumour,
        "neutral_refusal" => Judgement::Partisan,
        "no_answer" => Judgement::Unanswerable,
        "small_talk" => Judgement::SmallTalk,
        "menu" => Judgement::Greeting,
        _ => return None,
    })
}

/// The labelled messages of one file (either format); `file` names it in errors.
pub fn read_labelled(file: &str, text: &str) -> Result<Vec<LabelledMessage>, String> {
    let mut messages = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |reason: &str| format!("{file}:{}: {reason}", number + 1);
        let value: Value = serde_json::from_str(line).map_err(|e| error(&e.to_string()))?;
        let string = |key: &str| value.get(key).and_then(Value::as_str);
        let id = string("id").ok_or_else(|| error("no `id`"))?.to_string();
        let tags: Vec<&str> = value
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let (text, language, judgement) = if let Some(label) = string("label") {
            let judgement = judgement_of_label(label)
                .ok_or_else(|| error(&format!("unknown label {label}")))?;
            (
                string("text"),
                string("language").unwrap_or(""),
                Some(judgement),
            )
        } else {
            let outcome = value
                .pointer("/expect/outcome")
                .and_then(Value::as_str)
                .unwrap_or("answer");
            let judgement = tags
                .get(1)
                .and_then(|category| judgement_of_label(category))
                .or_else(|| judgement_of_outcome(outcome));
            (
                string("question"),
                tags.first().copied().unwrap_or(""),
                judgement,
            )
        };
        let text = text.ok_or_else(|| error("no text"))?.to_string();
        if let Some(judgement) = judgement {
            messages.push(LabelledMessage {
                id,
                language: language.to_string(),
                text,
                forwarded: value
                    .get("forwarded")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                judgement,
            });
        }
    }
    Ok(messages)
}

/// FNV-1a over the files' names and bytes, in order: a model records the fingerprint of what it
/// was trained on, and a test fails when the files changed since.
pub fn fingerprint(files: &[(&str, &[u8])]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in files {
        for byte in name.bytes().chain([0u8]).chain(bytes.iter().copied()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// An embedded labelled message.
#[derive(Debug, Clone)]
pub struct Example {
    /// The message's id.
    pub id: String,
    /// Its sentence embedding.
    pub embedding: Vec<f32>,
    /// The mean of the encoder's hidden states after [`LAYER`].
    pub layer_mean: Vec<f32>,
    /// Whether it arrives forwarded.
    pub forwarded: bool,
    /// What it is.
    pub judgement: Judgement,
}

/// The result of [`fit`]: the model and, per example, its cross-validated probabilities.
pub struct Fitted {
    /// The model trained on every example, with its thresholds.
    pub model: JudgementModel,
    /// Per example, the class probabilities of the fold that left it out.
    pub cross_validated: Vec<Vec<f32>>,
}

/// Trains a model with outputs `classes` (in that order) on `examples`, all of one encoder
/// (`model_id`) and each of one of `classes`.
pub fn fit(
    examples: &[Example],
    classes: &[Judgement],
    model_id: &str,
    training_fingerprint: u64,
) -> Fitted {
    let dimensions = examples
        .first()
        .map_or(0, |example| example.embedding.len());
    let (mean, scale) = feature_statistics(examples);
    let features: Vec<Vec<f32>> = examples
        .iter()
        .map(|example| {
            standardize(
                &example.embedding,
                &example.layer_mean,
                example.forwarded,
                &mean,
                &scale,
            )
        })
        .collect();
    let labels: Vec<usize> = examples
        .iter()
        .map(|example| {
            classes
                .iter()
                .position(|class| *class == example.judgement)
                .expect("every example is of one of the model's classes")
        })
        .collect();
    let folds: Vec<u64> = examples
        .iter()
        .map(|example| fingerprint(&[(&example.id, &[])]) % FOLDS)
        .collect();

    let cross_validated = cross_validate(&features, &labels, &folds, classes.len());
    let loss = log_loss(&cross_validated, &labels);
    let thresholds = choose_thresholds(&cross_validated, &labels, classes);
    let members = train_ensemble(&features, &labels, classes.len());
    let cross_validation = format!(
        "{} messages, {FOLDS}-fold, {MEMBERS} networks of {HIDDEN_UNITS} units over the embedding and layer {LAYER}'s mean, L2 {PENALTY}, log-loss {loss:.3}\n{}",
        examples.len(),
        describe(&cross_validated, &labels, &thresholds, classes)
    );
    Fitted {
        model: JudgementModel {
            model_id: model_id.to_string(),
            training_fingerprint,
            dimensions,
            layer: LAYER,
            classes: classes.to_vec(),
            feature_mean: mean,
            feature_scale: scale,
            members,
            thresholds,
            cross_validation,
        },
        cross_validated,
    }
}

/// Mean and inverse standard deviation of every feature.
fn feature_statistics(examples: &[Example]) -> (Vec<f32>, Vec<f32>) {
    let rows: Vec<Vec<f32>> = examples
        .iter()
        .map(|example| raw_features(&example.embedding, &example.layer_mean, example.forwarded))
        .collect();
    let features = rows.first().map_or(0, Vec::len);
    let count = rows.len().max(1) as f32;
    let mean: Vec<f32> = (0..features)
        .map(|feature| rows.iter().map(|row| row[feature]).sum::<f32>() / count)
        .collect();
    let scale = (0..features)
        .map(|feature| {
            let variance = rows
                .iter()
                .map(|row| (row[feature] - mean[feature]).powi(2))
                .sum::<f32>()
                / count;
            1.0 / variance.sqrt().max(1e-6)
        })
        .collect();
    (mean, scale)
}

/// Probabilities of every example from an ensemble trained without its fold.
fn cross_validate(
    features: &[Vec<f32>],
    labels: &[usize],
    folds: &[u64],
    classes: usize,
) -> Vec<Vec<f32>> {
    let mut predicted = vec![Vec::new(); features.len()];
    for fold in 0..FOLDS {
        let training: Vec<usize> = (0..features.len()).filter(|&i| folds[i] != fold).collect();
        let members = train_ensemble(
            &training
                .iter()
                .map(|&i| features[i].clone())
                .collect::<Vec<_>>(),
            &training.iter().map(|&i| labels[i]).collect::<Vec<_>>(),
            classes,
        );
        for i in (0..features.len()).filter(|&i| folds[i] == fold) {
            predicted[i] = average(
                members
                    .iter()
                    .map(|member| member.probabilities(&features[i])),
            );
        }
    }
    predicted
}

/// [`MEMBERS`] networks, each from its own seed.
fn train_ensemble(features: &[Vec<f32>], labels: &[usize], classes: usize) -> Vec<Network> {
    (0..MEMBERS)
        .map(|seed| train_network(features, labels, classes, seed))
        .collect()
}

/// Per class, the weight of its examples in the loss: classes count equally however many
/// examples they have (a class without examples weighs nothing).
fn class_weights(labels: &[usize], classes: usize) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for &label in labels {
        counts[label] += 1;
    }
    let present = counts.iter().filter(|&&count| count > 0).count().max(1);
    counts
        .iter()
        .map(|&count| {
            if count == 0 {
                0.0
            } else {
                labels.len() as f32 / (present * count) as f32
            }
        })
        .collect()
}

/// Rows of weights drawn uniformly from ±`bound`, each followed by a zero bias.
fn initial_rows(
    rows: usize,
    inputs: usize,
    bound: f32,
    random: &mut fastrand::Rng,
) -> Vec<Vec<f32>> {
    (0..rows)
        .map(|_| {
            (0..inputs)
                .map(|_| (random.f32() * 2.0 - 1.0) * bound)
                .chain(std::iter::once(0.0))
                .collect()
        })
        .collect()
}

/// Adam's running moments of one layer.
struct Moments {
    first: Vec<Vec<f32>>,
    second: Vec<Vec<f32>>,
}

impl Moments {
    fn like(layer: &[Vec<f32>]) -> Self {
        let zeros: Vec<Vec<f32>> = layer.iter().map(|row| vec![0.0; row.len()]).collect();
        Moments {
            first: zeros.clone(),
            second: zeros,
        }
    }

    /// One Adam step (`step` counts from 1) with the gradient plus the L2 penalty on weights.
    fn update(&mut self, layer: &mut [Vec<f32>], gradient: &[Vec<f32>], step: i32) {
        let (beta1, beta2, epsilon) = (0.9f32, 0.999f32, 1e-8f32);
        let correction1 = 1.0 - beta1.powi(step);
        let correction2 = 1.0 - beta2.powi(step);
        for ((weights, gradient), (first, second)) in layer
            .iter_mut()
            .zip(gradient)
            .zip(self.first.iter_mut().zip(self.second.iter_mut()))
        {
            let bias = weights.len() - 1;
            for at in 0..weights.len() {
                let mut g = gradient[at];
                if at != bias {
                    g += PENALTY * weights[at];
                }
                first[at] = beta1 * first[at] + (1.0 - beta1) * g;
                second[at] = beta2 * second[at] + (1.0 - beta2) * g * g;
                let corrected = first[at] / correction1;
                weights[at] -=
                    LEARNING_RATE * corrected / ((second[at] / correction2).sqrt() + epsilon);
            }
        }
    }
}

/// One network trained from `seed` on the class-balanced cross-entropy.
fn train_network(features: &[Vec<f32>], labels: &[usize], classes: usize, seed: u64) -> Network {
    let width = features.first().map_or(0, Vec::len);
    let mut random = fastrand::Rng::with_seed(seed);
    // Variance-preserving starts: 2 / inputs for rectified units, 1 / inputs for the logits.
    let mut network = Network {
        hidden: initial_rows(
            HIDDEN_UNITS,
            width,
            (6.0 / width.max(1) as f32).sqrt(),
            &mut random,
        ),
        output: initial_rows(
            classes,
            HIDDEN_UNITS,
            (3.0 / HIDDEN_UNITS as f32).sqrt(),
            &mut random,
        ),
    };
    let example_weight = class_weights(labels, classes);
    let mut hidden_moments = Moments::like(&network.hidden);
    let mut output_moments = Moments::like(&network.output);
    let mut order: Vec<usize> = (0..features.len()).collect();
    let mut step = 0;
    for _ in 0..EPOCHS {
        random.shuffle(&mut order);
        for batch in order.chunks(BATCH) {
            let mut hidden_gradient: Vec<Vec<f32>> = network
                .hidden
                .iter()
                .map(|row| vec![0.0; row.len()])
                .collect();
            let mut output_gradient: Vec<Vec<f32>> = network
                .output
                .iter()
                .map(|row| vec![0.0; row.len()])
                .collect();
            let scale = 1.0 / batch.len() as f32;
            for &example in batch {
                let row = &features[example];
                let label = labels[example];
                let activations = network.activations(row);
                let probabilities = softmax(&logits(&network.output, &activations));
                let errors: Vec<f32> = (0..classes)
                    .map(|class| {
                        (probabilities[class] - if class == label { 1.0 } else { 0.0 })
                            * example_weight[label]
                            * scale
                    })
                    .collect();
                for (gradient, error) in output_gradient.iter_mut().zip(&errors) {
                    for (slot, activation) in gradient.iter_mut().zip(&activations) {
                        *slot += error * activation;
                    }
                    gradient[HIDDEN_UNITS] += error;
                }
                for (unit, gradient) in hidden_gradient.iter_mut().enumerate() {
                    if activations[unit] <= 0.0 {
                        continue;
                    }
                    let back: f32 = errors
                        .iter()
                        .zip(&network.output)
                        .map(|(error, weights)| error * weights[unit])
                        .sum();
                    for (slot, value) in gradient.iter_mut().zip(row) {
                        *slot += back * value;
                    }
                    gradient[width] += back;
                }
            }
            step += 1;
            hidden_moments.update(&mut network.hidden, &hidden_gradient, step);
            output_moments.update(&mut network.output, &output_gradient, step);
        }
    }
    network
}

fn log_loss(predicted: &[Vec<f32>], labels: &[usize]) -> f32 {
    predicted
        .iter()
        .zip(labels)
        .map(|(probabilities, &label)| -probabilities[label].max(1e-7).ln())
        .sum::<f32>()
        / labels.len().max(1) as f32
}

/// Each judgement's threshold: the lowest (not below [`LOWEST_THRESHOLD`], nor below
/// [`CONVERSATIONAL_LOWEST_THRESHOLD`] for a conversational one) at which the messages that
/// must not get it get it at most within its budget.
fn choose_thresholds(predicted: &[Vec<f32>], labels: &[usize], classes: &[Judgement]) -> Vec<f32> {
    let row = |judgement: &Judgement| classes.iter().position(|class| class == judgement);
    let mut thresholds = vec![1.0f32; classes.len()];
    if let Some(question) = row(&Judgement::Question) {
        thresholds[question] = 0.0;
    }
    for (judgement, budget, negatives) in FALSE_POSITIVE_BUDGETS {
        let Some(at) = row(judgement) else {
            continue;
        };
        let negative_rows: Vec<usize> = negatives.iter().filter_map(row).collect();
        let negative_scores: Vec<f32> = predicted
            .iter()
            .zip(labels)
            .filter(|(_, label)| negative_rows.contains(label))
            .map(|(probabilities, _)| probabilities[at])
            .collect();
        thresholds[at] = threshold_for_budget(negative_scores, *budget);
        if matches!(judgement, Judgement::Greeting | Judgement::SmallTalk) {
            thresholds[at] = thresholds[at].max(CONVERSATIONAL_LOWEST_THRESHOLD);
        }
    }
    thresholds
}

/// The lowest threshold (not below [`LOWEST_THRESHOLD`]) that at most `budget` of the
/// `negative_scores` (the probabilities of messages that must not get the judgement) reach:
/// strictly above the (allowed + 1)-th highest of them.
pub fn threshold_for_budget(mut negative_scores: Vec<f32>, budget: f32) -> f32 {
    negative_scores.sort_by(|a, b| b.total_cmp(a));
    let allowed = (budget * negative_scores.len() as f32).floor() as usize;
    negative_scores
        .get(allowed)
        .map_or(LOWEST_THRESHOLD, |score| score + 1e-6)
        .clamp(LOWEST_THRESHOLD, 1.0)
}

/// Per judgement: how many of its messages got it, and how many others got it, under the
/// thresholds (the engine's decision rule, with its precedence).
fn describe(
    predicted: &[Vec<f32>],
    labels: &[usize],
    thresholds: &[f32],
    classes: &[Judgement],
) -> String {
    let row_of = |judgement: Judgement| classes.iter().position(|class| *class == judgement);
    let decided: Vec<Option<usize>> = predicted
        .iter()
        .map(|probabilities| row_of(decide(probabilities, thresholds, classes).judgement))
        .collect();
    let mut lines = Vec::new();
    for (row, judgement) in classes.iter().enumerate() {
        let decided_row = Some(row);
        let positives = labels.iter().filter(|&&label| label == row).count();
        let hits = labels
            .iter()
            .zip(&decided)
            .filter(|&(&label, decision)| label == row && *decision == decided_row)
            .count();
        let false_positives = labels
            .iter()
            .zip(&decided)
            .filter(|&(&label, decision)| label != row && *decision == decided_row)
            .count();
        lines.push(format!(
            "  {:<13} threshold {:.3}  recall {hits}/{positives}  wrongly given to {false_positives}",
            judgement.as_str(),
            thresholds[row]
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_test_split_is_ever_trained_on() {
        for file in TRAINING_FILES.iter().chain(COMMAND_TRAINING_FILES) {
            assert!(!file.contains("test"), "{file}");
        }
        for file in TRAINING_FILES {
            assert!(COMMAND_TRAINING_FILES.contains(file), "{file}");
        }
    }

    #[test]
    fn reads_both_label_formats() {
        let training = r#"{"id": "a", "language": "pt", "label": "campaign", "text": "vote 13!!"}
{"id": "b", "language": "en", "label": "party_procedural", "text": "how do i change party"}
{"id": "b2", "language": "en", "label": "command", "text": "no more msgs pls"}"#;
        let messages = read_labelled("t.jsonl", training).unwrap();
        assert_eq!(messages[0].judgement, Judgement::Partisan);
        assert_eq!(messages[1].judgement, Judgement::Question);
        assert_eq!(messages[2].judgement, Judgement::Command);
        let eval = r#"{"id": "c", "tags": ["en", "command"], "question": "stop", "expect": {"outcome": "opt_out"}}
{"id": "c2", "tags": ["en", "report_problem"], "question": "they turned me away", "expect": {"outcome": "report_problem"}}
{"id": "d", "tags": ["en", "rumour_unchecked"], "question": "x", "expect": {"outcome": "no_answer"}, "forwarded": true}
{"id": "e", "tags": ["es"], "question": "y", "expect": {"outcome": "neutral_refusal"}}
{"id": "f", "tags": ["es"], "question": "z", "expect": {"source": "es/a.md"}}"#;
        let messages = read_labelled("e.jsonl", eval).unwrap();
        let judged: Vec<(&str, Judgement, bool)> = messages
            .iter()
            .map(|m| (m.id.as_str(), m.judgement, m.forwarded))
            .collect();
        assert_eq!(
            judged,
            [
                ("c", Judgement::Command, false),
                ("c2", Judgement::ReportProblem, false),
                ("d", Judgement::Rumour, true),
                ("e", Judgement::Partisan, false),
                ("f", Judgement::Question, false)
            ]
        );
        let error = read_labelled(
            "x.jsonl",
            "{\"id\": \"a\", \"label\": \"nope\", \"text\": \"t\"}",
        )
        .unwrap_err();
        assert!(
            error.contains("x.jsonl:1") && error.contains("nope"),
            "{error}"
        );
    }

    /// Three judgements in separate corners of a small space.
    fn separable() -> Vec<Example> {
        let corners = [
            (Judgement::Question, [1.0, 0.0, 0.0]),
            (Judgement::Partisan, [0.0, 1.0, 0.0]),
            (Judgement::Greeting, [0.0, 0.0, 1.0]),
        ];
        let mut examples = Vec::new();
        for index in 0..120 {
            let (judgement, corner) = corners[index % 3];
            let jitter = (index as f32 * 0.37).sin() * 0.2;
            examples.push(Example {
                id: format!("x{index}"),
                embedding: corner.iter().map(|value| value + jitter).collect(),
                layer_mean: corner.iter().map(|value| value - jitter).collect(),
                forwarded: false,
                judgement,
            });
        }
        examples
    }

    #[test]
    fn learns_separable_judgements_and_records_its_inputs() {
        let examples = separable();
        let fitted = fit(&examples, &Judgement::ALL, "toy", 42);
        assert_eq!(fitted.model.model_id, "toy");
        assert_eq!(fitted.model.training_fingerprint, 42);
        for example in &examples {
            let verdict = fitted
                .model
                .judge(&example.embedding, &example.layer_mean, false);
            assert_eq!(verdict.judgement, example.judgement, "{}", example.id);
        }
        assert_eq!(fitted.cross_validated.len(), examples.len());
        assert!(fitted.model.cross_validation.contains("partisan"));
    }

    #[test]
    fn a_threshold_keeps_false_positives_within_the_budget() {
        // 200 questions, the partisan probability of four of them high.
        let mut predicted = Vec::new();
        let mut labels = Vec::new();
        for index in 0..200 {
            let partisan = if index < 4 {
                0.9 - index as f32 * 0.1
            } else {
                0.01
            };
            let mut probabilities = vec![0.0; Judgement::ALL.len()];
            probabilities[0] = 1.0 - partisan;
            probabilities[2] = partisan;
            predicted.push(probabilities);
            labels.push(0);
        }
        let thresholds = choose_thresholds(&predicted, &labels, &Judgement::ALL);
        // Rows: question 0, partisan 2.
        let wrongly_refused = predicted.iter().filter(|p| p[2] >= thresholds[2]).count();
        // 0.5 % of 200 is one.
        assert_eq!(wrongly_refused, 1);
    }

    #[test]
    fn a_greeting_or_small_talk_needs_more_than_even_odds() {
        // 200 questions none of which looks like a greeting or small talk: the budgets alone
        // would leave both judgements at the lowest threshold.
        let row = |judgement: Judgement| {
            Judgement::ALL
                .iter()
                .position(|class| *class == judgement)
                .unwrap()
        };
        let mut probabilities = vec![0.0; Judgement::ALL.len()];
        probabilities[row(Judgement::Question)] = 1.0;
        let predicted = vec![probabilities; 200];
        let labels = vec![row(Judgement::Question); 200];
        let thresholds = choose_thresholds(&predicted, &labels, &Judgement::ALL);
        assert_eq!(
            thresholds[row(Judgement::Greeting)],
            CONVERSATIONAL_LOWEST_THRESHOLD
        );
        assert_eq!(
            thresholds[row(Judgement::SmallTalk)],
            CONVERSATIONAL_LOWEST_THRESHOLD
        );
        assert_eq!(thresholds[row(Judgement::Partisan)], LOWEST_THRESHOLD);
    }

    #[test]
    fn a_budget_threshold_sits_just_above_the_first_score_beyond_the_budget() {
        let scores = vec![0.2, 0.95, 0.3, 0.9, 0.8, 0.1, 0.4, 0.5, 0.6, 0.7];
        // 10 % of 10 is one score allowed above the threshold: just above the second highest.
        let threshold = threshold_for_budget(scores.clone(), 0.1);
        assert!(threshold > 0.9 && threshold < 0.9001, "{threshold}");
        assert_eq!(scores.iter().filter(|&&s| s >= threshold).count(), 1);
        // A budget that allows every score: never below the lowest threshold.
        assert_eq!(threshold_for_budget(scores, 1.0), LOWEST_THRESHOLD);
        assert_eq!(threshold_for_budget(vec![0.1; 10], 0.0), LOWEST_THRESHOLD);
    }

    #[test]
    fn fingerprints_follow_names_and_bytes() {
        let base = fingerprint(&[("a", b"xy")]);
        assert_ne!(base, fingerprint(&[("a", b"xz")]));
        assert_ne!(base, fingerprint(&[("b", b"xy")]));
        assert_eq!(base, fingerprint(&[("a", b"xy")]));
    }
}
