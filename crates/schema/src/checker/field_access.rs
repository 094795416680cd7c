//! Rules of single fields: `@allow(operations, condition)` on a field or a to-one relation
//! narrows who may read, create or update that field within what the model's `@@allow`
//! rules allow, and `@internal` keeps a field to the service key. Read with the model's
//! rules, since conditions may name any relation of the schema.

use super::Checker;
use crate::ast::{Attribute, FieldDecl, Value};
use crate::diagnostic::Diagnostic;
use crate::ir::*;

const FIELD_ALLOW_USAGE: &str = "`@allow(operations, condition)` on a field, e.g. `email text @allow(read, id == auth || auth.role == \"admin\")`; the operations are `read`, `create`, `update` and `all`";

impl Checker<'_> {
    /// The `@allow` rules of every field of the model, and their `@internal` conflicts.
    pub(super) fn field_access_rules(&mut self, index: usize) {
        let decl = self.models[index].decl;
        for field_decl in decl.fields() {
            for attribute in field_decl
                .attributes
                .iter()
                .filter(|a| a.name.name == "allow")
            {
                let Some(rule) = self.field_access_rule(index, attribute) else {
                    continue;
                };
                let targets = self.rule_targets(index, field_decl);
                if targets.is_empty() {
                    // A to-many relation: reported as a misplaced attribute.
                    continue;
                }
                if !self.field_rule_applies(index, field_decl, attribute, &rule, &targets) {
                    continue;
                }
                for target in targets {
                    self.models[index].model.fields[target]
                        .access
                        .push(rule.clone());
                }
            }
        }
    }

    fn field_access_rule(&mut self, index: usize, attribute: &Attribute) -> Option<AccessRule> {
        self.only_named(attribute, &[], FIELD_ALLOW_USAGE);
        let positional: Vec<&Value> = attribute.positional().collect();
        let [operations, condition] = positional.as_slice() else {
            self.wrong_argument_count(attribute, FIELD_ALLOW_USAGE);
            return None;
        };
        let operations = match operations {
            Value::Ident(ident) if ident.name == "all" => Some(Operation::OF_FIELDS.to_vec()),
            other => self.operations(attribute, other).and_then(|ops| {
                if ops.contains(&Operation::Delete) {
                    self.report(
                        Diagnostic::error(
                            "E0232",
                            "`delete` in the rule of a field",
                            other.span(),
                        )
                        .with_label("a row is deleted whole, not a field")
                        .with_help("a field is read, created and updated: say who may delete rows in the model's `@@allow(delete, ...)`"),
                    );
                    return None;
                }
                Some(ops)
            }),
        };
        let condition = self.access_condition(index, condition);
        let rule = AccessRule {
            operations: operations?,
            condition: condition?,
        };
        self.warn_constant_condition(attribute, &rule.condition);
        Some(rule)
    }

    /// The stored fields a rule on `decl` is about: the field itself, or the foreign-key
    /// fields of a to-one relation.
    fn rule_targets(&self, index: usize, decl: &FieldDecl) -> Vec<usize> {
        let model = &self.models[index].model;
        let name = &decl.name.name;
        if let Some(position) = model.fields.iter().position(|f| f.name == *name) {
            return vec![position];
        }
        model
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.relation.as_deref() == Some(name.as_str()))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether the rule's operations make sense for the field; reports E0233 when not.
    fn field_rule_applies(
        &mut self,
        index: usize,
        decl: &FieldDecl,
        attribute: &Attribute,
        rule: &AccessRule,
        targets: &[usize],
    ) -> bool {
        let model = &self.models[index].model;
        let fields: Vec<&Field> = targets.iter().map(|&i| &model.fields[i]).collect();
        let reads = rule.operations.contains(&Operation::Read);
        let writes = rule.operations.iter().any(|op| *op != Operation::Read);
        let is_relation = fields.iter().any(|f| f.relation.is_some());
        let referenced = fields
            .iter()
            .any(|f| self.referenced_by_a_relation(&model.name, &f.name));
        let problem = if fields.iter().any(|f| model.primary_key.contains(&f.name)) {
            Some((
                "the key of its rows",
                "rows are found, embedded and changed by their key: say who may see a row in the model's `@@allow(read, ...)`",
            ))
        } else if fields.iter().any(|f| f.internal) {
            Some((
                "`@internal`, kept to the service key",
                "remove `@internal` to open the field by rule, or remove the rule",
            ))
        } else if fields.iter().any(|f| f.computed.is_some()) {
            Some((
                "computed on read, not stored",
                "put the rule on the fields it is computed from",
            ))
        } else if reads && fields.iter().any(|f| f.secret) {
            Some((
                "secret, never read through the API",
                "remove `read` from the rule's operations",
            ))
        } else if reads && is_relation {
            Some((
                "a relation, which embeds would follow even where it is hidden",
                "say who may read the related rows in the related model's `@@allow(read, ...)`; a rule of a relation may name `create` and `update`",
            ))
        } else if reads && referenced {
            Some((
                "referenced by a relation, which embeds join on",
                "say who may see the rows in the model's `@@allow(read, ...)`",
            ))
        } else if writes && fields.iter().any(|f| f.managed.is_some()) {
            Some((
                "maintained by the engine, never written by clients",
                "a rule of such a field may name `read` only",
            ))
        } else {
            None
        };
        let Some((what, help)) = problem else {
            return true;
        };
        let operations: Vec<&str> = rule.operations.iter().map(|op| op.keyword()).collect();
        self.report(
            Diagnostic::error(
                "E0233",
                format!(
                    "field `{}.{}` cannot have a rule for {}: it is {what}",
                    model.name,
                    decl.name.name,
                    operations.join(", ")
                ),
                attribute.span,
            )
            .with_label("this rule")
            .with_help(help),
        );
        false
    }

    /// Whether a to-one relation of some model references `model.field` (embeds and
    /// reference checks join on its value).
    fn referenced_by_a_relation(&self, model: &str, field: &str) -> bool {
        self.models.iter().any(|m| {
            m.model.relations.iter().any(|r| {
                matches!(&r.kind, RelationKind::ToOne { target, references, .. }
                    if target == model && references == field)
            })
        })
    }
}
