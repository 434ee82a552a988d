//! `mayfly creds revoke`: revoke one temporary credential on a Mayfly server, by id or by
//! session token, through `mayfly-client` (a Mayfly extension).

use std::process::ExitCode;

use anyhow::Context;
use mayfly_client::RevokeTarget;
use mayfly_core::{CredentialId, SessionToken};
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::RevokeArgs;
use crate::commands::{connect, print_json};

/// Reads what to revoke: an id as is, anything else as a session token (`-`: stdin).
fn target(arg: &str) -> anyhow::Result<RevokeTarget> {
    let text = if arg == "-" {
        let mut s = Zeroizing::new(String::new());
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("cannot read standard input")?;
        Zeroizing::new(s.trim().to_owned())
    } else {
        Zeroizing::new(arg.trim().to_owned())
    };
    if let Some(id) = CredentialId::parse(&text) {
        return Ok(RevokeTarget::Id(id));
    }
    let token = SessionToken::from_untrusted(&text);
    // Parsed here too, so a typo is told without a round trip (and without echoing it).
    mayfly_core::parse_session_token(&token).map_err(|e| {
        anyhow::anyhow!(
            "not a credential id (32 lowercase hex characters) nor a session token: {e}"
        )
    })?;
    Ok(RevokeTarget::SessionToken(token))
}

/// Runs the command.
pub async fn revoke(args: &RevokeArgs) -> anyhow::Result<ExitCode> {
    let what = target(&args.credential)?;
    let (client, account) = connect(&args.target)?;
    let entry = client.revoke_credential(&account, &what).await?;
    if args.json {
        print_json(&json!({
            "credential_id": entry.credential_id,
            "bucket": entry.bucket,
            "parent_access_key_id": entry.parent_access_key_id,
            "revoked_on": entry.revoked_on,
            "expires_on": entry.expires_on,
        }))?;
    } else {
        println!("revoked:     {}", entry.credential_id);
        if let Some(b) = &entry.bucket {
            println!("bucket:      {b}");
        }
        if let Some(p) = &entry.parent_access_key_id {
            println!("parent:      {p}");
        }
        println!("revoked on:  {}", entry.revoked_on);
        println!(
            "forgotten:   {} (the credential cannot be used past it)",
            entry.expires_on
        );
    }
    Ok(ExitCode::SUCCESS)
}
