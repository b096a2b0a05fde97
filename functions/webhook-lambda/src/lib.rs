//! # votecheck-webhook-lambda: the webhook as an AWS Lambda function
//!
//! The `bootstrap` binary is a thin layer over the conversation handler
//! ([`votecheck_webhook::Handler`]): it reads what a Lambda function needs at cold start and
//! writes what it reports per invocation. Only this package links the Lambda runtime and the SSM
//! client, so `votecheck serve` and the CLI do not.
//!
//! - [`config`]: the function's environment, read once and validated with a message per problem
//!   (the store's and the Graph API's settings through their own `from_lookup`);
//! - [`secrets`]: the secrets, from SSM Parameter Store or the environment;
//! - [`metrics`]: one CloudWatch EMF line per invocation.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod metrics;
pub mod secrets;
