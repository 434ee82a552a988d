//! The console's files, compiled in from `assets/`.

/// One file the console serves.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The name under `/console/`.
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its text.
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../assets/", $name)),
        }
    };
}

/// Every file of the console, by name.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("console.css", CSS),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("sigv4.js", JS),
    asset!("s3.js", JS),
    asset!("session-token.js", JS),
    asset!("buckets.js", JS),
    asset!("objects.js", JS),
    asset!("tokens.js", JS),
    asset!("credentials.js", JS),
    asset!("activity.js", JS),
];

/// The asset called `name`, if there is one.
pub(crate) fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}
