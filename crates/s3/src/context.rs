//! Per-request state shared by the guard, the auth adapter and the access gate.
//!
//! s3s's `S3Auth::get_secret_key` only receives the access key id, but a temporary credential's
//! secret depends on the session token. The router therefore runs each request inside a tokio
//! task-local holding this context: the guard fills in the token, the auth adapter reads it and
//! records who was authenticated, and the access gate reads that identity back.

use std::sync::{Arc, Mutex};

use mayfly_core::{AccessKeyId, AccountId, Claims, Principal, SessionToken, TokenRights};
use s3s::{S3Error, S3Result, s3_error};

tokio::task_local! {
    static REQUEST: Arc<RequestContext>;
}

/// Who signed the request, as the auth adapter resolved it. Only trusted once s3s has verified
/// the signature with the secret that came with it.
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) access_key: AccessKeyId,
    pub(crate) kind: IdentityKind,
}

#[derive(Debug)]
pub(crate) enum IdentityKind {
    /// A long-lived R2 API token used as an S3 key.
    Token(TokenRights),
    /// A temporary credential: its verified claims and the parent's rights now.
    Temporary {
        claims: Box<Claims>,
        parent: TokenRights,
    },
}

impl Identity {
    /// The principal core's `authorize` decides for.
    pub(crate) fn principal(&self) -> Principal<'_> {
        match &self.kind {
            IdentityKind::Token(rights) => Principal::Token(rights),
            IdentityKind::Temporary { claims, parent } => Principal::Temporary { claims, parent },
        }
    }

    /// The account whose buckets this identity addresses: a bucket name is resolved within it.
    pub(crate) fn account(&self) -> &AccountId {
        match &self.kind {
            IdentityKind::Token(rights) => rights.account(),
            IdentityKind::Temporary { claims, .. } => claims.account(),
        }
    }
}

pub(crate) struct RequestContext {
    pub(crate) session_token: Option<SessionToken>,
    identity: Mutex<Option<Arc<Identity>>>,
}

impl RequestContext {
    pub(crate) fn new(session_token: Option<SessionToken>) -> Self {
        Self {
            session_token,
            identity: Mutex::new(None),
        }
    }

    /// Runs `fut` with this context installed.
    pub(crate) async fn scope<F: Future>(self: Arc<Self>, fut: F) -> F::Output {
        REQUEST.scope(self, fut).await
    }

    /// The context of the request being served.
    pub(crate) fn current() -> S3Result<Arc<RequestContext>> {
        REQUEST
            .try_with(Arc::clone)
            .map_err(|_| s3_error!(InternalError, "request context missing"))
    }

    pub(crate) fn set_identity(&self, identity: Identity) {
        if let Ok(mut slot) = self.identity.lock() {
            *slot = Some(Arc::new(identity));
        }
    }

    /// The identity for `access_key`, if the auth adapter resolved exactly that key.
    pub(crate) fn identity_for(&self, access_key: &str) -> Result<Arc<Identity>, S3Error> {
        let slot = self.identity.lock().map_err(|_| s3_error!(InternalError))?;
        match slot.as_ref() {
            Some(id) if id.access_key.as_str() == access_key => Ok(Arc::clone(id)),
            _ => Err(s3_error!(AccessDenied, "Access Denied")),
        }
    }
}
