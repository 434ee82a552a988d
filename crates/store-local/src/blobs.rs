//! [`LocalBlobs`]: blobs as files under `<root>/<xx>/<id>`, where `<id>` is a random 128-bit
//! hex [`BlobId`] and `<xx>` its first two characters (256 shard directories keep directories
//! small). Object keys never reach this module, so no key can name a path.
//!
//! Durability: a write goes to `<root>/tmp/<id>.tmp`, is fsynced, renamed into its shard and
//! the shard directory is fsynced, so a blob id that was returned survives a power loss and a
//! partial blob is never visible under an id. Temp files left by a crash (or by a write whose
//! future was dropped) are removed by the drop guard or, at the latest, by the sweep that
//! [`LocalBlobs::open`] runs; it is only correct while no other process writes to the
//! directory, which [`crate::LocalStore`] guarantees with a lock file.
//!
//! Opened by [`crate::LocalStore`], blobs of at most [`INLINE_MAX`] bytes are not files but
//! rows of the metadata database (see `inline.rs`): durable in the writer's next group commit,
//! read back by one point read on the calling thread.

use std::fs::{self, File};
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use mayfly_store::{
    BlobId, BlobStore, BlobWritten, ByteStream, Entity, READ_CHUNK, StoreError, slice_stream,
};
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::inline::{self, INLINE_MAX};

/// Bytes gathered before each file write. While one batch is written on a blocking thread
/// the next one is gathered (and hashed by the caller's stream), so disk and CPU overlap.
/// A batch is the body's own chunks, written with `writev`: no copy into a write buffer.
const WRITE_BUFFER: usize = 1024 * 1024;

/// Most chunks in one batch (Linux's `IOV_MAX`): a body arriving in tiny chunks is written
/// in more, smaller batches, never in more than one `writev` per batch.
const WRITE_CHUNKS: usize = 1024;

/// Bytes read from the file per blocking call. Each read fills a fresh, never-zeroed buffer
/// that is handed out as [`READ_CHUNK`] slices (no copy); the next read runs while the
/// slices of the current one are being sent.
const READ_AHEAD: usize = 1024 * 1024;

/// Filesystem blob store (with small blobs in the metadata database when opened by
/// [`crate::LocalStore`]).
#[derive(Clone)]
pub struct LocalBlobs {
    root: Arc<PathBuf>,
    swept: usize,
    /// Where blobs of at most [`INLINE_MAX`] bytes go; `None`: every blob is a file.
    inline: Option<Db>,
}

impl std::fmt::Debug for LocalBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBlobs")
            .field("root", &self.root)
            .field("swept", &self.swept)
            .field("inline", &self.inline.is_some())
            .finish()
    }
}

/// The start of a body: all of it if it fits inline, else a stream that replays what was
/// read and continues with the rest.
enum Gathered {
    Small(Bytes),
    Large(ByteStream),
}

/// Reads `body` until it is known to fit inline or not.
async fn gather(mut body: ByteStream) -> Result<Gathered, StoreError> {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut size = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(StoreError::Body)?;
        size += chunk.len();
        chunks.push(chunk);
        if size > INLINE_MAX {
            let replay = stream::iter(chunks.into_iter().map(Ok::<_, io::Error>));
            return Ok(Gathered::Large(Box::pin(replay.chain(body))));
        }
    }
    Ok(Gathered::Small(match chunks.len() {
        1 => chunks.swap_remove(0),
        _ => chunks.concat().into(),
    }))
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The temp file of one write, shared by the write future and its blocking tasks.
struct Temp {
    path: PathBuf,
    /// The write future was dropped or failed: the file must not be (re)created.
    abandoned: bool,
    /// Renamed into place: nothing to remove.
    kept: bool,
}

/// Removes the temp file unless disarmed (the write failed or its future was dropped).
/// Creation happens under the same lock, so a blocking task that runs after the drop cannot
/// leave a file behind.
struct TempGuard {
    temp: Arc<Mutex<Temp>>,
}

impl TempGuard {
    fn new(path: PathBuf) -> Self {
        Self {
            temp: Arc::new(Mutex::new(Temp {
                path,
                abandoned: false,
                kept: false,
            })),
        }
    }

    fn disarm(&self) {
        self.temp
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .kept = true;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        let mut temp = self.temp.lock().unwrap_or_else(PoisonError::into_inner);
        if !temp.kept {
            temp.abandoned = true;
            // Best effort: whatever is left is removed by the next startup sweep.
            let _ = fs::remove_file(&temp.path);
        }
    }
}

/// Creates the temp file unless its write was already abandoned.
fn create_temp(temp: &Mutex<Temp>) -> io::Result<File> {
    let temp = temp.lock().unwrap_or_else(PoisonError::into_inner);
    if temp.abandoned {
        return Err(io::Error::other("blob write abandoned"));
    }
    File::options()
        .write(true)
        .create_new(true)
        .open(&temp.path)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    joined(tokio::task::spawn_blocking(f).await)
}

fn joined<T>(r: Result<Result<T, StoreError>, tokio::task::JoinError>) -> Result<T, StoreError> {
    r.map_err(|err| StoreError::Backend(format!("blocking task failed: {err}")))?
}

/// Reads exactly `n` bytes at the file's position into a new buffer, without zeroing it first
/// (`read_to_end` reads into the spare capacity).
fn read_exact_new(file: &mut File, n: usize) -> io::Result<Bytes> {
    let mut buf = Vec::with_capacity(n);
    file.take(n as u64).read_to_end(&mut buf)?;
    if buf.len() < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "blob shorter than expected",
        ));
    }
    Ok(Bytes::from(buf))
}

type ReadAhead = JoinHandle<io::Result<(File, Bytes)>>;

/// A blob being streamed out: the current buffer, handed out in slices, and the next read.
struct Reader {
    buffered: Bytes,
    next: Option<ReadAhead>,
    /// Bytes not yet read from the file (excluding `buffered` and the read in flight).
    left: u64,
}

impl Reader {
    fn new(file: File, first: Bytes, left: u64) -> Self {
        let mut reader = Self {
            buffered: first,
            next: None,
            left,
        };
        reader.read_ahead(file);
        reader
    }

    /// Starts the next file read, if any bytes are left.
    fn read_ahead(&mut self, mut file: File) {
        if self.left == 0 {
            return;
        }
        let want = usize::try_from(self.left)
            .unwrap_or(READ_AHEAD)
            .min(READ_AHEAD);
        self.left -= want as u64;
        self.next = Some(tokio::task::spawn_blocking(move || {
            let bytes = read_exact_new(&mut file, want)?;
            Ok((file, bytes))
        }));
    }

    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.buffered.is_empty() {
            let Some(pending) = self.next.take() else {
                return Ok(None);
            };
            let (file, bytes) = pending.await.map_err(io::Error::other)??;
            self.buffered = bytes;
            self.read_ahead(file);
        }
        let n = self.buffered.len().min(READ_CHUNK);
        Ok(Some(self.buffered.split_to(n)))
    }
}

type WriteInFlight = JoinHandle<Result<(File, Vec<Bytes>), StoreError>>;

/// Writes every byte of `chunks` at the file's position, in as few `writev` calls as the
/// kernel allows.
fn write_all_chunks(file: &mut File, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| IoSlice::new(c))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

fn is_shard_name(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl LocalBlobs {
    /// Opens (creating) the blob tree at `root` and deletes temp files a previous run left
    /// behind. Blocking: call at startup, with no other writer on `root`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp)?;
        for n in 0..=255u8 {
            let shard = root.join(format!("{n:02x}"));
            if !shard.is_dir() {
                fs::create_dir(&shard)?;
            }
        }
        sync_dir(root)?;
        let mut swept = 0;
        for entry in fs::read_dir(&tmp)? {
            fs::remove_file(entry?.path())?;
            swept += 1;
        }
        if swept > 0 {
            sync_dir(&tmp)?;
        }
        Ok(Self {
            root: Arc::new(root.to_path_buf()),
            swept,
            inline: None,
        })
    }

    /// [`LocalBlobs::open`], keeping blobs of at most [`INLINE_MAX`] bytes in `db`.
    pub(crate) fn open_with_inline(root: &Path, db: Db) -> Result<Self, StoreError> {
        Ok(Self {
            inline: Some(db),
            ..Self::open(root)?
        })
    }

    /// How many temp files (interrupted writes) the opening sweep removed.
    pub fn temp_files_swept(&self) -> usize {
        self.swept
    }

    fn shard(&self, id: &BlobId) -> PathBuf {
        self.root.join(&id.as_str()[..2])
    }

    fn path(&self, id: &BlobId) -> PathBuf {
        self.shard(id).join(id.as_str())
    }

    /// The directory where in-flight writes live (for tests that check none is left).
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Streams `body` into the temp file, one batch on disk while the next is gathered.
    /// Returns the open file (everything written but the returned tail) and the size.
    async fn write_temp(
        guard: &TempGuard,
        mut body: ByteStream,
    ) -> Result<(File, Vec<Bytes>, u64), StoreError> {
        let temp = Arc::clone(&guard.temp);
        // Created on a blocking thread while the first bytes arrive.
        let mut in_flight: WriteInFlight =
            tokio::task::spawn_blocking(move || Ok((create_temp(&temp)?, Vec::new())));
        let mut batch: Vec<Bytes> = Vec::new();
        let mut batched = 0usize;
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            size += chunk.len() as u64;
            batched += chunk.len();
            batch.push(chunk);
            if batched >= WRITE_BUFFER || batch.len() >= WRITE_CHUNKS {
                let (mut file, spare) = joined((&mut in_flight).await)?;
                let mut full = std::mem::replace(&mut batch, spare);
                batched = 0;
                in_flight = tokio::task::spawn_blocking(move || {
                    write_all_chunks(&mut file, &full)?;
                    full.clear();
                    Ok((file, full))
                });
            }
        }
        let (file, _) = joined(in_flight.await)?;
        Ok((file, batch, size))
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn write(&self, body: ByteStream) -> Result<BlobWritten, StoreError> {
        let body = match &self.inline {
            None => body,
            Some(db) => match gather(body).await? {
                Gathered::Large(body) => body,
                Gathered::Small(data) => {
                    let id = BlobId::random();
                    let (row, size, at) = (id.clone(), data.len() as u64, now_secs());
                    db.write(move |tx| inline::insert(tx, &row, &data, at))
                        .await?;
                    return Ok(BlobWritten { id, size });
                }
            },
        };
        self.write_file(body).await
    }

    async fn read(&self, id: &BlobId, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        if let Some(db) = &self.inline
            && let Some(data) = db.read_now(|tx| inline::get(tx, id))?
        {
            return slice_stream(data, range);
        }
        self.read_file(id, range).await
    }

    async fn size(&self, id: &BlobId) -> Result<u64, StoreError> {
        if let Some(db) = &self.inline
            && let Some(size) = db.read_now(|tx| inline::size(tx, id))?
        {
            return Ok(size);
        }
        match tokio::fs::metadata(self.path(id)).await {
            Ok(meta) => Ok(meta.len()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(Entity::Blob))
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn delete(&self, id: &BlobId) -> Result<(), StoreError> {
        if let Some(db) = &self.inline
            && db.read_now(|tx| inline::size(tx, id))?.is_some()
        {
            let id = id.clone();
            db.write(move |tx| inline::delete(tx, &id)).await?;
            return Ok(());
        }
        match tokio::fs::remove_file(self.path(id)).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn list_blobs(&self, written_before: u64) -> Result<Vec<BlobId>, StoreError> {
        let mut out = self.list_files(written_before).await?;
        if let Some(db) = &self.inline {
            out.extend(db.read(move |tx| inline::list(tx, written_before)).await?);
            out.sort();
        }
        Ok(out)
    }
}

impl LocalBlobs {
    async fn write_file(&self, body: ByteStream) -> Result<BlobWritten, StoreError> {
        let id = BlobId::random();
        let guard = TempGuard::new(self.temp_dir().join(format!("{id}.tmp")));
        let (mut file, tail, size) = Self::write_temp(&guard, body).await?;
        let temp = Arc::clone(&guard.temp);
        let (shard, dest) = (self.shard(&id), self.path(&id));
        // The last bytes, fsync, rename and directory fsync: one blocking call.
        blocking(move || {
            write_all_chunks(&mut file, &tail)?;
            file.sync_all()?;
            drop(file);
            let path = temp
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .path
                .clone();
            fs::rename(&path, &dest)?;
            if let Err(err) = sync_dir(&shard) {
                // Not durable: do not hand out an id that might vanish after a power loss.
                let _ = fs::remove_file(&dest);
                return Err(err.into());
            }
            Ok(())
        })
        .await?;
        guard.disarm();
        Ok(BlobWritten { id, size })
    }

    async fn read_file(
        &self,
        id: &BlobId,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, StoreError> {
        let path = self.path(id);
        // Open, size, seek and the first read in one blocking call: a small blob is served
        // without any further hop.
        let (file, first, left) = blocking(move || {
            let mut file = match File::open(&path) {
                Ok(file) => file,
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    return Err(StoreError::NotFound(Entity::Blob));
                }
                Err(err) => return Err(err.into()),
            };
            let size = file.metadata()?.len();
            let range = range.unwrap_or(0..size);
            if range.start > range.end || range.end > size {
                return Err(StoreError::InvalidRange);
            }
            if range.start > 0 {
                file.seek(SeekFrom::Start(range.start))?;
            }
            let len = range.end - range.start;
            let want = usize::try_from(len).unwrap_or(READ_AHEAD).min(READ_AHEAD);
            let first = read_exact_new(&mut file, want)?;
            Ok((file, first, len - want as u64))
        })
        .await?;
        let chunks = stream::try_unfold(Reader::new(file, first, left), |mut r| async move {
            Ok(r.next_chunk().await?.map(|chunk| (chunk, r)))
        });
        Ok(Box::pin(chunks))
    }

    async fn list_files(&self, written_before: u64) -> Result<Vec<BlobId>, StoreError> {
        let root = Arc::clone(&self.root);
        tokio::task::spawn_blocking(move || -> Result<Vec<BlobId>, StoreError> {
            let mut out = Vec::new();
            for shard in fs::read_dir(&*root)? {
                let shard = shard?;
                if !shard.file_name().to_str().is_some_and(is_shard_name) {
                    continue; // the temp directory and anything foreign
                }
                for entry in fs::read_dir(shard.path())? {
                    let entry = entry?;
                    let Some(id) = entry
                        .file_name()
                        .to_str()
                        .and_then(|n| BlobId::parse(n).ok())
                    else {
                        continue;
                    };
                    let modified = entry.metadata()?.modified()?;
                    let secs = modified
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    if secs < written_before {
                        out.push(id);
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(|err| StoreError::Backend(format!("blocking task failed: {err}")))?
    }
}
