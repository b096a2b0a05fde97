//! Finding the documents of a corpus and fingerprinting it.
//!
//! A corpus is a directory tree; every regular file below it is a source document, named by its
//! path relative to the root with `/` separators. Hidden files and folders (names starting with
//! `.`) are skipped, and so are `README.md`, `SOURCE.txt` and `LICENSE*` at any level, and the
//! root's `corpus.toml` (the deployment settings, read by [`read_settings`]). Files are listed in
//! byte order of their source path, so every run sees them in the same order.
//!
//! Symbolic links are followed only while they stay inside the corpus: a link whose target
//! resolves outside the root (a secrets file, a home directory), a broken link and a link loop are
//! reported as warnings and skipped, never read.
//!
//! The corpus hash is SHA-256 over, for each file in that order (`corpus.toml` included): the
//! source path, a NUL byte, the content length as 8 little-endian bytes, and the content.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use crate::error::BuildError;
use votecheck_index::DeploymentSettings;
use votecheck_index::language::normalize_tag;
use votecheck_index::manifest::Warning;

/// Name of the settings file at the corpus root.
pub const SETTINGS_FILE: &str = "corpus.toml";

/// One file of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusFile {
    /// Path relative to the corpus root, `/`-separated.
    pub source: String,
    /// Path on disk.
    pub path: PathBuf,
}

/// Whether a file or folder name is excluded from the corpus.
pub fn is_skipped_name(name: &str) -> bool {
    name.starts_with('.')
        || name == "README.md"
        || name == "SOURCE.txt"
        || name.starts_with("LICENSE")
}

/// The documents of a corpus, and the links that were not followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusListing {
    /// The documents, in source order.
    pub files: Vec<CorpusFile>,
    /// Symbolic links skipped (leaving the corpus, broken, or looping), by source.
    pub warnings: Vec<Warning>,
}

/// Lists the source documents of a corpus in source order.
pub fn list_documents(root: &Path) -> Result<CorpusListing, BuildError> {
    let unreadable = |path: &Path, source: std::io::Error| BuildError::CorpusUnreadable {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(root).map_err(|source| unreadable(root, source))?;
    if !metadata.is_dir() {
        return Err(BuildError::CorpusNotADirectory(root.to_path_buf()));
    }
    let canonical_root = std::fs::canonicalize(root).map_err(|source| unreadable(root, source))?;
    let source_of = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut listing = CorpusListing::default();
    let skip = |listing: &mut CorpusListing, path: &Path, message: &str| {
        listing.warnings.push(Warning {
            source: source_of(path),
            message: message.to_string(),
        });
    };
    let mut walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || !is_skipped_name(&entry.file_name().to_string_lossy())
        });
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_path_buf();
                if error.loop_ancestor().is_some() {
                    skip(&mut listing, &path, "is a symbolic link loop; skipped");
                    continue;
                }
                if path.symlink_metadata().is_ok_and(|meta| meta.is_symlink()) {
                    skip(&mut listing, &path, "is a broken symbolic link; skipped");
                    continue;
                }
                return Err(unreadable(&path, error.into()));
            }
        };
        if entry.path_is_symlink() {
            let inside = std::fs::canonicalize(entry.path())
                .is_ok_and(|target| target.starts_with(&canonical_root));
            if !inside {
                skip(
                    &mut listing,
                    entry.path(),
                    "is a symbolic link to a path outside the corpus; not followed",
                );
                if entry.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                continue;
            }
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let source = source_of(entry.path());
        if source == SETTINGS_FILE {
            continue;
        }
        listing.files.push(CorpusFile {
            source,
            path: entry.path().to_path_buf(),
        });
    }
    listing.files.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(listing)
}

/// Reads `corpus.toml` when the corpus has one; returns its bytes (for the corpus hash) too.
pub fn read_settings(root: &Path) -> Result<(DeploymentSettings, Option<Vec<u8>>), BuildError> {
    let path = root.join(SETTINGS_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok((DeploymentSettings::default(), None));
        }
        Err(source) => return Err(BuildError::CorpusUnreadable { path, source }),
    };
    let invalid = |reason: String| BuildError::InvalidSettings {
        path: path.clone(),
        reason,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid("not valid UTF-8".to_string()))?;
    let mut settings: DeploymentSettings =
        toml::from_str(text).map_err(|error| invalid(error.to_string()))?;
    if let Some(language) = &settings.defaults.language {
        settings.defaults.language = Some(
            normalize_tag(language)
                .map_err(|error| invalid(format!("[defaults] language: {error}")))?,
        );
    }
    let websites = [
        (
            "[contact] website",
            settings.contact.as_ref().and_then(|c| c.website.as_ref()),
        ),
        (
            "[report] website",
            settings.report.as_ref().and_then(|r| r.website.as_ref()),
        ),
    ];
    for (key, website) in websites {
        if let Some(website) = website.filter(|website| !crate::web_url::is_web_url(website)) {
            return Err(invalid(format!(
                "{key} {} is not an http(s) address (it is sent to citizens as a link)",
                crate::web_url::quoted(website)
            )));
        }
    }
    for (index, topic) in settings.topics.iter().enumerate() {
        if topic.id.trim().is_empty() || topic.title.trim().is_empty() {
            return Err(invalid(format!(
                "[[topics]] #{} needs an `id` and a `title`",
                index + 1
            )));
        }
    }
    Ok((settings, Some(bytes)))
}

/// The hash a build of `root` as it is now would record (settings first, then every document in
/// source order), without building: lets a caller tell whether an index is up to date.
pub fn corpus_hash(root: &Path) -> Result<String, BuildError> {
    let mut hasher = CorpusHasher::default();
    if let (_, Some(bytes)) = read_settings(root)? {
        hasher.add(SETTINGS_FILE, &bytes);
    }
    for file in list_documents(root)?.files {
        let bytes = std::fs::read(&file.path).map_err(|source| BuildError::CorpusUnreadable {
            path: file.path.clone(),
            source,
        })?;
        hasher.add(&file.source, &bytes);
    }
    Ok(hasher.finish())
}

/// Incremental corpus hash.
#[derive(Default)]
pub struct CorpusHasher {
    hasher: Sha256,
}

impl CorpusHasher {
    /// Adds one file.
    pub fn add(&mut self, source: &str, bytes: &[u8]) {
        self.hasher.update(source.as_bytes());
        self.hasher.update([0]);
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    /// The hash, as lower-case hex.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_documents_and_skips_what_the_format_excludes() {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        };
        for path in [
            "b.md",
            "a/z.txt",
            "a/README.md",
            "SOURCE.txt",
            "LICENSE",
            "a/LICENSE.md",
            ".hidden.md",
            ".git/config",
            "corpus.toml",
            "sub/corpus.toml",
        ] {
            write(path);
        }
        let sources: Vec<String> = list_documents(root.path())
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.source)
            .collect();
        assert_eq!(sources, vec!["a/z.txt", "b.md", "sub/corpus.toml"]);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_out_of_the_corpus_are_reported_not_followed() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secrets.md");
        std::fs::write(&secret, "# Secrets\n\nThe access token is hunter2.\n").unwrap();
        std::fs::create_dir(outside.path().join("private")).unwrap();
        std::fs::write(outside.path().join("private/notes.md"), "# Notes\n").unwrap();
        let root = tempfile::tempdir().unwrap();
        let corpus = root.path().join("corpus");
        std::fs::create_dir_all(corpus.join("en")).unwrap();
        std::fs::write(
            corpus.join("en/vote.md"),
            "# Voting\n\nPolls open at seven.\n",
        )
        .unwrap();
        symlink(&secret, corpus.join("en/faq.md")).unwrap();
        symlink(outside.path().join("private"), corpus.join("shared")).unwrap();
        symlink("en/vote.md", corpus.join("alias.md")).unwrap();
        symlink(corpus.join("missing.md"), corpus.join("broken.md")).unwrap();
        symlink(&corpus, corpus.join("en/loop")).unwrap();

        let listing = list_documents(&corpus).unwrap();
        let sources: Vec<&str> = listing.files.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(sources, ["alias.md", "en/vote.md"]);
        let warnings: Vec<String> = listing.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                "broken.md: is a broken symbolic link; skipped",
                "en/faq.md: is a symbolic link to a path outside the corpus; not followed",
                "en/loop: is a symbolic link loop; skipped",
                "shared: is a symbolic link to a path outside the corpus; not followed",
            ]
        );
        for warning in &warnings {
            assert!(!warning.contains(&*outside.path().to_string_lossy()));
        }

        let out = root.path().join("index");
        let report =
            crate::build_index(&corpus, &out, &crate::BuildOptions::default(), &mut |_| {})
                .unwrap();
        let link_warnings = report
            .manifest
            .warnings
            .iter()
            .filter(|warning| warning.message.contains("symbolic link"))
            .count();
        assert_eq!(link_warnings, 4, "{:?}", report.manifest.warnings);
        let exported = std::fs::read_to_string(out.join("documents.json")).unwrap();
        assert!(!exported.contains("faq.md"), "{exported}");
        let strict = crate::BuildOptions {
            strict: true,
            ..crate::BuildOptions::default()
        };
        assert!(crate::build_index(&corpus, &out, &strict, &mut |_| {}).is_err());
    }

    #[test]
    fn the_corpus_hash_is_the_one_a_build_records() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join(SETTINGS_FILE),
            "[defaults]\nlanguage = \"en\"\n",
        )
        .unwrap();
        std::fs::write(
            root.path().join("vote.md"),
            "# Voting\n\nPolls open at seven in the morning.\n",
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let report = crate::build_index(
            root.path(),
            &out.path().join("index"),
            &crate::BuildOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(
            corpus_hash(root.path()).unwrap(),
            report.manifest.corpus_hash
        );
        std::fs::write(
            root.path().join("vote.md"),
            "# Voting\n\nPolls open at eight.\n",
        )
        .unwrap();
        assert_ne!(
            corpus_hash(root.path()).unwrap(),
            report.manifest.corpus_hash
        );
    }

    #[test]
    fn reads_settings_and_validates_them() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join(SETTINGS_FILE),
            "[defaults]\nlanguage = \"EN-us\"\n[contact]\nphone = \"+1 555-0100\"\nextra = 1\n[[topics]]\nid = \"mail\"\ntitle = \"Vote by mail\"\n",
        )
        .unwrap();
        let (settings, bytes) = read_settings(root.path()).unwrap();
        assert_eq!(settings.defaults.language.as_deref(), Some("en-US"));
        assert_eq!(
            settings.contact.unwrap().phone.as_deref(),
            Some("+1 555-0100")
        );
        assert_eq!(settings.topics[0].id, "mail");
        assert!(bytes.is_some());

        std::fs::write(
            root.path().join(SETTINGS_FILE),
            "[defaults]\nlanguage = 3\n",
        )
        .unwrap();
        let error = read_settings(root.path()).unwrap_err().to_string();
        assert!(error.contains("corpus.toml"), "{error}");

        for settings in [
            "[contact]\nwebsite = \"javascript:alert(1)\"\n",
            "[report]\nwebsite = \"data:text/html,x\"\n",
        ] {
            std::fs::write(root.path().join(SETTINGS_FILE), settings).unwrap();
            let error = read_settings(root.path()).unwrap_err().to_string();
            assert!(error.contains("not an http(s) address"), "{error}");
        }
    }

    #[test]
    fn hash_depends_on_paths_and_contents() {
        let hash = |files: &[(&str, &[u8])]| {
            let mut hasher = CorpusHasher::default();
            for (source, bytes) in files {
                hasher.add(source, bytes);
            }
            hasher.finish()
        };
        let base = hash(&[("a.md", b"x"), ("b.md", b"y")]);
        assert_eq!(base, hash(&[("a.md", b"x"), ("b.md", b"y")]));
        assert_ne!(base, hash(&[("a.md", b"x"), ("c.md", b"y")]));
        assert_ne!(base, hash(&[("a.md", b"xy"), ("b.md", b"")]));
    }
}
