//! Reads run: one query for a level's rows (and one to count them), then one query per
//! embedded relation over all parents of that level (`WHERE link IN (...)`, a window per
//! parent for limits), children grouped under their parents in memory, rows rendered as
//! JSON objects.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};
use tessera_schema::ir::{FieldType, ScalarType};
use tessera_schema::Schema;

use crate::db::Tx;
use crate::error::RuntimeError;
use crate::plan::read::computed;
use crate::plan::{EmbedPlan, Level, Out, Predicate, ReadPlan};
use crate::render::Renderer;
use crate::request::ReadResult;

/// Largest number of values bound in one `IN (...)` list.
pub(crate) const IN_CHUNK: usize = 5000;

/// Rows read at one level.
struct Rows {
    rows: Vec<Row>,
    /// The rows of each embedded level, in the order of the level's embeds.
    children: Vec<Rows>,
}

struct Row {
    values: Vec<Json>,
    /// The value that attaches this row to its parent.
    link: Json,
    /// For each embed of the level, the indexes of this row's children.
    embeds: Vec<Vec<usize>>,
}

pub(crate) async fn read(
    tx: &mut Tx,
    schema: &Schema,
    plan: &ReadPlan<'_>,
) -> Result<ReadResult, RuntimeError> {
    let level = &plan.root;
    let rows = top_rows(tx, schema, level, None).await?;
    let total = if plan.count {
        let q = Renderer::new(schema, tx.dialect()).count(level);
        let big = FieldType {
            scalar: ScalarType::BigInt,
            array: false,
        };
        let n = tx.fetch(Some(level.model), &q, &[big]).await?;
        n.first().and_then(|r| r.first()).and_then(Json::as_u64)
    } else {
        None
    };
    let out = rows.rows.iter().map(|r| render(level, &rows, r)).collect();
    Ok(ReadResult { rows: out, total })
}

/// The rows of `level` whose primary keys are `keys`, rendered, in the order of `keys`
/// (keys of rows not found are skipped). The level reads its key columns.
pub(crate) async fn by_keys(
    tx: &mut Tx,
    schema: &Schema,
    level: &Level<'_>,
    keys: &[Vec<Json>],
) -> Result<Vec<Json>, RuntimeError> {
    let key_columns: Vec<usize> = level
        .model
        .primary_key_fields()
        .filter_map(|f| level.columns.iter().position(|c| c.name == f.name))
        .collect();
    let mut found: HashMap<String, Json> = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(IN_CHUNK) {
        let only = Predicate::keys(level.model, chunk);
        let rows = top_rows(tx, schema, level, Some(&only)).await?;
        for row in &rows.rows {
            let key: Vec<&Json> = key_columns.iter().map(|&i| &row.values[i]).collect();
            found.insert(key_text(&key), render(level, &rows, row));
        }
    }
    Ok(keys
        .iter()
        .filter_map(|key| found.remove(&key_text(&key.iter().collect::<Vec<_>>())))
        .collect())
}

fn key_text(key: &[&Json]) -> String {
    key.iter()
        .map(|v| tessera_sql::value::text_of(v).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

async fn top_rows(
    tx: &mut Tx,
    schema: &Schema,
    level: &Level<'_>,
    extra: Option<&Predicate<'_>>,
) -> Result<Rows, RuntimeError> {
    let q = Renderer::new(schema, tx.dialect()).select(level, extra);
    let types: Vec<FieldType> = level.columns.iter().map(|f| f.ty.clone()).collect();
    let rows = tx
        .fetch(Some(level.model), &q, &types)
        .await?
        .into_iter()
        .map(|values| Row {
            values,
            link: Json::Null,
            embeds: Vec::new(),
        })
        .collect();
    let mut rows = Rows {
        rows,
        children: Vec::new(),
    };
    load_embeds(tx, schema, level, &mut rows).await?;
    Ok(rows)
}

fn load_embeds<'a>(
    tx: &'a mut Tx,
    schema: &'a Schema,
    level: &'a Level<'a>,
    rows: &'a mut Rows,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RuntimeError>> + Send + 'a>> {
    Box::pin(async move {
        for (ei, embed) in level.embeds.iter().enumerate() {
            let key_index = column_of(level, embed.link.parent_key)?;
            // Polymorphic targets: only the rows whose type column names this target.
            let type_index = match &embed.parent_type {
                Some((field, model)) => {
                    Some((column_of(level, field)?, Json::String(model.clone())))
                }
                None => None,
            };
            let applies = |r: &Row| {
                type_index
                    .as_ref()
                    .is_none_or(|(i, model)| r.values[*i] == *model)
            };
            let mut keys: Vec<Json> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for r in &rows.rows {
                let v = &r.values[key_index];
                if !v.is_null() && applies(r) && seen.insert(link_text(v)) {
                    keys.push(v.clone());
                }
            }
            let mut child_rows = Vec::new();
            for chunk in keys.chunks(IN_CHUNK) {
                child_rows.extend(children(tx, schema, embed, chunk).await?);
            }
            let mut child = Rows {
                rows: child_rows,
                children: Vec::new(),
            };
            load_embeds(tx, schema, &embed.level, &mut child).await?;
            // Children by link value, in query order.
            let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in child.rows.iter().enumerate() {
                groups.entry(link_text(&r.link)).or_default().push(i);
            }
            for r in &mut rows.rows {
                let v = &r.values[key_index];
                let list = if v.is_null() || !applies(r) {
                    Vec::new()
                } else {
                    groups.get(&link_text(v)).cloned().unwrap_or_default()
                };
                r.embeds.resize_with(ei, Vec::new);
                r.embeds.push(list);
            }
            rows.children.push(child);
        }
        Ok(())
    })
}

/// A link value as the key its children are grouped by (uuids without regard to case).
fn link_text(value: &Json) -> String {
    tessera_sql::value::text_of(value).to_ascii_lowercase()
}

fn column_of(level: &Level, field: &tessera_schema::ir::Field) -> Result<usize, RuntimeError> {
    level
        .columns
        .iter()
        .position(|f| f.name == field.name)
        .ok_or_else(|| RuntimeError::internal(format!("{} is not read", field.name)))
}

async fn children(
    tx: &mut Tx,
    schema: &Schema,
    embed: &EmbedPlan<'_>,
    keys: &[Json],
) -> Result<Vec<Row>, RuntimeError> {
    let level = &embed.level;
    let q = Renderer::new(schema, tx.dialect()).children(embed, keys);
    let mut types: Vec<FieldType> = level.columns.iter().map(|f| f.ty.clone()).collect();
    types.push(embed.link.child_key.ty.clone());
    let rows = tx.fetch(Some(level.model), &q, &types).await?;
    Ok(rows
        .into_iter()
        .map(|mut values| {
            let link = values.pop().unwrap_or(Json::Null);
            Row {
                values,
                link,
                embeds: Vec::new(),
            }
        })
        .collect())
}

fn render(level: &Level, rows: &Rows, row: &Row) -> Json {
    let mut obj = Map::with_capacity(level.output.len());
    for out in &level.output {
        match out {
            Out::Field(key, i) => {
                obj.insert(
                    key.clone(),
                    row.values.get(*i).cloned().unwrap_or(Json::Null),
                );
            }
            Out::Virtual(key, field) => {
                obj.insert(key.clone(), computed(level, &row.values, field));
            }
            Out::Polymorphic(key, indexes) => {
                let value = indexes
                    .iter()
                    .find_map(|&ei| {
                        let child = &rows.children[ei];
                        let first = *row.embeds.get(ei)?.first()?;
                        Some(render(&level.embeds[ei].level, child, &child.rows[first]))
                    })
                    .unwrap_or(Json::Null);
                obj.insert(key.clone(), value);
            }
            Out::Embed(key, ei) => {
                let embed = &level.embeds[*ei];
                let child = &rows.children[*ei];
                let mut items = row
                    .embeds
                    .get(*ei)
                    .into_iter()
                    .flatten()
                    .map(|&i| render(&embed.level, child, &child.rows[i]));
                let value = if embed.link.many {
                    Json::Array(items.collect())
                } else {
                    items.next().unwrap_or(Json::Null)
                };
                obj.insert(key.clone(), value);
            }
        }
    }
    Json::Object(obj)
}
