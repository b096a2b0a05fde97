//! Helpers for tests that need the real model: where it is, and a clear failure when it is not.
//!
//! The model is derived by `bash scripts/model.sh` (the test command runs it) into
//! `models/multilingual-e5-small-q4.vce` at the repository root; `VOTECHECK_MODEL` points
//! elsewhere. A test that needs the model fails, never skips, when it is missing.

use std::path::PathBuf;

use crate::MODEL_FILE_NAME;

/// The model file tests use: `VOTECHECK_MODEL`, else `models/` at the repository root.
pub fn model_path() -> PathBuf {
    if let Some(path) = std::env::var_os("VOTECHECK_MODEL") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(MODEL_FILE_NAME)
}

/// [`model_path`], after checking that the file exists (panics with the command that derives
/// it, so the failing test says what to do).
pub fn required_model_path() -> PathBuf {
    let path = model_path();
    assert!(
        path.is_file(),
        "the encoder model {} is missing: derive it with `bash scripts/model.sh` (the test command does)",
        path.display()
    );
    path
}

#[cfg(test)]
pub(crate) fn tiny_header() -> crate::ModelHeader {
    use crate::model_file::{FORMAT_VERSION, TokenizerConfig, TransformerConfig};
    crate::ModelHeader {
        format: FORMAT_VERSION,
        model_id: "tiny".into(),
        provenance: crate::Provenance {
            registry: "none".into(),
            package: "none".into(),
            version: "0".into(),
            package_file: "none.whl".into(),
            package_sha256: String::new(),
            package_licence: "MIT".into(),
            member: "none".into(),
            member_sha256: String::new(),
            upstream_model: "none".into(),
            upstream_licence: "MIT".into(),
        },
        config: TransformerConfig {
            hidden: 32,
            layers: 0,
            heads: 1,
            intermediate: 32,
            max_positions: 8,
            vocabulary_rows: 1,
            layer_norm_eps: 1e-12,
        },
        tokenizer: TokenizerConfig {
            pieces: 1,
            bos: 0,
            eos: 0,
            pad: 0,
            unk: 0,
            unk_score: -10.0,
        },
        sections: Default::default(),
        tensors: Default::default(),
    }
}
