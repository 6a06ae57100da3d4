//! One diagnostic type for every phase, the catalogue of error codes with
//! their explanations, and rendering with ariadne.
//!
//! The catalogue is a single table ([`codes!`]): `ward explain`, the JSON
//! output and the renderer all read it, so codes and explanations cannot
//! drift apart.

use crate::span::{SourceMap, Span};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The program is rejected.
    Error,
    /// The program is accepted, but something is likely wrong.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $title:literal, $explanation:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as shown: `E0001`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// Whether diagnostics with this code are errors or warnings.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// A one-line summary.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }

            /// The longer explanation printed by `ward explain`.
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$variant => $explanation,)* }
            }
        }
    };
}

codes! {
    InvalidToken = "E0001", Error, "invalid token",
"The source contains characters that do not form any Ward token, such as `$` or `#`.

    permit (principal, action, resource) when $admin;   // `$` is not part of Ward

Remove the characters, or put them inside a string literal.";

    UnterminatedString = "E0002", Error, "unterminated string literal",
"A string literal must be closed with `\"` on the same line.

    @reason(\"missing MFA)   // the closing quote is missing

Add the closing quote. A string cannot span lines; use `\\n` for a line break.";

    InvalidEscape = "E0003", Error, "invalid escape sequence",
"Inside a string literal a backslash starts an escape. Ward knows `\\\"`, `\\\\`,
`\\n`, `\\t`, `\\r`, `\\*` (a literal star in a `like` pattern) and `\\u{...}` with one
to six hexadecimal digits naming a Unicode scalar value. Any other escape is
an error.";

    UnterminatedComment = "E0004", Error, "unterminated block comment",
"A block comment opened with `/*` must be closed with `*/`.";

    InvalidNumber = "E0005", Error, "invalid number or duration",
"A number is followed by letters that are not a duration unit. Duration
literals combine a number with a unit: `ms`, `s`, `m`, `h` or `d`, as in
`500ms`, `15m` or `1h30m`.

    when principal.mfa_age <= 15min   // `min` is not a unit: write `15m`";

    UnexpectedToken = "E0010", Error, "syntax error",
"The parser found a token where the grammar does not allow it. The message
lists what could have come instead. Common causes are a missing `;` at the
end of a rule, a missing `,` between attributes, or an unbalanced bracket.

Parsing continues after the error, so every independent mistake in a file is
reported once.";

    UnexpectedEof = "E0011", Error, "unexpected end of file",
"The file ends in the middle of a declaration or rule, usually because of a
missing `}` or `;`.";

    MissingPackage = "E0012", Error, "missing package declaration",
"Every Ward file starts with a package declaration naming the package its
declarations belong to:

    package acme.ai

Files with the same package share one namespace.";

    NestedTooDeeply = "E0013", Error, "nested too deeply",
"An expression may nest at most 1,000 levels deep, a type 32 levels, a
piece of test data 64 levels, and a chain of function calls (each function
calling the next) 256 functions.

In an expression every operator, call, attribute access, `if`, `let` and set
literal adds a level around its operands (parentheses add none). Such
expressions are usually generated, most often as a long chain of `||` or
`&&`:

    when context.zone == \"a\" || context.zone == \"b\" || ...   // thousands of terms

Write an allow-list as membership in a set, which has no depth:

    when context.zone in [\"a\", \"b\", ...]

or split the expression into several rules or `def`s.

In a type every record and set adds a level, counted through declared
types: `{ a: { b: Int } }` nests three levels, and so does `{ a: Inner }`
with `type Inner = { b: Int }`. A record type becomes part of the decision
module's schema and of every request, so flatten deep records by moving the
attributes of inner records up a level.

In test data every record, set, entity, call, `with` and `without` adds a
level; a valid test value nests about as deeply as its type.

Functions are inlined where they are called, so a chain of calls becomes one
piece of code in the decision module, whose size WebAssembly bounds. The
error is reported at the first function past the limit: call fewer
functions in a row.";

    UnknownName = "E0100", Error, "unknown name",
"A name in an expression does not refer to a `let` binding, a parameter, a
function, an imported package or a type. Check the spelling, declare the
name, or import the package that declares it:

    import ward.identity
    ... when identity.mfa_fresh(principal.mfa_age, 15m)";

    UnknownType = "E0101", Error, "unknown type",
"A type name does not refer to a built-in type (`Bool`, `Int`, `String`,
`Duration`, `Timestamp`, `TimeOfDay`, `Ip`, `Cidr`, `Set<T>`) or to a
declared entity, enum, level or `type` alias.";

    UnknownAttribute = "E0102", Error, "unknown attribute",
"The attribute is not declared on the entity type, record or context being
accessed. Ward is statically typed: every attribute a policy reads must be
declared in the schema. Attributes that a request carries but the schema does
not declare are ignored.";

    DuplicateDeclaration = "E0103", Error, "duplicate declaration",
"Two declarations in the same namespace have the same name: types, actions,
functions and obligations share one namespace per program, and attribute,
value and parameter names must be unique within their declaration. Only one
`context` declaration is allowed in a program.";

    DuplicateRuleId = "E0104", Error, "duplicate rule id",
"Two rules have the same `@id`. Rule ids name the rules that determined a
decision, in decision logs and test expectations, so they must be unique
across the whole program.";

    UnknownPackage = "E0105", Error, "unknown package",
"An import names a package that no loaded file declares and that is not part
of the standard library.";

    UnknownAction = "E0106", Error, "unknown action",
"A rule's scope names an action that is not declared. Declare it with the
principal and resource types it applies to:

    action infer, embed { principal: User, resource: Model }";

    UnknownObligation = "E0107", Error, "unknown obligation",
"A rule obligates an obligation that is not declared. Declare it with typed
parameters:

    obligation quarantine(for: Duration)";

    UnknownValue = "E0108", Error, "unknown enum or level value",
"An enum or level type does not have the value named after the dot.

    enum Zone { corp, partner, internet }
    ... context.zone == Zone.home   // `home` is not a value of `Zone`";

    RecursiveDef = "E0109", Error, "recursive function",
"A `def` calls itself, directly or through other functions. Ward functions are
inlined by the compiler and every evaluation must terminate in bounded time,
so recursion is not allowed.";

    UnknownFunction = "E0110", Error, "unknown function or method",
"The called function or method does not exist for a value of this type. Built-in
methods are listed in the language reference: on strings `starts_with`,
`ends_with`, `contains`; on sets `contains`, `contains_all`, `contains_any`,
`is_empty`, `size`, `any`, `all`; on timestamps `time_of_day`; literal
constructors `ip`, `cidr`, `timestamp`, `time`.";

    InvalidScope = "E0111", Error, "invalid rule scope",
"The scope head of a rule constrains the principal, the action and the
resource. A constraint on the principal or resource must be an entity literal
such as `Group::\"admins\"` or a list of them, of an entity type that the
constrained slot can be a member of (`in`) or be (`==`).";

    TypeMismatch = "E0200", Error, "type mismatch",
"An expression has a different type from the one its position requires. Ward
never converts values implicitly: compare an `Int` with an `Int`, a `Duration`
with a `Duration`, and so on.";

    NonBoolCondition = "E0201", Error, "condition is not a boolean",
"A `when` or `unless` clause, an `if` condition, an operand of `&&`, `||` or `!`,
and the body of an `any` or `all` quantifier must be of type `Bool`.";

    LevelMismatch = "E0202", Error, "levels of different types compared",
"Levels are only ordered within their own `level` type. Comparing a value of
one level type with a value of another has no meaning, even if their value
names coincide.

    level Classification = public < internal < confidential
    level Clearance = basic < secret
    ... when principal.clearance >= resource.classification   // error";

    UnguardedOptional = "E0203", Error, "optional attribute accessed without `has`",
"An attribute declared with `?` may be absent from a request. Reading it is
only allowed where a `has` test has established that it is present:

    when principal has mfa_age && principal.mfa_age <= 15m

The test may come from an enclosing `&&`, an earlier `when` clause, the
condition of an `if`, or the negated condition of an `unless`.";

    ArgumentCount = "E0204", Error, "wrong number of arguments",
"A function, method or obligation is called with more or fewer arguments than
it declares.";

    OperatorTypes = "E0205", Error, "operator not defined for these types",
"The operator does not apply to operands of these types. Arithmetic `+`, `-`,
`*` is defined on `Int`; `+` and `-` also on `Duration`, and on `Timestamp`
with a `Duration`. Ordering `<`, `<=`, `>`, `>=` applies to `Int`, `Duration`,
`Timestamp`, `TimeOfDay` and values of one `level` type. `in` tests hierarchy
membership of `principal` or `resource`, set membership, or an `Ip` in a
`Cidr`.";

    IntegerOutOfRange = "E0206", Error, "integer literal out of range",
"Integer and duration values are 64-bit signed integers (durations count
milliseconds). A literal outside -9223372036854775808..=9223372036854775807
cannot be represented.";

    InvalidLiteral = "E0207", Error, "invalid literal",
"A literal constructor was given text it cannot parse, or an argument that is
not a string literal. Formats: `ip(\"10.0.0.1\")` or an IPv6 address,
`cidr(\"10.0.0.0/8\")`, `timestamp(\"2026-01-31T09:30:00Z\")` (RFC 3339, with `Z`
or an offset), `time(\"09:30\")` or `time(\"09:30:15\")`.";

    ActionNotApplicable = "E0208", Error, "action does not apply to the scope's types",
"The rule's scope names a principal or resource type that none of the named
actions applies to, so the rule could never apply. Actions declare the types
they apply to:

    action export_weights { principal: User, resource: Model }
    permit (principal: Agent, action: export_weights, resource)   // error";

    ObligationArguments = "E0209", Error, "invalid obligation arguments",
"An obligation must be given every declared parameter exactly once, by name,
with a value of the declared type:

    obligation quarantine(for: Duration)
    ... obligate quarantine(for: 15m)";

    NonConstantArgument = "E0210", Error, "obligation argument is not constant",
"Obligation arguments are fixed per rule: literals, enum and level values,
negated literals and sets of literals. They travel in the decision module's manifest, so a decision never
depends on request data through its obligations.";

    EmptySet = "E0211", Error, "empty set literal",
"An empty set literal `[]` has no element type. Test emptiness with
`is_empty()` instead of comparing with `[]`.";

    InvalidElementType = "E0212", Error, "invalid set element type",
"Sets hold strings, integers, durations, enum or level values, or entities.
Sets of sets, records, booleans and other types are not supported.";

    InvalidHierarchyTest = "E0213", Error, "invalid hierarchy test",
"Hierarchy membership `e in G` is known only for the request's `principal` and
`resource`, whose ancestors the request carries. The right-hand side must be
an entity or a set of entities of a type that can contain the left-hand side.";

    InvalidRange = "E0214", Error, "invalid integer range",
"An integer range type `Int[lo..hi]` needs `lo <= hi`, both within 64 bits.";

    InvalidRecursion = "E0215", Error, "recursive type",
"A `type` alias refers to itself, directly or through other aliases.";

    InvalidAnnotation = "E0216", Error, "invalid annotation",
"The `@id` and `@reason` annotations take one string argument and may appear at
most once per rule. `@id` values must be non-empty.";

    NotAValue = "E0217", Error, "not a value",
"A type, package or function name was used where a value is expected. Enum and
level values are written with their type: `Zone.corp`.";

    AttributeOnNonRecord = "E0218", Error, "attribute access on a value without attributes",
"Only entities (`principal`, `resource`), records and the `context` have
attributes.";

    InvalidDefinition = "E0219", Error, "invalid declaration",
"A declaration is malformed: an entity is a member of a type that is not an
entity type, an action applies to types that are not entity types, a level
or enum has no values, or an entity literal names a type that is not an
entity type.";

    InvalidTest = "E0300", Error, "invalid test",
"A `test` block has fields `request` (required), `expect` (required: `allow`
or `deny`), and optionally `rules`, `obligations` and `errors`. Each field
appears once, and every test in a program has its own name.";

    UnknownFixture = "E0301", Error, "unknown fixture",
"A test's `request`, and the base of `with` and `without`, must name a
`fixture` declared in the same package (or be written out in full).";

    RecursiveFixture = "E0302", Error, "recursive fixture",
"A fixture's value refers, directly or through other fixtures, to itself.";

    InvalidTestData = "E0303", Error, "invalid test data",
"Test data does not have the shape its position needs: `with` and `without`
apply to records and entities, a path must lead to a record or an entity's
attributes, expected rules are strings, expected obligations and errors are
written `name(arg: value)`, and durations and integers must fit in 64 bits.";

    UnknownRuleId = "E0304", Error, "unknown rule id",
"A test expects a rule id that no rule in the program has. Rule ids come from
`@id(\"...\")` annotations.";

    MissingId = "W0001", Warning, "rule without `@id`",
"A rule without an `@id(\"...\")` annotation is named by its file and line in
decisions, which changes whenever the file is edited. Give every rule a
stable id.";

    RedundantHas = "W0002", Warning, "`has` on a required attribute",
"The attribute is required, so a request that conforms to the schema always
has it and the test is always true.";
}

impl Code {
    /// Looks a code up by its text (`E0001`, case-insensitive).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// A labelled span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// What it points at.
    pub span: Span,
    /// What it says there (may be empty).
    pub message: String,
    /// The main location of the diagnostic (as opposed to related ones).
    pub primary: bool,
}

/// A diagnostic from any phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error or warning (given by the code).
    pub severity: Severity,
    /// One line, lower-case start, no final period.
    pub message: String,
    /// The primary label first, then related ones.
    pub labels: Vec<Label>,
    /// One line of advice.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a primary label.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: vec![Label { span, message: String::new(), primary: true }],
            help: None,
        }
    }

    /// Sets the primary label's text.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        if let Some(first) = self.labels.first_mut() {
            first.message = message.into();
        }
        self
    }

    /// Adds a related label.
    pub fn related(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The primary span.
    pub fn span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or_default()
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by location, then code, and drops exact duplicates.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by_key(|a| (a.span(), a.code));
    diagnostics.dedup();
}

/// A diagnostic flattened for machines (`--format json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JsonDiagnostic {
    /// `E0001`
    pub code: String,
    /// `error` or `warning`
    pub severity: String,
    /// The message.
    pub message: String,
    /// File name as given.
    pub file: String,
    /// One-based line.
    pub line: usize,
    /// One-based column, in characters.
    pub column: usize,
    /// One-based line of the end of the primary span.
    pub end_line: usize,
    /// One-based column of the end of the primary span.
    pub end_column: usize,
    /// The primary label's text, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The help line, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// The machine-readable form.
    pub fn to_json(&self, sources: &SourceMap) -> JsonDiagnostic {
        let span = self.span();
        let file = sources.get(span.file);
        let (line, column) = file.line_col(span.start as usize);
        let (end_line, end_column) = file.line_col(span.end as usize);
        JsonDiagnostic {
            code: self.code.as_str().to_owned(),
            severity: self.severity.as_str().to_owned(),
            message: self.message.clone(),
            file: file.name.clone(),
            line,
            column,
            end_line,
            end_column,
            label: self.labels.first().map(|l| l.message.clone()).filter(|m| !m.is_empty()),
            help: self.help.clone(),
        }
    }
}

/// Renders diagnostics as text with ariadne: source excerpts, labels, help.
pub fn render(sources: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    use ariadne::{Config, IndexType, Label as AriadneLabel, Report, ReportKind};

    let mut cache = ariadne::sources(sources.iter().map(|(_, f)| (f.name.clone(), f.text.clone())));
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let span = diagnostic.span();
        let name = sources.get(span.file).name.clone();
        let kind = match diagnostic.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let mut report = Report::build(kind, (name, span.range()))
            .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
            .with_code(diagnostic.code.as_str())
            .with_message(&diagnostic.message);
        for label in &diagnostic.labels {
            let file = sources.get(label.span.file).name.clone();
            // Labels are drawn in source order, so that a related label
            // above the primary one does not start a group of its own.
            let mut l = AriadneLabel::new((file, label.span.range())).with_order(label.span.start as i32);
            // ariadne draws no underline for a label without text.
            let text = if label.message.is_empty() && label.primary { &diagnostic.message } else { &label.message };
            if !text.is_empty() {
                l = l.with_message(text);
            }
            if label.primary {
                l = l.with_priority(1);
            }
            report = report.with_label(l);
        }
        if let Some(help) = &diagnostic.help {
            report = report.with_help(help);
        }
        // Writing into a Vec cannot fail for lack of space; a failure here
        // could only come from a missing source, which the map rules out.
        let _ = report.finish().write(&mut cache, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_explained() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {}", code.as_str());
            assert!(!code.explanation().is_empty());
            assert_eq!(Code::parse(code.as_str()), Some(*code));
            let prefix = if code.severity() == Severity::Error { 'E' } else { 'W' };
            assert!(code.as_str().starts_with(prefix));
        }
        assert_eq!(Code::parse("e0001"), Some(Code::InvalidToken));
        assert_eq!(Code::parse("E9999"), None);
    }
}
