//! The local stack: the embedded DynamoDB engine (dynoxide) served over HTTP, the table created
//! from the same definition `infra/template.yaml` deploys, and the relay from a local SQS to the
//! sync workers.

pub mod engine;
pub mod relay;
pub mod schema;

pub use engine::{Engine, Storage};

/// The local dev signing key (also in `Cargo.toml`'s `[workspace.metadata.lambda.env]`).
/// Only `AUTH_MODE=verify` uses it; deployed functions trust the gateway's JWT authorizer.
pub const DEV_SIGNING_KEY: &str = "switchboard-local-dev-key-not-for-production";
