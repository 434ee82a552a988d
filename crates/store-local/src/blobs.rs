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

use std::fs::{self, File};
use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use mayfly_store::{BlobId, BlobStore, BlobWritten, ByteStream, Entity, READ_CHUNK, StoreError};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Bytes gathered before each file write, to keep blocking-pool round trips few.
const WRITE_BUFFER: usize = 256 * 1024;

/// Filesystem blob store.
#[derive(Clone, Debug)]
pub struct LocalBlobs {
    root: Arc<PathBuf>,
    swept: usize,
}

/// Removes a temp file unless disarmed (the write failed or its future was dropped).
struct TempGuard {
    path: Option<PathBuf>,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Best effort: whatever is left is removed by the next startup sweep.
            let _ = fs::remove_file(path);
        }
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
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

    async fn write_temp(path: &Path, mut body: ByteStream) -> Result<u64, StoreError> {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .await?;
        let mut size = 0u64;
        let mut buf: Vec<u8> = Vec::with_capacity(WRITE_BUFFER);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            size += chunk.len() as u64;
            if buf.len() + chunk.len() > WRITE_BUFFER && !buf.is_empty() {
                file.write_all(&buf).await?;
                buf.clear();
            }
            if chunk.len() >= WRITE_BUFFER {
                file.write_all(&chunk).await?;
            } else {
                buf.extend_from_slice(&chunk);
            }
        }
        file.write_all(&buf).await?;
        file.flush().await?;
        file.sync_all().await?;
        Ok(size)
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn write(&self, body: ByteStream) -> Result<BlobWritten, StoreError> {
        let id = BlobId::random();
        let temp = self.temp_dir().join(format!("{id}.tmp"));
        let mut guard = TempGuard {
            path: Some(temp.clone()),
        };
        let size = Self::write_temp(&temp, body).await?;
        let (shard, dest) = (self.shard(&id), self.path(&id));
        tokio::task::spawn_blocking(move || {
            fs::rename(&temp, &dest)?;
            if let Err(err) = sync_dir(&shard) {
                // Not durable: do not hand out an id that might vanish after a power loss.
                let _ = fs::remove_file(&dest);
                return Err(err);
            }
            Ok(())
        })
        .await
        .map_err(|err| StoreError::Backend(format!("blocking task failed: {err}")))??;
        guard.path = None;
        Ok(BlobWritten { id, size })
    }

    async fn read(&self, id: &BlobId, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        let mut file = match tokio::fs::File::open(self.path(id)).await {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(Entity::Blob));
            }
            Err(err) => return Err(err.into()),
        };
        let size = file.metadata().await?.len();
        let range = range.unwrap_or(0..size);
        if range.start > range.end || range.end > size {
            return Err(StoreError::InvalidRange);
        }
        file.seek(SeekFrom::Start(range.start)).await?;
        let chunks = stream::try_unfold(
            (file, range.end - range.start),
            |(mut file, left)| async move {
                if left == 0 {
                    return Ok(None);
                }
                let want = usize::try_from(left).unwrap_or(READ_CHUNK).min(READ_CHUNK);
                let mut buf = vec![0u8; want];
                let mut filled = 0;
                while filled < want {
                    let n = file.read(&mut buf[filled..]).await?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "blob shorter than expected",
                        ));
                    }
                    filled += n;
                }
                Ok(Some((Bytes::from(buf), (file, left - want as u64))))
            },
        );
        Ok(Box::pin(chunks))
    }

    async fn size(&self, id: &BlobId) -> Result<u64, StoreError> {
        match tokio::fs::metadata(self.path(id)).await {
            Ok(meta) => Ok(meta.len()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(Entity::Blob))
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn delete(&self, id: &BlobId) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(id)).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn list_blobs(&self, written_before: u64) -> Result<Vec<BlobId>, StoreError> {
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
