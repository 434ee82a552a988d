//! The audit trail in PostgreSQL ([`AuditStore`] for [`PgMetadata`]): one `audit_events` row
//! per event, `seq` an identity column. A batch is ONE `INSERT ... SELECT FROM unnest(...)`
//! (one round trip whatever its size); listings use the `(account, time_ms, seq)` index and the
//! per-filter indexes. Every node of a cluster writes to and reads from the same table, so an
//! event recorded on one node is listed by every other.

use async_trait::async_trait;
use mayfly_core::AccountId;
use mayfly_store::{
    AuditCursor, AuditEvent, AuditKind, AuditPage, AuditQuery, AuditStore, StoreError,
    StoredAuditEvent,
};
use tokio_postgres::Row;

use crate::PgMetadata;
use crate::buckets::Query;
use crate::codec::{corrupt, from_signed, to_db, usize_to_signed};
use crate::db::{TxResult, in_tx};

const COLUMNS: &str = "seq, account, time_ms, kind, credential_id, parent, bucket, key, \
                       operation, status, bytes, request_id, caller, detail";

fn event_from_row(row: &Row) -> TxResult<StoredAuditEvent> {
    let account: String = row.try_get(1)?;
    let kind: String = row.try_get(3)?;
    let status: Option<i32> = row.try_get(9)?;
    let bytes: Option<i64> = row.try_get(10)?;
    Ok(StoredAuditEvent {
        seq: from_signed(row.try_get(0)?)?,
        event: AuditEvent {
            account: AccountId::parse(&account).map_err(|_| corrupt("audit account"))?,
            time_ms: from_signed(row.try_get(2)?)?,
            kind: AuditKind::parse(&kind).ok_or_else(|| corrupt("audit kind"))?,
            credential_id: row.try_get(4)?,
            parent: row.try_get(5)?,
            bucket: row.try_get(6)?,
            key: row.try_get(7)?,
            operation: row.try_get(8)?,
            status: status
                .map(|s| u16::try_from(s).map_err(|_| corrupt("audit status")))
                .transpose()?,
            bytes: bytes.map(from_signed).transpose()?,
            request_id: row.try_get(11)?,
            caller: row.try_get(12)?,
            detail: row.try_get(13)?,
        },
    })
}

/// The batch as one array per column, for `unnest`.
#[derive(Default)]
struct Columns {
    account: Vec<String>,
    time_ms: Vec<i64>,
    kind: Vec<&'static str>,
    credential_id: Vec<Option<String>>,
    parent: Vec<Option<String>>,
    bucket: Vec<Option<String>>,
    key: Vec<Option<String>>,
    operation: Vec<Option<String>>,
    status: Vec<Option<i32>>,
    bytes: Vec<Option<i64>>,
    request_id: Vec<Option<String>>,
    caller: Vec<Option<String>>,
    detail: Vec<Option<String>>,
}

impl Columns {
    fn of(events: Vec<AuditEvent>) -> Result<Self, StoreError> {
        let mut c = Self::default();
        for e in events {
            c.account.push(e.account.as_str().to_owned());
            c.time_ms.push(to_db(e.time_ms)?);
            c.kind.push(e.kind.as_str());
            c.credential_id.push(e.credential_id);
            c.parent.push(e.parent);
            c.bucket.push(e.bucket);
            c.key.push(e.key);
            c.operation.push(e.operation);
            c.status.push(e.status.map(i32::from));
            c.bytes.push(e.bytes.map(to_db).transpose()?);
            c.request_id.push(e.request_id);
            c.caller.push(e.caller);
            c.detail.push(e.detail);
        }
        Ok(c)
    }
}

#[async_trait]
impl AuditStore for PgMetadata {
    async fn append_audit(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let c = Columns::of(events)?;
        in_tx!(self.pool(), Write, |tx| {
            tx.execute(
                "INSERT INTO audit_events (account, time_ms, kind, credential_id, parent, bucket, \
                 key, operation, status, bytes, request_id, caller, detail) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], \
                 $5::text[], $6::text[], $7::text[], $8::text[], $9::integer[], $10::bigint[], \
                 $11::text[], $12::text[], $13::text[])",
                &[
                    &c.account,
                    &c.time_ms,
                    &c.kind,
                    &c.credential_id,
                    &c.parent,
                    &c.bucket,
                    &c.key,
                    &c.operation,
                    &c.status,
                    &c.bytes,
                    &c.request_id,
                    &c.caller,
                    &c.detail,
                ],
            )
            .await?;
        })
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let limit = query.clamped_limit();
        let mut q = Query::default();
        q.push(
            &format!("SELECT {COLUMNS} FROM audit_events WHERE account = ?"),
            vec![Box::new(query.account.as_str().to_owned())],
        );
        let filters = [
            ("credential_id", query.credential_id.clone()),
            ("parent", query.parent.clone()),
            ("bucket", query.bucket.clone()),
            ("kind", query.kind.map(|k| k.as_str().to_owned())),
        ];
        for (column, value) in filters {
            if let Some(v) = value {
                q.push(&format!(" AND {column} = ?"), vec![Box::new(v)]);
            }
        }
        if let Some(s) = query.since_ms {
            q.push(" AND time_ms >= ?", vec![Box::new(to_db(s)?)]);
        }
        if let Some(u) = query.until_ms {
            q.push(" AND time_ms < ?", vec![Box::new(to_db(u)?)]);
        }
        if let Some(AuditCursor { time_ms, seq }) = query.after {
            let t = to_db(time_ms)?;
            q.push(
                " AND (time_ms, seq) < (?, ?)",
                vec![Box::new(t), Box::new(to_db(seq)?)],
            );
        }
        // One more than asked: tells whether another page exists.
        q.push(
            " ORDER BY time_ms DESC, seq DESC LIMIT ?",
            vec![Box::new(usize_to_signed(limit + 1))],
        );
        let mut events = in_tx!(self.pool(), Read, |tx| {
            let rows = tx.query(&q.sql, &q.params()).await?;
            rows.iter()
                .map(event_from_row)
                .collect::<TxResult<Vec<_>>>()?
        })?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(AuditCursor::after)
        } else {
            None
        };
        Ok(AuditPage { events, next })
    }

    async fn purge_audit(&self, before_ms: u64) -> Result<u64, StoreError> {
        let before = to_db(before_ms)?;
        in_tx!(self.pool(), Write, |tx| {
            tx.execute("DELETE FROM audit_events WHERE time_ms < $1", &[&before])
                .await?
        })
    }
}
