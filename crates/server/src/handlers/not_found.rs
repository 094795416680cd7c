//! Any route that does not exist: 404 in the error body shape.

use axum::http::{StatusCode, Uri};

use crate::error::ApiError;

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::client(
        StatusCode::NOT_FOUND,
        "PGRST125",
        format!("Invalid path specified in request URL: {}", uri.path()),
    )
    .with_hint("The data API is under /rest/v1/{model}; see /docs")
}
