//! The API client subcommands (`token`, `bucket`): turn flags into `mayfly-client` calls and
//! print the answers, as text for people or JSON for scripts. They work against Mayfly or
//! Cloudflare alike. `creds` lives in [`crate::creds`].

use anyhow::Context;
use mayfly_client::{
    ApiToken, Client, CreateBucketRequest, CreateTokenRequest, ListBucketsParams, TokenInfo,
    UpdateStatus, UpdateTokenRequest,
};
use mayfly_core::{AccessKeyId, AccountId, BucketName, Permission};
use serde_json::json;

use crate::cli::{ApiTarget, BucketCommand, TokenCommand, TokenUpdateArgs};

pub(crate) fn connect(target: &ApiTarget) -> anyhow::Result<(Client, AccountId)> {
    let mut builder = Client::builder();
    if let Some(url) = &target.api_url {
        builder = builder.base_url(url.clone());
    }
    if let Some(token) = &target.api_token {
        builder = builder.api_token(ApiToken::new(token.clone()));
    }
    let client = builder.build().context("cannot configure the API client")?;
    let raw = target
        .account_id
        .as_deref()
        .context("no account id: pass --account-id or set CLOUDFLARE_ACCOUNT_ID")?;
    let account = AccountId::parse(raw).context("invalid account id")?;
    Ok((client, account))
}

pub(crate) fn bucket_name(s: &str) -> anyhow::Result<BucketName> {
    BucketName::parse(s).with_context(|| format!("invalid bucket name {s:?}"))
}

pub(crate) fn permission(s: &str) -> anyhow::Result<Permission> {
    Permission::parse(s).with_context(|| format!("invalid permission {s:?}"))
}

pub(crate) fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// `mayfly token ...`.
pub async fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            target,
            permission: p,
            buckets,
            name,
            json,
        } => {
            let (client, account) = connect(&target)?;
            let permission = permission(&p)?;
            let buckets = buckets
                .iter()
                .map(|b| bucket_name(b))
                .collect::<Result<Vec<_>, _>>()?;
            let name = name.unwrap_or_else(|| format!("mayfly-cli {permission}"));
            let req = CreateTokenRequest::new(name, permission).buckets(buckets);
            let created = client.create_token(&account, &req).await?;
            // The value and secret are printed because the user asked to create them: this is
            // the only time they exist outside the caller's hands.
            let value = created.value.expose_secret();
            let secret = created.secret_access_key.expose_secret();
            if json {
                print_json(&json!({
                    "id": created.info.id.as_str(),
                    "name": created.info.name,
                    "value": value,
                    "access_key_id": created.info.id.as_str(),
                    "secret_access_key": secret,
                }))?;
            } else {
                println!("id:                {}", created.info.id);
                println!("value:             {value}");
                println!("access_key_id:     {}", created.info.id);
                println!("secret_access_key: {secret}");
                println!("The value is shown only now.");
            }
        }
        TokenCommand::List { target, json } => {
            let (client, account) = connect(&target)?;
            let tokens = client.list_tokens(&account).await?;
            if json {
                let list: Vec<_> = tokens.iter().map(token_json).collect();
                print_json(&json!(list))?;
            } else {
                for t in tokens {
                    let perm = t.permission.map(Permission::as_str).unwrap_or("-");
                    let buckets = t.buckets.map(|b| b.join(",")).unwrap_or_else(|| "*".into());
                    println!(
                        "{}  {:<8}  {:<17}  {:<20}  {}",
                        t.id, t.status, perm, buckets, t.name
                    );
                }
            }
        }
        TokenCommand::Update(args) => token_update(*args).await?,
        TokenCommand::Revoke { target, id } => {
            let (client, account) = connect(&target)?;
            let id = AccessKeyId::parse(&id).context("invalid token id")?;
            client.revoke_token(&account, &id).await?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

fn token_json(t: &TokenInfo) -> serde_json::Value {
    json!({
        "id": t.id.as_str(),
        "name": t.name,
        "status": t.status,
        "permission": t.permission.map(Permission::as_str),
        "buckets": t.buckets,
        "issued_on": t.issued_on,
        "expires_on": t.expires_on,
    })
}

/// `mayfly token update`: reads the token, applies the flags to its current settings and sends
/// the whole set back (the API replaces all of them, as Cloudflare's does).
async fn token_update(args: TokenUpdateArgs) -> anyhow::Result<()> {
    if args.permission.is_some_and(Permission::is_admin) && !args.buckets.is_empty() {
        // A command-line mistake, reported like clap's own (exit status 2), before any request.
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        cli.build();
        let update = cli
            .find_subcommand_mut("token")
            .and_then(|t| t.find_subcommand_mut("update"))
            .expect("`token update` is defined in cli.rs");
        update
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--bucket only applies to object-level permissions (admin is account-wide)",
            )
            .exit();
    }
    let (client, account) = connect(&args.target)?;
    let id = AccessKeyId::parse(&args.id).context("invalid token id")?;
    let current = client
        .get_token(&account, &id)
        .await
        .with_context(|| format!("cannot read token {id}"))?;
    let permission = match (args.permission, current.permission) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => {
            anyhow::bail!("the server does not report token {id}'s permission: pass --permission")
        }
    };
    if permission.is_admin() && !args.buckets.is_empty() {
        anyhow::bail!(
            "token {id} is {permission}, which is account-wide: --bucket needs an object-level \
             --permission"
        );
    }
    let buckets = if permission.is_admin() || args.all_buckets {
        Vec::new()
    } else if !args.buckets.is_empty() {
        args.buckets
    } else {
        current
            .buckets
            .unwrap_or_default()
            .iter()
            .map(|b| bucket_name(b))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut req =
        UpdateTokenRequest::new(args.name.unwrap_or(current.name), permission).buckets(buckets);
    if args.disable {
        req = req.status(UpdateStatus::Disabled);
    } else if args.enable {
        req = req.status(UpdateStatus::Active);
    }
    let expires_on = if args.no_expiry {
        None
    } else {
        args.expires_on.or(current.expires_on)
    };
    if let Some(t) = expires_on {
        req = req.expires_on(t);
    }
    let updated = client.update_token(&account, &id, &req).await?;
    if args.json {
        print_json(&token_json(&updated))?;
    } else {
        let perm = updated.permission.map(Permission::as_str).unwrap_or("-");
        let buckets = updated
            .buckets
            .as_ref()
            .map(|b| b.join(","))
            .unwrap_or_else(|| "*".into());
        println!("updated {}", updated.id);
        println!("name:        {}", updated.name);
        println!("status:      {}", updated.status);
        println!("permission:  {perm}");
        println!("buckets:     {buckets}");
        println!(
            "expires_on:  {}",
            updated.expires_on.as_deref().unwrap_or("never")
        );
    }
    Ok(())
}

/// `mayfly bucket ...`.
pub async fn bucket(cmd: BucketCommand) -> anyhow::Result<()> {
    match cmd {
        BucketCommand::Create { target, name, json } => {
            let (client, account) = connect(&target)?;
            let b = client
                .create_bucket(&account, &CreateBucketRequest::new(bucket_name(&name)?))
                .await?;
            if json {
                print_json(&json!({"name": b.name.as_str(), "creation_date": b.creation_date}))?;
            } else {
                println!("created {}", b.name);
            }
        }
        BucketCommand::List {
            target,
            name_contains,
            json,
        } => {
            let (client, account) = connect(&target)?;
            let mut params = ListBucketsParams {
                name_contains,
                ..ListBucketsParams::default()
            };
            let mut all = Vec::new();
            // Follow cursors, bounded so a misbehaving server cannot loop us forever.
            for _ in 0..10_000 {
                let page = client.list_buckets(&account, &params).await?;
                all.extend(page.buckets);
                match page.cursor {
                    Some(c) if params.cursor.as_deref() != Some(c.as_str()) => {
                        params.cursor = Some(c)
                    }
                    Some(_) | None => break,
                }
            }
            if json {
                let list: Vec<_> = all
                    .iter()
                    .map(|b| json!({"name": b.name.as_str(), "creation_date": b.creation_date}))
                    .collect();
                print_json(&json!(list))?;
            } else {
                for b in all {
                    println!("{}  {}", b.creation_date, b.name);
                }
            }
        }
        BucketCommand::Delete { target, name } => {
            let (client, account) = connect(&target)?;
            client.delete_bucket(&account, &bucket_name(&name)?).await?;
            println!("deleted {name}");
        }
    }
    Ok(())
}
