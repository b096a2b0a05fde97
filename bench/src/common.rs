//! What every benchmark shares: where the workspace, corpora, eval files and build outputs are;
//! the machine; peak resident memory of this process and of children; building the release
//! binaries under test; installing a missing load-test tool.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is inside the workspace")
        .to_path_buf()
}

/// `../shared/corpus` when it exists, else `samples/corpus`.
pub fn default_corpus() -> PathBuf {
    let shared = shared_corpus();
    if shared.is_dir() {
        shared
    } else {
        sample_corpus()
    }
}

pub fn shared_corpus() -> PathBuf {
    workspace_root().join("../shared/corpus")
}

pub fn sample_corpus() -> PathBuf {
    workspace_root().join("samples/corpus")
}

/// The corpora a full run measures: the default corpus, then the sample corpus when it differs.
pub fn corpora() -> Vec<PathBuf> {
    let mut corpora = vec![default_corpus()];
    if !corpora[0].ends_with("samples/corpus") {
        corpora.push(sample_corpus());
    }
    corpora
}

/// A short name for a corpus in tables: `shared corpus`, `sample corpus` or the path.
pub fn corpus_label(corpus: &Path) -> String {
    if corpus.ends_with("samples/corpus") {
        "sample corpus".to_string()
    } else if corpus.ends_with("shared/corpus") {
        "shared corpus".to_string()
    } else {
        corpus.display().to_string()
    }
}

/// The eval file that matches a corpus: the **test** split of the held-out questions
/// (samples/eval/README.md), which nothing was tuned on.
pub fn default_cases(corpus: &Path) -> PathBuf {
    let file = if corpus.ends_with("samples/corpus") {
        "sample-test.jsonl"
    } else {
        "shared-test.jsonl"
    };
    workspace_root().join("samples/eval/heldout").join(file)
}

/// The directory the benchmark itself was built into (`target/release`), where the binaries it
/// builds land too.
pub fn build_directory() -> anyhow::Result<PathBuf> {
    std::env::current_exe()?
        .parent()
        .map(Path::to_path_buf)
        .context("the benchmark's own directory")
}

/// `target/bench/`, next to the build directory.
pub fn report_directory() -> anyhow::Result<PathBuf> {
    let build = build_directory()?;
    Ok(build.parent().unwrap_or(&build).join("bench"))
}

/// Builds release binaries, given as (package, binary) pairs, with the benchmark's own profile,
/// and returns the directory they are in.
pub fn build_release(binaries: &[(&str, &str)]) -> anyhow::Result<PathBuf> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()));
    command
        .current_dir(workspace_root())
        .args(["build", "--release", "--locked"]);
    for (package, binary) in binaries {
        command.args(["-p", package, "--bin", binary]);
    }
    let status = command
        .status()
        .context("running cargo build for the binaries under test")?;
    let names: Vec<&str> = binaries.iter().map(|(_, binary)| *binary).collect();
    anyhow::ensure!(status.success(), "building {} failed", names.join(", "));
    build_directory()
}

/// Peak resident set size of this process, in MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> Option<f64> {
    read_peak_rss("/proc/self/status")
}

/// Peak resident memory of a running process, in MiB.
pub fn process_peak_rss_mib(pid: u32) -> Option<f64> {
    read_peak_rss(&format!("/proc/{pid}/status"))
}

fn read_peak_rss(status_path: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time (user + system) a running process has used so far, in seconds (Linux
/// `/proc/PID/stat`, at the usual 100 clock ticks per second).
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may contain spaces) start with the state, field 3;
    // utime and stime are fields 14 and 15.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// The 1-minute load average of the machine (other work running beside a benchmark shows here).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resets this process's peak resident set size to its current one (Linux: writing 5 to
/// `/proc/self/clear_refs`), so that one run of several benchmarks reports each one's own peak.
/// Returns whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The machine the figures come from.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split(':').nth(1))
                    .map(|model| model.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".to_string());
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        Machine { cores, cpu }
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} cores, {}", self.cores, self.cpu)
    }
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Whether a program can be started (`program --version` runs, whatever its exit status).
fn can_run(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// Makes sure `program` is installed, installing the Debian package `package` with apt-get when
/// it is missing and this process may; otherwise fails with what to install.
pub fn ensure_tool(program: &str, package: &str) -> anyhow::Result<()> {
    if can_run(program) {
        return Ok(());
    }
    if can_run("apt-get") {
        eprintln!("{program} is missing: installing the Debian package {package}");
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "-qq", package])
                .stdout(std::process::Stdio::null())
                .status()
                .map(|status| status.success())
                .unwrap_or(false)
        };
        if !install() {
            let _ = Command::new("apt-get")
                .args(["update", "-qq"])
                .stdout(std::process::Stdio::null())
                .status();
            install();
        }
        if can_run(program) {
            return Ok(());
        }
    }
    anyhow::bail!(
        "{program} is not installed and could not be installed here: install the Debian package \
         `{package}` (`apt-get install {package}`, as root) and run the benchmark again"
    )
}

/// Writes a value as pretty JSON, creating the directory.
pub fn write_json(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// Builds the index of `corpus` with passage vectors into `directory/index` and returns its path
/// (the embedding cache makes every build after the first quick).
pub fn build_hybrid_index(corpus: &Path, directory: &Path) -> anyhow::Result<PathBuf> {
    let index_dir = directory.join("index");
    votecheck_index_builder::build_index(
        corpus,
        &index_dir,
        &votecheck_index_builder::BuildOptions::embedding_with(votecheck_encoder::locate_model()),
        &mut |_| {},
    )
    .with_context(|| format!("building {}", corpus.display()))?;
    Ok(index_dir)
}
