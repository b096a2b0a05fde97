//! Publishing a freshly built index in place of the previous one.
//!
//! The index is written into a staging directory next to the destination (same file system), and
//! only a complete index is moved into place: the old index is renamed aside, the new one renamed
//! to the destination, then the old one removed. A reader never sees a half-written index, and a
//! build that fails before [`StagingDirectory::publish`] leaves the previous index untouched and
//! removes its staging directory.

use std::path::{Path, PathBuf};

use crate::error::BuildError;
use votecheck_index::manifest::MANIFEST_FILE;

/// A directory an index is built in before it is published.
#[derive(Debug)]
pub struct StagingDirectory {
    path: PathBuf,
    published: bool,
}

fn sibling(destination: &Path, suffix: &str) -> PathBuf {
    let name = destination
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "index".to_string());
    let unique = format!(
        ".{name}.{suffix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or_default()
    );
    match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(unique),
        _ => PathBuf::from(unique),
    }
}

/// Checks that `destination` may be replaced: it does not exist, is empty, or holds an index,
/// that is a `manifest.json` that parses as the manifest of a votecheck index (any file named
/// `manifest.json` is not enough: web apps have one too).
pub fn check_destination(destination: &Path) -> Result<(), BuildError> {
    if !destination.exists() {
        return Ok(());
    }
    let is_index = holds_a_votecheck_manifest(destination);
    let is_empty_dir = std::fs::read_dir(destination)
        .map(|mut entries| entries.next().is_none())
        .unwrap_or(false);
    if is_index || is_empty_dir {
        Ok(())
    } else {
        Err(BuildError::OutputNotAnIndex(destination.to_path_buf()))
    }
}

/// The fields every votecheck manifest has had, whatever its schema version.
#[derive(serde::Deserialize)]
struct ManifestIdentity {
    schema_version: u32,
    builder: votecheck_index::manifest::BuilderInfo,
    corpus_hash: String,
}

/// Whether `directory/manifest.json` is the manifest of a votecheck index.
fn holds_a_votecheck_manifest(directory: &Path) -> bool {
    let Ok(bytes) = std::fs::read(directory.join(MANIFEST_FILE)) else {
        return false;
    };
    serde_json::from_slice::<ManifestIdentity>(&bytes).is_ok_and(|identity| {
        identity.schema_version > 0
            && identity.builder.name == env!("CARGO_PKG_NAME")
            && identity.corpus_hash.len() == 64
            && identity
                .corpus_hash
                .bytes()
                .all(|byte| byte.is_ascii_hexdigit())
    })
}

impl StagingDirectory {
    /// Creates a staging directory for `destination`.
    pub fn create(destination: &Path) -> Result<Self, BuildError> {
        if let Some(parent) = destination
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| BuildError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let path = sibling(destination, "tmp");
        std::fs::create_dir(&path).map_err(|source| BuildError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(StagingDirectory {
            path,
            published: false,
        })
    }

    /// Where to write the index.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the staged index to `destination`, replacing what was there.
    pub fn publish(mut self, destination: &Path) -> Result<(), BuildError> {
        let write_error = |source| BuildError::Write {
            path: destination.to_path_buf(),
            source,
        };
        if destination.exists() {
            let aside = sibling(destination, "old");
            std::fs::rename(destination, &aside).map_err(write_error)?;
            if let Err(error) = std::fs::rename(&self.path, destination) {
                // Put the previous index back before reporting the failure.
                let _ = std::fs::rename(&aside, destination);
                return Err(write_error(error));
            }
            let _ = std::fs::remove_dir_all(&aside);
        } else {
            std::fs::rename(&self.path, destination).map_err(write_error)?;
        }
        self.published = true;
        Ok(())
    }
}

impl Drop for StagingDirectory {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_over_an_existing_index_and_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("index");
        std::fs::create_dir(&destination).unwrap();
        std::fs::write(destination.join(MANIFEST_FILE), "old").unwrap();
        let staging = StagingDirectory::create(&destination).unwrap();
        std::fs::write(staging.path().join(MANIFEST_FILE), "new").unwrap();
        staging.publish(&destination).unwrap();
        assert_eq!(
            std::fs::read_to_string(destination.join(MANIFEST_FILE)).unwrap(),
            "new"
        );
        let leftovers: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the index remains");
    }

    #[test]
    fn an_abandoned_staging_directory_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let destination = root.path().join("index");
        let staging = StagingDirectory::create(&destination).unwrap();
        let path = staging.path().to_path_buf();
        drop(staging);
        assert!(!path.exists());
        assert!(!destination.exists());
    }

    #[test]
    fn refuses_to_replace_a_directory_that_is_not_an_index() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("precious.txt"), "keep").unwrap();
        assert!(matches!(
            check_destination(root.path()),
            Err(BuildError::OutputNotAnIndex(_))
        ));
        assert!(check_destination(&root.path().join("new")).is_ok());
    }

    #[test]
    fn a_manifest_json_that_is_not_a_votecheck_manifest_does_not_make_an_index() {
        let root = tempfile::tempdir().unwrap();
        let web_app = root.path().join("app");
        std::fs::create_dir(&web_app).unwrap();
        std::fs::write(web_app.join("index.html"), "<html></html>").unwrap();
        for manifest in [
            r#"{"name": "My web app", "start_url": "/", "display": "standalone"}"#,
            "not json",
            r#"{"schema_version": 1, "builder": {"name": "other-tool", "version": "1"}, "corpus_hash": "00"}"#,
        ] {
            std::fs::write(web_app.join(MANIFEST_FILE), manifest).unwrap();
            assert!(
                matches!(
                    check_destination(&web_app),
                    Err(BuildError::OutputNotAnIndex(_))
                ),
                "{manifest}"
            );
        }
        let corpus = root.path().join("corpus");
        std::fs::create_dir(&corpus).unwrap();
        std::fs::write(corpus.join("vote.md"), "# Voting\n\nPolls open at seven.\n").unwrap();
        let index = root.path().join("index");
        crate::build_index(
            &corpus,
            &index,
            &crate::BuildOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert!(
            check_destination(&index).is_ok(),
            "a real index may be replaced"
        );
        let error = crate::build_index(
            &corpus,
            &web_app,
            &crate::BuildOptions::default(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(error, BuildError::OutputNotAnIndex(_)), "{error}");
        assert!(
            web_app.join("index.html").exists(),
            "the web app is untouched"
        );
    }
}
