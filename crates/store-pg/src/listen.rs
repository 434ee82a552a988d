//! The cache-invalidation listener of a scale-out node: one dedicated PostgreSQL connection
//! (not from the pool) that `LISTEN`s on the channel every token and revocation change
//! notifies (see `revocations::notify`), handing each message to the node's cache.
//!
//! A connection that drops is reopened with backoff (1 s doubling to 30 s). Every time
//! `LISTEN` is (re)established the cache is told [`Invalidation::All`], since changes made
//! while no connection listened were not heard; meanwhile the cache's TTL bounds staleness.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mayfly_store::{Invalidation, StoreError};
use tokio::sync::{mpsc, watch};
use tokio_postgres::AsyncMessage;

use crate::db::PgUrl;
use crate::options::PgOptions;
use crate::revocations::CHANNEL;

/// The `application_name` of the listening connection (visible in `pg_stat_activity`).
pub const LISTENER_APPLICATION_NAME: &str = "mayfly-invalidations";

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Where invalidations go.
pub type InvalidationSink = Arc<dyn Fn(Invalidation) + Send + Sync>;

/// Listens until `stop` turns true, reconnecting as needed. Spawn it.
pub(crate) async fn run(
    url: PgUrl,
    options: PgOptions,
    sink: InvalidationSink,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let outcome = tokio::select! {
            r = listen_once(&url, &options, &sink) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        match outcome {
            Ok(()) => {
                tracing::warn!(
                    retry_in_ms = backoff.as_millis(),
                    "cache invalidation connection to PostgreSQL closed; entries expire by TTL until it is back"
                );
                backoff = FIRST_BACKOFF;
            }
            Err(e) => tracing::warn!(
                error = %e,
                retry_in_ms = backoff.as_millis(),
                "cache invalidation connection to PostgreSQL failed; entries expire by TTL until it is back"
            ),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's life: connect, `LISTEN`, forward messages until it closes.
async fn listen_once(
    url: &PgUrl,
    options: &PgOptions,
    sink: &InvalidationSink,
) -> Result<(), StoreError> {
    let mut config = url.config()?;
    config.application_name(LISTENER_APPLICATION_NAME);
    let tls = crate::db::apply_options(&mut config, options)?;
    let (client, mut connection) = config.connect(tls).await.map_err(StoreError::backend)?;

    // The connection future must be polled for the client to work; its messages come here.
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });

    let listened = client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(StoreError::backend);
    if let Err(e) = listened {
        driver.abort();
        return Err(e);
    }
    // From here on nothing is missed; before, anything may have been.
    sink(Invalidation::All);
    tracing::info!("listening for cache invalidations from other nodes");

    while let Some(payload) = rx.recv().await {
        sink(Invalidation::decode(&payload));
    }
    drop(client);
    match driver.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StoreError::backend(e)),
        Err(e) => Err(StoreError::backend(e)),
    }
}
