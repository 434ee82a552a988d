//! Authentication: resolves an access key id (and session token) to its signing secret.
//!
//! - Long-lived keys: the access key id is the R2 token id, the secret the stored
//!   `sha256(token value)`.
//! - Temporary credentials: the `X-Amz-Security-Token` (taken by the guard from the header or
//!   query) is parsed and verified by core against the parent's secret, our clock and our
//!   hosts; the signing secret is the token's derived secret.
//!
//! s3s verifies the signature with the returned secret in every payload mode, including each
//! aws-chunk and trailer signature. Whether the parent is still active is *not* decided here:
//! the identity offered to the access gate (through [`crate::context`], the only channel
//! `get_secret_key` has) carries the parent's rights as stored now, and core's `authorize`
//! refuses an inactive parent. [`rights_of`] is also how the commit-time re-check reads them.
//! Likewise whether the credential itself is revoked ([`is_revoked`]): looked up here, refused
//! by `authorize`. Both look-ups go through the node's token cache (`mayfly_store::cache`),
//! which the serving binary wraps around the store, so a hot request does no round trip.

use mayfly_core::{
    AccessKeyId, Claims, CredentialId, TokenRights, VerifyContext, parse_session_token,
};
use mayfly_store::{Entity, MetadataStore, StoreError, TokenRecord, TokenStatus};
use s3s::S3Result;
use s3s::auth::{S3Auth, SecretKey};

use crate::context::{Identity, IdentityKind, RequestContext};
use crate::error::Failure;
use crate::logs::{Signer, note_signer};
use crate::state::S3State;

pub(crate) struct Authenticator {
    pub(crate) state: S3State,
}

#[async_trait::async_trait]
impl S3Auth for Authenticator {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let cx = RequestContext::current()?;
        let now = self.state.clock.now();

        // Parse the token before any lookup: a malformed token is a 400 whatever the key.
        let token = match &cx.session_token {
            Some(t) => Some(parse_session_token(t).map_err(Failure::from)?),
            None => None,
        };

        let key = AccessKeyId::parse(access_key).map_err(|_| Failure::UnknownAccessKey)?;
        let record = lookup(self.state.meta.as_ref(), &key).await?;
        let rights = rights_of(&record, now);

        match token {
            None => {
                note_signer(key.as_str(), Signer::TokenKey);
                cx.offer(Identity {
                    access_key: key,
                    kind: IdentityKind::Token(rights),
                });
                // The stored sha256(value) is the S3 signing secret (SPEC §1); s3s keeps it
                // zeroized and redacted.
                Ok(SecretKey::from(record.secret.expose_secret()))
            }
            Some(token) => {
                let verify = VerifyContext {
                    access_key_id: &key,
                    now,
                    audiences: self.state.hosts.as_slice(),
                };
                let verified = token
                    .verify(&record.secret, &verify)
                    .map_err(Failure::from)?;
                // The derived temporary secret signs the request and every aws-chunk.
                let secret = SecretKey::from(verified.secret_access_key().expose_secret());
                let claims = Box::new(verified.claims().clone());
                let id = verified.credential_id().clone();
                note_signer(key.as_str(), Signer::Temporary);
                crate::logs::note_credential(&id);
                let revoked = is_revoked(self.state.meta.as_ref(), &claims, &id).await?;
                cx.offer(Identity {
                    access_key: key,
                    kind: IdentityKind::Temporary {
                        claims,
                        id,
                        parent: rights,
                        revoked,
                    },
                });
                Ok(secret)
            }
        }
    }
}

/// A token's rights as stored, `active` meaning not revoked and not past its own expiry at
/// `now`.
pub(crate) fn rights_of(record: &TokenRecord, now: u64) -> TokenRights {
    let active =
        record.status == TokenStatus::Active && record.expires_at.is_none_or(|exp| now < exp);
    TokenRights::new(
        record.account.clone(),
        record.permission,
        record.buckets.clone(),
        active,
    )
}

/// Whether this one credential is revoked now, in its own account (`sub`). Decided by core's
/// `authorize` like every other right, so a revoked credential gets the same 403 on every
/// payload mode and operation, and the commit-time re-check asks again.
pub(crate) async fn is_revoked(
    meta: &dyn MetadataStore,
    claims: &Claims,
    id: &CredentialId,
) -> S3Result<bool> {
    meta.credential_revoked(claims.account(), id)
        .await
        .map_err(|e| Failure::from(e).into())
}

/// The token record of `key`; an unknown key is [`Failure::UnknownAccessKey`].
pub(crate) async fn lookup(meta: &dyn MetadataStore, key: &AccessKeyId) -> S3Result<TokenRecord> {
    match meta.get_token(key).await {
        Ok(r) => Ok(r),
        Err(StoreError::NotFound(Entity::Token)) => Err(Failure::UnknownAccessKey.into()),
        Err(e) => Err(Failure::from(e).into()),
    }
}
