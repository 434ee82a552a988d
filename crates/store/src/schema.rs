//! The metadata schema, written once for both SQL backends.
//!
//! Each migration is SQL in the common subset of SQLite and PostgreSQL with a handful of
//! placeholders for what the two spell differently; [`Dialect::render`] fills them in. The
//! backends keep their own migration *runners* (SQLite's `user_version`, PostgreSQL's
//! version table under an advisory lock) and only take the text from here.
//!
//! | placeholder | SQLite | PostgreSQL | for |
//! |---|---|---|---|
//! | `{id}` | `TEXT` | `text COLLATE "C"` | ids and names compared or sorted byte-wise |
//! | `{text}` | `TEXT` | `text` | other text |
//! | `{i64}` | `INTEGER` | `bigint` | times, sizes, counters |
//! | `{i32}` | `INTEGER` | `integer` | small indexes |
//! | `{bytes}` | `BLOB` | `bytea` | object and upload keys (byte order = S3 listing order) |
//! | `{serial}` | `INTEGER PRIMARY KEY` | `bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` | row ids |
//! | `{serial_ref}` | `INTEGER` | `bigint` | columns that point at a row id |
//! | `{list}` | `TEXT` (a JSON array) | `text[]` | a list of names |
//! | `{cascade}` | nothing | `ON DELETE CASCADE` | child rows PostgreSQL deletes with their parent (SQLite's code deletes them itself) |
//! | `{strict}` | `STRICT` | nothing | SQLite's type-checked tables |
//!
//! Applied migrations never change: a database created by an older binary must equal one
//! created now. Both backends' tests check that rendering reproduces, column for column and
//! index for index, the schema the first release created from its hand-written text.

/// A SQL backend the schema renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (the embedded store).
    Sqlite,
    /// PostgreSQL (the scale-out store).
    Postgres,
}

impl Dialect {
    fn spelling(self, placeholder: &str) -> Option<&'static str> {
        let (sqlite, postgres) = match placeholder {
            "id" => ("TEXT", r#"text COLLATE "C""#),
            "text" => ("TEXT", "text"),
            "i64" => ("INTEGER", "bigint"),
            "i32" => ("INTEGER", "integer"),
            "bytes" => ("BLOB", "bytea"),
            "serial" => (
                "INTEGER PRIMARY KEY",
                "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            ),
            "serial_ref" => ("INTEGER", "bigint"),
            "list" => ("TEXT", "text[]"),
            "cascade" => ("", " ON DELETE CASCADE"),
            "strict" => (" STRICT", ""),
            _ => return None,
        };
        Some(match self {
            Self::Sqlite => sqlite,
            Self::Postgres => postgres,
        })
    }

    /// One migration's SQL for this backend.
    ///
    /// # Panics
    /// On an unknown or unclosed placeholder: the migrations are constants of this crate, and
    /// every one is rendered for both dialects by this module's tests.
    pub fn render(self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + template.len() / 4);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .unwrap_or_else(|| panic!("unclosed placeholder"));
            let name = &after[..close];
            let spelled = self
                .spelling(name)
                .unwrap_or_else(|| panic!("unknown placeholder {{{name}}}"));
            out.push_str(spelled);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Every migration, in order, for this backend: entry `i` moves the schema from version
    /// `i` to `i + 1`. A migration for the other backend only is an empty string here, so
    /// both backends count versions alike.
    pub fn migrations(self) -> Vec<String> {
        MIGRATIONS
            .iter()
            .map(|m| match *m {
                Migration::Both(sql) => self.render(sql),
                Migration::Only(dialect, sql) if dialect == self => self.render(sql),
                Migration::Only(..) => String::new(),
            })
            .collect()
    }
}

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub enum Migration {
    /// For both backends (the rule: the two keep the same tables).
    Both(&'static str),
    /// For one backend only: what exists because of how that backend stores things (e.g. the
    /// embedded store's small blobs kept in its database), not part of the shared model.
    Only(Dialect, &'static str),
}

/// The migrations, in order. Append; never edit an entry that has shipped.
pub const MIGRATIONS: &[Migration] = &[
    Migration::Both(V1),
    Migration::Both(V2),
    Migration::Both(V3),
    Migration::Only(Dialect::Sqlite, V4_INLINE_BLOBS),
];

/// Accounts, tokens, buckets and their configuration, objects and multipart uploads.
const V1: &str = r"
CREATE TABLE accounts (
    id          {id} PRIMARY KEY NOT NULL,
    name        {text} NOT NULL,
    created_at  {i64} NOT NULL
){strict};

CREATE TABLE tokens (
    id          {id} PRIMARY KEY NOT NULL,
    account     {id} NOT NULL REFERENCES accounts(id),
    name        {text} NOT NULL,
    permission  {text} NOT NULL,
    buckets     {list},              -- bucket names, NULL = every bucket
    secret      {id} NOT NULL UNIQUE,
    status      {text} NOT NULL,
    created_at  {i64} NOT NULL,
    expires_at  {i64}
){strict};
CREATE INDEX tokens_by_account ON tokens (account, id);

CREATE TABLE buckets (
    id            {serial},
    account       {id} NOT NULL REFERENCES accounts(id),
    name          {id} NOT NULL,
    created_at    {i64} NOT NULL,
    location      {text} NOT NULL,
    storage_class {text} NOT NULL,
    jurisdiction  {text} NOT NULL,
    UNIQUE (account, name)
){strict};
CREATE INDEX buckets_by_creation ON buckets (account, created_at, name);

CREATE TABLE bucket_configs (
    bucket_id   {serial_ref} NOT NULL REFERENCES buckets(id){cascade},
    kind        {text} NOT NULL,
    document    {text} NOT NULL,
    PRIMARY KEY (bucket_id, kind)
){strict};

CREATE TABLE objects (
    id                  {serial},
    bucket_id           {serial_ref} NOT NULL REFERENCES buckets(id),
    key                 {bytes} NOT NULL,
    size                {i64} NOT NULL,
    etag                {text} NOT NULL,
    last_modified_ms    {i64} NOT NULL,
    content_type        {text},
    content_encoding    {text},
    content_disposition {text},
    content_language    {text},
    cache_control       {text},
    expires             {text},
    user_metadata       {text} NOT NULL,  -- JSON object
    checksums           {text} NOT NULL,  -- JSON object: algorithm name -> base64
    checksum_type       {text} NOT NULL,
    blob_id             {text},           -- single-blob objects; NULL for multipart
    UNIQUE (bucket_id, key)
){strict};
CREATE INDEX objects_by_blob ON objects (blob_id) WHERE blob_id IS NOT NULL;

CREATE TABLE object_parts (
    object_id   {serial_ref} NOT NULL REFERENCES objects(id){cascade},
    idx         {i32} NOT NULL,
    part_number {i64} NOT NULL,
    size        {i64} NOT NULL,
    etag        {text} NOT NULL,
    checksums   {text} NOT NULL,
    blob_id     {text} NOT NULL,
    PRIMARY KEY (object_id, idx)
){strict};
CREATE INDEX object_parts_by_blob ON object_parts (blob_id);

CREATE TABLE uploads (
    id                  {id} PRIMARY KEY NOT NULL,
    bucket_id           {serial_ref} NOT NULL REFERENCES buckets(id),
    key                 {bytes} NOT NULL,
    initiated_ms        {i64} NOT NULL,
    content_type        {text},
    content_encoding    {text},
    content_disposition {text},
    content_language    {text},
    cache_control       {text},
    expires             {text},
    user_metadata       {text} NOT NULL,
    checksum_algorithm  {text},
    checksum_type       {text}
){strict};
CREATE INDEX uploads_by_key ON uploads (bucket_id, key, id);

CREATE TABLE parts (
    upload_id        {id} NOT NULL REFERENCES uploads(id){cascade},
    part_number      {i64} NOT NULL,
    size             {i64} NOT NULL,
    etag             {text} NOT NULL,
    last_modified_ms {i64} NOT NULL,
    checksums        {text} NOT NULL,
    blob_id          {text} NOT NULL,
    PRIMARY KEY (upload_id, part_number)
){strict};
CREATE INDEX parts_by_blob ON parts (blob_id);
";

/// Credential revocations (issue 15, a Mayfly extension): one row per revoked temporary
/// credential, kept until `expires_on` (the credential cannot be used past it) and purged by
/// the periodic schedule. Newest-first listings per account use `revocations_by_time`.
const V2: &str = r"
CREATE TABLE revocations (
    account       {id} NOT NULL REFERENCES accounts(id),
    credential_id {id} NOT NULL,
    parent        {id},
    bucket        {id},
    revoked_on    {i64} NOT NULL,
    expires_on    {i64} NOT NULL,
    PRIMARY KEY (account, credential_id)
){strict};
CREATE INDEX revocations_by_time ON revocations (account, revoked_on, credential_id);
CREATE INDEX revocations_by_expiry ON revocations (expires_on);
";

/// The audit trail (issue 15; a Mayfly extension). No foreign keys: events outlive the
/// tokens and buckets they name, and a batch insert checks nothing. Each index serves one
/// filter of `list_audit`, newest first; the time index serves the retention purge.
const V3: &str = r"
CREATE TABLE audit_events (
    seq           {serial},
    account       {id} NOT NULL,
    time_ms       {i64} NOT NULL,
    kind          {id} NOT NULL,
    credential_id {id},
    parent        {id},
    bucket        {id},
    key           {text},
    operation     {text},
    status        {i32},
    bytes         {i64},
    request_id    {text},
    caller        {text},
    detail        {text}            -- JSON object
){strict};
CREATE INDEX audit_by_time ON audit_events (account, time_ms, seq);
CREATE INDEX audit_by_credential ON audit_events (account, credential_id, time_ms, seq)
    WHERE credential_id IS NOT NULL;
CREATE INDEX audit_by_parent ON audit_events (account, parent, time_ms, seq)
    WHERE parent IS NOT NULL;
CREATE INDEX audit_by_bucket ON audit_events (account, bucket, time_ms, seq)
    WHERE bucket IS NOT NULL;
CREATE INDEX audit_by_kind ON audit_events (account, kind, time_ms, seq);
CREATE INDEX audit_purge ON audit_events (time_ms);
";

/// The embedded store's small blobs, kept in its database (store-local's `inline.rs`); the
/// scale-out store keeps every blob upstream, so this is SQLite's alone.
const V4_INLINE_BLOBS: &str = r"
CREATE TABLE inline_blobs (
    id          {id} PRIMARY KEY NOT NULL,  -- a BlobId, never also a file
    written_at  {i64} NOT NULL,             -- epoch seconds, for orphan collection
    data        {bytes} NOT NULL
){strict};
CREATE INDEX inline_blobs_by_age ON inline_blobs (written_at);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_renders_for_both_dialects_without_placeholders_left() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            for sql in dialect.migrations() {
                assert!(!sql.contains('{') && !sql.contains('}'), "{dialect:?}");
            }
        }
    }

    #[test]
    fn dialect_spellings_differ_only_where_the_table_says() {
        let pg = Dialect::Postgres.render("a {id} b {serial}{cascade}{strict};");
        assert_eq!(
            pg,
            r#"a text COLLATE "C" b bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY ON DELETE CASCADE;"#
        );
        let lite = Dialect::Sqlite.render("a {id} b {serial}{cascade}{strict};");
        assert_eq!(lite, "a TEXT b INTEGER PRIMARY KEY STRICT;");
    }

    #[test]
    fn one_backend_migrations_keep_versions_aligned() {
        let (lite, pg) = (Dialect::Sqlite.migrations(), Dialect::Postgres.migrations());
        assert_eq!(lite.len(), MIGRATIONS.len());
        assert_eq!(pg.len(), MIGRATIONS.len());
        for (i, m) in MIGRATIONS.iter().enumerate() {
            if let Migration::Only(d, _) = m {
                let other = if *d == Dialect::Sqlite { &pg } else { &lite };
                assert!(other[i].is_empty(), "migration {i} is for {d:?} only");
            }
        }
    }

    #[test]
    #[should_panic(expected = "unknown placeholder")]
    fn unknown_placeholders_are_caught() {
        let _ = Dialect::Sqlite.render("{varchar}");
    }
}
