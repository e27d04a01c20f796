//! `sql`: the user's own SQL with macros; template variables become escaped literals.

use super::super::raw_sql::parse;
use super::{Answer, Envelope, Group, Kind, KindSpec};
use super::{AnyQuery, QueryError};

/// `sql`.
pub struct SqlKind;

impl Kind for SqlKind {
    fn spec(&self) -> KindSpec {
        KindSpec {
            description: "Your own SQL with macros; template variables become escaped literals",
            fields: vec!["rawSql", "format"],
            formats: Some(vec!["table", "time_series"]),
            filters: vec!["accounts", "regions"],
            aliases: vec!["sql", "variables", "variableTypes"],
            ..KindSpec::new("sql", "SQL", Group::Sql, Answer::TableOrSeries)
        }
    }

    fn parse(&self, query: &Envelope) -> Result<AnyQuery, QueryError> {
        Ok(AnyQuery::Sql(parse(query.object())?))
    }
}
