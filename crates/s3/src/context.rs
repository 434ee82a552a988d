//! The one channel between the guard, the auth adapter and the access gate that does not go
//! through s3s: the session token in, the claimed identity out.
//!
//! s3s's `S3Auth::get_secret_key` only receives the access key id, yet a temporary
//! credential's secret depends on its session token, and the identity that secret belongs to
//! is needed again by the gate. Each request therefore runs inside a tokio task-local
//! [`RequestContext`] holding exactly two things:
//!
//! - the session token the guard took from the header or query (read by `get_secret_key`);
//! - the [`Identity`] `get_secret_key` resolved together with the secret it returned, offered
//!   once and taken once by the access gate.
//!
//! An [`Identity`] here is only a *claim*: s3s has not yet checked the signature against the
//! secret. The gate turns it into a [`crate::access::Verified`] (which only the gate can build)
//! once s3s has verified the signature, and hands that value to the handlers through the
//! request's extensions. Nothing else is looked up from this task-local.

use std::sync::{Arc, Mutex};

use mayfly_core::{
    AccessKeyId, AccountId, Claims, CredentialId, Principal, SessionToken, TokenRights,
};
use s3s::S3Result;

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

/// The two kinds of S3 credential.
#[derive(Debug)]
pub(crate) enum IdentityKind {
    /// A long-lived R2 API token used as an S3 key.
    Token(TokenRights),
    /// A temporary credential: its verified claims, its id, the parent's rights now and
    /// whether this one credential is revoked now.
    Temporary {
        claims: Box<Claims>,
        id: CredentialId,
        parent: TokenRights,
        revoked: bool,
    },
}

impl Identity {
    /// The principal core's `authorize` decides for.
    pub(crate) fn principal(&self) -> Principal<'_> {
        match &self.kind {
            IdentityKind::Token(rights) => Principal::Token(rights),
            IdentityKind::Temporary {
                claims,
                parent,
                revoked,
                ..
            } => Principal::Temporary {
                claims,
                parent,
                revoked: *revoked,
            },
        }
    }

    /// The account whose buckets this identity addresses: a bucket name is resolved within it.
    pub(crate) fn account(&self) -> &AccountId {
        match &self.kind {
            IdentityKind::Token(rights) => rights.account(),
            IdentityKind::Temporary { claims, .. } => claims.account(),
        }
    }

    /// The rights of the API token behind this identity (itself, or the parent), as they were
    /// read when the request was authenticated.
    pub(crate) fn token_rights(&self) -> &TokenRights {
        match &self.kind {
            IdentityKind::Token(rights) => rights,
            IdentityKind::Temporary { parent, .. } => parent,
        }
    }
}

/// What the slot for the claimed identity holds.
enum Slot {
    Empty,
    Offered(Identity),
    /// Taken by the gate, or offered twice (then nothing may be taken).
    Closed,
}

/// The per-request exchange (see the module docs).
pub(crate) struct RequestContext {
    /// Read by `get_secret_key` (and the guard's own tests); written once, by the guard.
    pub(crate) session_token: Option<SessionToken>,
    claimed: Mutex<Slot>,
}

impl RequestContext {
    pub(crate) fn new(session_token: Option<SessionToken>) -> Self {
        Self {
            session_token,
            claimed: Mutex::new(Slot::Empty),
        }
    }

    /// Runs `fut` with this exchange installed.
    pub(crate) async fn scope<F: Future>(self: Arc<Self>, fut: F) -> F::Output {
        REQUEST.scope(self, fut).await
    }

    /// The exchange of the request being served.
    pub(crate) fn current() -> S3Result<Arc<RequestContext>> {
        REQUEST
            .try_with(Arc::clone)
            .map_err(|_| crate::error::context_missing())
    }

    /// Records the identity behind the secret `get_secret_key` is about to return. A second
    /// offer in one request closes the slot: the gate then refuses, whatever was verified.
    pub(crate) fn offer(&self, identity: Identity) {
        if let Ok(mut slot) = self.claimed.lock() {
            *slot = match std::mem::replace(&mut *slot, Slot::Closed) {
                Slot::Empty => Slot::Offered(identity),
                Slot::Offered(_) | Slot::Closed => Slot::Closed,
            };
        }
    }

    /// Takes the claimed identity, once. `None` when nothing (or more than one) was offered.
    pub(crate) fn take(&self) -> Option<Identity> {
        let mut slot = self.claimed.lock().ok()?;
        match std::mem::replace(&mut *slot, Slot::Closed) {
            Slot::Offered(identity) => Some(identity),
            Slot::Empty | Slot::Closed => None,
        }
    }
}
