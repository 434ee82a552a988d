//! No token, secret or signature reaches the logs, even at TRACE (s3s 0.14 prints the
//! Authorization header and token at debug level; `logs::QuietDispatch` drops them).

use std::sync::{Arc, Mutex};

use mayfly_core::Permission;

use super::common::*;

fn p(key: &str) -> String {
    format!("/{BUCKET}/{key}")
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Visitor<'a>(&'a mut String);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        if let Ok(mut s) = self.0.lock() {
            span.record(&mut Visitor(&mut s));
            s.push('\n');
        }
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        if let Ok(mut s) = self.0.lock() {
            values.record(&mut Visitor(&mut s));
        }
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if let Ok(mut s) = self.0.lock() {
            s.push_str(event.metadata().target());
            event.record(&mut Visitor(&mut s));
            s.push('\n');
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn no_secret_token_or_signature_reaches_the_logs_even_at_trace_level() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let env = Env::new().await;
    let temp = env.temp(&env.admin, TempSpec::new(Permission::ObjectReadWrite));
    let token = temp.token.clone().expect("token");
    let mut bad = temp.clone();
    bad.secret = "1".repeat(64);
    let req = Req::put(&p("log"), b"body")
        .mode(Mode::StreamingTrailer(2))
        .sign(&temp);
    let sig = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .expect("auth")
        .rsplit('=')
        .next()
        .expect("sig")
        .to_owned();
    env.send(req).await.ok();
    env.call(&bad, Req::get(&p("log")))
        .await
        .expect(403, "SignatureDoesNotMatch");
    env.call(&temp, Req::get(&p("log")).mode(Mode::Presigned(60)))
        .await
        .ok();
    let out = capture.0.lock().expect("lock").clone();
    assert!(
        out.contains("mayfly_s3") || out.contains("s3s"),
        "capture is wired: {out}"
    );
    for secret in [
        token.as_str(),
        &token[..40],
        temp.secret.as_str(),
        env.admin.secret.as_str(),
        sig.as_str(),
        "chunk-signature",
        "authorization",
    ] {
        assert!(
            !out.to_ascii_lowercase()
                .contains(&secret.to_ascii_lowercase()),
            "log leaked {secret:.12}…:\n{out}"
        );
    }
}
