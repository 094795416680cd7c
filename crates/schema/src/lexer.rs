//! Turns schema text into tokens. Newlines are tokens because a field ends at the end of its
//! line; comments are tokens because the formatter keeps them.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Ident(String),
    String(String),
    Number(String),
    /// `// text` (the text after the slashes, trimmed on the right).
    Comment(String),
    /// `/// text`.
    DocComment(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    /// `.` between the names of a path (`auth.role`).
    Dot,
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `!` (not, in access conditions)
    Bang,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    Question,
    Pipe,
    Arrow,
    At,
    AtAt,
    Newline,
    Eof,
}

impl TokenKind {
    /// How the token is named in "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(name) => format!("`{name}`"),
            TokenKind::String(_) => "a string".into(),
            TokenKind::Number(n) => format!("number `{n}`"),
            TokenKind::Comment(_) | TokenKind::DocComment(_) => "a comment".into(),
            TokenKind::LBrace => "`{`".into(),
            TokenKind::RBrace => "`}`".into(),
            TokenKind::LParen => "`(`".into(),
            TokenKind::RParen => "`)`".into(),
            TokenKind::LBracket => "`[`".into(),
            TokenKind::RBracket => "`]`".into(),
            TokenKind::Comma => "`,`".into(),
            TokenKind::Colon => "`:`".into(),
            TokenKind::Dot => "`.`".into(),
            TokenKind::Eq => "`=`".into(),
            TokenKind::EqEq => "`==`".into(),
            TokenKind::NotEq => "`!=`".into(),
            TokenKind::Bang => "`!`".into(),
            TokenKind::AndAnd => "`&&`".into(),
            TokenKind::OrOr => "`||`".into(),
            TokenKind::Lt => "`<`".into(),
            TokenKind::LtEq => "`<=`".into(),
            TokenKind::Gt => "`>`".into(),
            TokenKind::GtEq => "`>=`".into(),
            TokenKind::Question => "`?`".into(),
            TokenKind::Pipe => "`|`".into(),
            TokenKind::Arrow => "`->`".into(),
            TokenKind::At => "`@`".into(),
            TokenKind::AtAt => "`@@`".into(),
            TokenKind::Newline => "end of line".into(),
            TokenKind::Eof => "end of file".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Splits `source` into tokens, reporting characters that start no token.
pub fn lex(source: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer {
        source,
        pos: 0,
        tokens: Vec::new(),
        diagnostics: Vec::new(),
    };
    lexer.run();
    (lexer.tokens, lexer.diagnostics)
}

struct Lexer<'a> {
    source: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.source[self.pos..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        let mut chars = self.source[self.pos..].chars();
        chars.next();
        chars.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                '\n' => {
                    self.bump();
                    self.push(TokenKind::Newline, start);
                }
                // Windows line endings: `\r\n` is one newline.
                '\r' if self.peek_second() == Some('\n') => {
                    self.bump();
                    self.bump();
                    self.push(TokenKind::Newline, start);
                }
                c if c.is_whitespace() => {
                    self.bump();
                }
                '/' if self.peek_second() == Some('/') => self.comment(start),
                '"' => self.string(start),
                c if c.is_ascii_digit()
                    || (c == '-' && self.peek_second().is_some_and(|d| d.is_ascii_digit())) =>
                {
                    self.number(start)
                }
                '-' if self.peek_second() == Some('>') => {
                    self.bump();
                    self.bump();
                    self.push(TokenKind::Arrow, start);
                }
                c if c.is_alphabetic() || c == '_' => {
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        self.bump();
                    }
                    let text = self.source[start..self.pos].to_string();
                    self.push(TokenKind::Ident(text), start);
                }
                '=' | '!' if self.peek_second() == Some('=') => {
                    self.bump();
                    self.bump();
                    let kind = if c == '=' {
                        TokenKind::EqEq
                    } else {
                        TokenKind::NotEq
                    };
                    self.push(kind, start);
                }
                '&' if self.peek_second() == Some('&') => {
                    self.bump();
                    self.bump();
                    self.push(TokenKind::AndAnd, start);
                }
                '|' if self.peek_second() == Some('|') => {
                    self.bump();
                    self.bump();
                    self.push(TokenKind::OrOr, start);
                }
                '<' | '>' => {
                    self.bump();
                    let or_equal = self.peek() == Some('=');
                    if or_equal {
                        self.bump();
                    }
                    let kind = match (c, or_equal) {
                        ('<', false) => TokenKind::Lt,
                        ('<', true) => TokenKind::LtEq,
                        ('>', false) => TokenKind::Gt,
                        _ => TokenKind::GtEq,
                    };
                    self.push(kind, start);
                }
                '@' => {
                    self.bump();
                    if self.peek() == Some('@') {
                        self.bump();
                        self.push(TokenKind::AtAt, start);
                    } else {
                        self.push(TokenKind::At, start);
                    }
                }
                _ => {
                    self.bump();
                    let kind = match c {
                        '{' => Some(TokenKind::LBrace),
                        '}' => Some(TokenKind::RBrace),
                        '(' => Some(TokenKind::LParen),
                        ')' => Some(TokenKind::RParen),
                        '[' => Some(TokenKind::LBracket),
                        ']' => Some(TokenKind::RBracket),
                        ',' => Some(TokenKind::Comma),
                        ':' => Some(TokenKind::Colon),
                        '.' => Some(TokenKind::Dot),
                        '=' => Some(TokenKind::Eq),
                        '?' => Some(TokenKind::Question),
                        '!' => Some(TokenKind::Bang),
                        '|' => Some(TokenKind::Pipe),
                        _ => None,
                    };
                    match kind {
                        Some(kind) => self.push(kind, start),
                        None => self.diagnostics.push(
                            Diagnostic::error(
                                "E0001",
                                format!("unexpected character `{c}`"),
                                Span::new(start, self.pos),
                            )
                            .with_label("not part of the schema language")
                            .with_help(
                                "comments start with `//`; text values are written in double quotes",
                            ),
                        ),
                    }
                }
            }
        }
        let end = self.source.len();
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(end, end),
        });
    }

    fn comment(&mut self, start: usize) {
        let mut line_end = self.source[start..]
            .find('\n')
            .map_or(self.source.len(), |i| start + i);
        if self.source[..line_end].ends_with('\r') && line_end > start {
            line_end -= 1;
        }
        let text = &self.source[start..line_end];
        self.pos = line_end;
        let kind = match text.strip_prefix("///") {
            Some(doc) if !doc.starts_with('/') => {
                TokenKind::DocComment(doc.strip_prefix(' ').unwrap_or(doc).trim_end().to_string())
            }
            _ => {
                let body = text.trim_start_matches('/');
                TokenKind::Comment(
                    body.strip_prefix(' ')
                        .unwrap_or(body)
                        .trim_end()
                        .to_string(),
                )
            }
        };
        self.push(kind, start);
    }

    fn string(&mut self, start: usize) {
        self.bump();
        let mut value = String::new();
        loop {
            let at_line_end = match self.peek() {
                Some('\n') | None => true,
                Some('\r') => self.peek_second() == Some('\n'),
                _ => false,
            };
            if at_line_end {
                // Point at the opening quote: that is where the fix goes.
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0003",
                        "unterminated string",
                        Span::new(start, start + 1),
                    )
                    .with_label("this string is never closed")
                    .with_help("close the string with `\"` on the same line; strings cannot span lines (write `\\n` for a line break)"),
                );
                break;
            }
            match self.bump() {
                Some('"') => break,
                Some('\\') => {
                    let escape_start = self.pos - 1;
                    if matches!(self.peek(), None | Some('\n' | '\r')) {
                        // A backslash at the end of the line escapes nothing; the string
                        // is reported as unterminated on the next turn.
                        continue;
                    }
                    match self.bump() {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some('"') => value.push('"'),
                        Some('\\') => value.push('\\'),
                        other => {
                            if let Some(c) = other {
                                value.push(c);
                            }
                            self.diagnostics.push(
                                Diagnostic::error(
                                    "E0002",
                                    "unknown escape sequence in string",
                                    Span::new(escape_start, self.pos),
                                )
                                .with_label("unknown escape")
                                .with_help(r#"the escapes are \", \\, \n and \t; write \\ for a backslash"#),
                            );
                        }
                    }
                }
                None => break,
                Some(c) => value.push(c),
            }
        }
        self.push(TokenKind::String(value), start);
    }

    fn number(&mut self, start: usize) {
        if self.peek() == Some('-') {
            self.bump();
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        if self.peek() == Some('.') && self.peek_second().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        let text = self.source[start..self.pos].to_string();
        self.push(TokenKind::Number(text), start);
    }
}
