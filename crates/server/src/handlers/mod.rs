//! Handlers of the routes outside the data API, one per file.

pub mod docs;
pub mod health;
pub mod metrics;
pub mod not_found;
pub mod openapi;
pub mod ready;
