//! Lints every library crate of the workspace declares: no `unsafe` (`#![forbid(unsafe_code)]`,
//! or `#![deny(unsafe_code)]` where a crate documents a narrowly allowed spot) and documented
//! public items (`#![warn(missing_docs)]`, an error under the test command's clippy `-D
//! warnings`). A new library crate without them fails here.

use votecheck_end_to_end::workspace_root;

/// The `members` of the workspace's `Cargo.toml`.
fn workspace_members() -> Vec<String> {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    manifest["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| member.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_library_crate_forbids_unsafe_code_and_warns_on_missing_docs() {
    let mut libraries = 0;
    let mut problems = Vec::new();
    for member in workspace_members() {
        let lib = workspace_root().join(&member).join("src/lib.rs");
        let Ok(text) = std::fs::read_to_string(&lib) else {
            continue;
        };
        libraries += 1;
        let attributes: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("#!["))
            .collect();
        let no_unsafe = attributes.contains(&"#![forbid(unsafe_code)]")
            || attributes.contains(&"#![deny(unsafe_code)]");
        if !no_unsafe {
            problems.push(format!("{member}: no #![forbid(unsafe_code)]"));
        }
        if !attributes.contains(&"#![warn(missing_docs)]") {
            problems.push(format!("{member}: no #![warn(missing_docs)]"));
        }
    }
    assert!(libraries >= 9, "found only {libraries} library crates");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
