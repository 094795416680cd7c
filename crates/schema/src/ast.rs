//! The syntax tree: exactly what was written, with spans and comments, before any meaning
//! is given to it. The checker turns it into the [`crate::ir::Schema`]; the formatter prints
//! it back.

use crate::span::Span;

/// Comments and spacing that precede a declaration; the formatter keeps them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trivia {
    /// Whether one or more blank lines separated this item from the previous one.
    pub blank_line_before: bool,
    /// `//` comment lines directly above the item.
    pub comments: Vec<String>,
    /// `///` documentation lines directly above the item.
    pub doc: Vec<String>,
    /// A `//` comment at the end of the item's last line.
    pub trailing: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaFile {
    pub items: Vec<Item>,
    /// Comments after the last declaration.
    pub trailing_comments: Trivia,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Settings(SettingsBlock),
    Enum(EnumDecl),
    Model(ModelDecl),
}

impl Item {
    pub fn trivia(&self) -> &Trivia {
        match self {
            Item::Settings(s) => &s.trivia,
            Item::Enum(e) => &e.trivia,
            Item::Model(m) => &m.trivia,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SettingsBlock {
    pub trivia: Trivia,
    pub entries: Vec<Setting>,
    pub closing: Trivia,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub trivia: Trivia,
    pub key: Ident,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    pub trivia: Trivia,
    pub name: Ident,
    pub values: Vec<EnumValueDecl>,
    pub attributes: Vec<Attribute>,
    /// Comments before the closing brace.
    pub closing: Trivia,
    /// Whether the values were written on one line (`enum E { a b c }`).
    pub single_line: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumValueDecl {
    pub trivia: Trivia,
    pub name: Ident,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelDecl {
    pub trivia: Trivia,
    pub name: Ident,
    pub members: Vec<Member>,
    pub closing: Trivia,
    pub span: Span,
}

impl ModelDecl {
    pub fn fields(&self) -> impl Iterator<Item = &FieldDecl> {
        self.members.iter().filter_map(|m| match m {
            Member::Field(f) => Some(f),
            Member::Attribute(_) => None,
        })
    }

    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.members.iter().filter_map(|m| match m {
            Member::Attribute(a) => Some(a),
            Member::Field(_) => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Field(FieldDecl),
    /// A model attribute `@@name(...)`.
    Attribute(Attribute),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub trivia: Trivia,
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Value>,
    pub attributes: Vec<Attribute>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `text`, `varchar(255)`, `Environment?`, `tags text[]`, `pages tour_pages[]`.
    Named {
        name: Ident,
        args: Vec<Value>,
        list: bool,
        optional: bool,
        span: Span,
    },
    /// `-> projects?` or `-> users | projects ?`.
    Relation {
        targets: Vec<Ident>,
        optional: bool,
        span: Span,
    },
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named { span, .. } | TypeExpr::Relation { span, .. } => *span,
        }
    }

    pub fn is_optional(&self) -> bool {
        match self {
            TypeExpr::Named { optional, .. } | TypeExpr::Relation { optional, .. } => *optional,
        }
    }
}

/// `@name(args)` on a field or `@@name(args)` on a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub trivia: Trivia,
    pub name: Ident,
    pub args: Vec<Arg>,
    /// Whether the attribute was written with parentheses (`@unique()` vs `@unique`).
    pub parens: bool,
    pub span: Span,
}

impl Attribute {
    pub fn positional(&self) -> impl Iterator<Item = &Value> {
        self.args
            .iter()
            .filter(|a| a.name.is_none())
            .map(|a| &a.value)
    }

    pub fn named(&self, key: &str) -> Option<&Arg> {
        self.args
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == key))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String, Span),
    /// The number exactly as written.
    Number(String, Span),
    Bool(bool, Span),
    Null(Span),
    Ident(Ident),
    /// `auth.role`: names joined by dots, two or more. Only access conditions give it a
    /// meaning (a field of the signed-in user's account).
    Path(Vec<Ident>, Span),
    /// `now()`, `uuid()`, `concat(a, " ", b)`, `sort_order(desc)`.
    Call {
        name: Ident,
        args: Vec<Value>,
        span: Span,
    },
    List(Vec<Value>, Span),
    Object(Vec<(String, Span, Value)>, Span),
    /// `provider != "local"`, `createdBy == auth`, `level in [owner, editor]`: a
    /// comparison, only as an attribute argument.
    Compare {
        left: Box<Value>,
        op: CompareOp,
        right: Box<Value>,
        span: Span,
    },
    /// `a && b && c` or `a || b`: conditions joined by one operator, only as an attribute
    /// argument.
    Logic {
        op: LogicOp,
        operands: Vec<Value>,
        span: Span,
    },
    /// `!condition`.
    Not(Box<Value>, Span),
    /// `(condition)`: kept so that the formatter writes the parentheses the author wrote.
    Group(Box<Value>, Span),
    /// `members.some(user == auth)`: a condition over the rows a relation path reaches.
    Quantified {
        /// The path before the quantifier (`members`, `auth.role.permissions`).
        path: Vec<Ident>,
        /// `some`, `every` or `none`, as written.
        quantifier: Ident,
        condition: Box<Value>,
        span: Span,
    },
}

/// The operator of a [`Value::Compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `in` (the right side is a list)
    In,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
            CompareOp::Less => "<",
            CompareOp::LessOrEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterOrEqual => ">=",
            CompareOp::In => "in",
        }
    }
}

/// The operator of a [`Value::Logic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    /// `&&`
    And,
    /// `||`
    Or,
}

impl LogicOp {
    pub fn symbol(self) -> &'static str {
        match self {
            LogicOp::And => "&&",
            LogicOp::Or => "||",
        }
    }
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::String(_, s)
            | Value::Number(_, s)
            | Value::Bool(_, s)
            | Value::Null(s)
            | Value::List(_, s)
            | Value::Object(_, s)
            | Value::Path(_, s) => *s,
            Value::Ident(i) => i.span,
            Value::Call { span, .. }
            | Value::Compare { span, .. }
            | Value::Logic { span, .. }
            | Value::Not(_, span)
            | Value::Group(_, span)
            | Value::Quantified { span, .. } => *span,
        }
    }

    /// What kind of value this is, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Value::String(..) => "a string",
            Value::Number(..) => "a number",
            Value::Bool(..) => "a boolean",
            Value::Null(_) => "null",
            Value::Ident(_) => "a name",
            Value::Path(..) => "a dotted name",
            Value::Call { .. } => "a function call",
            Value::List(..) => "a list",
            Value::Object(..) => "an object",
            Value::Compare { .. } => "a comparison",
            Value::Logic { .. } | Value::Not(..) | Value::Group(..) => "a condition",
            Value::Quantified { .. } => "a condition over related rows",
        }
    }

    /// The dotted text of a [`Value::Path`]'s names (`auth.role`).
    pub fn path_text(segments: &[Ident]) -> String {
        segments
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}
