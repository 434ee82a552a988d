//! The audit trail in SQLite ([`AuditStore`] for [`LocalMetadata`]): one `audit_events` row per
//! event, `seq` the rowid. Batches are one write transaction; listings use the
//! `(account, time_ms, seq)` index and the per-filter indexes of schema V2.

use async_trait::async_trait;
use mayfly_core::AccountId;
use mayfly_store::{
    AuditCursor, AuditEvent, AuditKind, AuditPage, AuditQuery, AuditStore, StoreError,
    StoredAuditEvent,
};
use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};

use crate::LocalMetadata;
use crate::codec::{corrupt, from_signed, to_sql_int, usize_to_signed};
use crate::db::backend;

const COLUMNS: &str = "seq, account, time_ms, kind, credential_id, parent, bucket, key, \
                       operation, status, bytes, request_id, caller, detail";

fn opt_int(n: Option<u64>) -> Result<Option<i64>, StoreError> {
    n.map(to_sql_int).transpose()
}

fn event_from_row(row: &Row<'_>) -> Result<StoredAuditEvent, StoreError> {
    let get_s = |i: usize| row.get::<_, Option<String>>(i).map_err(backend);
    let get_n = |i: usize| -> Result<Option<u64>, StoreError> {
        row.get::<_, Option<i64>>(i)
            .map_err(backend)?
            .map(from_signed)
            .transpose()
    };
    let account: String = row.get(1).map_err(backend)?;
    let kind: String = row.get(3).map_err(backend)?;
    Ok(StoredAuditEvent {
        seq: from_signed(row.get(0).map_err(backend)?)?,
        event: AuditEvent {
            account: AccountId::parse(&account).map_err(|_| corrupt("audit account"))?,
            time_ms: from_signed(row.get(2).map_err(backend)?)?,
            kind: AuditKind::parse(&kind).ok_or_else(|| corrupt("audit kind"))?,
            credential_id: get_s(4)?,
            parent: get_s(5)?,
            bucket: get_s(6)?,
            key: get_s(7)?,
            operation: get_s(8)?,
            status: get_n(9)?
                .map(|s| u16::try_from(s).map_err(|_| corrupt("audit status")))
                .transpose()?,
            bytes: get_n(10)?,
            request_id: get_s(11)?,
            caller: get_s(12)?,
            detail: get_s(13)?,
        },
    })
}

#[async_trait]
impl AuditStore for LocalMetadata {
    async fn append_audit(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        self.db()
            .write(move |tx| {
                let mut st = tx
                    .prepare_cached(
                        "INSERT INTO audit_events (account, time_ms, kind, credential_id, parent, \
                         bucket, key, operation, status, bytes, request_id, caller, detail) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    )
                    .map_err(backend)?;
                for e in &events {
                    st.execute(params![
                        e.account.as_str(),
                        to_sql_int(e.time_ms)?,
                        e.kind.as_str(),
                        e.credential_id,
                        e.parent,
                        e.bucket,
                        e.key,
                        e.operation,
                        e.status.map(i64::from),
                        opt_int(e.bytes)?,
                        e.request_id,
                        e.caller,
                        e.detail,
                    ])
                    .map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let query = query.clone();
        self.db()
            .read(move |tx| {
                let limit = query.clamped_limit();
                let mut sql = format!("SELECT {COLUMNS} FROM audit_events WHERE account = ?");
                let mut args: Vec<Value> = vec![Value::Text(query.account.as_str().to_owned())];
                let mut text_filter = |col: &str, v: &Option<String>| {
                    if let Some(v) = v {
                        sql.push_str(&format!(" AND {col} = ?"));
                        args.push(Value::Text(v.clone()));
                    }
                };
                text_filter("credential_id", &query.credential_id);
                text_filter("parent", &query.parent);
                text_filter("bucket", &query.bucket);
                text_filter("kind", &query.kind.map(|k| k.as_str().to_owned()));
                if let Some(s) = query.since_ms {
                    sql.push_str(" AND time_ms >= ?");
                    args.push(Value::Integer(to_sql_int(s)?));
                }
                if let Some(u) = query.until_ms {
                    sql.push_str(" AND time_ms < ?");
                    args.push(Value::Integer(to_sql_int(u)?));
                }
                if let Some(AuditCursor { time_ms, seq }) = query.after {
                    sql.push_str(" AND (time_ms < ? OR (time_ms = ? AND seq < ?))");
                    let t = to_sql_int(time_ms)?;
                    args.extend([
                        Value::Integer(t),
                        Value::Integer(t),
                        Value::Integer(to_sql_int(seq)?),
                    ]);
                }
                sql.push_str(" ORDER BY time_ms DESC, seq DESC LIMIT ?");
                // One more than asked: tells whether another page exists.
                args.push(Value::Integer(usize_to_signed(limit + 1)));
                let mut st = tx.prepare(&sql).map_err(backend)?;
                let mut rows = st.query(params_from_iter(args)).map_err(backend)?;
                let mut events = Vec::new();
                while let Some(row) = rows.next().map_err(backend)? {
                    events.push(event_from_row(row)?);
                }
                let next = if events.len() > limit {
                    events.truncate(limit);
                    events.last().map(AuditCursor::after)
                } else {
                    None
                };
                Ok(AuditPage { events, next })
            })
            .await
    }

    async fn purge_audit(&self, before_ms: u64) -> Result<u64, StoreError> {
        self.db()
            .write(move |tx| {
                let n = tx
                    .execute(
                        "DELETE FROM audit_events WHERE time_ms < ?1",
                        [to_sql_int(before_ms)?],
                    )
                    .map_err(backend)?;
                Ok(n as u64)
            })
            .await
    }
}
