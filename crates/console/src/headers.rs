//! The security headers every console answer carries.

use axum::http::{HeaderMap, HeaderValue, header};

/// The Content-Security-Policy for a page whose S3 endpoint is at `s3_hosts` (`host[:port]`,
/// already validated). A scheme-less host source matches the page's own scheme (and its
/// upgrade to https), so one policy serves http on localhost and https in production.
pub(crate) fn csp(s3_hosts: &[String]) -> String {
    let mut connect = String::from("'self'");
    for h in s3_hosts {
        connect.push(' ');
        connect.push_str(h);
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; \
         connect-src {connect}"
    )
}

/// Adds the CSP and the other security headers to `headers`.
pub(crate) fn secure(headers: &mut HeaderMap, s3_hosts: &[String]) {
    if let Ok(v) = HeaderValue::from_str(&csp(s3_hosts)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    } else {
        // Unreachable with validated hosts; fall back to the policy without S3 rather than none.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
                 frame-ancestors 'none'",
            ),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}
