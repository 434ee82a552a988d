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
//! the identity recorded for the access gate carries the parent's rights as stored now, and
//! core's `authorize` refuses an inactive parent.

use mayfly_core::{AccessKeyId, TokenRights, VerifyContext, parse_session_token};
use mayfly_store::{Entity, MetadataStore, StoreError, TokenStatus};
use s3s::S3Result;
use s3s::auth::{S3Auth, SecretKey};

use crate::context::{Identity, IdentityKind, RequestContext};
use crate::error::Failure;
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
        let active =
            record.status == TokenStatus::Active && record.expires_at.is_none_or(|exp| now < exp);
        let rights = TokenRights::new(
            record.account.clone(),
            record.permission,
            record.buckets.clone(),
            active,
        );

        match token {
            None => {
                cx.set_identity(Identity {
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
                cx.set_identity(Identity {
                    access_key: key,
                    kind: IdentityKind::Temporary {
                        claims,
                        parent: rights,
                    },
                });
                Ok(secret)
            }
        }
    }
}

async fn lookup(
    meta: &dyn MetadataStore,
    key: &AccessKeyId,
) -> S3Result<mayfly_store::TokenRecord> {
    match meta.get_token(key).await {
        Ok(r) => Ok(r),
        Err(StoreError::NotFound(Entity::Token)) => Err(Failure::UnknownAccessKey.into()),
        Err(e) => Err(Failure::from(e).into()),
    }
}
