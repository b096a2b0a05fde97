//! # votecheck-sender-lambda: the alert sender as an AWS Lambda function
//!
//! The `votecheck-sender` binary (packaged as the function's `bootstrap`; a second binary named `bootstrap` would collide with the webhook's in `target/`) consumes the alert queue (SQS, with a dead-letter queue): each message
//! is one job of `votecheck alerts send` ([`votecheck_alerts::job::Job`]), a batch of recipients
//! of one alert, handed to the same [`votecheck_alerts::sender::Sender`] `votecheck serve` uses.
//! It links neither the answer engine nor the sentence encoder.
//!
//! - [`config`]: the function's environment, read once and validated with a message per problem;
//! - [`secrets`]: the access token and the id salt, from SSM or the environment;
//! - [`batch`]: one invocation's SQS messages to the sender, failures reported per message;
//! - [`metrics`]: one CloudWatch EMF line per invocation.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod config;
pub mod metrics;
pub mod secrets;
