//! Conversions between JSON values and database values.
