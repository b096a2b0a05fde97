//! `cpu-share`: answer latency at the CPU share Lambda gives a function of 512, 1,024 and 1,769 MB
//! (CPU grows in proportion to memory, one full vCPU at 1,769 MB), and what a message then costs.
//!
//! The index of the corpus is built once; then, for each memory size, this benchmark runs itself
//! again (`cpu-share-worker`) pinned to one core (`taskset -c 0`) inside a cgroup whose CPU quota
//! is that share of the core (`cpu.max` on cgroup v2, `cpu.cfs_quota_us` on v1, period 100 ms, as
//! Lambda's own throttling works), where it opens the engine, answers one warm-up question and
//! then every case once, and reports p50/p99 of the answer time. Making a cgroup needs root or a
//! delegated cgroup; without one the benchmark says so and measures nothing.
//!
//! Cost per 1,000 messages is a model, not a measurement: billed time per message = the measured
//! answer p50 at that share + the time the webhook waits on the network (the Graph API reply and
//! read receipt, DynamoDB), which does not shrink with CPU (`--network-ms`, default 300); at a
//! price per GB-second and per request given by flags (defaults: the published x86 prices in
//! us-east-1 at the time of writing, $0.0000166667 per GB-s and $0.20 per million requests).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use serde_json::json;
use votecheck_engine::Engine;
use votecheck_engine::eval::parse_cases;

use crate::common::{build_hybrid_index, corpus_label};

/// The memory sizes measured, in MB.
pub const MEMORY_SIZES_MB: [u32; 3] = [512, 1024, 1769];
/// The memory size at which Lambda gives one full vCPU.
const FULL_VCPU_MB: f64 = 1769.0;
/// The quota period, in µs.
const PERIOD_US: u64 = 100_000;

/// The assumptions of the cost model.
#[derive(Debug, Clone, Copy)]
pub struct CostModel {
    /// Time a webhook waits on the network per message, whatever the CPU share.
    pub network_ms: f64,
    /// Price of one GB-second of function time, in dollars.
    pub gb_second_price: f64,
    /// Price of one million requests, in dollars.
    pub million_requests_price: f64,
}

/// The figures at one memory size.
#[derive(Debug, Clone)]
pub struct ShareFigures {
    pub memory_mb: u32,
    pub share: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub questions: usize,
}

impl ShareFigures {
    /// Dollars per 1,000 messages under `model`.
    pub fn cost_per_thousand(&self, model: &CostModel) -> f64 {
        let seconds = (self.p50_ms + model.network_ms) / 1000.0;
        let gigabytes = f64::from(self.memory_mb) / 1024.0;
        1000.0 * (seconds * gigabytes * model.gb_second_price)
            + model.million_requests_price / 1000.0
    }
}

/// What one `cpu-share` run found.
#[derive(Debug, Clone)]
pub struct CpuShareFigures {
    pub corpus: PathBuf,
    pub cases: PathBuf,
    pub model: CostModel,
    /// Empty when no cgroup could be made (`unavailable` says why).
    pub shares: Vec<ShareFigures>,
    pub unavailable: Option<String>,
}

impl CpuShareFigures {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "corpus": corpus_label(&self.corpus),
            "cases": self.cases.display().to_string(),
            "unavailable": self.unavailable,
            "network_ms": self.model.network_ms,
            "gb_second_price": self.model.gb_second_price,
            "million_requests_price": self.model.million_requests_price,
            "shares": self.shares.iter().map(|share| json!({
                "memory_mb": share.memory_mb,
                "vcpu": share.share,
                "answer_p50_ms": share.p50_ms,
                "answer_p99_ms": share.p99_ms,
                "questions": share.questions,
                "dollars_per_1000_messages": share.cost_per_thousand(&self.model),
            })).collect::<Vec<_>>(),
        })
    }

    pub fn print(&self) {
        println!();
        if let Some(why) = &self.unavailable {
            println!("not measured: {why}");
            return;
        }
        println!(
            "| memory | vCPU | answer p50 | answer p99 | $ per 1,000 messages (p50 + {:.0} ms network) |",
            self.model.network_ms
        );
        println!("|---|---|---|---|---|");
        for share in &self.shares {
            println!(
                "| {} MB | {:.2} | {:.1} ms | {:.1} ms | {:.4} |",
                share.memory_mb,
                share.share,
                share.p50_ms,
                share.p99_ms,
                share.cost_per_thousand(&self.model)
            );
        }
        println!(
            "(prices assumed: ${} per GB-s, ${} per million requests)",
            self.model.gb_second_price, self.model.million_requests_price
        );
    }
}

/// A cgroup with a CPU quota, removed on drop.
struct QuotaGroup {
    directory: PathBuf,
}

impl QuotaGroup {
    /// A cgroup limited to `share` of one CPU, on cgroup v2 or v1.
    fn create(name: &str, share: f64) -> anyhow::Result<QuotaGroup> {
        let quota = (share * PERIOD_US as f64).round() as u64;
        let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let directory = if unified {
            PathBuf::from("/sys/fs/cgroup").join(name)
        } else {
            PathBuf::from("/sys/fs/cgroup/cpu").join(name)
        };
        if !directory.exists() {
            std::fs::create_dir(&directory)
                .with_context(|| format!("creating the cgroup {}", directory.display()))?;
        }
        let group = QuotaGroup { directory };
        if unified {
            group.write("cpu.max", &format!("{quota} {PERIOD_US}"))?;
        } else {
            group.write("cpu.cfs_period_us", &PERIOD_US.to_string())?;
            group.write("cpu.cfs_quota_us", &quota.to_string())?;
        }
        Ok(group)
    }

    fn write(&self, file: &str, value: &str) -> anyhow::Result<()> {
        let path = self.directory.join(file);
        std::fs::write(&path, value)
            .with_context(|| format!("writing {value} to {}", path.display()))
    }

    fn processes_file(&self) -> PathBuf {
        self.directory.join("cgroup.procs")
    }
}

impl Drop for QuotaGroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.directory);
    }
}

/// Builds the index of `corpus` and measures the answer latency at each share.
pub fn measure(corpus: &Path, cases: &Path, model: CostModel) -> anyhow::Result<CpuShareFigures> {
    let mut figures = CpuShareFigures {
        corpus: corpus.to_path_buf(),
        cases: cases.to_path_buf(),
        model,
        shares: Vec::new(),
        unavailable: None,
    };
    if let Err(problem) = QuotaGroup::create("votecheck-bench-probe", 1.0) {
        figures.unavailable = Some(format!(
            "no cgroup with a CPU quota can be made here ({problem:#}); run as root or in a delegated cgroup"
        ));
        return Ok(figures);
    }
    let work = tempfile::tempdir()?;
    let index_dir = build_hybrid_index(corpus, work.path())?;
    for memory_mb in MEMORY_SIZES_MB {
        let share = (f64::from(memory_mb) / FULL_VCPU_MB).min(1.0);
        let group = QuotaGroup::create(&format!("votecheck-bench-{memory_mb}"), share)?;
        let output = Command::new("sh")
            .arg("-c")
            .arg(r#"echo $$ > "$0" && exec taskset -c 0 "$@""#)
            .arg(group.processes_file())
            .arg(std::env::current_exe()?)
            .arg("cpu-share-worker")
            .arg(&index_dir)
            .arg(cases)
            .output()
            .context("running the worker in its cgroup")?;
        anyhow::ensure!(
            output.status.success(),
            "the worker at {memory_mb} MB failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("reading the worker's figures")?;
        let number = |field: &str| result[field].as_f64().unwrap_or(f64::NAN);
        figures.shares.push(ShareFigures {
            memory_mb,
            share,
            p50_ms: number("p50_ms"),
            p99_ms: number("p99_ms"),
            questions: result["questions"].as_u64().unwrap_or(0) as usize,
        });
    }
    Ok(figures)
}

/// The worker: opens the engine over `index_dir`, answers one question to warm up (as the
/// bootstrap does at start-up), then every case of `cases` once as `votecheck eval` does, and
/// prints p50/p99 as JSON.
pub fn worker(index_dir: &Path, cases: &Path) -> anyhow::Result<()> {
    let cases = parse_cases(&std::fs::read_to_string(cases)?)
        .map_err(|error| anyhow::anyhow!("{}: {error}", cases.display()))?;
    let engine = Engine::open(index_dir)?;
    engine.warm_up()?;
    let report = votecheck_engine::eval::run(&engine, &cases, 3);
    let milliseconds = |micros: u64| micros as f64 / 1000.0;
    println!(
        "{}",
        json!({
            "p50_ms": milliseconds(report.latency_us.p50),
            "p99_ms": milliseconds(report.latency_us.p99),
            "questions": cases.len(),
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_costs_its_billed_time_at_its_memory_plus_the_request() {
        let model = CostModel {
            network_ms: 300.0,
            gb_second_price: 0.00001,
            million_requests_price: 0.2,
        };
        let figures = ShareFigures {
            memory_mb: 1024,
            share: 0.58,
            p50_ms: 100.0,
            p99_ms: 200.0,
            questions: 10,
        };
        // 1,000 × 0.4 s × 1 GB × $0.00001 + $0.0002
        let cost = figures.cost_per_thousand(&model);
        assert!((cost - 0.0042).abs() < 1e-12, "{cost}");
    }
}
