//! CORS as S3 (and R2) apply it: preflight `OPTIONS` answers and `Access-Control-*` headers on
//! actual requests, from the bucket's stored rules ([`mayfly_store::cors`]).
//!
//! [`around`] wraps the whole request path. A preflight (`OPTIONS`, on any bucket or object URL,
//! presigned or not) is answered here from the rules alone, before the guard and without
//! authentication: a browser sends no credentials with it. Any other request that carries an
//! `Origin` a rule matches gets the CORS headers added to whatever the endpoint answered,
//! errors included, so a page can read a 403 and the `ETag` of a multipart part.
//!
//! Evaluation follows S3: the first rule whose origin pattern matches (one `*` matching any run
//! of characters, ASCII case ignored), whose methods include the method (the
//! `Access-Control-Request-Method` if sent, else the request's own) and, for a preflight only,
//! whose allowed-header patterns cover every requested header.
//!
//! Which bucket: the S3 endpoint serves every account on the server, and buckets are keyed by
//! account and name, but a preflight carries no credential. The rule here: a bucket name that
//! exists in exactly one account on this server is that bucket; a name held by two or more
//! accounts has no CORS (a preflight is refused), so one account's rules never answer for
//! another's bucket. Nothing is cached: every request reads the current rules from the
//! metadata store, so all nodes of a cluster agree as soon as a change commits.

use axum::body::Body;
use axum::response::Response;
use http::header::{HOST, ORIGIN, VARY};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use mayfly_core::BucketName;
use mayfly_store::cors::{
    CorsConfig, CorsField, CorsProblem, CorsRule, CorsRuleInput, InvalidCors,
};
use mayfly_store::{BucketConfigKind, BucketId, Entity, StoreError};

use s3s::dto;
use s3s::{S3Error, S3ErrorCode, S3Result};

use crate::error::error_response;
use crate::host::Addressing;
use crate::state::S3State;

const ACRM: &str = "access-control-request-method";
const ACRH: &str = "access-control-request-headers";
const ALLOW_ORIGIN: &str = "access-control-allow-origin";
const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
const ALLOW_METHODS: &str = "access-control-allow-methods";
const ALLOW_HEADERS: &str = "access-control-allow-headers";
const EXPOSE_HEADERS: &str = "access-control-expose-headers";
const MAX_AGE: &str = "access-control-max-age";
const VARY_VALUE: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// Most header names one preflight may ask for; more is refused like a non-matching request.
const MAX_REQUESTED_HEADERS: usize = 100;

const NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";
const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually \
     because the evalution of Origin, request method / Access-Control-Request-Method or \
     Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/// Serves `req` through `next`, answering preflights itself and adding CORS headers to the
/// answers of cross-origin requests.
pub(crate) async fn around<F, Fut>(state: &S3State, req: Request<Body>, next: F) -> Response
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response>,
{
    if req.method() == Method::OPTIONS {
        // Only the head is needed; a body is not read (and is not `Sync`).
        let (head, _body) = req.into_parts();
        return preflight(state, &head).await;
    }
    let cross = CrossOrigin::of(state, &req);
    let mut resp = next(req).await;
    if let Some(cross) = cross {
        cross.decorate(state, resp.headers_mut()).await;
    }
    resp
}

/// The bucket a request addresses and whether it names an object in it.
struct Target {
    bucket: Option<BucketName>,
    object: bool,
}

impl Target {
    /// `None` when the host is not one this endpoint serves.
    fn of(state: &S3State, headers: &HeaderMap, uri: &Uri) -> Option<Self> {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))?;
        let path = uri.path().trim_start_matches('/');
        Some(match state.hosts.classify(&host)? {
            Addressing::PathStyle => {
                let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
                Self {
                    bucket: BucketName::parse(bucket).ok(),
                    object: !key.is_empty(),
                }
            }
            Addressing::VirtualHosted { bucket } => Self {
                bucket: BucketName::parse(&bucket).ok(),
                object: !path.is_empty(),
            },
        })
    }
}

/// What the store holds for a bucket name, across accounts.
enum Rules {
    /// No bucket of that name, or more than one account has one.
    NoBucket,
    /// The bucket exists and has no CORS document.
    NotEnabled,
    /// The bucket's rules.
    Config(CorsConfig),
}

/// Looks the bucket name up in every account (see the module note on the unique-name rule).
async fn rules_for(state: &S3State, name: &BucketName) -> Result<Rules, StoreError> {
    let mut found: Option<Option<String>> = None;
    for account in state.meta.list_accounts().await? {
        let id = BucketId::new(account.id, name.clone());
        let doc = match state
            .meta
            .get_bucket_config(&id, BucketConfigKind::Cors)
            .await
        {
            Ok(doc) => Some(doc),
            Err(StoreError::NotFound(Entity::Cors)) => None,
            Err(StoreError::NotFound(Entity::Bucket | Entity::Account)) => continue,
            Err(e) => return Err(e),
        };
        if found.replace(doc).is_some() {
            tracing::debug!(bucket = %name, "bucket name held by several accounts: no CORS");
            return Ok(Rules::NoBucket);
        }
    }
    Ok(match found {
        None => Rules::NoBucket,
        Some(None) => Rules::NotEnabled,
        Some(Some(doc)) => match CorsConfig::from_document(&doc) {
            Ok(config) => Rules::Config(config),
            Err(e) => {
                tracing::error!(bucket = %name, error = %e, "stored CORS rules unreadable");
                Rules::NotEnabled
            }
        },
    })
}

/// Whether `value` matches `pattern` (at most one `*`, matching any run of characters), ASCII
/// case ignored.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let value = value.to_ascii_lowercase();
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, suffix)) => {
            value.len() >= prefix.len() + suffix.len()
                && value.starts_with(prefix)
                && value.ends_with(suffix)
        }
    }
}

/// A rule that allows the request, and whether it allows every origin (`*`).
struct Match<'a> {
    rule: &'a CorsRule,
    any_origin: bool,
}

/// The first rule allowing `origin`, `method` and every name in `headers` (lower case).
fn find<'a>(
    config: &'a CorsConfig,
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<Match<'a>> {
    config.rules().iter().find_map(|rule| {
        let pattern = rule
            .allowed_origins()
            .iter()
            .find(|p| wildcard_match(p, origin))?;
        let method_ok = rule.allowed_methods().iter().any(|m| m.as_str() == method);
        let headers_ok = headers
            .iter()
            .all(|h| rule.allowed_headers().iter().any(|p| wildcard_match(p, h)));
        (method_ok && headers_ok).then_some(Match {
            rule,
            any_origin: pattern == "*",
        })
    })
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// The headers S3 sends for a matched rule on both preflight and actual responses.
fn allow(headers: &mut HeaderMap, m: &Match<'_>, origin: &HeaderValue) {
    if m.any_origin {
        set(headers, ALLOW_ORIGIN, "*");
    } else {
        headers.insert(HeaderName::from_static(ALLOW_ORIGIN), origin.clone());
        set(headers, ALLOW_CREDENTIALS, "true");
    }
    let methods: Vec<&str> = m
        .rule
        .allowed_methods()
        .iter()
        .map(|x| x.as_str())
        .collect();
    set(headers, ALLOW_METHODS, &methods.join(", "));
    if !m.rule.expose_headers().is_empty() {
        set(headers, EXPOSE_HEADERS, &m.rule.expose_headers().join(", "));
    }
    if let Some(age) = m.rule.max_age_seconds() {
        set(headers, MAX_AGE, &age.to_string());
    }
    headers.append(VARY, HeaderValue::from_static(VARY_VALUE));
}

fn one_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// Escapes text for an XML element.
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// S3's error document for a refused preflight, with its `Method` and `ResourceType`.
fn refusal(
    status: StatusCode,
    code: &str,
    message: &str,
    detail: Option<(&str, &str)>,
) -> Response {
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message>",
        xml_text(message)
    );
    if let Some((method, resource)) = detail {
        body.push_str(&format!(
            "<Method>{}</Method><ResourceType>{resource}</ResourceType>",
            xml_text(method)
        ));
    }
    body.push_str("</Error>");
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    set(resp.headers_mut(), "content-type", "application/xml");
    resp
}

/// Answers an `OPTIONS` request from the rules; never authenticates, never reaches s3s.
async fn preflight(state: &S3State, req: &Parts) -> Response {
    let Some(target) = Target::of(state, &req.headers, &req.uri) else {
        return error_response(s3s::s3_error!(
            InvalidRequest,
            "this endpoint does not serve that host"
        ));
    };
    let headers = &req.headers;
    let Some(origin) = one_header(headers, ORIGIN.as_str()).filter(|o| o.to_str().is_ok()) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Insufficient information. Origin request header needed.",
            None,
        );
    };
    let origin_str = origin.to_str().unwrap_or_default();
    // S3 names the method asked for, or OPTIONS when none was; OPTIONS matches no rule.
    let method = one_header(headers, ACRM)
        .and_then(|m| m.to_str().ok())
        .unwrap_or("OPTIONS");
    let requested: Vec<String> = one_header(headers, ACRH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(|h| h.trim_matches([' ', '\t']).to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();

    let rules = match &target.bucket {
        None => Rules::NoBucket,
        Some(name) => match rules_for(state, name).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "CORS rules lookup failed");
                return error_response(s3s::s3_error!(
                    InternalError,
                    "We encountered an internal error. Please try again."
                ));
            }
        },
    };
    let config = match rules {
        Rules::Config(c) => c,
        Rules::NoBucket | Rules::NotEnabled => {
            // A missing bucket answers like one without rules, so a preflight never tells
            // whether a bucket exists.
            crate::logs::note_reason("CORS preflight refused: the bucket has no CORS rules");
            return refusal(
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                NOT_ENABLED,
                Some((method, "BUCKET")),
            );
        }
    };
    let resource = if target.object { "OBJECT" } else { "BUCKET" };
    let found = (requested.len() <= MAX_REQUESTED_HEADERS)
        .then(|| find(&config, origin_str, method, &requested))
        .flatten();
    let Some(m) = found else {
        crate::logs::note_reason(format!(
            "CORS preflight refused: no rule allows origin {origin_str} with {method}"
        ));
        return refusal(
            StatusCode::FORBIDDEN,
            "AccessForbidden",
            NOT_ALLOWED,
            Some((method, resource)),
        );
    };
    let mut resp = Response::new(Body::empty());
    let out = resp.headers_mut();
    allow(out, &m, origin);
    if !requested.is_empty() {
        set(out, ALLOW_HEADERS, &requested.join(", "));
    }
    set(out, "content-length", "0");
    resp
}

/// An actual request from a page on another origin, remembered until its answer is ready.
struct CrossOrigin {
    origin: HeaderValue,
    method: String,
    bucket: BucketName,
}

impl CrossOrigin {
    /// `None` for requests without a (single, readable) `Origin` or without a bucket.
    fn of(state: &S3State, req: &Request<Body>) -> Option<Self> {
        let origin = one_header(req.headers(), ORIGIN.as_str())?;
        origin.to_str().ok()?;
        let bucket = Target::of(state, req.headers(), req.uri())?.bucket?;
        // S3 matches an actual request on `Access-Control-Request-Method` when one is sent.
        let method = match one_header(req.headers(), ACRM) {
            Some(m) => m.to_str().ok()?.to_owned(),
            None => req.method().as_str().to_owned(),
        };
        Some(Self {
            origin: origin.clone(),
            method,
            bucket,
        })
    }

    /// Adds the CORS headers when a rule allows the origin and method; otherwise leaves the
    /// answer as it is (the browser then withholds it from the page, as S3 intends).
    async fn decorate(self, state: &S3State, headers: &mut HeaderMap) {
        let config = match rules_for(state, &self.bucket).await {
            Ok(Rules::Config(c)) => c,
            Ok(Rules::NoBucket | Rules::NotEnabled) => return,
            Err(e) => {
                tracing::warn!(error = %e, "CORS rules lookup failed; answering without CORS headers");
                return;
            }
        };
        let origin = self.origin.to_str().unwrap_or_default();
        if let Some(m) = find(&config, origin, &self.method, &[]) {
            allow(headers, &m, &self.origin);
        }
    }
}

/// Validates a `PutBucketCors` document; refusals carry S3's codes and messages.
pub(crate) fn config_from_dto(doc: dto::CORSConfiguration) -> S3Result<CorsConfig> {
    let rules = doc
        .cors_rules
        .into_iter()
        .map(|r| CorsRuleInput {
            id: r.id,
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: r.allowed_headers.unwrap_or_default(),
            expose_headers: r.expose_headers.unwrap_or_default(),
            max_age_seconds: r.max_age_seconds.map(i64::from),
        })
        .collect();
    CorsConfig::parse(rules).map_err(invalid_config)
}

/// The rules as `GetBucketCors` returns them (only the members that are set).
pub(crate) fn config_to_dto(config: &CorsConfig) -> Vec<dto::CORSRule> {
    let list = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
    config
        .rules()
        .iter()
        .map(|r| dto::CORSRule {
            id: r.id().map(str::to_owned),
            allowed_origins: r.allowed_origins().to_vec(),
            allowed_methods: r
                .allowed_methods()
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            allowed_headers: list(r.allowed_headers()),
            expose_headers: list(r.expose_headers()),
            max_age_seconds: r.max_age_seconds().and_then(|n| i32::try_from(n).ok()),
        })
        .collect()
}

fn invalid_config(e: InvalidCors) -> S3Error {
    use S3ErrorCode as C;
    let (code, message) = match &e.problem {
        CorsProblem::RuleCount | CorsProblem::NoOrigin | CorsProblem::NoMethod => (
            C::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published \
             schema"
                .to_owned(),
        ),
        CorsProblem::UnsupportedMethod(m) => (
            C::InvalidRequest,
            format!("Found unsupported HTTP method in CORS config. Unsupported method is {m}"),
        ),
        CorsProblem::ManyWildcards(v) => {
            let element = match e.field {
                CorsField::AllowedHeaders => "AllowedHeader",
                CorsField::Rules
                | CorsField::Id
                | CorsField::AllowedOrigins
                | CorsField::AllowedMethods
                | CorsField::ExposeHeaders
                | CorsField::MaxAgeSeconds => "AllowedOrigin",
            };
            (
                C::InvalidRequest,
                format!("{element} \"{v}\" can not have more than one wildcard."),
            )
        }
        CorsProblem::NotHeaderName(v) if v.contains('*') => (
            C::InvalidRequest,
            format!(
                "ExposeHeader \"{v}\" contains wildcard. We currently do not support wildcard \
                 for ExposeHeader."
            ),
        ),
        CorsProblem::NotHeaderName(v) => (
            C::InvalidRequest,
            format!("ExposeHeader \"{v}\" is not a valid header name."),
        ),
        CorsProblem::ControlCharacter
        | CorsProblem::IdTooLong
        | CorsProblem::MaxAge
        | CorsProblem::TooLarge => (C::InvalidRequest, format!("{}.", e.problem)),
    };
    crate::logs::note_reason(format!("CORS configuration refused: {e}"));
    S3Error::with_message(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_any_run_anchored_at_both_ends() {
        assert!(wildcard_match("*", "http://x"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match(
            "http://*.example.com",
            "http://a.b.example.com"
        ));
        assert!(wildcard_match(
            "http://*.example.com",
            "HTTP://A.Example.com"
        ));
        assert!(!wildcard_match(
            "http://*.example.com",
            "http://example.com"
        ));
        assert!(!wildcard_match(
            "http://*.example.com",
            "http://a.example.com.evil"
        ));
        assert!(wildcard_match("start*end", "startend"));
        assert!(!wildcard_match("start*end", "0start12end"));
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(wildcard_match("x-amz-*", "x-amz-date"));
        assert!(!wildcard_match("https://a", "https://a/"));
    }

    fn config(rules: Vec<CorsRuleInput>) -> CorsConfig {
        CorsConfig::parse(rules).expect("valid rules")
    }

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRuleInput {
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect();
        CorsRuleInput {
            allowed_origins: v(origins),
            allowed_methods: v(methods),
            allowed_headers: v(headers),
            ..CorsRuleInput::default()
        }
    }

    #[test]
    fn first_matching_rule_wins_and_headers_must_all_be_allowed() {
        let c = config(vec![
            rule(&["https://a.example"], &["GET"], &[]),
            rule(&["https://a.example"], &["PUT"], &["content-type"]),
            rule(&["*"], &["PUT", "POST"], &["*"]),
        ]);
        let pick = |o: &str, m: &str, h: &[&str]| {
            let h: Vec<String> = h.iter().map(|x| (*x).to_owned()).collect();
            find(&c, o, m, &h).map(|m| {
                (
                    c.rules().iter().position(|r| std::ptr::eq(r, m.rule)),
                    m.any_origin,
                )
            })
        };
        assert_eq!(
            pick("https://a.example", "GET", &[]),
            Some((Some(0), false))
        );
        assert_eq!(pick("https://a.example", "GET", &["x-amz-date"]), None);
        assert_eq!(
            pick("https://a.example", "PUT", &["content-type"]),
            Some((Some(1), false))
        );
        assert_eq!(
            pick("https://a.example", "PUT", &["content-type", "x-amz-date"]),
            Some((Some(2), true))
        );
        assert_eq!(pick("https://b.example", "DELETE", &[]), None);
        assert_eq!(pick("https://b.example", "OPTIONS", &[]), None);
        assert_eq!(pick("https://b.example", "put", &[]), None);
    }
}
