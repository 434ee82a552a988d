//! The console's router driven with `oneshot`: every answer carries the security headers,
//! the assets are the compiled-in files, and nothing but GET reaches them.

#![allow(clippy::unwrap_used)]

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use mayfly_console::{ASSETS, ConsoleConfig, router};
use tower::ServiceExt;

fn app() -> axum::Router {
    router(ConsoleConfig::for_listener(
        "127.0.0.1:9000".parse().expect("an address"),
        &[],
    ))
}

async fn get(path: &str, host: &str) -> axum::response::Response {
    app()
        .oneshot(
            Request::get(path)
                .header(header::HOST, host)
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("infallible")
}

fn assert_secure(r: &axum::response::Response) {
    let h = r.headers();
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a CSP")
        .to_str()
        .expect("ascii");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let connect = csp
        .split("; ")
        .find_map(|d| d.strip_prefix("connect-src "))
        .expect("a connect-src");
    let mut sources: Vec<&str> = connect.split(' ').collect();
    sources.sort_unstable();
    assert_eq!(sources, ["'self'", "127.0.0.1:9000", "localhost:9000"]);
    assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    assert_eq!(h.get(header::REFERRER_POLICY).unwrap(), "no-referrer");
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-cache");
}

#[tokio::test]
async fn every_asset_is_served_with_its_type_and_the_security_headers() {
    for a in ASSETS {
        let r = get(&format!("/console/{}", a.name), "127.0.0.1:8787").await;
        assert_eq!(r.status(), StatusCode::OK, "{}", a.name);
        assert_secure(&r);
        assert_eq!(
            r.headers().get(header::CONTENT_TYPE).unwrap(),
            a.content_type
        );
        let body = to_bytes(r.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body, a.body.as_bytes(), "{}", a.name);
    }
}

#[tokio::test]
async fn root_redirects_and_unknown_files_are_404_with_the_same_headers() {
    let r = get("/", "127.0.0.1:8787").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers().get(header::LOCATION).unwrap(), "/console/");
    assert_secure(&r);
    let r = get("/console/", "127.0.0.1:8787").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_secure(&r);
    for missing in [
        "/console/nope.js",
        "/console/../Cargo.toml",
        "/console/%2e%2e/lib.rs",
    ] {
        let r = get(missing, "127.0.0.1:8787").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{missing}");
        assert_secure(&r);
    }
}

#[tokio::test]
async fn config_names_the_s3_hosts_page_host_first() {
    let r = get("/console/config.json", "localhost:8787").await;
    assert_secure(&r);
    let body = to_bytes(r.into_body(), usize::MAX).await.unwrap();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"s3Hosts":["localhost:9000","127.0.0.1:9000"]}"#
    );
}

#[tokio::test]
async fn only_get_reaches_the_console() {
    let r = app()
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri("/console/index.html")
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("infallible");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn no_asset_has_inline_script_or_style() {
    for a in ASSETS {
        if a.name.ends_with(".html") {
            let lower = a.body.to_ascii_lowercase();
            assert!(!lower.contains("<style"), "{}", a.name);
            assert!(!lower.contains(" style="), "{}", a.name);
            assert!(!lower.contains(" onclick="), "{}", a.name);
            // Every <script> loads a file.
            for chunk in lower.split("<script").skip(1) {
                let tag = chunk.split('>').next().unwrap_or("");
                assert!(tag.contains("src="), "inline script in {}", a.name);
            }
        } else if a.name.ends_with(".js") {
            assert!(!a.body.contains("innerHTML"), "{} writes markup", a.name);
            assert!(!a.body.contains("eval("), "{}", a.name);
            assert!(!a.body.contains("localStorage"), "{}", a.name);
        }
    }
}
