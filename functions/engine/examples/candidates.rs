//! Prints every candidate passage the retriever keeps for a question in its own language (up to
//! the candidate pool, no answer threshold), with the lexicon's expansion: for finding out why
//! the passage that answers is not among the first three.
//!
//! ```text
//! cargo run --release -p votecheck-engine --example candidates -- target/sample-index en "do i need a stamp?"
//! ```

use votecheck_engine::jurisdiction::JurisdictionMatcher;
use votecheck_engine::lexicon::Lexicon;
use votecheck_engine::retrieval::{Retriever, Search};
use votecheck_index::PassageIndex;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let usage = "usage: candidates <INDEX_DIR> <LANGUAGE> <QUESTION>...";
    let index = PassageIndex::open(std::path::Path::new(&arguments.next().ok_or(usage)?))?;
    let language = arguments.next().ok_or(usage)?;
    let lexicon = Lexicon::load()?;
    let retriever = Retriever::new(&index);
    let general = JurisdictionMatcher::new(&index.manifest().jurisdictions)?.widest();
    println!("general jurisdictions: {general:?}");
    for question in arguments {
        let expansion = lexicon.expand(&question, &language);
        println!("{question}\n  expansion: {}", expansion.text);
        println!("  terms: {:?}", index.language_terms(&language, &question));
        let candidates = retriever.passages(&Search {
            text: &question,
            language: &language,
            passage_languages: vec![language.clone()],
            expansion: expansion.text.clone(),
            jurisdiction: None,
            general: &general,
            limit: 16,
            function_words: lexicon.function_words(&language),
            synonyms: &expansion.synonyms,
            concepts: &[],
            embedding: None,
            semantic_languages: &[],
        })?;
        for (rank, candidate) in candidates.iter().enumerate() {
            println!(
                "  {:2}. {:.3} {:6.2} {} › {}",
                rank + 1,
                candidate.confidence,
                candidate.score,
                candidate.passage.source,
                candidate.passage.section
            );
        }
    }
    Ok(())
}
