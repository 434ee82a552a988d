//! The SQLite connection set.
//!
//! Writes: one writer connection owned by a dedicated thread that commits in groups. Every
//! [`Db::write`] call is queued; the thread takes whatever is queued (the calls that arrived
//! while the previous commit was being fsynced), runs each call inside its own `SAVEPOINT` of
//! one `BEGIN IMMEDIATE` transaction and commits once, so N concurrent writers share one WAL
//! fsync. A call that fails is rolled back to its savepoint and does not affect the others;
//! nobody is answered before the commit is on disk (`synchronous=FULL`), and if the commit
//! fails every call of the group fails.
//!
//! Reads: a fixed set of reader slots, each a mutex that is only ever `try_lock`ed, so no
//! thread waits on another: a thread starts at its own home slot and moves on when a slot is
//! busy; when all are busy it opens a one-off connection. WAL lets readers see a consistent
//! snapshot while the writer commits. [`Db::read`] runs on a blocking thread (listings, scans);
//! [`Db::read_now`] runs a primary-key point read on the calling thread: on hot pages that is
//! a few µs, less than a hand-off to a blocking thread and back.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, TryLockError};
use std::thread::JoinHandle;
use std::time::Duration;

use mayfly_store::StoreError;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::schema;

/// Reader connections kept open for reuse (one per slot, opened on first use).
const READER_SLOTS: usize = 16;

/// Most write calls committed together.
const MAX_GROUP: usize = 256;

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Maps any displayable error to [`StoreError::Backend`] (detail for logs only).
pub(crate) fn backend(err: impl std::fmt::Display) -> StoreError {
    StoreError::backend(err)
}

/// Answers one queued write once its group's commit is known (`Some(detail)` if it failed).
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// One queued write: runs inside the group transaction, says whether it succeeded (else its
/// savepoint is rolled back) and how to answer its caller. Called with `Err(detail)` instead
/// when it cannot run; it then answers its caller at once.
type Job = Box<dyn FnOnce(Result<&Transaction<'_>, &str>) -> (bool, Finish) + Send>;

/// Shared handle to the database.
#[derive(Clone)]
pub(crate) struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// `None` only while dropping.
    jobs: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    readers: Box<[Mutex<Option<Connection>>]>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer thread after its current group; waiting for it
        // means the writer connection is closed when the store is.
        self.jobs = None;
        if let Some(handle) = self.writer.take() {
            let _ = handle.join();
        }
    }
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    // Room for every statement this crate prepares (about 35, plus the transaction verbs), so
    // the hot ones are never evicted and parsed again (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend)?;
    // FULL: a commit that returned is on disk, so garbage handed to the caller can be deleted
    // without risking a record that points at deleted bytes after a power loss.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(backend)?;
    Ok(conn)
}

/// The writer thread: takes everything queued, runs it as one group, repeats until the queue
/// is closed.
fn writer_loop(mut conn: Connection, jobs: &Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        run_group(&mut conn, group);
    }
}

fn run_group(conn: &mut Connection, group: Vec<Job>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(err) => {
            // Nothing ran: fail every call the same way (each job answers through its finish).
            let detail = err.to_string();
            for job in group {
                fail_unrun(job, &detail);
            }
            return;
        }
    };
    let mut finished: Vec<Finish> = Vec::with_capacity(group.len());
    for job in group {
        if let Err(err) = cached(&tx, "SAVEPOINT job") {
            fail_unrun(job, &err.to_string());
            continue;
        }
        // A panicking call drops its answer channel while unwinding: its caller sees an error.
        let ran = catch_unwind(AssertUnwindSafe(|| job(Ok(&tx))));
        let ok = matches!(ran, Ok((true, _)));
        let closed = if ok {
            cached(&tx, "RELEASE job")
        } else {
            cached(&tx, "ROLLBACK TO job").and_then(|()| cached(&tx, "RELEASE job"))
        };
        if let Ok((_, finish)) = ran {
            finished.push(finish);
        }
        if let Err(err) = closed {
            // The transaction is in an unknown state: give it up as a whole.
            let detail = err.to_string();
            drop(tx);
            for finish in finished {
                finish(Some(&detail));
            }
            return;
        }
    }
    let committed = tx.commit().err().map(|err| err.to_string());
    for finish in finished {
        finish(committed.as_deref());
    }
}

/// Answers a job that could not run with the reason.
fn fail_unrun(job: Job, detail: &str) {
    let (_, finish) = job(Err(detail));
    finish(None);
}

/// Each thread's first reader slot, spread round-robin so threads rarely meet.
fn home_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    HOME.with(|home| *home)
}

impl Inner {
    /// Runs `f` in one read transaction on a free reader connection, on this thread.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let home = home_slot();
        for i in 0..self.readers.len() {
            let slot = &self.readers[(home + i) % self.readers.len()];
            let mut guard = match slot.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            let conn = match &mut *guard {
                Some(conn) => conn,
                empty => empty.insert(open_connection(&self.path)?),
            };
            return read_in(conn, f);
        }
        // Every slot is busy: a one-off connection (parses the schema again).
        read_in(&mut open_connection(&self.path)?, f)
    }
}

/// Runs `f` between `BEGIN` and `COMMIT` (or `ROLLBACK` when it fails or panics), all three
/// from the connection's statement cache: `Transaction` would parse them again on every
/// read, which cost a point read more than its own query did.
fn read_in<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    /// Rolls back unless the read committed, so a panic in `f` leaves the connection clean.
    struct Open<'c>(&'c Connection, bool);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            if !self.1 {
                let _ = cached(self.0, "ROLLBACK");
            }
        }
    }
    cached(conn, "BEGIN DEFERRED")?;
    let mut open = Open(conn, false);
    let value = f(open.0)?;
    cached(open.0, "COMMIT")?;
    open.1 = true;
    Ok(value)
}

/// Executes one parameterless statement through the connection's statement cache.
fn cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute([]))
        .map(drop)
        .map_err(backend)
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `path`, and starts its writer
    /// thread. Blocking.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let mut writer = open_connection(path)?;
        schema::migrate(&mut writer)?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("mayfly-sqlite-writer".to_owned())
            .spawn(move || writer_loop(writer, &queue))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                jobs: Some(jobs),
                writer: Some(handle),
                readers: (0..READER_SLOTS).map(|_| Mutex::new(None)).collect(),
            }),
        })
    }

    /// Runs `f` in one read transaction on a reader connection, on a blocking thread.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.read(f))
            .await
            .map_err(|err| StoreError::Backend(format!("blocking task failed: {err}")))?
    }

    /// Runs `f`, a point read by primary or unique key, in one read transaction on this
    /// thread (see the module docs for why no hand-off).
    pub(crate) fn read_now<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.read(f)
    }

    /// Runs `f` in the next group commit on the writer connection, inside its own savepoint:
    /// its changes are kept if it returns `Ok` and the group commits, rolled back otherwise.
    /// Returns once the outcome is durable.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |tx| {
            let out = match tx {
                Ok(tx) => f(tx),
                Err(detail) => Err(StoreError::Backend(format!("write not run: {detail}"))),
            };
            let ok = out.is_ok();
            let finish: Finish = Box::new(move |commit_failed| {
                let out = match (out, commit_failed) {
                    (Ok(_), Some(detail)) => {
                        Err(StoreError::Backend(format!("commit failed: {detail}")))
                    }
                    (out, _) => out,
                };
                let _ = answer.send(out);
            });
            (ok, finish)
        });
        self.inner
            .jobs
            .as_ref()
            .ok_or_else(|| StoreError::Backend("database closed".to_owned()))?
            .send(job)
            .map_err(|_| StoreError::Backend("database writer stopped".to_owned()))?;
        answered.await.map_err(|_| {
            StoreError::Backend("write did not complete (transaction failed)".to_owned())
        })?
    }
}
