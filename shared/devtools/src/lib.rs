//! The local stack: the embedded DynamoDB engine (dynoxide) served over HTTP, and the table
//! created from the same definition `infra/template.yaml` deploys.

pub mod engine;
pub mod schema;

pub use engine::{Engine, Storage};
