//! Tests of the query path that need no engine: the SQL every kind renders (insta snapshots),
//! properties of the rendering (every user value a validated literal, macros tokenized the way
//! the engine tokenizes), and injection attempts.

mod sql_injection;
mod sql_property;
mod sql_snapshots;
