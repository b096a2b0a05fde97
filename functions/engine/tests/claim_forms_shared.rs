//! An optional check over the third-party fact-checks in `../shared/corpus/br-factchecks` (run
//! only where that corpus exists; the project's own cases are the unit tests of
//! `claim_form` and `reply`): every fact-check whose `claimReviewed` is its headline, or opens
//! with "Não é verdade que" / "É falso que", is recognised as the fact-checker's conclusion, so
//! the reply never shows it as "Alegação: … / Veredito: Falso".

use std::path::PathBuf;

use serde_json::Value;
use votecheck_engine::claim_form::ClaimForm;

#[test]
fn every_headline_or_negated_claim_of_the_shared_fact_checks_is_a_conclusion() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/br-factchecks");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} is not here: nothing to check", dir.display());
        return;
    };
    let (mut reviews, mut conclusions, mut expected) = (0, 0, 0);
    for entry in entries.flatten() {
        if entry
            .path()
            .extension()
            .is_none_or(|extension| extension != "json")
        {
            continue;
        }
        let value: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        let claim = value["claimReviewed"].as_str().unwrap_or_default();
        let headline = value["headline"].as_str();
        let form = ClaimForm::of(claim, headline);
        reviews += 1;
        conclusions += usize::from(form == ClaimForm::Conclusion);
        let lower = claim.to_lowercase();
        if headline == Some(claim)
            || lower.starts_with("não é verdade que")
            || lower.starts_with("é falso que")
        {
            expected += 1;
            assert_eq!(
                form,
                ClaimForm::Conclusion,
                "{}: {claim}",
                entry.path().display()
            );
        }
    }
    eprintln!("{reviews} fact-checks: {conclusions} conclusions, {expected} of them certain");
    assert!(reviews > 0 && expected > 0);
}
