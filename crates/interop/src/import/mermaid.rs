//! Mermaid erDiagram import.
