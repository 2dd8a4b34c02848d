//! The HTTP layer of the Provisioning API: auth, the error envelope, api-version, paging,
//! ETags and request ids, and one handler per operation. Function binaries only call [`run`].

pub mod app;
pub mod auth;
pub mod error;
pub mod openapi;
pub mod ops;
pub mod paging;
pub mod repeatability;
pub mod request;
pub mod response;
pub mod routes;
pub mod state;

pub use app::{run, serve};
pub use error::ApiError;
pub use routes::{Op, ROUTES};
pub use state::{App, StartPlanner};

/// The one API version this service implements.
pub const API_VERSION: &str = "2024-02-29-preview";
