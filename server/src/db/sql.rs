//! [`Sql`]: a query assembled from pieces with numbered placeholders.
//!
//! Search endpoints combine optional filters. sqlx's `QueryBuilder` writes `?`
//! placeholders through the `Any` driver, which PostgreSQL rejects, so this
//! small builder numbers them `$1, $2, …` — the form both backends accept.
//! [`Sql::on`] writes them for one backend: on SQLite a plain `?` each, in
//! order. SQLite keeps `$N` as a *named* parameter, and sqlx asks the name
//! of every parameter when it binds — a linear search of the statement's
//! names each time, so a multi-row insert of hundreds of parameters spent
//! most of its time naming them (the atlas rollup job: 64 % of its CPU in
//! `sqlite3_bind_parameter_name`). A `?` has no name to look up.
//!
//! [`row_by`] and [`rows_by`] are the one shape of the many lookups by a
//! single key (an id, a child id, a username): bind it as `$1`, map each row
//! with the entity's `x_from_row`.
//!
//! [`nullable_float`] is how an optional float is bound (with
//! `CAST($n AS DOUBLE PRECISION)` in the statement).

use sqlx::Any;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};

use super::Backend;

/// A value to bind.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
    OptText(Option<String>),
    OptInt(Option<i64>),
    /// A float that is never NULL (see [`nullable_float`] for one that may be).
    Float(f64),
    /// A BLOB (BYTEA on PostgreSQL).
    Bytes(Vec<u8>),
}

#[derive(Debug, Default, Clone)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
    /// Placeholders are `?`, bound in order (SQLite only, see [`Sql::on`]).
    in_order: bool,
}

impl Sql {
    /// A statement for either backend: `$1, $2, …`.
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            ..Sql::default()
        }
    }

    /// A statement for `backend`: `?` placeholders on SQLite, which cost
    /// nothing to bind however many there are (see the module doc); `$N`
    /// on PostgreSQL. For statements with many parameters.
    pub fn on(backend: Backend, text: &str) -> Sql {
        Sql {
            in_order: backend == Backend::Sqlite,
            ..Sql::new(text)
        }
    }

    /// Appends SQL text as is.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `arg`.
    pub fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        if self.in_order {
            self.text.push('?');
        } else {
            self.text.push_str(&format!("${}", self.args.len()));
        }
        self
    }

    /// Appends `(p1, p2, …)` for a non-empty list of texts.
    pub fn bind_list(&mut self, values: impl IntoIterator<Item = String>) -> &mut Self {
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(Arg::Text(v));
        }
        self.text.push(')');
        self
    }

    /// Appends `(p1, p2, …), (p3, p4, …)`: one group of placeholders per
    /// row, for a multi-row `INSERT … VALUES` (one statement for many rows).
    pub fn bind_rows<R>(&mut self, rows: impl IntoIterator<Item = R>) -> &mut Self
    where
        R: IntoIterator<Item = Arg>,
    {
        for (i, row) in rows.into_iter().enumerate() {
            self.text.push_str(if i == 0 { "(" } else { ", (" });
            for (j, arg) in row.into_iter().enumerate() {
                if j > 0 {
                    self.text.push_str(", ");
                }
                self.bind(arg);
            }
            self.text.push(')');
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The values bound so far, in order.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// The query, ready to execute or fetch.
    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        sqlx::query_with(&self.text, self.arguments())
    }

    /// The query mapping each row to `T`, ready to fetch.
    pub fn query_as<T>(&self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> sqlx::FromRow<'r, AnyRow>,
    {
        sqlx::query_as_with(&self.text, self.arguments())
    }

    fn arguments(&self) -> AnyArguments<'_> {
        use sqlx::Arguments;
        let mut arguments = AnyArguments::default();
        for arg in &self.args {
            // Adding a text, a number or bytes cannot fail (only a type's own
            // encoder can refuse a value).
            let _ = match arg {
                Arg::Text(s) => arguments.add(s.as_str()),
                Arg::Int(i) => arguments.add(*i),
                Arg::OptText(s) => arguments.add(s.as_deref()),
                Arg::OptInt(i) => arguments.add(*i),
                Arg::Float(x) => arguments.add(*x),
                Arg::Bytes(b) => arguments.add(b.as_slice()),
            };
        }
        arguments
    }
}

/// The row `sql` finds with `key` bound as `$1`, mapped by `from_row`;
/// `None` when there is none.
pub async fn row_by<'e, E, T>(
    executor: E,
    sql: &str,
    key: &str,
    from_row: impl Fn(&AnyRow) -> sqlx::Result<T>,
) -> sqlx::Result<Option<T>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row = sqlx::query(sql).bind(key).fetch_optional(executor).await?;
    row.as_ref().map(from_row).transpose()
}

/// Every row `sql` finds with `key` bound as `$1`, mapped by `from_row`.
pub async fn rows_by<'e, E, T>(
    executor: E,
    sql: &str,
    key: &str,
    from_row: impl Fn(&AnyRow) -> sqlx::Result<T>,
) -> sqlx::Result<Vec<T>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let rows = sqlx::query(sql).bind(key).fetch_all(executor).await?;
    rows.iter().map(from_row).collect()
}

/// An optional float, bound as text: sqlx 0.8.6's `Any` driver binds a NULL
/// `f64` as a `float4` on PostgreSQL, and a statement first prepared that way
/// then refuses every 8-byte float on that connection ("incorrect binary data
/// format") — a 500 for every later value. Write the placeholder as
/// `CAST($n AS DOUBLE PRECISION)`, which both backends read as a float.
pub fn nullable_float(value: Option<f64>) -> Option<String> {
    value.map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_order() {
        let mut sql = Sql::new("SELECT 1 FROM t WHERE a = ");
        sql.bind(Arg::Int(1))
            .push(" AND b IN ")
            .bind_list(["x".into(), "y".into()]);
        assert_eq!(sql.text(), "SELECT 1 FROM t WHERE a = $1 AND b IN ($2, $3)");
    }

    #[test]
    fn binds_one_group_per_row() {
        let mut sql = Sql::new("INSERT INTO t (a, b) VALUES ");
        sql.bind_rows([
            [Arg::Int(1), Arg::Text("x".into())],
            [Arg::Int(2), Arg::Text("y".into())],
        ]);
        assert_eq!(sql.text(), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
    }

    #[test]
    fn writes_plain_placeholders_for_sqlite_only() {
        let rows = || [[Arg::Int(1), Arg::Int(2)], [Arg::Int(3), Arg::Int(4)]];
        let mut sqlite = Sql::on(Backend::Sqlite, "INSERT INTO t (a, b) VALUES ");
        sqlite.bind_rows(rows());
        assert_eq!(sqlite.text(), "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
        let mut postgres = Sql::on(Backend::Postgres, "INSERT INTO t (a, b) VALUES ");
        postgres.bind_rows(rows());
        assert_eq!(
            postgres.text(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
