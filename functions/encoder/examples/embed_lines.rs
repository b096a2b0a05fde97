//! Embeds each line of standard input and prints the time each took, for profilers and quick
//! checks: `cargo run --release -p votecheck-encoder --example embed_lines -- query < questions.txt`
//! (`passage` embeds the lines as passages, in batches of 16, and prints passages per second).

use std::io::BufRead;
use std::time::Instant;

use votecheck_encoder::{Encoder, Role};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let role = match std::env::args().nth(1).as_deref() {
        Some("passage") => Role::Passage,
        _ => Role::Query,
    };
    let started = Instant::now();
    let encoder = Encoder::open(&votecheck_encoder::testing::required_model_path())?;
    eprintln!("open {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
    let lines: Vec<String> = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    if role == Role::Passage {
        let started = Instant::now();
        for batch in lines.chunks(16) {
            let texts: Vec<&str> = batch.iter().map(String::as_str).collect();
            encoder.embed_batch(role, &texts)?;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{} passages in {seconds:.2} s: {:.1}/s",
            lines.len(),
            lines.len() as f64 / seconds
        );
        return Ok(());
    }
    let mut times = Vec::new();
    for line in &lines {
        let started = Instant::now();
        encoder.embed(role, line)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let at = |share: f64| sorted[((sorted.len() - 1) as f64 * share).round() as usize];
    println!(
        "{} texts: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sorted.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}
