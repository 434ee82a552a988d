//! `mayfly creds mint` and `mayfly creds inspect`: temporary credentials for people and tools.
//!
//! Minting is remote (the temp-access-credentials endpoint of Mayfly or Cloudflare, through
//! `mayfly-client`) or local (`mayfly_core::mint` with the parent's secret, byte-compatible
//! with Cloudflare's format, so it works against real R2). Either way the result is printed in
//! one of three shapes: shell `export` lines, JSON, or the AWS `credential_process` JSON.
//! Inspecting decodes a session token (no secret needed) and, given the parent's secret,
//! verifies it with `mayfly_core`'s own checks. Core reads no clock: `now` is taken here.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context, bail};
use mayfly_client::TempCredentialsRequest;
use mayfly_core::{
    AccessKeyId, AccountId, Claims, S3Action, SecretAccessKey, SessionToken, TemporaryCredentials,
    TokenError, VerifyContext, mint, parse_session_token,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::{CredsFormat, InspectArgs, MintArgs, ParentSecretArgs};
use crate::commands::{bucket_name, connect, permission, print_json};

/// The environment variable holding the parent secret when no flag names one.
pub const ENV_PARENT_SECRET: &str = "MAYFLY_PARENT_SECRET";

/// `mayfly creds mint`: mints locally or through the API and prints the credential.
pub async fn mint_command(args: &MintArgs) -> anyhow::Result<ExitCode> {
    let now = unix_now()?;
    let minted = if args.local {
        mint_local(args, now)?
    } else {
        mint_remote(args, now).await?
    };
    let format = if args.json {
        CredsFormat::Json
    } else {
        args.format
    };
    // Printing is the point of this command: its output is a credential.
    print!("{}", render(&minted, format));
    Ok(ExitCode::SUCCESS)
}

/// Seconds since the Unix epoch, from the system clock.
pub fn unix_now() -> anyhow::Result<u64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs())
}

/// A freshly minted credential and what a client needs beside it.
pub struct Minted {
    /// Access key id, secret and session token.
    pub creds: TemporaryCredentials,
    /// Expiry, epoch seconds (the token's `exp`).
    pub expires_at: u64,
    /// The S3 endpoint URL to use the credential with.
    pub endpoint: String,
}

/// Reads the parent secret from, in order, the flag, the file, `MAYFLY_PARENT_SECRET`.
/// `Ok(None)` when none is given.
pub fn parent_secret(args: &ParentSecretArgs) -> anyhow::Result<Option<SecretAccessKey>> {
    let raw: Zeroizing<String> =
        if let Some(s) = &args.parent_secret {
            Zeroizing::new(s.clone())
        } else if let Some(path) = &args.parent_secret_file {
            Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the parent secret file {}", path.display())
            })?)
        } else {
            match std::env::var(ENV_PARENT_SECRET) {
                Ok(v) if !v.trim().is_empty() => Zeroizing::new(v),
                _ => return Ok(None),
            }
        };
    let lower = Zeroizing::new(raw.trim().to_ascii_lowercase());
    let secret = SecretAccessKey::parse(&lower).map_err(|_| {
        anyhow::anyhow!(
            "invalid parent secret: expected the parent token's S3 secret access key, \
             64 hex characters"
        )
    })?;
    Ok(Some(secret))
}

/// `host[:port]` of an endpoint URL: what a token's `aud` names.
pub fn audience_of(endpoint: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(endpoint)
        .with_context(|| format!("invalid --endpoint {endpoint:?}: expected a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("invalid --endpoint {endpoint:?}: the scheme must be http or https");
    }
    let host = url
        .host_str()
        .with_context(|| format!("invalid --endpoint {endpoint:?}: no host"))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// The endpoint URL for a token's audience host: `http://` for loopback, else `https://`.
fn endpoint_for_audience(aud: &str) -> String {
    let host = match aud.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => aud,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        format!("http://{aud}")
    } else {
        format!("https://{aud}")
    }
}

/// `--local`: signs the claims here with the parent's secret. `now` is the issue time unless
/// `--issued-at` pins it.
pub fn mint_local(args: &MintArgs, now: u64) -> anyhow::Result<Minted> {
    let secret = parent_secret(&args.secret)?.with_context(|| {
        format!(
            "--local needs the parent secret: --parent-secret-file PATH, \
             the {ENV_PARENT_SECRET} environment variable, or --parent-secret"
        )
    })?;
    let account =
        args.target.account_id.as_deref().context(
            "--local needs the account id: pass --account-id or set CLOUDFLARE_ACCOUNT_ID",
        )?;
    let account = AccountId::parse(account).context("invalid account id")?;
    let parent = args
        .parent_key_id
        .as_deref()
        .context("--local needs the parent's access key id: pass --parent-key-id")?;
    let parent = AccessKeyId::parse(parent).context("invalid --parent-key-id")?;
    let endpoint = args
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://{account}.r2.cloudflarestorage.com"));
    let audience = audience_of(&endpoint)?;
    let actions = parse_actions(&args.actions)?;
    let claims = Claims::builder(
        bucket_name(&args.bucket)?,
        permission(&args.permission)?,
        account,
        parent,
        audience,
    )
    .prefixes(args.prefixes.clone())
    .objects(args.objects.clone())
    .actions(actions)
    .issued_at(args.issued_at.unwrap_or(now))
    .ttl_secs(args.ttl)
    .build()
    .map_err(|e| anyhow::anyhow!("cannot mint: {e}"))?;
    let creds = mint(&claims, &secret);
    Ok(Minted {
        creds,
        expires_at: claims.expires_at(),
        endpoint,
    })
}

/// `--action` values, checked against the token format's names (locally and remotely alike).
fn parse_actions(names: &[String]) -> anyhow::Result<Vec<S3Action>> {
    names
        .iter()
        .map(|a| {
            S3Action::parse(a).with_context(|| {
                let names: Vec<&str> = S3Action::ALL.iter().map(|a| a.as_str()).collect();
                format!("unknown --action {a:?}; valid: {}", names.join(", "))
            })
        })
        .collect()
}

/// Remote: `POST /accounts/{a}/r2/temp-access-credentials` through `mayfly-client`.
pub async fn mint_remote(args: &MintArgs, now: u64) -> anyhow::Result<Minted> {
    if args.secret.parent_secret.is_some() || args.secret.parent_secret_file.is_some() {
        bail!("--parent-secret and --parent-secret-file are for --local minting only");
    }
    let (client, account) = connect(&args.target)?;
    let parent = match &args.parent_key_id {
        Some(id) => id.clone(),
        // The caller's own token: R2 API tokens double as S3 keys, id = access key id.
        None => {
            client
                .verify_token()
                .await
                .context("no --parent-key-id, and cannot look up the API token's own id")?
                .id
        }
    };
    let parent = AccessKeyId::parse(&parent).context("invalid --parent-key-id")?;
    let req = TempCredentialsRequest::new(
        bucket_name(&args.bucket)?,
        parent,
        permission(&args.permission)?,
    )
    .ttl_seconds(args.ttl)
    .prefixes(args.prefixes.clone())
    .objects(args.objects.clone())
    .actions(parse_actions(&args.actions)?);
    let creds = client.create_temp_credentials(&account, &req).await?;
    // The expiry and audience are read from the token itself (not verified: we hold no
    // secret); a token in an unknown format falls back to now + ttl and needs --endpoint.
    let claims = parse_session_token(&creds.session_token)
        .ok()
        .map(|t| t.dangerous_unverified_claims().clone());
    let expires_at = claims
        .as_ref()
        .map_or(now.saturating_add(args.ttl), Claims::expires_at);
    let endpoint = match (&args.endpoint, &claims) {
        (Some(e), _) => {
            audience_of(e)?;
            e.clone()
        }
        (None, Some(c)) => endpoint_for_audience(c.audience()),
        (None, None) => {
            bail!("the server's session token does not name its S3 endpoint: pass --endpoint URL")
        }
    };
    Ok(Minted {
        creds,
        expires_at,
        endpoint,
    })
}

/// Prints a credential in the requested shape (always newline-terminated).
pub fn render(m: &Minted, format: CredsFormat) -> String {
    let key_id = m.creds.access_key_id.as_str();
    let secret = m.creds.secret_access_key.expose_secret();
    let session = m.creds.session_token.expose_secret();
    let expiration = rfc3339(m.expires_at);
    match format {
        CredsFormat::Env => {
            let mut out = String::new();
            for (k, v) in [
                ("AWS_ACCESS_KEY_ID", key_id),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_SESSION_TOKEN", session),
                ("AWS_ENDPOINT_URL", m.endpoint.as_str()),
                ("AWS_REGION", "auto"),
                // botocore (AWS CLI v1, boto3) reads the region from this one.
                ("AWS_DEFAULT_REGION", "auto"),
            ] {
                out.push_str(&format!("export {k}={}\n", shell_quote(v)));
            }
            out
        }
        CredsFormat::Json => pretty(&json!({
            "accessKeyId": key_id,
            "secretAccessKey": secret,
            "sessionToken": session,
            "expiration": expiration,
            "endpoint": m.endpoint,
        })),
        CredsFormat::CredentialProcess => pretty(&json!({
            "Version": 1,
            "AccessKeyId": key_id,
            "SecretAccessKey": secret,
            "SessionToken": session,
            "Expiration": expiration,
        })),
    }
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Quotes a value for POSIX shells: unchanged when every byte is plainly safe, else wrapped in
/// single quotes with each `'` written as `'\''`.
pub fn shell_quote(v: &str) -> String {
    let safe = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:+=@%,".contains(&b));
    if safe {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\'', r"'\''"))
    }
}

/// Epoch seconds as RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ` (the API's own formatter).
pub use mayfly_api::time::rfc3339;

/// `14m 59s`, `2h 3m`, `6d 23h`.
fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// A stable name for each verification failure (the JSON `verification.error`).
pub(crate) fn token_error_slug(e: TokenError) -> &'static str {
    match e {
        TokenError::TooLarge => "too_large",
        TokenError::Malformed => "malformed",
        TokenError::UnsupportedHeader => "unsupported_header",
        TokenError::Claims(_) => "claims",
        TokenError::IssuerMismatch => "issuer_mismatch",
        TokenError::AudienceMismatch => "audience_mismatch",
        TokenError::BadSignature => "bad_signature",
        TokenError::NotYetValid => "not_yet_valid",
        TokenError::Expired => "expired",
        TokenError::BadLifetime => "bad_lifetime",
    }
}

/// Where the token to inspect comes from: the argument, stdin for `-`, else
/// `AWS_SESSION_TOKEN`, else stdin.
pub(crate) fn read_token(arg: Option<&str>) -> anyhow::Result<SessionToken> {
    let from_stdin = || -> anyhow::Result<Zeroizing<String>> {
        let mut stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!("reading the session token from standard input (end with Ctrl-D)");
        }
        let mut buf = Zeroizing::new(String::new());
        // Bounded: a session token is at most 32 KiB; read a little more to detect excess.
        let limit = u64::try_from(mayfly_core::MAX_SESSION_TOKEN_LEN * 2).unwrap_or(u64::MAX);
        stdin
            .by_ref()
            .take(limit)
            .read_to_string(&mut buf)
            .context("cannot read the session token from standard input")?;
        Ok(buf)
    };
    let text = match arg {
        Some("-") => from_stdin()?,
        Some(t) => Zeroizing::new(t.to_owned()),
        None => match std::env::var("AWS_SESSION_TOKEN") {
            Ok(v) if !v.trim().is_empty() => Zeroizing::new(v),
            _ => from_stdin()?,
        },
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        bail!(
            "no session token given: pass it as an argument, `-` to read standard input, or set AWS_SESSION_TOKEN"
        );
    }
    Ok(SessionToken::from_untrusted(trimmed))
}

/// The verification outcome of `inspect`.
enum Verdict {
    NotChecked,
    Valid,
    Invalid(TokenError),
}

/// `mayfly creds inspect`.
pub fn inspect(args: &InspectArgs, now: u64) -> anyhow::Result<ExitCode> {
    let token = read_token(args.token.as_deref())?;
    let secret = parent_secret(&args.secret)?;
    let expected_issuer = args
        .parent_key_id
        .as_deref()
        .map(AccessKeyId::parse)
        .transpose()
        .context("invalid --parent-key-id")?;
    let expected_audience = args.endpoint.as_deref().map(audience_of).transpose()?;

    let parsed = parse_session_token(&token).map_err(|e| {
        anyhow::anyhow!(
            "cannot decode the session token: {e} (expected the AWS_SESSION_TOKEN value of an \
             R2 temporary credential)"
        )
    })?;
    let claims = parsed.dangerous_unverified_claims().clone();
    // Computable from the token alone, verified or not (the signed bytes name it).
    let credential_id = parsed.credential_id().clone();
    let verdict = match &secret {
        None => Verdict::NotChecked,
        Some(secret) => {
            let issuer = expected_issuer
                .clone()
                .unwrap_or_else(|| claims.issuer().clone());
            let audiences = [expected_audience
                .clone()
                .unwrap_or_else(|| claims.audience().to_owned())];
            let ctx = VerifyContext {
                access_key_id: &issuer,
                now,
                audiences: &audiences,
            };
            match parsed.verify(secret, &ctx) {
                Ok(_) => Verdict::Valid,
                Err(e) => Verdict::Invalid(e),
            }
        }
    };

    let (iat, exp) = (claims.issued_at(), claims.expires_at());
    let seconds_left = i128::from(exp) - i128::from(now);
    let prefixes = claims.paths().map(|p| p.prefixes().to_vec());
    let objects = claims.paths().map(|p| p.objects().to_vec());
    let actions: Vec<&str> = claims.actions().iter().map(|a| a.as_str()).collect();
    let mut not_checked = Vec::new();
    if expected_issuer.is_none() {
        not_checked.push("issuer (no --parent-key-id)");
    }
    if expected_audience.is_none() {
        not_checked.push("audience (no --endpoint)");
    }

    if args.json {
        let verification = match verdict {
            Verdict::NotChecked => json!({"checked": false, "valid": null}),
            Verdict::Valid => json!({"checked": true, "valid": true, "not_checked": not_checked}),
            Verdict::Invalid(e) => json!({
                "checked": true, "valid": false,
                "error": token_error_slug(e), "message": e.to_string(),
                "not_checked": not_checked,
            }),
        };
        print_json(&json!({
            "credential_id": credential_id.as_str(),
            "bucket": claims.bucket().as_str(),
            "permission": claims.permission().as_str(),
            "actions": actions,
            "prefixes": prefixes,
            "objects": objects,
            "issuer": claims.issuer().as_str(),
            "account": claims.account().as_str(),
            "audience": claims.audience(),
            "issued_at": iat,
            "expires_at": exp,
            "issued": rfc3339(iat),
            "expires": rfc3339(exp),
            "seconds_left": seconds_left,
            "expired": now >= exp,
            "verification": verification,
        }))?;
    } else {
        let list = |v: &[String]| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            }
        };
        println!("credential:  {credential_id} (id, for `mayfly creds revoke`)");
        println!("bucket:      {}", claims.bucket());
        println!("permission:  {}", claims.permission().as_str());
        if actions.is_empty() {
            println!("actions:     (all the permission allows)");
        } else {
            println!("actions:     {}", actions.join(", "));
        }
        match claims.paths() {
            None => println!("paths:       (whole bucket)"),
            Some(p) => {
                println!("prefixes:    {}", list(p.prefixes()));
                println!("objects:     {}", list(p.objects()));
            }
        }
        println!("issuer:      {} (parent access key id)", claims.issuer());
        println!("account:     {}", claims.account());
        println!("audience:    {}", claims.audience());
        println!("issued:      {} ({iat})", rfc3339(iat));
        println!("expires:     {} ({exp})", rfc3339(exp));
        let left = u64::try_from(seconds_left.unsigned_abs()).unwrap_or(u64::MAX);
        if seconds_left > 0 {
            println!("time left:   {}", human_duration(left));
        } else {
            println!("time left:   none, expired {} ago", human_duration(left));
        }
        match verdict {
            Verdict::NotChecked => println!(
                "verdict:     NOT VERIFIED (decoded only; give the parent secret to verify)"
            ),
            Verdict::Valid => {
                println!("verdict:     VALID (signature, lifetime, issuer and audience check out)");
                if !not_checked.is_empty() {
                    println!("not checked: {}", not_checked.join(", "));
                }
            }
            Verdict::Invalid(e) => println!("verdict:     INVALID: {e}"),
        }
    }
    Ok(match verdict {
        Verdict::Invalid(e) => {
            eprintln!("error: the session token does not verify: {e}");
            ExitCode::FAILURE
        }
        Verdict::NotChecked | Verdict::Valid => ExitCode::SUCCESS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_leaves_safe_values_and_quotes_the_rest() {
        assert_eq!(shell_quote("auto"), "auto");
        assert_eq!(shell_quote("and0L2V5+/=="), "and0L2V5+/==");
        assert_eq!(
            shell_quote("http://127.0.0.1:8788"),
            "http://127.0.0.1:8788"
        );
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's $(x)"), r"'it'\''s $(x)'");
        assert_eq!(shell_quote("~root"), "'~root'");
    }

    #[test]
    fn audience_is_host_and_explicit_port() {
        assert_eq!(
            audience_of("https://abc.r2.cloudflarestorage.com").ok(),
            Some("abc.r2.cloudflarestorage.com".to_owned())
        );
        assert_eq!(
            audience_of("https://abc.r2.cloudflarestorage.com:443/").ok(),
            Some("abc.r2.cloudflarestorage.com".to_owned())
        );
        assert_eq!(
            audience_of("http://127.0.0.1:8788").ok(),
            Some("127.0.0.1:8788".to_owned())
        );
        assert_eq!(
            audience_of("http://[::1]:8788").ok(),
            Some("[::1]:8788".to_owned())
        );
        assert!(audience_of("ftp://x").is_err());
        assert!(audience_of("127.0.0.1:8788/x").is_err());
    }

    #[test]
    fn endpoint_scheme_follows_loopback() {
        assert_eq!(
            endpoint_for_audience("127.0.0.1:8788"),
            "http://127.0.0.1:8788"
        );
        assert_eq!(endpoint_for_audience("[::1]:9000"), "http://[::1]:9000");
        assert_eq!(endpoint_for_audience("localhost:1"), "http://localhost:1");
        assert_eq!(
            endpoint_for_audience("abc.r2.cloudflarestorage.com"),
            "https://abc.r2.cloudflarestorage.com"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(899), "14m 59s");
        assert_eq!(human_duration(7380), "2h 3m");
        assert_eq!(human_duration(604_799), "6d 23h");
    }
}
