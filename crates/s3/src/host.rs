//! The hosts this endpoint answers for, and the s3s [`S3Host`] adapter built on them.
//!
//! s3s 0.14 treats any syntactically valid `Host` as a possible `<bucket>.<domain>`; Mayfly
//! only answers for configured hosts (SPEC §5: the listen `host:port`, `localhost:port` for a
//! loopback listener, plus public endpoint hosts). The same list is the set of accepted token
//! audiences, so a credential minted for one server is refused by another.

use std::net::SocketAddr;

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

/// A validated, lower-cased list of `host[:port]` strings. Invariant: non-empty, each entry
/// 1..=253 bytes of `[a-z0-9.-]` plus an optional bracketed IPv6 literal and `:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointHosts {
    hosts: Vec<String>,
}

/// A configured host that is not a plain `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid endpoint host: {reason}")]
pub struct InvalidHost {
    /// Why it was refused.
    pub reason: &'static str,
}

/// How a request's `Host` header addresses this endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Addressing {
    /// The host is one of ours: the bucket (if any) is in the path.
    PathStyle,
    /// `<bucket>.<one of our hosts>`.
    VirtualHosted { bucket: String },
}

impl EndpointHosts {
    /// Builds the list from explicit hosts (`host` or `host:port`).
    pub fn new<I, S>(hosts: I) -> Result<Self, InvalidHost>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for h in hosts {
            let h = h.as_ref().to_ascii_lowercase();
            validate_host(&h)?;
            if !out.contains(&h) {
                out.push(h);
            }
        }
        if out.is_empty() {
            return Err(InvalidHost {
                reason: "no hosts configured",
            });
        }
        Ok(Self { hosts: out })
    }

    /// The SPEC §5 default: the listen address as `host:port`, `localhost:port` when it is a
    /// loopback address, then every configured public host.
    pub fn for_listener<S: AsRef<str>>(
        listen: SocketAddr,
        public: &[S],
    ) -> Result<Self, InvalidHost> {
        let mut hosts = vec![listen.to_string()];
        if listen.ip().is_loopback() {
            hosts.push(format!("localhost:{}", listen.port()));
        }
        hosts.extend(public.iter().map(|p| p.as_ref().to_owned()));
        Self::new(hosts)
    }

    /// The hosts, lower-cased, in configuration order.
    pub fn as_slice(&self) -> &[String] {
        &self.hosts
    }

    /// Whether `host` (a token `aud` or a `Host` header) is exactly one of ours.
    pub fn contains(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Classifies a `Host` header: one of ours, a bucket under one of ours, or `None`.
    pub(crate) fn classify(&self, host: &str) -> Option<Addressing> {
        let host = host.to_ascii_lowercase();
        if self.contains(&host) {
            return Some(Addressing::PathStyle);
        }
        // Longest base first so that `b.s3.example.com` under both `example.com` and
        // `s3.example.com` resolves to the more specific endpoint.
        let mut best: Option<&str> = None;
        for base in &self.hosts {
            if let Some(bucket) = host
                .strip_suffix(base.as_str())
                .and_then(|h| h.strip_suffix('.'))
                && !bucket.is_empty()
                && best.is_none_or(|b| b.len() > bucket.len())
            {
                best = Some(&host[..bucket.len()]);
            }
        }
        best.map(|b| Addressing::VirtualHosted {
            bucket: b.to_owned(),
        })
    }
}

fn validate_host(h: &str) -> Result<(), InvalidHost> {
    if h.is_empty() || h.len() > 260 {
        return Err(InvalidHost {
            reason: "must be 1 to 260 bytes",
        });
    }
    let (name, port) = if let Some(rest) = h.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or(InvalidHost {
            reason: "unclosed IPv6 literal",
        })?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(InvalidHost {
                reason: "bad IPv6 literal",
            });
        }
        (None, after.strip_prefix(':'))
    } else {
        match h.rsplit_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(h), None),
        }
    };
    if let Some(p) = port
        && p.parse::<u16>().is_err()
    {
        return Err(InvalidHost { reason: "bad port" });
    }
    if let Some(n) = name
        && (n.is_empty()
            || n.split('.').any(|l| l.is_empty())
            || !n
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return Err(InvalidHost {
            reason: "bad host name",
        });
    }
    Ok(())
}

/// The s3s host parser: path-style for our hosts, virtual-hosted for `<bucket>.<ours>`, and an
/// error for anything else (the guard has already refused those; this is the second lock).
pub(crate) struct HostParser {
    pub(crate) hosts: EndpointHosts,
}

impl S3Host for HostParser {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        match self.hosts.classify(host) {
            Some(Addressing::PathStyle) => Ok(VirtualHost::new(host)),
            Some(Addressing::VirtualHosted { bucket }) => {
                Ok(VirtualHost::new(host).with_bucket(bucket))
            }
            None => Err(s3s::s3_error!(
                InvalidRequest,
                "this endpoint does not serve that host"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_listener_answers_for_localhost_too() {
        let h = EndpointHosts::for_listener(
            "127.0.0.1:9000".parse().expect("addr"),
            &["r2.example.com"],
        )
        .expect("hosts");
        assert!(h.contains("127.0.0.1:9000"));
        assert!(h.contains("LOCALHOST:9000"));
        assert!(h.contains("r2.example.com"));
        assert!(!h.contains("localhost:9001"));
    }

    #[test]
    fn only_configured_hosts_are_served() {
        let h = EndpointHosts::new(["s3.example.com", "localhost:9000"]).expect("hosts");
        assert_eq!(h.classify("s3.example.com"), Some(Addressing::PathStyle));
        assert_eq!(
            h.classify("My-Bucket.S3.example.com"),
            Some(Addressing::VirtualHosted {
                bucket: "my-bucket".into()
            })
        );
        assert_eq!(
            h.classify("b.localhost:9000"),
            Some(Addressing::VirtualHosted { bucket: "b".into() })
        );
        assert_eq!(h.classify("evil.com"), None);
        assert_eq!(h.classify("bucket.evil.com"), None);
        assert_eq!(h.classify("xs3.example.com"), None);
        assert_eq!(h.classify(".s3.example.com"), None);
    }

    #[test]
    fn bad_hosts_are_refused() {
        assert!(EndpointHosts::new(Vec::<String>::new()).is_err());
        assert!(EndpointHosts::new(["a..b"]).is_err());
        assert!(EndpointHosts::new(["a:99999"]).is_err());
        assert!(EndpointHosts::new(["a/b"]).is_err());
        assert!(EndpointHosts::new(["[::1]:9000"]).is_ok());
    }
}
