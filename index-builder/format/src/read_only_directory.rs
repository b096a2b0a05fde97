//! A tantivy [`Directory`] that can only read.
//!
//! Lambda's `/var/task` is read-only, and a plain tantivy reader still writes: it takes the meta
//! lock by creating a lock file on every reload, and may watch `meta.json`. [`ReadOnlyDirectory`]
//! wraps a memory-mapped directory, serves every read from it, turns locks and watches into
//! no-ops (nothing can change an index that nobody may write), and refuses every write with a
//! permission error, so a reader that tried to write would fail loudly in tests instead of
//! failing in production.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};

/// A read-only view of an index directory.
#[derive(Clone, Debug)]
pub struct ReadOnlyDirectory {
    inner: MmapDirectory,
    root: PathBuf,
}

impl ReadOnlyDirectory {
    /// Opens a directory for reading.
    pub fn open(path: &Path) -> Result<Self, OpenDirectoryError> {
        Ok(ReadOnlyDirectory {
            inner: MmapDirectory::open(path)?,
            root: path.to_path_buf(),
        })
    }

    fn refused(&self, path: &Path) -> io::Error {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the index in {} is opened read-only; refusing to write {}",
                self.root.display(),
                path.display()
            ),
        )
    }
}

impl Directory for ReadOnlyDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(self.refused(path)),
            filepath: path.to_path_buf(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::IoError {
            io_error: Arc::new(self.refused(path)),
            filepath: path.to_path_buf(),
        })
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(self.refused(path))
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        // Locks protect files from a concurrent writer's garbage collection; there is no writer.
        Ok(DirectoryLock::from(Box::new(())))
    }

    fn watch(&self, _watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(WatchHandle::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_but_refuses_every_write() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meta.json"), b"{}").unwrap();
        let directory = ReadOnlyDirectory::open(dir.path()).unwrap();
        assert_eq!(
            directory.atomic_read(Path::new("meta.json")).unwrap(),
            b"{}"
        );
        assert!(directory.exists(Path::new("meta.json")).unwrap());
        assert!(
            directory
                .atomic_write(Path::new("meta.json"), b"x")
                .is_err()
        );
        assert!(directory.open_write(Path::new("new")).is_err());
        assert!(directory.delete(Path::new("meta.json")).is_err());
        let lock = directory
            .acquire_lock(&tantivy::directory::META_LOCK)
            .unwrap();
        drop(lock);
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "no lock file was created");
        assert_eq!(std::fs::read(dir.path().join("meta.json")).unwrap(), b"{}");
    }
}
