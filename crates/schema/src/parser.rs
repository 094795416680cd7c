//! Recursive-descent parser from tokens to the [`crate::ast`]. It never stops at the first
//! error: a bad line is reported and skipped so the rest of the file is still checked.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{lex, Token, TokenKind};
use crate::span::Span;

/// Parses schema text. The tree is returned even when there are errors; it then holds
/// everything that could be read.
pub fn parse(source: &str) -> (SchemaFile, Vec<Diagnostic>) {
    let (tokens, mut diagnostics) = lex(source);
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        diagnostics: Vec::new(),
    };
    let file = parser.file();
    // A character the lexer rejected usually derails the rest of its line; report the
    // character, not the confusion it causes.
    let line_of = |offset: usize| source[..offset.min(source.len())].matches('\n').count();
    let bad_lines: Vec<usize> = diagnostics.iter().map(|d| line_of(d.span.start)).collect();
    parser
        .diagnostics
        .retain(|d| !bad_lines.contains(&line_of(d.span.start)));
    diagnostics.append(&mut parser.diagnostics);
    (file, diagnostics)
}

/// Marker that the current line could not be parsed; the diagnostic is already recorded.
struct Bail;

type PResult<T> = Result<T, Bail>;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// How many lists, objects and calls enclose the value being read.
    depth: usize,
    diagnostics: Vec<Diagnostic>,
}

/// The deepest nesting of lists, objects and calls in one value. Real schemas need a few
/// levels; the limit keeps the recursive parser (and everything that walks values after it)
/// from exhausting the stack on hostile input.
pub const MAX_VALUE_DEPTH: usize = 32;

const TOP_LEVEL: &str = "`model`, `enum` or `settings`";

impl Parser {
    fn peek(&self) -> &TokenKind {
        &self.tokens[self.pos].kind
    }

    fn peek_at(&self, offset: usize) -> &TokenKind {
        let index = (self.pos + offset).min(self.tokens.len() - 1);
        &self.tokens[index].kind
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    fn previous_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1)].span
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        token
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.peek() == kind
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), TokenKind::Ident(name) if name == keyword)
    }

    fn error_expected(&mut self, expected: &str, help: Option<&str>) -> Bail {
        let found = self.peek().describe();
        let mut diagnostic = Diagnostic::error(
            "E0010",
            format!("expected {expected}, found {found}"),
            self.span(),
        )
        .with_label(format!("expected {expected}"));
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.diagnostics.push(diagnostic);
        Bail
    }

    fn expect(&mut self, kind: TokenKind, help: Option<&str>) -> PResult<Span> {
        if self.at(&kind) {
            Ok(self.bump().span)
        } else {
            Err(self.error_expected(&kind.describe(), help))
        }
    }

    fn ident(&mut self, what: &str, help: Option<&str>) -> PResult<Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.error_expected(what, help)),
        }
    }

    /// Collects comments, doc comments and blank lines before the next item.
    fn trivia(&mut self) -> Trivia {
        let mut trivia = Trivia::default();
        let mut newlines_in_a_row = 0;
        loop {
            match self.peek().clone() {
                TokenKind::Newline => {
                    newlines_in_a_row += 1;
                    if newlines_in_a_row >= 2 {
                        trivia.blank_line_before = true;
                    }
                    self.bump();
                }
                TokenKind::Comment(text) => {
                    // Comments separated from the item by a blank line still belong to it;
                    // a doc comment, however, must sit directly on top of its item.
                    if !trivia.doc.is_empty() {
                        trivia.comments.append(&mut trivia.doc);
                    }
                    trivia.comments.push(text);
                    newlines_in_a_row = 0;
                    self.bump();
                }
                TokenKind::DocComment(text) => {
                    trivia.doc.push(text);
                    newlines_in_a_row = 0;
                    self.bump();
                }
                _ => return trivia,
            }
        }
    }

    /// A `//` comment on the rest of the current line, if any.
    fn trailing_comment(&mut self) -> Option<String> {
        if let TokenKind::Comment(text) = self.peek().clone() {
            self.bump();
            Some(text)
        } else {
            None
        }
    }

    /// Skips the rest of a bad item that began at token `from`: to the end of its line, or,
    /// when it opened brackets that are still open, to the line where they close. Never
    /// crosses the `}` that closes the enclosing block.
    fn skip_line(&mut self, from: usize) {
        let mut open: Vec<TokenKind> = Vec::new();
        for token in &self.tokens[from.min(self.pos)..self.pos] {
            match &token.kind {
                TokenKind::LBrace | TokenKind::LParen | TokenKind::LBracket => {
                    open.push(token.kind.clone())
                }
                closer @ (TokenKind::RBrace | TokenKind::RParen | TokenKind::RBracket)
                    if open.last().is_some_and(|o| closes(o, closer)) =>
                {
                    open.pop();
                }
                _ => {}
            }
        }
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Newline if open.is_empty() => return,
                TokenKind::Newline => {
                    self.bump();
                    if self.at_declaration_start() {
                        return;
                    }
                    continue;
                }
                TokenKind::RBrace if open.last() != Some(&TokenKind::LBrace) => return,
                TokenKind::LBrace | TokenKind::LParen | TokenKind::LBracket => {
                    open.push(self.peek().clone())
                }
                closer @ (TokenKind::RBrace | TokenKind::RParen | TokenKind::RBracket)
                    if open.last().is_some_and(|o| closes(o, closer)) =>
                {
                    open.pop();
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips to the next line that starts a top-level declaration.
    fn skip_to_top_level(&mut self) {
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Newline => {
                    self.bump();
                    if self.at_keyword("model")
                        || self.at_keyword("enum")
                        || self.at_keyword("settings")
                    {
                        return;
                    }
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// Whether the next tokens open a top-level declaration (`model Name {`, `enum Name {`,
    /// `settings {`), which inside a block means the block was never closed. A field may be
    /// called `model`, but `model Name {` is never a field.
    fn at_declaration_start(&self) -> bool {
        match self.peek() {
            TokenKind::Ident(word) if word == "model" || word == "enum" => {
                matches!(self.peek_at(1), TokenKind::Ident(_))
                    && self.peek_at(2) == &TokenKind::LBrace
            }
            TokenKind::Ident(word) if word == "settings" => self.peek_at(1) == &TokenKind::LBrace,
            _ => false,
        }
    }

    fn file(&mut self) -> SchemaFile {
        let mut items = Vec::new();
        loop {
            let trivia = self.trivia();
            let result = match self.peek() {
                TokenKind::Eof => {
                    return SchemaFile {
                        items,
                        trailing_comments: trivia,
                    }
                }
                TokenKind::Ident(word) if word == "model" => self.model(trivia).map(Item::Model),
                TokenKind::Ident(word) if word == "enum" => self.enum_decl(trivia).map(Item::Enum),
                TokenKind::Ident(word) if word == "settings" => {
                    self.settings(trivia).map(Item::Settings)
                }
                _ => Err(self.error_expected(
                    TOP_LEVEL,
                    Some("a schema file is a list of `model Name { ... }` and `enum Name { ... }` declarations"),
                )),
            };
            match result {
                Ok(item) => items.push(item),
                Err(Bail) => self.skip_to_top_level(),
            }
        }
    }

    /// Parses `{`, then items until the matching `}`, calling `member` for each.
    fn block<T>(
        &mut self,
        what: &str,
        open_span: Span,
        mut member: impl FnMut(&mut Self, Trivia) -> PResult<T>,
    ) -> (Vec<T>, Trivia, Span) {
        let mut members = Vec::new();
        loop {
            let trivia = self.trivia();
            match self.peek() {
                TokenKind::RBrace => {
                    let end = self.bump().span;
                    return (members, trivia, end);
                }
                TokenKind::Eof => {
                    self.diagnostics.push(
                        Diagnostic::error("E0011", format!("{what} is never closed"), open_span)
                            .with_label("this `{` has no matching `}`")
                            .with_help("add `}` after the last line of the block"),
                    );
                    return (members, trivia, self.span());
                }
                _ if self.at_declaration_start() => {
                    let next = self.span();
                    self.diagnostics.push(
                        Diagnostic::error("E0011", format!("{what} is never closed"), open_span)
                            .with_label("this `{` has no matching `}`")
                            .with_related(next, "the next declaration starts here")
                            .with_help("add `}` after the last line of the block"),
                    );
                    return (members, trivia, self.previous_span());
                }
                _ => {
                    let from = self.pos;
                    match member(self, trivia) {
                        Ok(item) => members.push(item),
                        Err(Bail) => self.skip_line(from),
                    }
                }
            }
        }
    }

    /// After an item inside a block: a trailing comment, then a newline or the closing `}`.
    fn end_of_line(&mut self, what: &str) -> PResult<Option<String>> {
        let comment = self.trailing_comment();
        match self.peek() {
            TokenKind::Newline | TokenKind::RBrace | TokenKind::Eof => Ok(comment),
            _ => Err(self.error_expected(
                "end of line",
                Some(&format!(
                    "write one {what} per line; attributes start with `@`"
                )),
            )),
        }
    }

    fn settings(&mut self, trivia: Trivia) -> PResult<SettingsBlock> {
        let start = self.bump().span;
        let open = self.expect(
            TokenKind::LBrace,
            Some("write `settings { naming = camelCase }`"),
        )?;
        let (entries, closing, end) = self.block("the settings block", open, |p, trivia| {
            let key = p.ident(
                "a setting name",
                Some("settings are written `name = value`"),
            )?;
            p.expect(TokenKind::Eq, Some("settings are written `name = value`"))?;
            let value = p.value()?;
            let mut trivia = trivia;
            trivia.trailing = p.end_of_line("setting")?;
            Ok(Setting { trivia, key, value })
        });
        let mut trivia = trivia;
        trivia.trailing = self.trailing_comment();
        Ok(SettingsBlock {
            trivia,
            entries,
            closing,
            span: start.to(end),
        })
    }

    fn enum_decl(&mut self, trivia: Trivia) -> PResult<EnumDecl> {
        let start = self.bump().span;
        let name = self.ident("an enum name", Some("write `enum Name { value1 value2 }`"))?;
        let open = self.expect(
            TokenKind::LBrace,
            Some("write `enum Name { value1 value2 }`"),
        )?;
        let single_line = !self.at(&TokenKind::Newline);
        let mut values = Vec::new();
        let mut attributes = Vec::new();
        let closing;
        let end;
        // After a bad token, the rest of its line is skipped silently: one error per line.
        let mut quiet = false;
        loop {
            let before = self.pos;
            let item_trivia = self.trivia();
            if self.tokens[before..self.pos]
                .iter()
                .any(|t| t.kind == TokenKind::Newline)
            {
                quiet = false;
            }
            match self.peek().clone() {
                TokenKind::RBrace => {
                    closing = item_trivia;
                    end = self.bump().span;
                    break;
                }
                _ if self.at_declaration_start() => {
                    let next = self.span();
                    self.diagnostics.push(
                        Diagnostic::error(
                            "E0011",
                            format!("enum `{}` is never closed", name.name),
                            open,
                        )
                        .with_label("this `{` has no matching `}`")
                        .with_related(next, "the next declaration starts here")
                        .with_help("add `}` after the last value"),
                    );
                    closing = item_trivia;
                    end = self.previous_span();
                    break;
                }
                TokenKind::Eof => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "E0011",
                            format!("enum `{}` is never closed", name.name),
                            open,
                        )
                        .with_label("this `{` has no matching `}`")
                        .with_help("add `}` after the last value"),
                    );
                    closing = item_trivia;
                    end = self.span();
                    break;
                }
                TokenKind::Ident(value) => {
                    let span = self.bump().span;
                    let mut item_trivia = item_trivia;
                    if !single_line {
                        item_trivia.trailing = self.trailing_comment();
                    }
                    values.push(EnumValueDecl {
                        trivia: item_trivia,
                        name: Ident { name: value, span },
                    });
                }
                TokenKind::AtAt => {
                    let from = self.pos;
                    match self.attribute(item_trivia) {
                        Ok(attribute) => attributes.push(attribute),
                        Err(Bail) => self.skip_line(from),
                    }
                }
                _ if quiet => {
                    self.bump();
                }
                _ => {
                    quiet = true;
                    self.error_expected(
                        "an enum value",
                        Some("enum values are plain names separated by spaces or newlines, e.g. `enum Status { active inactive }`"),
                    );
                    self.bump();
                }
            }
        }
        let mut trivia = trivia;
        trivia.trailing = self.trailing_comment();
        Ok(EnumDecl {
            trivia,
            name,
            values,
            attributes,
            closing,
            single_line,
            span: start.to(end),
        })
    }

    fn model(&mut self, trivia: Trivia) -> PResult<ModelDecl> {
        let start = self.bump().span;
        let name = self.ident("a model name", Some("write `model Name { ... }`"))?;
        let open = self.expect(
            TokenKind::LBrace,
            Some("a model's fields are written between `{` and `}`"),
        )?;
        let what = format!("model `{}`", name.name);
        let (members, closing, end) = self.block(&what, open, |p, trivia| p.member(trivia));
        let mut trivia = trivia;
        trivia.trailing = self.trailing_comment();
        Ok(ModelDecl {
            trivia,
            name,
            members,
            closing,
            span: start.to(end),
        })
    }

    fn member(&mut self, trivia: Trivia) -> PResult<Member> {
        if self.at(&TokenKind::AtAt) {
            let mut attribute = self.attribute(trivia)?;
            attribute.trivia.trailing = self.end_of_line("model attribute")?;
            return Ok(Member::Attribute(attribute));
        }
        if self.at(&TokenKind::At) {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error("E0012", "a model attribute needs two `@`", span)
                    .with_label("field attributes go after a field; this line has no field")
                    .with_help("write model attributes as `@@name(...)`, e.g. `@@unique([a, b])`"),
            );
            return Err(Bail);
        }
        let name = self.ident(
            "a field name or `@@attribute`",
            Some("each line of a model is a field `name Type` or a model attribute `@@name(...)`"),
        )?;
        let ty = self.type_expr(&name)?;
        let default = if self.eat(&TokenKind::Eq) {
            Some(self.value()?)
        } else {
            None
        };
        let mut attributes = Vec::new();
        while self.at(&TokenKind::At) {
            attributes.push(self.attribute(Trivia::default())?);
        }
        if self.at(&TokenKind::AtAt) {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error("E0013", "model attribute on a field line", span)
                    .with_label("`@@` attributes belong to the model")
                    .with_help("use `@` for a field attribute, or move this `@@` attribute onto its own line"),
            );
            return Err(Bail);
        }
        let end = self.previous_span();
        let mut trivia = trivia;
        trivia.trailing = self.end_of_line("field")?;
        Ok(Member::Field(FieldDecl {
            trivia,
            span: name.span.to(end),
            name,
            ty,
            default,
            attributes,
        }))
    }

    fn type_expr(&mut self, field: &Ident) -> PResult<TypeExpr> {
        let start = self.span();
        if self.eat(&TokenKind::Arrow) {
            let mut targets = vec![self.ident(
                "a model name",
                Some("a to-one relation is written `name -> Model`"),
            )?];
            while self.eat(&TokenKind::Pipe) {
                targets.push(self.ident(
                    "a model name",
                    Some("a polymorphic relation is written `name -> ModelA | ModelB`"),
                )?);
            }
            let optional = self.eat(&TokenKind::Question);
            return Ok(TypeExpr::Relation {
                targets,
                optional,
                span: start.to(self.previous_span()),
            });
        }
        let help = format!(
            "give `{}` a type, e.g. `{} text`; see docs/schema-language.md for the list of types",
            field.name, field.name
        );
        let name = self.ident("a type", Some(&help))?;
        let mut args = Vec::new();
        if self.eat(&TokenKind::LParen) {
            args = self.comma_list(&TokenKind::RParen, |p| p.value())?;
        }
        let mut list = false;
        if self.eat(&TokenKind::LBracket) {
            self.expect(TokenKind::RBracket, Some("a list type is written `Type[]`"))?;
            list = true;
        }
        let optional = self.eat(&TokenKind::Question);
        if !list && optional && self.at(&TokenKind::LBracket) {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error("E0014", "`?` must follow `[]`", span)
                    .with_label("list marker after the optional marker")
                    .with_help(format!("write `{}[]?`", name.name)),
            );
            return Err(Bail);
        }
        Ok(TypeExpr::Named {
            span: start.to(self.previous_span()),
            name,
            args,
            list,
            optional,
        })
    }

    fn attribute(&mut self, trivia: Trivia) -> PResult<Attribute> {
        let start = self.bump().span;
        if !matches!(self.peek(), TokenKind::Ident(_)) || self.span().start != start.end {
            return Err(self.error_expected(
                "an attribute name",
                Some(
                    "attributes are written `@name` or `@name(arguments)` with no space after `@`",
                ),
            ));
        }
        let name = self.ident("an attribute name", None)?;
        let mut args = Vec::new();
        let mut parens = false;
        if self.at(&TokenKind::LParen) && self.span().start == name.span.end {
            self.bump();
            parens = true;
            args = self.comma_list(&TokenKind::RParen, |p| p.arg())?;
        }
        Ok(Attribute {
            trivia,
            span: start.to(self.previous_span()),
            name,
            args,
            parens,
        })
    }

    fn arg(&mut self) -> PResult<Arg> {
        let start = self.span();
        if matches!(self.peek(), TokenKind::Ident(_)) && self.peek_at(1) == &TokenKind::Colon {
            let name = self.ident("an argument name", None)?;
            self.bump();
            let value = self.arg_value()?;
            return Ok(Arg {
                span: start.to(value.span()),
                name: Some(name),
                value,
            });
        }
        let value = self.arg_value()?;
        Ok(Arg {
            span: value.span(),
            name: None,
            value,
        })
    }

    /// A value, or a condition over values: `provider != "local"`, `owner == auth`,
    /// `members.some(user == auth) || auth.role == admin`.
    fn arg_value(&mut self) -> PResult<Value> {
        self.condition()
    }

    /// Conditions joined by `||`, which binds loosest, then `&&`, then `!`, then the
    /// comparisons. A line may break after `&&` or `||`.
    fn condition(&mut self) -> PResult<Value> {
        self.logic(LogicOp::Or)
    }

    fn logic(&mut self, op: LogicOp) -> PResult<Value> {
        let (token, operand): (TokenKind, fn(&mut Self) -> PResult<Value>) = match op {
            LogicOp::Or => (TokenKind::OrOr, |p| p.logic(LogicOp::And)),
            LogicOp::And => (TokenKind::AndAnd, Self::negation),
        };
        let first = operand(self)?;
        if !self.at(&token) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.eat(&token) {
            self.skip_newlines_in_value();
            operands.push(operand(self)?);
        }
        let span = operands[0]
            .span()
            .to(operands.last().map_or(Span::default(), Value::span));
        Ok(Value::Logic { op, operands, span })
    }

    /// `!condition`, or a comparison.
    fn negation(&mut self) -> PResult<Value> {
        if !self.at(&TokenKind::Bang) {
            return self.comparison();
        }
        let start = self.bump().span;
        let inner = self.nested(Self::negation)?;
        let span = start.to(inner.span());
        Ok(Value::Not(Box::new(inner), span))
    }

    /// A value, or two compared (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`).
    fn comparison(&mut self) -> PResult<Value> {
        let left = self.operand()?;
        let op = match self.peek() {
            TokenKind::EqEq => CompareOp::Equal,
            TokenKind::NotEq => CompareOp::NotEqual,
            TokenKind::Lt => CompareOp::Less,
            TokenKind::LtEq => CompareOp::LessOrEqual,
            TokenKind::Gt => CompareOp::Greater,
            TokenKind::GtEq => CompareOp::GreaterOrEqual,
            TokenKind::Ident(word) if word == "in" => CompareOp::In,
            _ => return Ok(left),
        };
        self.bump();
        let right = self.operand()?;
        Ok(Value::Compare {
            span: left.span().to(right.span()),
            left: Box::new(left),
            op,
            right: Box::new(right),
        })
    }

    /// A value, or a condition in parentheses.
    fn operand(&mut self) -> PResult<Value> {
        if !self.at(&TokenKind::LParen) {
            return self.value();
        }
        let start = self.bump().span;
        let inner = self.nested(|p| {
            p.skip_newlines_in_value();
            let inner = p.condition()?;
            p.skip_newlines_in_value();
            p.expect(
                TokenKind::RParen,
                Some("close the parenthesis opened before the condition"),
            )?;
            Ok(inner)
        })?;
        Ok(Value::Group(
            Box::new(inner),
            start.to(self.previous_span()),
        ))
    }

    /// Newlines inside brackets carry no meaning; comments there are not kept, so they are refused.
    fn skip_newlines_in_value(&mut self) {
        loop {
            match self.peek() {
                TokenKind::Newline => {
                    self.bump();
                }
                TokenKind::Comment(_) | TokenKind::DocComment(_) => {
                    let span = self.bump().span;
                    self.diagnostics.push(
                        Diagnostic::error("E0015", "comment inside a value", span)
                            .with_label("comments cannot appear inside brackets")
                            .with_help("move the comment above the line the value is on"),
                    );
                }
                _ => return,
            }
        }
    }

    /// Items separated by commas up to `close`, allowing newlines and a trailing comma.
    fn comma_list<T>(
        &mut self,
        close: &TokenKind,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines_in_value();
            if self.eat(close) {
                return Ok(items);
            }
            items.push(item(self)?);
            self.skip_newlines_in_value();
            if self.eat(close) {
                return Ok(items);
            }
            if !self.eat(&TokenKind::Comma) {
                let expected = format!("`,` or {}", close.describe());
                return Err(self.error_expected(&expected, Some("separate items with commas")));
            }
        }
    }

    fn value(&mut self) -> PResult<Value> {
        self.nested(Self::value_inner)
    }

    /// Runs `parse` one level deeper, refusing values nested past [`MAX_VALUE_DEPTH`].
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_VALUE_DEPTH {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error(
                    "E0016",
                    format!("value nested more than {MAX_VALUE_DEPTH} levels deep"),
                    span,
                )
                .with_label("too deeply nested")
                .with_help(format!(
                    "lists, objects, calls and conditions may nest at most {MAX_VALUE_DEPTH} levels; flatten the value"
                )),
            );
            return Err(Bail);
        }
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    /// The rest of a dotted path after its first name: `.role` of `auth.role`; a path
    /// ending in a call is a condition over related rows (`members.some(user == auth)`).
    fn path(&mut self, first: Ident) -> PResult<Value> {
        let start = first.span;
        let mut segments = vec![first];
        while self.eat(&TokenKind::Dot) {
            segments.push(self.ident(
                "a name after `.`",
                Some("write a name after the dot, e.g. `auth.role`"),
            )?);
        }
        if self.at(&TokenKind::LParen) && self.span().start == self.previous_span().end {
            self.bump();
            let quantifier = segments.pop().expect("a path has two names or more");
            let condition = self.nested(|p| {
                p.skip_newlines_in_value();
                let condition = p.condition()?;
                p.skip_newlines_in_value();
                p.expect(
                    TokenKind::RParen,
                    Some("close the condition: `members.some(user == auth)`"),
                )?;
                Ok(condition)
            })?;
            return Ok(Value::Quantified {
                path: segments,
                quantifier,
                condition: Box::new(condition),
                span: start.to(self.previous_span()),
            });
        }
        Ok(Value::Path(segments, start.to(self.previous_span())))
    }

    fn value_inner(&mut self) -> PResult<Value> {
        let start = self.span();
        match self.peek().clone() {
            TokenKind::String(text) => {
                self.bump();
                Ok(Value::String(text, start))
            }
            TokenKind::Number(text) => {
                self.bump();
                Ok(Value::Number(text, start))
            }
            TokenKind::Ident(word) => {
                self.bump();
                match word.as_str() {
                    "true" => return Ok(Value::Bool(true, start)),
                    "false" => return Ok(Value::Bool(false, start)),
                    "null" => return Ok(Value::Null(start)),
                    _ => {}
                }
                let name = Ident {
                    name: word,
                    span: start,
                };
                if self.at(&TokenKind::LParen) && self.span().start == start.end {
                    self.bump();
                    let args = self.comma_list(&TokenKind::RParen, |p| p.value())?;
                    return Ok(Value::Call {
                        name,
                        args,
                        span: start.to(self.previous_span()),
                    });
                }
                if self.at(&TokenKind::Dot) {
                    return self.path(name);
                }
                Ok(Value::Ident(name))
            }
            TokenKind::LBracket => {
                self.bump();
                let items = self.comma_list(&TokenKind::RBracket, |p| p.value())?;
                Ok(Value::List(items, start.to(self.previous_span())))
            }
            TokenKind::LBrace => {
                self.bump();
                let entries = self.comma_list(&TokenKind::RBrace, |p| {
                    let key_span = p.span();
                    let key = match p.peek().clone() {
                        TokenKind::String(key) | TokenKind::Ident(key) => {
                            p.bump();
                            key
                        }
                        _ => {
                            return Err(p.error_expected(
                                "an object key",
                                Some(r#"objects are written `{ "key": value }`"#),
                            ))
                        }
                    };
                    p.expect(TokenKind::Colon, Some(r#"objects are written `{ "key": value }`"#))?;
                    let value = p.value()?;
                    Ok((key, key_span, value))
                })?;
                Ok(Value::Object(entries, start.to(self.previous_span())))
            }
            _ => Err(self.error_expected(
                "a value",
                Some(r#"values are strings ("text"), numbers, true, false, null, names, lists [..] or objects {..}"#),
            )),
        }
    }
}

/// Whether `closer` closes the bracket `open`.
fn closes(open: &TokenKind, closer: &TokenKind) -> bool {
    matches!(
        (open, closer),
        (TokenKind::LBrace, TokenKind::RBrace)
            | (TokenKind::LParen, TokenKind::RParen)
            | (TokenKind::LBracket, TokenKind::RBracket)
    )
}
