//! Answers every question of an eval file many times, for a profiler: `perf record` this.
//!
//! ```text
//! cargo run --release -p votecheck-engine --example profile_answers -- <INDEX> <CASES.jsonl> [rounds]
//! ```

use votecheck_engine::{ConversationContext, Engine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let index = arguments
        .next()
        .ok_or("usage: profile_answers <INDEX> <CASES> [rounds]")?;
    let cases = arguments
        .next()
        .ok_or("usage: profile_answers <INDEX> <CASES> [rounds]")?;
    let rounds: usize = arguments.next().map_or(Ok(20), |value| value.parse())?;
    let engine = Engine::open(std::path::Path::new(&index))?;
    let questions: Vec<String> =
        votecheck_engine::eval::parse_cases(&std::fs::read_to_string(cases)?)?
            .into_iter()
            .map(|case| case.question)
            .collect();
    let context = ConversationContext::default();
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        for question in &questions {
            std::hint::black_box(engine.answer(question, &context));
        }
    }
    let answers = rounds * questions.len();
    println!(
        "{answers} answers, {:.0} µs each on average",
        started.elapsed().as_secs_f64() * 1e6 / answers as f64
    );
    Ok(())
}
