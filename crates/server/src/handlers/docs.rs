//! `GET /docs`: a self-contained page (no external assets) rendering `/openapi.json`:
//! each model's operations and fields.

use axum::response::Html;

const PAGE: &str = include_str!("docs.html");

pub async fn docs() -> Html<&'static str> {
    Html(PAGE)
}
