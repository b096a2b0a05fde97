//! The Rust encoder against the reference engine of the pinned package: the same piece counts
//! and the same vectors (cosine >= 0.999) for every text of the fixture, which
//! `scripts/reference-vectors.sh` made with the package's own C engine. Needs the model file
//! (`bash scripts/model.sh`, run by the test command); fails, never skips, without it.

use serde_json::Value;
use votecheck_encoder::{Embedding, Encoder, Role};

fn fixture() -> Vec<(Role, String, usize, Vec<f32>)> {
    let text = include_str!("fixtures/reference-vectors.json");
    let fixture: Value = serde_json::from_str(text).expect("the fixture is JSON");
    fixture["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| {
            let role = match case["role"].as_str() {
                Some("query") => Role::Query,
                _ => Role::Passage,
            };
            let vector = case["vector"]
                .as_array()
                .expect("vector")
                .iter()
                .map(|value| value.as_f64().expect("number") as f32)
                .collect();
            (
                role,
                case["text"].as_str().expect("text").to_string(),
                case["pieces"].as_u64().expect("pieces") as usize,
                vector,
            )
        })
        .collect()
}

fn encoder() -> Encoder {
    Encoder::open(&votecheck_encoder::testing::required_model_path()).expect("the model opens")
}

#[test]
fn piece_counts_match_the_reference_tokenizer() {
    let encoder = encoder();
    for (role, text, pieces, _) in fixture() {
        assert_eq!(
            encoder.piece_count(role, &text),
            pieces,
            "{role:?} {text:?}"
        );
    }
}

#[test]
fn vectors_match_the_reference_engine() {
    let encoder = encoder();
    let mut worst = (1.0f32, String::new());
    for (role, text, _, expected) in fixture() {
        let embedding = encoder.embed(role, &text).expect("embeds");
        assert_eq!(embedding.as_slice().len(), 384);
        let cosine = embedding.dot(&Embedding::normalized(expected));
        if cosine < worst.0 {
            worst = (cosine, text.clone());
        }
        assert!(cosine >= 0.999, "cosine {cosine} for {role:?} {text:?}");
    }
    eprintln!("lowest cosine {:.6} for {:?}", worst.0, worst.1);
}

#[test]
fn a_batch_gives_the_vectors_of_its_texts_one_by_one() {
    let encoder = encoder();
    let cases = fixture();
    let passages: Vec<&str> = cases
        .iter()
        .filter(|case| case.0 == Role::Passage)
        .map(|case| case.1.as_str())
        .collect();
    let batch = encoder
        .embed_batch(Role::Passage, &passages)
        .expect("embeds");
    for (text, embedding) in passages.iter().zip(&batch) {
        let alone = encoder.embed(Role::Passage, text).expect("embeds");
        assert!(alone.dot(embedding) > 0.9999, "{text:?}");
    }
}

#[test]
fn related_texts_are_closer_than_unrelated_ones_across_languages() {
    let encoder = encoder();
    let question = encoder
        .embed(Role::Query, "¿puedo votar por correo?")
        .unwrap();
    let answer = encoder
        .embed(
            Role::Passage,
            "Any registered voter may vote by mail; request a mail ballot from the county.",
        )
        .unwrap();
    let unrelated = encoder
        .embed(
            Role::Passage,
            "The library is closed on public holidays and reopens on Monday.",
        )
        .unwrap();
    assert!(question.dot(&answer) > question.dot(&unrelated) + 0.05);
}

#[test]
fn an_earlier_layer_mean_comes_with_the_same_embedding() {
    let encoder = encoder();
    let layers = encoder.header().config.layers;
    let texts = ["where do i vote", "quem é o melhor candidato?"];
    let layered = encoder
        .embed_batch_with_layer(Role::Query, &texts, 7)
        .expect("embeds");
    for (text, layered) in texts.iter().zip(&layered) {
        let alone = encoder.embed(Role::Query, text).expect("embeds");
        assert!(alone.dot(&layered.embedding) > 0.9999, "{text:?}");
        assert_eq!(layered.layer_mean.len(), 384);
        // After layer 7 the states are not the final ones yet.
        let earlier = Embedding::normalized(layered.layer_mean.clone());
        assert!(earlier.dot(&alone) < 0.99, "{text:?}");
    }
    // After the last layer, the layer mean is the embedding before normalising.
    let last = encoder
        .embed_with_layer(Role::Query, texts[0], layers)
        .expect("embeds");
    let normalised = Embedding::normalized(last.layer_mean);
    assert!(normalised.dot(&last.embedding) > 0.9999);
    for missing in [0, layers + 1] {
        let error = encoder
            .embed_with_layer(Role::Query, texts[0], missing)
            .unwrap_err();
        assert!(error.to_string().contains("layers"), "{error}");
    }
}
