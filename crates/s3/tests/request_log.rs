//! Issue 12/13: every S3 response carries a unique `x-amz-request-id`, every error body names
//! the same id in `<RequestId>`, and the log holds exactly one line per request with that id,
//! its reason, and a level that matches what happened (INFO for success and refusals, WARN for
//! unsupported operations, never ERROR for a client's mistake). Its own process, for the same
//! reason as `logs.rs`: a capturing subscriber must see every callsite.

#![allow(
    dead_code,
    clippy::wildcard_enum_match_arm,
    clippy::format_in_format_args
)]

#[path = "s3/common.rs"]
mod common;

use std::sync::{Arc, Mutex};

use common::*;
use mayfly_core::Permission;

/// One captured event: level, target and its fields as `name=value` text.
#[derive(Debug, Clone)]
struct Line {
    level: tracing::Level,
    target: String,
    fields: String,
}

impl Line {
    fn field(&self, name: &str) -> Option<String> {
        let key = format!(" {name}=");
        let start = self.fields.find(&key)? + key.len();
        let rest = &self.fields[start..];
        let end = rest.find(" \u{1f}").unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_owned())
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Line>>>);

struct Visitor<'a>(&'a mut String);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        // A unit separator ends each value, so a field reads back whole.
        self.0
            .push_str(&format!(" {}={:?} \u{1f}", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = String::new();
        event.record(&mut Visitor(&mut fields));
        if let Ok(mut lines) = self.0.lock() {
            lines.push(Line {
                level: *event.metadata().level(),
                target: event.metadata().target().to_owned(),
                fields,
            });
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Capture {
    /// The request lines naming `id`.
    fn lines_for(&self, id: &str) -> Vec<Line> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter(|l| {
                l.target == "mayfly_s3::request" && l.field("request_id").as_deref() == Some(id)
            })
            .cloned()
            .collect()
    }

    fn errors(&self) -> Vec<Line> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter(|l| l.level == tracing::Level::ERROR)
            .cloned()
            .collect()
    }
}

/// The response's id: in the header, in the error body when there is one, and in exactly one
/// log line at `level`, whose reason contains `reason`.
#[track_caller]
fn one_line(cap: &Capture, reply: &Reply, level: tracing::Level, reason: &str) -> String {
    let id = reply
        .header("x-amz-request-id")
        .expect("x-amz-request-id header");
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    if reply.status >= 400 && !reply.body.is_empty() {
        let text = reply.text();
        assert!(
            text.contains(&format!("<RequestId>{id}</RequestId>")),
            "error body names the request id: {text}"
        );
        assert_eq!(text.matches("<RequestId>").count(), 1, "{text}");
    }
    let lines = cap.lines_for(&id);
    assert_eq!(lines.len(), 1, "one log line per request: {lines:#?}");
    let line = &lines[0];
    assert_eq!(line.level, level, "{line:?}");
    assert_eq!(
        line.field("status"),
        Some(reply.status.to_string()),
        "{line:?}"
    );
    let got = line.field("reason").unwrap_or_default();
    assert!(
        got.contains(reason),
        "reason {got:?} should contain {reason:?}"
    );
    id
}

#[tokio::test]
async fn every_response_carries_its_request_id_and_every_request_logs_one_line_with_it() {
    let cap = Capture::default();
    let _guard = tracing::subscriber::set_default(cap.clone());
    let env = Env::new().await;
    let path = format!("/{BUCKET}/id-test");
    let info = tracing::Level::INFO;

    // Success: header only, INFO.
    let put = env.call(&env.admin, Req::put(&path, b"body")).await;
    put.ok();
    let a = one_line(&cap, &put, info, "");
    let get = env.call(&env.admin, Req::get(&path)).await;
    get.ok();
    let b = one_line(&cap, &get, info, "");
    assert_ne!(a, b, "ids are unique per request");

    // A denial: one INFO line with core's reason, no ERROR.
    let ro = env.token(7, Permission::ObjectReadOnly, None).await;
    let denied = env.call(&ro, Req::put(&path, b"no")).await;
    denied.expect(403, "AccessDenied");
    one_line(
        &cap,
        &denied,
        info,
        "denied: permission does not include the operation",
    );

    // A missing object.
    let missing = env
        .call(&env.admin, Req::get(&format!("/{BUCKET}/nothing")))
        .await;
    missing.expect(404, "NoSuchKey");
    one_line(&cap, &missing, info, "The specified key does not exist.");

    // Signature mismatches say why: a temporary credential sent without its session token,
    // and a wrong secret for a temporary credential.
    let temp = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadWrite));
    let mut no_token = temp.clone();
    no_token.token = None;
    let r = env.call(&no_token, Req::get(&path)).await;
    r.expect(403, "SignatureDoesNotMatch");
    one_line(&cap, &r, info, "no session token was sent");
    let mut wrong = temp.clone();
    wrong.secret = "1".repeat(64);
    let r = env.call(&wrong, Req::get(&path)).await;
    r.expect(403, "SignatureDoesNotMatch");
    one_line(
        &cap,
        &r,
        info,
        "not signed with the temporary credential's secret",
    );

    // Expired temporary credential.
    let mut spec = TempSpec::new(Permission::ObjectReadWrite);
    spec.iat = Some(now_secs() - 100);
    spec.ttl = 10;
    let expired = env.temp(&env.admin, spec);
    let r = env.call(&expired, Req::get(&path)).await;
    r.expect(400, "ExpiredToken");
    one_line(&cap, &r, info, "session token refused: token expired");

    // An unsupported operation: WARN, not ERROR.
    let r = env
        .call(&env.admin, Req::get(&format!("/{BUCKET}")).q("policy", ""))
        .await;
    r.expect(501, "NotImplemented");
    one_line(&cap, &r, tracing::Level::WARN, "not served");

    // HEAD errors have no body, but the header and the line are there.
    let r = env
        .call(&ro, Req::new("HEAD", &format!("/{BUCKET}/nothing")))
        .await;
    assert_eq!(r.status, 404);
    one_line(&cap, &r, info, "");

    assert!(
        cap.errors().is_empty(),
        "no ERROR line for client mistakes: {:#?}",
        cap.errors()
    );
}
