//! Interoperability: schemas in and out of Tessera.
//!
//! **Importers** read what a project already has — SQL DDL (one file, a Markdown document
//! with ```` ```sql ```` blocks, or a folder of migrations applied in order), Mermaid
//! `erDiagram` blocks, or a live database — into a draft ([`import::draft`]), lower the
//! draft to the validated IR, print it as schema text and check that text. Every construct
//! that has no Tessera equivalent is reported as a [`Warning`] with its location; nothing is
//! dropped silently. Recognised patterns (timestamps, soft delete, naming convention) are
//! reported as [`Note`]s.
//!
//! **Exporters** read a checked [`tessera_schema::Schema`]: Mermaid ER diagrams
//! ([`mermaid`]), an OpenAPI 3.1 document of the REST API ([`openapi`]), JSON Schema
//! ([`json_schema`]) and a Markdown reference with an SVG diagram ([`docs`]).

pub mod compare;
mod error;
pub mod export;
pub mod import;

pub use error::InteropError;
pub use export::docs::{docs, DocFile};
pub use export::json_schema::json_schema;
pub use export::mermaid::mermaid;
pub use export::openapi::openapi;
pub use export::sql::sql;
pub use export::svg::svg;
pub use import::{Construct, Import, Location, Note, Warning, WarningKind};
