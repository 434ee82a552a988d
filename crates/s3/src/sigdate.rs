//! SigV4 allows the request time in a signed `Date` header instead of `X-Amz-Date`; s3s 0.14
//! only reads `X-Amz-Date`. For a header-signed request that signed `Date` and sent no
//! `X-Amz-Date`, this adds `X-Amz-Date` with the same instant, so s3s builds the same string to
//! sign (the canonical request still covers the signed `Date` header as sent).

use axum::body::Body;
use http::{HeaderValue, Request};
use s3s::dto::{Timestamp, TimestampFormat};
use s3s::{S3Error, s3_error};

/// `Date` (an HTTP date) as `YYYYMMDDTHHMMSSZ`.
fn amz_date_of(date: &str) -> Option<String> {
    let t = Timestamp::parse(TimestampFormat::HttpDate, date.trim()).ok()?;
    let t = time::OffsetDateTime::from(t).to_offset(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(fmt).ok()
}

/// Adds `X-Amz-Date` from the signed `Date` header when the request carries only `Date`.
/// `header_signs_date`: the request is header-signed and its (checked) SignedHeaders list
/// `date`.
pub(crate) fn date_as_amz_date(
    header_signs_date: bool,
    mut req: Request<Body>,
) -> Result<Request<Body>, S3Error> {
    if !header_signs_date || req.headers().contains_key("x-amz-date") {
        return Ok(req);
    }
    let Some(date) = req.headers().get(http::header::DATE) else {
        return Ok(req);
    };
    let value = date
        .to_str()
        .ok()
        .and_then(amz_date_of)
        .and_then(|v| HeaderValue::from_str(&v).ok())
        .ok_or_else(|| {
            s3_error!(
                AccessDenied,
                "AWS authentication requires a valid Date or x-amz-date header"
            )
        })?;
    req.headers_mut().insert("x-amz-date", value);
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_become_amz_dates() {
        assert_eq!(
            amz_date_of("Sat, 05 Dec 2026 08:11:34 GMT").as_deref(),
            Some("20261205T081134Z")
        );
        assert_eq!(amz_date_of("yesterday"), None);
    }
}
