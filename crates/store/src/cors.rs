//! A bucket's CORS rules: the one validated model both adapters share, and its stored form.
//!
//! S3's `PutBucketCors` and Cloudflare's `PUT /accounts/{a}/r2/buckets/{b}/cors` both build a
//! [`CorsConfig`] with [`CorsConfig::parse`], which applies S3's rules (1 to 100 rules, at least
//! one origin and one method per rule, methods from GET/PUT/POST/DELETE/HEAD, at most one `*` per
//! origin or allowed header, IDs up to 255 characters, a 64 KiB document). The store keeps
//! [`CorsConfig::to_document`], S3's `CORSConfiguration` XML, under
//! [`BucketConfigKind::Cors`](crate::BucketConfigKind::Cors); both adapters read it back with
//! [`CorsConfig::from_document`]. So a rule set through one API reads back unchanged through the
//! other. Matching a request against the rules is the S3 endpoint's job, not this module's.
//!
//! ```
//! use mayfly_store::cors::{CorsConfig, CorsRuleInput};
//!
//! let rule = CorsRuleInput {
//!     allowed_origins: vec!["https://app.example.com".into()],
//!     allowed_methods: vec!["PUT".into()],
//!     expose_headers: vec!["ETag".into()],
//!     ..CorsRuleInput::default()
//! };
//! let config = CorsConfig::parse(vec![rule]).expect("valid");
//! let again = CorsConfig::from_document(&config.to_document()).expect("round trip");
//! assert_eq!(again, config);
//! ```

use std::fmt;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

/// Most rules in one configuration (S3).
pub const MAX_RULES: usize = 100;
/// Longest rule ID, in characters (S3).
pub const MAX_ID_CHARS: usize = 255;
/// Largest stored document, in bytes (S3's limit on the `cors` subresource).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// Largest `MaxAgeSeconds` (S3's integer type).
pub const MAX_AGE_SECONDS: u32 = i32::MAX as u32;

/// The S3 namespace the stored document (and GetBucketCors) carries.
const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// A method a CORS rule may allow: exactly the five S3 accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorsMethod {
    /// `GET`
    Get,
    /// `PUT`
    Put,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
}

impl CorsMethod {
    /// Every method, in S3's documentation order.
    pub const ALL: [CorsMethod; 5] = [
        CorsMethod::Get,
        CorsMethod::Put,
        CorsMethod::Post,
        CorsMethod::Delete,
        CorsMethod::Head,
    ];

    /// The method named exactly `name` (upper case, as S3 requires).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The method's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CorsMethod::Get => "GET",
            CorsMethod::Put => "PUT",
            CorsMethod::Post => "POST",
            CorsMethod::Delete => "DELETE",
            CorsMethod::Head => "HEAD",
        }
    }
}

impl fmt::Display for CorsMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule as a client sent it, before validation. Absent lists are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsRuleInput {
    /// `ID` / `id`.
    pub id: Option<String>,
    /// `AllowedOrigin` / `allowed.origins`.
    pub allowed_origins: Vec<String>,
    /// `AllowedMethod` / `allowed.methods`.
    pub allowed_methods: Vec<String>,
    /// `AllowedHeader` / `allowed.headers`.
    pub allowed_headers: Vec<String>,
    /// `ExposeHeader` / `exposeHeaders`.
    pub expose_headers: Vec<String>,
    /// `MaxAgeSeconds` / `maxAgeSeconds`.
    pub max_age_seconds: Option<i64>,
}

/// A validated rule. Invariant: at least one origin and one method; every origin and allowed
/// header has at most one `*`; every expose header is an HTTP token (so it can be sent as a
/// header value); no string holds a control character; the ID has at most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsRule {
    id: Option<String>,
    allowed_origins: Vec<String>,
    allowed_methods: Vec<CorsMethod>,
    allowed_headers: Vec<String>,
    expose_headers: Vec<String>,
    max_age_seconds: Option<u32>,
}

impl CorsRule {
    /// The rule's ID, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Origin patterns, in the order given (each with at most one `*`).
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// Allowed methods, in the order given.
    pub fn allowed_methods(&self) -> &[CorsMethod] {
        &self.allowed_methods
    }

    /// Allowed request header patterns, as given (each with at most one `*`).
    pub fn allowed_headers(&self) -> &[String] {
        &self.allowed_headers
    }

    /// Response headers a page may read, as given.
    pub fn expose_headers(&self) -> &[String] {
        &self.expose_headers
    }

    /// How long a browser may cache a preflight answer.
    pub fn max_age_seconds(&self) -> Option<u32> {
        self.max_age_seconds
    }
}

/// A bucket's validated CORS rules. Invariant: 1 to [`MAX_RULES`] valid rules whose document
/// is at most [`MAX_DOCUMENT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    rules: Vec<CorsRule>,
}

/// Which part of a configuration a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorsField {
    /// The rule list itself.
    Rules,
    /// A rule's ID.
    Id,
    /// A rule's allowed origins.
    AllowedOrigins,
    /// A rule's allowed methods.
    AllowedMethods,
    /// A rule's allowed headers.
    AllowedHeaders,
    /// A rule's expose headers.
    ExposeHeaders,
    /// A rule's max age.
    MaxAgeSeconds,
}

/// What is wrong. Messages quote the offending value, never anything secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorsProblem {
    /// No rules, or more than 100.
    #[error("a CORS configuration needs 1 to 100 rules")]
    RuleCount,
    /// A rule without an allowed origin.
    #[error("a CORS rule needs at least one allowed origin")]
    NoOrigin,
    /// A rule without an allowed method.
    #[error("a CORS rule needs at least one allowed method")]
    NoMethod,
    /// A method outside GET, PUT, POST, DELETE, HEAD.
    #[error("unsupported method {0:?}: allowed methods are GET, PUT, POST, DELETE and HEAD")]
    UnsupportedMethod(String),
    /// An origin or allowed header with more than one `*`.
    #[error("{0:?} can not have more than one wildcard")]
    ManyWildcards(String),
    /// An expose header that is not an HTTP header name (a `*` included).
    #[error("{0:?} is not a header name (wildcards are not supported here)")]
    NotHeaderName(String),
    /// A string with a control character.
    #[error("values must not contain control characters")]
    ControlCharacter,
    /// An ID over 255 characters.
    #[error("a rule ID can have at most 255 characters")]
    IdTooLong,
    /// A negative or too large max age.
    #[error("max age must be an integer from 0 to 2147483647 seconds")]
    MaxAge,
    /// The whole document is over 64 KiB.
    #[error("the CORS configuration is larger than 64 KiB")]
    TooLarge,
}

/// A configuration [`CorsConfig::parse`] refused: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct InvalidCors {
    /// Index of the rule (none for [`CorsField::Rules`] problems).
    pub rule: Option<usize>,
    /// The field.
    pub field: CorsField,
    /// Index of the element within a list field, when one element is at fault.
    pub item: Option<usize>,
    /// What is wrong.
    pub problem: CorsProblem,
}

/// A stored document that is not a CORS configuration this module wrote or accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored CORS document is invalid: {0}")]
pub struct BadCorsDocument(String);

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// RFC 9110 `token`: what a header name may be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

impl CorsRule {
    fn parse(index: usize, input: CorsRuleInput) -> Result<Self, InvalidCors> {
        let bad = |field, item, problem| InvalidCors {
            rule: Some(index),
            field,
            item,
            problem,
        };
        if let Some(id) = &input.id {
            if has_control(id) {
                return Err(bad(CorsField::Id, None, CorsProblem::ControlCharacter));
            }
            if id.chars().count() > MAX_ID_CHARS {
                return Err(bad(CorsField::Id, None, CorsProblem::IdTooLong));
            }
        }
        if input.allowed_origins.is_empty() {
            return Err(bad(CorsField::AllowedOrigins, None, CorsProblem::NoOrigin));
        }
        if input.allowed_methods.is_empty() {
            return Err(bad(CorsField::AllowedMethods, None, CorsProblem::NoMethod));
        }
        let mut methods = Vec::with_capacity(input.allowed_methods.len());
        for (i, m) in input.allowed_methods.iter().enumerate() {
            let method = CorsMethod::parse(m).ok_or_else(|| {
                bad(
                    CorsField::AllowedMethods,
                    Some(i),
                    CorsProblem::UnsupportedMethod(m.clone()),
                )
            })?;
            methods.push(method);
        }
        for (field, list) in [
            (CorsField::AllowedOrigins, &input.allowed_origins),
            (CorsField::AllowedHeaders, &input.allowed_headers),
        ] {
            for (i, v) in list.iter().enumerate() {
                if has_control(v) {
                    return Err(bad(field, Some(i), CorsProblem::ControlCharacter));
                }
                if v.matches('*').count() > 1 {
                    return Err(bad(field, Some(i), CorsProblem::ManyWildcards(v.clone())));
                }
            }
        }
        for (i, v) in input.expose_headers.iter().enumerate() {
            if !is_token(v) {
                return Err(bad(
                    CorsField::ExposeHeaders,
                    Some(i),
                    CorsProblem::NotHeaderName(v.clone()),
                ));
            }
        }
        let max_age_seconds = match input.max_age_seconds {
            None => None,
            Some(n) => Some(
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n <= MAX_AGE_SECONDS)
                    .ok_or_else(|| bad(CorsField::MaxAgeSeconds, None, CorsProblem::MaxAge))?,
            ),
        };
        Ok(Self {
            id: input.id,
            allowed_origins: input.allowed_origins,
            allowed_methods: methods,
            allowed_headers: input.allowed_headers,
            expose_headers: input.expose_headers,
            max_age_seconds,
        })
    }
}

impl CorsConfig {
    /// Validates rules as S3 does; the first problem found is returned.
    pub fn parse(rules: Vec<CorsRuleInput>) -> Result<Self, InvalidCors> {
        if rules.is_empty() || rules.len() > MAX_RULES {
            return Err(InvalidCors {
                rule: None,
                field: CorsField::Rules,
                item: None,
                problem: CorsProblem::RuleCount,
            });
        }
        let rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| CorsRule::parse(i, r))
            .collect::<Result<Vec<_>, _>>()?;
        let config = Self { rules };
        if config.to_document().len() > MAX_DOCUMENT_BYTES {
            return Err(InvalidCors {
                rule: None,
                field: CorsField::Rules,
                item: None,
                problem: CorsProblem::TooLarge,
            });
        }
        Ok(config)
    }

    /// The rules, in evaluation order (the first match wins).
    pub fn rules(&self) -> &[CorsRule] {
        &self.rules
    }

    /// The stored form: S3's `CORSConfiguration` XML, members in the AWS model's order.
    pub fn to_document(&self) -> String {
        let mut out = format!("<CORSConfiguration xmlns=\"{XMLNS}\">");
        for rule in &self.rules {
            out.push_str("<CORSRule>");
            if let Some(id) = &rule.id {
                element(&mut out, "ID", id);
            }
            for h in &rule.allowed_headers {
                element(&mut out, "AllowedHeader", h);
            }
            for m in &rule.allowed_methods {
                element(&mut out, "AllowedMethod", m.as_str());
            }
            for o in &rule.allowed_origins {
                element(&mut out, "AllowedOrigin", o);
            }
            for h in &rule.expose_headers {
                element(&mut out, "ExposeHeader", h);
            }
            if let Some(age) = rule.max_age_seconds {
                element(&mut out, "MaxAgeSeconds", &age.to_string());
            }
            out.push_str("</CORSRule>");
        }
        out.push_str("</CORSConfiguration>");
        out
    }

    /// Reads a stored document back (any element order, namespace or not) and validates it.
    pub fn from_document(doc: &str) -> Result<Self, BadCorsDocument> {
        let rules = read_document(doc)?;
        Self::parse(rules).map_err(|e| BadCorsDocument(e.to_string()))
    }
}

fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Which leaf of a `CORSRule` is being read.
#[derive(Clone, Copy)]
enum Leaf {
    Id,
    AllowedHeader,
    AllowedMethod,
    AllowedOrigin,
    ExposeHeader,
    MaxAgeSeconds,
}

impl Leaf {
    fn parse(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"ID" => Leaf::Id,
            b"AllowedHeader" => Leaf::AllowedHeader,
            b"AllowedMethod" => Leaf::AllowedMethod,
            b"AllowedOrigin" => Leaf::AllowedOrigin,
            b"ExposeHeader" => Leaf::ExposeHeader,
            b"MaxAgeSeconds" => Leaf::MaxAgeSeconds,
            _ => return None,
        })
    }

    fn store(self, rule: &mut CorsRuleInput, text: String) -> Result<(), BadCorsDocument> {
        match self {
            Leaf::Id => {
                if rule.id.replace(text).is_some() {
                    return Err(BadCorsDocument("two IDs in one rule".into()));
                }
            }
            Leaf::AllowedHeader => rule.allowed_headers.push(text),
            Leaf::AllowedMethod => rule.allowed_methods.push(text),
            Leaf::AllowedOrigin => rule.allowed_origins.push(text),
            Leaf::ExposeHeader => rule.expose_headers.push(text),
            Leaf::MaxAgeSeconds => {
                let n = text
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| BadCorsDocument("MaxAgeSeconds is not an integer".into()))?;
                if rule.max_age_seconds.replace(n).is_some() {
                    return Err(BadCorsDocument("two MaxAgeSeconds in one rule".into()));
                }
            }
        }
        Ok(())
    }
}

/// Where the reader is in `<CORSConfiguration><CORSRule><Leaf>text</Leaf>...`.
enum Place {
    Outside,
    InConfig,
    InRule(CorsRuleInput),
    InLeaf(CorsRuleInput, Leaf, String),
    Done,
}

fn read_document(doc: &str) -> Result<Vec<CorsRuleInput>, BadCorsDocument> {
    let bad = |m: &str| BadCorsDocument(m.to_owned());
    let mut reader = Reader::from_str(doc);
    let mut rules = Vec::new();
    let mut place = Place::Outside;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| BadCorsDocument(format!("xml: {e}")))?;
        place = match (place, event) {
            (p, Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => p,
            (Place::InLeaf(r, leaf, mut text), Event::Text(t)) => {
                text.push_str(&t.decode().map_err(|e| BadCorsDocument(e.to_string()))?);
                Place::InLeaf(r, leaf, text)
            }
            (Place::InLeaf(r, leaf, mut text), Event::CData(t)) => {
                text.push_str(&t.decode().map_err(|e| BadCorsDocument(e.to_string()))?);
                Place::InLeaf(r, leaf, text)
            }
            (Place::InLeaf(r, leaf, mut text), Event::GeneralRef(g)) => {
                let name = g.decode().map_err(|e| BadCorsDocument(e.to_string()))?;
                if let Some(c) = g
                    .resolve_char_ref()
                    .map_err(|e| BadCorsDocument(e.to_string()))?
                {
                    text.push(c);
                } else {
                    text.push_str(
                        resolve_predefined_entity(&name).ok_or_else(|| bad("unknown entity"))?,
                    );
                }
                Place::InLeaf(r, leaf, text)
            }
            (Place::InLeaf(mut r, leaf, text), Event::End(_)) => {
                leaf.store(&mut r, text)?;
                Place::InRule(r)
            }
            (p, Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => p,
            (Place::Outside, Event::Start(e))
                if e.local_name().as_ref() == b"CORSConfiguration" =>
            {
                Place::InConfig
            }
            (Place::Outside, Event::Empty(e))
                if e.local_name().as_ref() == b"CORSConfiguration" =>
            {
                Place::Done
            }
            (Place::InConfig, Event::Start(e)) if e.local_name().as_ref() == b"CORSRule" => {
                Place::InRule(CorsRuleInput::default())
            }
            (Place::InConfig, Event::Empty(e)) if e.local_name().as_ref() == b"CORSRule" => {
                rules.push(CorsRuleInput::default());
                Place::InConfig
            }
            (Place::InConfig, Event::End(_)) => Place::Done,
            (Place::InRule(r), Event::Start(e)) => {
                let leaf = Leaf::parse(e.local_name().as_ref())
                    .ok_or_else(|| bad("unknown element in CORSRule"))?;
                Place::InLeaf(r, leaf, String::new())
            }
            (Place::InRule(mut r), Event::Empty(e)) => {
                let leaf = Leaf::parse(e.local_name().as_ref())
                    .ok_or_else(|| bad("unknown element in CORSRule"))?;
                leaf.store(&mut r, String::new())?;
                Place::InRule(r)
            }
            (Place::InRule(r), Event::End(_)) => {
                rules.push(r);
                Place::InConfig
            }
            (Place::Done, Event::Eof) => return Ok(rules),
            (_, Event::Eof) => return Err(bad("document ends early")),
            (_, _) => return Err(bad("unexpected content")),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str]) -> CorsRuleInput {
        CorsRuleInput {
            allowed_origins: origins.iter().map(|s| (*s).to_owned()).collect(),
            allowed_methods: methods.iter().map(|s| (*s).to_owned()).collect(),
            ..CorsRuleInput::default()
        }
    }

    fn problem(rules: Vec<CorsRuleInput>) -> Option<(Option<usize>, CorsField, Option<usize>)> {
        CorsConfig::parse(rules)
            .err()
            .map(|e| (e.rule, e.field, e.item))
    }

    #[test]
    fn s3_validation_rules_apply() {
        assert_eq!(problem(vec![]), Some((None, CorsField::Rules, None)));
        let many = (0..101).map(|_| rule(&["*"], &["GET"])).collect();
        assert_eq!(problem(many), Some((None, CorsField::Rules, None)));
        assert_eq!(
            problem(vec![rule(&[], &["GET"])]),
            Some((Some(0), CorsField::AllowedOrigins, None))
        );
        assert_eq!(
            problem(vec![rule(&["*"], &[])]),
            Some((Some(0), CorsField::AllowedMethods, None))
        );
        assert_eq!(
            problem(vec![
                rule(&["*"], &["GET"]),
                rule(&["*"], &["GET", "PATCH"])
            ]),
            Some((Some(1), CorsField::AllowedMethods, Some(1)))
        );
        assert_eq!(
            problem(vec![rule(&["*"], &["get"])]),
            Some((Some(0), CorsField::AllowedMethods, Some(0)))
        );
        assert_eq!(
            problem(vec![rule(&["https://a", "http://*.*.com"], &["GET"])]),
            Some((Some(0), CorsField::AllowedOrigins, Some(1)))
        );
        let mut r = rule(&["*"], &["GET"]);
        r.allowed_headers = vec!["x-amz-*".into(), "*-*".into()];
        assert_eq!(
            problem(vec![r]),
            Some((Some(0), CorsField::AllowedHeaders, Some(1)))
        );
        for bad in ["*", "ETag, Content-Length", "", "é"] {
            let mut r = rule(&["*"], &["GET"]);
            r.expose_headers = vec!["ETag".into(), bad.into()];
            assert_eq!(
                problem(vec![r]),
                Some((Some(0), CorsField::ExposeHeaders, Some(1))),
                "{bad:?}"
            );
        }
        let mut r = rule(&["*"], &["GET"]);
        r.id = Some("x".repeat(256));
        assert_eq!(problem(vec![r]), Some((Some(0), CorsField::Id, None)));
        for age in [-1, i64::from(i32::MAX) + 1] {
            let mut r = rule(&["*"], &["GET"]);
            r.max_age_seconds = Some(age);
            assert_eq!(
                problem(vec![r]),
                Some((Some(0), CorsField::MaxAgeSeconds, None))
            );
        }
        assert_eq!(
            problem(vec![rule(&["http://a\n"], &["GET"])]),
            Some((Some(0), CorsField::AllowedOrigins, Some(0)))
        );
        let huge = (0..100)
            .map(|_| rule(&[&"o".repeat(1000)], &["GET"]))
            .collect();
        assert_eq!(problem(huge), Some((None, CorsField::Rules, None)));
    }

    #[test]
    fn empty_origin_and_single_wildcards_are_accepted() {
        let mut r = rule(&["", "*", "http://*.example.com"], &["GET", "HEAD"]);
        r.allowed_headers = vec!["*".into(), "x-amz-*".into()];
        r.id = Some("x".repeat(255));
        r.max_age_seconds = Some(0);
        assert!(CorsConfig::parse(vec![r]).is_ok());
    }

    #[test]
    fn documents_round_trip_with_escaping() {
        let mut r = rule(&["https://a.example?x=<&>\"'"], &["PUT", "GET"]);
        r.id = Some("rule & <one>".into());
        r.allowed_headers = vec!["Content-Type".into(), "x-amz-*".into()];
        r.expose_headers = vec!["ETag".into()];
        r.max_age_seconds = Some(3600);
        let config = CorsConfig::parse(vec![r, rule(&["*"], &["DELETE"])]).expect("valid");
        let doc = config.to_document();
        assert!(doc.starts_with("<CORSConfiguration xmlns="));
        assert_eq!(CorsConfig::from_document(&doc), Ok(config));
    }

    #[test]
    fn documents_from_other_writers_are_read() {
        // What s3s's serializer stored before this module existed, with whitespace, a
        // declaration, a prefix-free namespace, character references and any member order.
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration>\n  <CORSRule>\
                   <AllowedOrigin>http://&#97;.example</AllowedOrigin>\
                   <AllowedMethod>GET</AllowedMethod><MaxAgeSeconds> 10 </MaxAgeSeconds>\
                   <ExposeHeader>ETag</ExposeHeader><AllowedHeader/></CORSRule>\n</CORSConfiguration>";
        let config = CorsConfig::from_document(doc).expect("readable");
        let rule = &config.rules()[0];
        assert_eq!(rule.allowed_origins(), ["http://a.example"]);
        assert_eq!(rule.allowed_methods(), [CorsMethod::Get]);
        assert_eq!(rule.allowed_headers(), [""]);
        assert_eq!(rule.max_age_seconds(), Some(10));
    }

    #[test]
    fn broken_documents_are_refused() {
        for doc in [
            "",
            "<CORSConfiguration>",
            "<Other/>",
            "<CORSConfiguration/>",
            "<CORSConfiguration><CORSRule><Bogus>1</Bogus></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ID>a</ID><ID>b</ID></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>&bogus;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>trailing",
        ] {
            assert!(CorsConfig::from_document(doc).is_err(), "{doc:?}");
        }
    }
}
