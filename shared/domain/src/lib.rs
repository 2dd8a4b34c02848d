//! The Switchboard domain: accounts, numbers and the rules that hold for them everywhere
//! (API, CSV, portal). Plain Rust, serde for the wire shape, no AWS or HTTP types.

pub mod account;
pub mod audit;
pub mod budget;
pub mod civic;
pub mod decode;
pub mod error;
pub mod filter;
pub mod holding;
pub mod names;
pub mod number;
pub mod number_csv;
pub mod preflight;
pub mod provisioning;
pub mod rfi;
pub mod search;
pub mod service;
pub mod telephone;
pub mod text;

pub use account::{Account, AccountServiceDetails};
pub use error::{DomainError, FieldError};
pub use number::Number;
pub use provisioning::{ErrorDetail, ProvisioningStatus};
pub use service::{Service, ServiceCounts};
