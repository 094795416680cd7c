//! Plans rendered as sea-query statements for one engine. Everything the engines do
//! differently is asked of the database's [`Dialect`]; nothing here tests which engine it
//! is. Values are always bound, never written into the SQL text.

use std::cell::Cell;

use sea_query::{
    Alias, BinOper, CaseStatement, Cond, DeleteStatement, Expr, Func, IntoCondition, NullOrdering,
    OnConflict, Order, Query, SelectStatement, SimpleExpr, UpdateStatement, WindowStatement,
};
use serde_json::Value as Json;
use tessera_schema::ir::{Field, FieldType, Model, ScalarType};
use tessera_schema::Schema;
use tessera_sql::Dialect;

use crate::plan::write::Upsert;
use crate::plan::{Comparison, EmbedPlan, Level, Link, Predicate, Row};
use crate::request::Resolution;

/// Names of the extra columns a query of embedded rows selects.
pub(crate) const LINK_COLUMN: &str = "__link";
const ROW_NUMBER_COLUMN: &str = "__row";

/// Renders plans for one engine; hands out the table aliases of one statement.
pub(crate) struct Renderer<'s> {
    schema: &'s Schema,
    dialect: &'static dyn Dialect,
    aliases: Cell<usize>,
}

/// `alias.column`.
pub(crate) fn column(alias: &str, field: &Field) -> SimpleExpr {
    Expr::col((Alias::new(alias), Alias::new(&field.column))).into()
}

/// An SQL keyword (`TRUE`), written as it is.
fn keyword(word: &str) -> SimpleExpr {
    SimpleExpr::Keyword(sea_query::Keyword::Custom(sea_query::SeaRc::new(
        Alias::new(word),
    )))
}

/// A condition tree as one expression.
fn all(cond: Cond) -> SimpleExpr {
    let cond = cond.into_condition();
    if cond.is_empty() {
        return Expr::cust("1 = 1");
    }
    SimpleExpr::from(cond)
}

fn scalar(field: &Field) -> FieldType {
    FieldType {
        scalar: field.ty.scalar.clone(),
        array: false,
    }
}

impl<'s> Renderer<'s> {
    pub(crate) fn new(schema: &'s Schema, dialect: &'static dyn Dialect) -> Renderer<'s> {
        Renderer {
            schema,
            dialect,
            aliases: Cell::new(0),
        }
    }

    /// A table alias not used before in this renderer's statements.
    pub(crate) fn alias(&self) -> String {
        let n = self.aliases.get();
        self.aliases.set(n + 1);
        format!("t{n}")
    }

    /// The name of a field's own column type (an enum's type), for casts.
    fn type_name(&self, field: &Field) -> Option<&'s str> {
        match &field.ty.scalar {
            ScalarType::Enum(name) => self.schema.enum_by_name(name).map(|e| e.db_name.as_str()),
            _ => None,
        }
    }

    /// A canonical value written into `field`'s column.
    pub(crate) fn value(&self, field: &Field, value: &Json) -> SimpleExpr {
        self.dialect.value(&field.ty, self.type_name(field), value)
    }

    /// A canonical value of `field`'s element type, compared with the column.
    fn operand(&self, field: &Field, value: &Json) -> SimpleExpr {
        self.dialect
            .value(&scalar(field), self.type_name(field), value)
    }

    /// `alias.field` as selected: decodable to its canonical form.
    pub(crate) fn read_column(&self, alias: &str, field: &Field) -> SimpleExpr {
        self.dialect.read_column(column(alias, field), &field.ty)
    }

    /// `expr` on the rows where `shown` holds, null elsewhere (a field the caller may read
    /// on some rows only).
    fn shown(&self, alias: &str, shown: Option<&Predicate>, expr: SimpleExpr) -> SimpleExpr {
        match shown {
            None => expr,
            // A CASE even where the field never shows, so that the column keeps its type.
            Some(p) => CaseStatement::new()
                .case(self.predicate(alias, p), expr)
                .finally(Expr::cust("NULL"))
                .into(),
        }
    }

    /// Column `i` of a level as the caller reads it.
    fn level_column(&self, alias: &str, level: &Level, i: usize) -> SimpleExpr {
        let field = level.columns[i];
        self.shown(alias, level.guard(i), self.read_column(alias, field))
    }

    /// The position of an enum field's value in its enum's declaration, for engines
    /// without enum types (which would otherwise compare enums as text).
    fn enum_ordinal(&self, expr: SimpleExpr, field: &Field) -> Option<SimpleExpr> {
        let ScalarType::Enum(name) = &field.ty.scalar else {
            return None;
        };
        if self.dialect.supports_enum_types() {
            return None;
        }
        let e = self.schema.enum_by_name(name)?;
        let mut case = CaseStatement::new();
        for (i, v) in e.values.iter().enumerate() {
            case = case.case(Expr::expr(expr.clone()).eq(v.name.clone()), i as i64);
        }
        Some(case.finally(Expr::value(e.values.len() as i64)).into())
    }

    /// The key `alias.field` sorts and compares by.
    fn sort_key(&self, alias: &str, field: &Field) -> SimpleExpr {
        let c = column(alias, field);
        self.enum_ordinal(c.clone(), field)
            .unwrap_or_else(|| self.dialect.sort_key(c, &field.ty.scalar))
    }

    /// The key `alias.field` is compared by for equality.
    fn equality_key(&self, alias: &str, field: &Field) -> SimpleExpr {
        if field.ty.array {
            return column(alias, field);
        }
        self.dialect
            .equality_key(column(alias, field), &field.ty.scalar)
    }

    /// `predicate` over the row under `alias`.
    pub(crate) fn predicate(&self, alias: &str, predicate: &Predicate) -> SimpleExpr {
        match predicate {
            Predicate::Const(true) => Expr::cust("1 = 1"),
            Predicate::Const(false) => Expr::cust("1 = 0"),
            Predicate::Unknown => Expr::cust("NULL"),
            Predicate::Compare(field, comparison, value) => {
                self.compare(alias, field, *comparison, value)
            }
            Predicate::In(field, values) => {
                if values.is_empty() {
                    return Expr::cust("1 = 0");
                }
                Expr::expr(self.equality_key(alias, field))
                    .is_in(values.iter().map(|v| self.operand(field, v)))
            }
            Predicate::IsNull(field) => Expr::expr(column(alias, field)).is_null(),
            Predicate::Is(field, truth) => Expr::expr(column(alias, field))
                .binary(BinOper::Is, keyword(if *truth { "TRUE" } else { "FALSE" })),
            Predicate::Like {
                field,
                pattern,
                case_insensitive,
            } => self.dialect.like(
                self.dialect.as_text(column(alias, field), &field.ty.scalar),
                pattern,
                *case_insensitive,
            ),
            Predicate::Contains(field, doc) => {
                self.dialect
                    .json_contains(column(alias, field), &field.ty, doc)
            }
            Predicate::ContainedIn(field, doc) => {
                self.dialect
                    .json_contained(column(alias, field), &field.ty, doc)
            }
            Predicate::Related(related) => {
                let inner = self.alias();
                let mut q = Query::select();
                q.expr(Expr::val(1));
                q.from_as(Alias::new(&related.model.table), Alias::new(&inner));
                let (table, key) = self.join_through(&mut q, &inner, &related.link);
                q.and_where(Expr::expr(column(&table, key)).equals((
                    Alias::new(alias),
                    Alias::new(&related.link.parent_key.column),
                )));
                for (f, v) in &related.link.extra {
                    q.and_where(Expr::expr(column(&inner, f)).eq(v.clone()));
                }
                if let Some((type_field, model)) = &related.parent_type {
                    q.and_where(Expr::expr(column(alias, type_field)).eq(model.clone()));
                }
                for p in &related.predicates {
                    q.and_where(self.predicate(&inner, p));
                }
                Expr::exists(q)
            }
            Predicate::Exists(model, predicates) => {
                let inner = self.alias();
                let mut q = Query::select();
                q.expr(Expr::val(1));
                q.from_as(Alias::new(&model.table), Alias::new(&inner));
                for p in predicates {
                    q.and_where(self.predicate(&inner, p));
                }
                Expr::exists(q)
            }
            Predicate::And(list) => all(list
                .iter()
                .fold(Cond::all(), |c, p| c.add(self.predicate(alias, p)))),
            // No alternative holds: an empty disjunction is false.
            Predicate::Or(list) if list.is_empty() => Expr::cust("1 = 0"),
            Predicate::Or(list) => all(list
                .iter()
                .fold(Cond::any(), |c, p| c.add(self.predicate(alias, p)))),
            Predicate::Not(p) => self.predicate(alias, p).not(),
            Predicate::NotTrue(p) => {
                Expr::expr(self.predicate(alias, p)).binary(BinOper::IsNot, keyword("TRUE"))
            }
        }
    }

    fn compare(
        &self,
        alias: &str,
        field: &Field,
        comparison: Comparison,
        value: &Json,
    ) -> SimpleExpr {
        let (lhs, rhs) = if comparison.orders() {
            // Enums compare in declaration order, text in byte order, on both engines.
            match self.enum_ordinal(column(alias, field), field) {
                Some(ordinal) => {
                    let position = self
                        .schema
                        .enum_by_name(match &field.ty.scalar {
                            ScalarType::Enum(name) => name,
                            _ => "",
                        })
                        .and_then(|e| {
                            e.values
                                .iter()
                                .position(|v| Some(v.name.as_str()) == value.as_str())
                        })
                        .unwrap_or(usize::MAX) as i64;
                    (ordinal, Expr::val(position).into())
                }
                None => (
                    self.dialect
                        .sort_key(column(alias, field), &field.ty.scalar),
                    self.dialect
                        .sort_key(self.operand(field, value), &field.ty.scalar),
                ),
            }
        } else {
            (self.equality_key(alias, field), self.operand(field, value))
        };
        let lhs = Expr::expr(lhs);
        match comparison {
            Comparison::Eq => lhs.eq(rhs),
            Comparison::Neq => lhs.ne(rhs),
            Comparison::Gt => lhs.gt(rhs),
            Comparison::Gte => lhs.gte(rhs),
            Comparison::Lt => lhs.lt(rhs),
            Comparison::Lte => lhs.lte(rhs),
        }
    }

    /// Joins the join model of a many-to-many link; returns the table alias and the
    /// field of the column matched against the parent key.
    fn join_through<'l>(
        &self,
        q: &mut SelectStatement,
        alias: &str,
        link: &Link<'l>,
    ) -> (String, &'l Field) {
        let Some(t) = &link.through else {
            return (alias.to_owned(), link.child_key);
        };
        let j = self.alias();
        let mut on = Cond::all().add(
            Expr::expr(column(&j, t.to))
                .equals((Alias::new(alias), Alias::new(&t.target_field.column))),
        );
        if let Some(live) = Predicate::live(t.model, crate::request::Deleted::Exclude) {
            on = on.add(self.predicate(&j, &live));
        }
        q.inner_join(
            sea_query::TableRef::TableAlias(
                sea_query::SeaRc::new(Alias::new(&t.model.table)),
                sea_query::SeaRc::new(Alias::new(&j)),
            ),
            on,
        );
        (j, link.child_key)
    }

    /// `ORDER BY` the level's terms, then its primary key, so that pages are stable.
    fn order_terms(
        &self,
        alias: &str,
        level: &Level,
    ) -> Vec<(SimpleExpr, Order, Option<NullOrdering>)> {
        let mut terms: Vec<(SimpleExpr, Order, Option<NullOrdering>)> = level
            .order
            .iter()
            .map(|o| {
                (
                    self.shown(alias, o.guard.as_ref(), self.sort_key(alias, o.field)),
                    if o.descending {
                        Order::Desc
                    } else {
                        Order::Asc
                    },
                    Some(if o.nulls_first {
                        NullOrdering::First
                    } else {
                        NullOrdering::Last
                    }),
                )
            })
            .collect();
        for pk in level.model.primary_key_fields() {
            if !level.order.iter().any(|o| o.field.name == pk.name) {
                terms.push((self.sort_key(alias, pk), Order::Asc, None));
            }
        }
        terms
    }

    fn order(&self, q: &mut SelectStatement, alias: &str, level: &Level) {
        for (expr, order, nulls) in self.order_terms(alias, level) {
            match nulls {
                Some(nulls) => q.order_by_expr_with_nulls(expr, order, nulls),
                None => q.order_by_expr(expr, order),
            };
        }
    }

    fn window(&self, q: &mut SelectStatement, limit: Option<u64>, offset: Option<u64>) {
        if let Some(limit) = limit {
            q.limit(row_count(limit));
        }
        if let Some(offset) = offset {
            if limit.is_none() && self.dialect.requires_limit_with_offset() {
                q.limit(row_count(u64::MAX));
            }
            q.offset(row_count(offset));
        }
    }

    /// The rows of a level under `alias`, with `extra` conditions.
    fn level_rows(&self, alias: &str, level: &Level, extra: Option<&Predicate>) -> SelectStatement {
        let mut q = Query::select();
        for i in 0..level.columns.len() {
            q.expr(self.level_column(alias, level, i));
        }
        q.from_as(Alias::new(&level.model.table), Alias::new(alias));
        for p in level.predicates.iter().chain(extra) {
            q.and_where(self.predicate(alias, p));
        }
        q
    }

    /// The rows of a top level: its columns, filtered, ordered and paged.
    pub(crate) fn select(&self, level: &Level, extra: Option<&Predicate>) -> SelectStatement {
        let alias = self.alias();
        let mut q = self.level_rows(&alias, level, extra);
        self.order(&mut q, &alias, level);
        self.window(&mut q, level.limit, level.offset);
        q
    }

    /// The number of rows a top level matches, whatever its window.
    pub(crate) fn count(&self, level: &Level) -> SelectStatement {
        let alias = self.alias();
        let mut q = Query::select();
        q.expr(Expr::cust("COUNT(*)"));
        q.from_as(Alias::new(&level.model.table), Alias::new(&alias));
        for p in &level.predicates {
            q.and_where(self.predicate(&alias, p));
        }
        q
    }

    /// The rows of an embedded level attached to parents whose link values are `keys`:
    /// the level's columns and then the link value ([`LINK_COLUMN`]). A to-many embed with
    /// a window numbers each parent's children (a window function), so that its limit and
    /// offset apply per parent, in the database.
    pub(crate) fn children(&self, embed: &EmbedPlan, keys: &[Json]) -> SelectStatement {
        let level = &embed.level;
        let alias = self.alias();
        let mut q = Query::select();
        for i in 0..level.columns.len() {
            q.expr_as(
                self.level_column(&alias, level, i),
                Alias::new(format!("c{i}")),
            );
        }
        q.from_as(Alias::new(&level.model.table), Alias::new(&alias));
        let (link_table, link_key) = self.join_through(&mut q, &alias, &embed.link);
        let link_column = column(&link_table, link_key);
        q.expr_as(link_column.clone(), Alias::new(LINK_COLUMN));
        q.and_where(
            Expr::expr(link_column.clone())
                .is_in(keys.iter().map(|k| self.operand(embed.link.child_key, k))),
        );
        for (f, v) in &embed.link.extra {
            q.and_where(Expr::expr(column(&alias, f)).eq(v.clone()));
        }
        for p in &level.predicates {
            q.and_where(self.predicate(&alias, p));
        }
        let windowed = embed.link.many && (level.limit.is_some() || level.offset.is_some());
        if !windowed {
            self.order(&mut q, &alias, level);
            return q;
        }
        let mut over =
            WindowStatement::partition_by((Alias::new(&link_table), Alias::new(&link_key.column)));
        for (expr, order, nulls) in self.order_terms(&alias, level) {
            match nulls {
                Some(nulls) => over.order_by_expr_with_nulls(expr, order, nulls),
                None => over.order_by_expr(expr, order),
            };
        }
        q.expr_window_as(
            Func::cust(Alias::new("ROW_NUMBER")),
            over,
            Alias::new(ROW_NUMBER_COLUMN),
        );
        let numbered = self.alias();
        let mut outer = Query::select();
        for i in 0..level.columns.len() {
            outer.column((Alias::new(&numbered), Alias::new(format!("c{i}"))));
        }
        outer.column((Alias::new(&numbered), Alias::new(LINK_COLUMN)));
        outer.from_subquery(q, Alias::new(&numbered));
        let row = Expr::col((Alias::new(&numbered), Alias::new(ROW_NUMBER_COLUMN)));
        let offset = row_count(level.offset.unwrap_or(0));
        outer.and_where(row.clone().gt(offset));
        if let Some(limit) = level.limit {
            outer.and_where(row.clone().lte(row_count(offset.saturating_add(limit))));
        }
        outer.order_by_expr(row.into(), Order::Asc);
        outer
    }

    /// `INSERT` of rows that all write the same fields, answering their primary keys.
    /// `INSERT` of `rows`, returning their keys and, with a `check`, whether each row as
    /// written falls outside it (see [`Renderer::returning`]).
    pub(crate) fn insert(
        &self,
        model: &Model,
        rows: &[&Row],
        upsert: Option<&Upsert>,
        check: Option<&Predicate>,
    ) -> sea_query::InsertStatement {
        let mut q = Query::insert();
        q.into_table(Alias::new(&model.table));
        let fields: Vec<&Field> = rows
            .first()
            .map(|r| r.iter().map(|(f, _)| *f).collect())
            .unwrap_or_default();
        q.columns(fields.iter().map(|f| Alias::new(&f.column)));
        for row in rows {
            // Every row writes the same fields (the caller groups them): values cannot fail.
            let _ = q.values(row.iter().map(|(f, v)| self.value(f, v)));
        }
        if let Some(upsert) = upsert {
            let mut on_conflict =
                OnConflict::columns(upsert.conflict.iter().map(|f| Alias::new(&f.column)));
            if let Some(deleted) = upsert.live_only {
                on_conflict.target_and_where(Expr::col(Alias::new(&deleted.column)).is_null());
            }
            match upsert.resolution {
                Resolution::IgnoreDuplicates => {
                    on_conflict.do_nothing();
                }
                Resolution::MergeDuplicates => {
                    let mut update: Vec<Alias> = fields
                        .iter()
                        .filter(|f| {
                            !upsert.conflict.iter().any(|c| c.name == f.name)
                                && !matches!(
                                    f.managed,
                                    Some(
                                        tessera_schema::ir::Managed::CreatedAt
                                            | tessera_schema::ir::Managed::CreatedBy
                                    )
                                )
                                && !model.primary_key.contains(&f.name)
                        })
                        .map(|f| Alias::new(&f.column))
                        .collect();
                    if update.is_empty() {
                        update = upsert
                            .conflict
                            .iter()
                            .map(|f| Alias::new(&f.column))
                            .collect();
                    }
                    on_conflict.update_columns(update);
                }
            }
            q.on_conflict(on_conflict);
        }
        q.returning(self.returning(model, check));
        q
    }

    /// `UPDATE` of the rows meeting `predicates`, answering their primary keys.
    pub(crate) fn update(
        &self,
        model: &Model,
        predicates: &[Predicate],
        changes: &[(&Field, Json)],
        check: Option<&Predicate>,
    ) -> UpdateStatement {
        let mut q = Query::update();
        q.table(Alias::new(&model.table));
        for (f, v) in changes {
            q.value(Alias::new(&f.column), self.value(f, v));
        }
        for p in predicates {
            q.and_where(self.predicate(&model.table, p));
        }
        q.returning(self.returning(model, check));
        q
    }

    /// The rows `predicates` select as `changes` would leave them, each as its key (as it
    /// is now) and whether the changed row falls outside `check`. An update checks its rows
    /// with this before it writes them: the changed values are judged against the database
    /// as it stands, where the rows the update changes are not changed yet (a `RETURNING`
    /// clause sees them changed on SQLite, and as they were on PostgreSQL).
    pub(crate) fn changed_outside(
        &self,
        model: &Model,
        predicates: &[Predicate],
        changes: &[(&Field, Json)],
        check: &Predicate,
    ) -> SelectStatement {
        let table = self.alias();
        let mut changed = Query::select();
        for (i, f) in model.primary_key_fields().enumerate() {
            changed.expr_as(column(&table, f), Alias::new(format!("__key{i}")));
        }
        for f in model.stored_fields() {
            let value = match changes.iter().find(|(c, _)| c.name == f.name) {
                Some((c, v)) => self.value(c, v),
                None => column(&table, f),
            };
            changed.expr_as(value, Alias::new(&f.column));
        }
        changed.from_as(Alias::new(&model.table), Alias::new(&table));
        for p in predicates {
            changed.and_where(self.predicate(&table, p));
        }
        let row = self.alias();
        let mut q = Query::select();
        for i in 0..model.primary_key.len() {
            q.column((Alias::new(&row), Alias::new(format!("__key{i}"))));
        }
        q.expr(Expr::expr(self.predicate(&row, check)).binary(BinOper::IsNot, keyword("TRUE")));
        q.from_subquery(changed, Alias::new(&row));
        q
    }

    /// For each of `rows` (to be inserted into `model`), whether it falls outside `check`,
    /// judged before it is written, against the database as it stands: neither the row nor
    /// the others of the insert are there yet (see [`Renderer::changed_outside`]). Fields a
    /// row leaves unset are null.
    pub(crate) fn rows_outside(
        &self,
        model: &Model,
        rows: &[&Row],
        check: &Predicate,
    ) -> SelectStatement {
        let mut values: Option<SelectStatement> = None;
        for row in rows {
            let mut one = Query::select();
            for f in model.stored_fields() {
                let value = match row.iter().find(|(c, _)| c.name == f.name) {
                    Some((c, v)) => self.value(c, v),
                    None => self.value(f, &Json::Null),
                };
                one.expr_as(value, Alias::new(&f.column));
            }
            match &mut values {
                None => values = Some(one),
                Some(first) => {
                    first.union(sea_query::UnionType::All, one);
                }
            }
        }
        let row = self.alias();
        let mut q = Query::select();
        q.expr(Expr::expr(self.predicate(&row, check)).binary(BinOper::IsNot, keyword("TRUE")));
        q.from_subquery(values.unwrap_or_else(Query::select), Alias::new(&row));
        q
    }

    /// `RETURNING` the written rows' keys and, with a `check`, a last column that is true
    /// for a row the check does not admit as written: the statement checks its own rows,
    /// with no second query.
    fn returning(&self, model: &Model, check: Option<&Predicate>) -> sea_query::ReturningClause {
        let mut exprs: Vec<SimpleExpr> = model
            .primary_key_fields()
            .map(|f| Expr::col(Alias::new(&f.column)).into())
            .collect();
        if let Some(check) = check {
            exprs.push(
                Expr::expr(self.predicate(&model.table, check))
                    .binary(BinOper::IsNot, keyword("TRUE")),
            );
        }
        Query::returning().exprs(exprs)
    }

    /// `DELETE` of the rows meeting `predicates`.
    pub(crate) fn delete(&self, model: &Model, predicates: &[Predicate]) -> DeleteStatement {
        let mut q = Query::delete();
        q.from_table(Alias::new(&model.table));
        for p in predicates {
            q.and_where(self.predicate(&model.table, p));
        }
        q
    }

    /// The given columns of the rows of `model` meeting `predicates`.
    pub(crate) fn rows_of(
        &self,
        model: &Model,
        fields: &[&Field],
        predicates: &[Predicate],
    ) -> SelectStatement {
        let alias = model.table.as_str();
        let mut q = Query::select();
        for f in fields {
            q.expr(self.read_column(alias, f));
        }
        q.from(Alias::new(&model.table));
        for p in predicates {
            q.and_where(self.predicate(alias, p));
        }
        q
    }
}

/// A count of rows (a limit, an offset, a row number) as both engines bind it: a signed
/// 64-bit integer. A larger count means the same as the largest one (no table has that
/// many rows), so it is capped rather than refused.
fn row_count(n: u64) -> u64 {
    n.min(i64::MAX as u64)
}
