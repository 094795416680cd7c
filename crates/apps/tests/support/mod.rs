//! Shared test support: a real server for any bundled app on a fresh database, and valid
//! sample rows derived from the app's schema.

#![allow(dead_code)]

pub mod access;
pub mod rows;
pub mod server;
pub mod walk;

#[allow(unused_imports)]
pub use server::{send, AppServer, Response};
