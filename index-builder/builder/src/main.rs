//! `index-builder`: builds, inspects and searches votecheck indexes.
//!
//! ```text
//! index-builder build <CORPUS_DIR> --out <INDEX_DIR> [--strict]
//! index-builder inspect <INDEX_DIR> [--json]
//! index-builder search <INDEX_DIR> "<query>" [--language es] [--limit 5]
//! index-builder model derive --pin <PIN.toml> --input <e5-small-q4.bin> --out <MODEL.vce>
//! index-builder model describe <MODEL.vce>
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use votecheck_index::language::detect;
use votecheck_index::{Manifest, PassageIndex, SearchRequest};
use votecheck_index_builder::{
    BuildOptions, BuildProgress, EmbeddingOptions, build_index, default_cache_dir,
};

#[derive(Parser)]
#[command(
    name = "index-builder",
    version,
    about = "Build and inspect votecheck indexes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an index from a corpus directory and publish it atomically at --out.
    Build {
        /// The corpus: a directory of Markdown, HTML, text, PDF and ClaimReview JSON files.
        corpus: PathBuf,
        /// Where the index goes (replaced only when the build succeeds).
        #[arg(long)]
        out: PathBuf,
        /// Fail (exit code 1) on any problem instead of skipping the file.
        #[arg(long)]
        strict: bool,
        /// Print the warnings only, no progress bar.
        #[arg(long)]
        quiet: bool,
        /// The sentence encoder's model file (default: $VOTECHECK_MODEL, else
        /// models/multilingual-e5-small-q4.vce; `bash scripts/model.sh` derives it).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Build without passage vectors (keyword retrieval only; no model needed).
        #[arg(long, conflicts_with = "model")]
        lexical_only: bool,
        /// Where passage vectors are cached between builds (default: $VOTECHECK_EMBEDDING_CACHE,
        /// else ~/.cache/votecheck/embeddings).
        #[arg(long)]
        embedding_cache: Option<PathBuf>,
    },
    /// Print what an index was built from.
    Inspect {
        index: PathBuf,
        /// Print the whole manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print every passage as one JSON object per line (for peers and benchmarks).
    Export { index: PathBuf },
    /// Print the passages that match a query, with scores (a debugging aid).
    Search {
        index: PathBuf,
        query: String,
        /// Language of the query (detected when omitted).
        #[arg(long)]
        language: Option<String>,
        /// Number of passages.
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
    /// Derive or describe the sentence encoder's model file.
    #[command(subcommand)]
    Model(ModelCommand),
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Derive the model file from the pinned package's weights (`bash scripts/model.sh` runs this).
    Derive {
        /// The pin: registry package, version, file and SHA-256s (models/multilingual-e5-small.toml).
        #[arg(long)]
        pin: PathBuf,
        /// The weights file taken out of the package.
        #[arg(long)]
        input: PathBuf,
        /// Where the model file goes (replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a model file's identity, provenance and shape.
    Describe { model: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build {
            corpus,
            out,
            strict,
            quiet,
            model,
            lexical_only,
            embedding_cache,
        } => {
            let embedding = (!lexical_only).then(|| EmbeddingOptions {
                model: model.unwrap_or_else(votecheck_encoder::locate_model),
                cache: embedding_cache.or_else(default_cache_dir),
            });
            run_build(&corpus, &out, strict, quiet, embedding)
        }
        Command::Inspect { index, json } => run_inspect(&index, json),
        Command::Export { index } => run_export(&index),
        Command::Search {
            index,
            query,
            language,
            limit,
        } => run_search(&index, &query, language, limit),
        Command::Model(ModelCommand::Derive { pin, input, out }) => run_derive(&pin, &input, &out),
        Command::Model(ModelCommand::Describe { model }) => run_describe(&model),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_build(
    corpus: &Path,
    out: &Path,
    strict: bool,
    quiet: bool,
    embedding: Option<EmbeddingOptions>,
) -> anyhow::Result<()> {
    let options = BuildOptions {
        strict,
        embedding,
        ..BuildOptions::default()
    };
    let bar = if std::io::stderr().is_terminal() && !quiet {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {wide_msg}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    let report = build_index(corpus, out, &options, &mut |event| match event {
        BuildProgress::Started { files } => bar.set_length(files as u64),
        BuildProgress::FileDone { source } => {
            bar.set_message(source.to_string());
            bar.inc(1);
        }
        BuildProgress::Embedding { done, total } => {
            bar.set_message(format!("embedding passages: {done}/{total}"))
        }
        BuildProgress::Indexing { passages } => {
            bar.set_message(format!("indexing {passages} passages"))
        }
    });
    bar.finish_and_clear();
    let report = report.with_context(|| {
        format!(
            "building the index of {} failed; {} is unchanged",
            corpus.display(),
            out.display()
        )
    })?;
    let manifest = &report.manifest;
    for warning in &manifest.warnings {
        eprintln!("warning: {warning}");
    }
    let vectors = match (&manifest.embedding, &report.embedding) {
        (Some(info), Some(embedding)) => format!(
            "vectors by {} ({} embedded, {} from the cache{})",
            info.model_id,
            embedding.embedded,
            embedding.cached,
            if embedding.cache_errors > 0 {
                format!(
                    ", {} not cached: the cache is not writable",
                    embedding.cache_errors
                )
            } else {
                String::new()
            }
        ),
        _ => "no vectors (--lexical-only)".to_string(),
    };
    let languages = manifest
        .counts
        .documents_by_language
        .iter()
        .map(|(language, count)| format!("{language}:{count}"))
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!(
        "built {} in {:.2}s: {} documents, {} passages ({} fact-checks), languages {}, {} warnings, corpus {}, {vectors}",
        out.display(),
        report.elapsed.as_secs_f64(),
        manifest.counts.documents,
        manifest.counts.passages,
        manifest.counts.fact_checks,
        languages,
        manifest.warnings.len(),
        manifest.corpus_version(),
    );
    Ok(())
}

fn run_inspect(index: &Path, json: bool) -> anyhow::Result<()> {
    let manifest = Manifest::read(index)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
        return Ok(());
    }
    let counts = &manifest.counts;
    println!("index         {}", index.display());
    println!("schema        {}", manifest.schema_version);
    println!(
        "built         {} by {} {}",
        manifest.built_at, manifest.builder.name, manifest.builder.version
    );
    println!("corpus hash   {}", manifest.corpus_hash);
    println!(
        "documents     {} ({} bytes)",
        counts.documents, counts.bytes
    );
    println!(
        "passages      {} ({} fact-checks)",
        counts.passages, counts.fact_checks
    );
    println!(
        "by language   {}",
        render_counts(&counts.documents_by_language)
    );
    println!("by kind       {}", render_counts(&counts.documents_by_kind));
    if let Some(contact) = &manifest.settings.contact {
        let parts: Vec<&str> = [&contact.name, &contact.phone, &contact.website]
            .into_iter()
            .filter_map(|part| part.as_deref())
            .collect();
        println!("contact       {}", parts.join(", "));
    }
    match &manifest.embedding {
        Some(info) => println!(
            "vectors       {} x {} by {}",
            info.rows, info.dimensions, info.model_id
        ),
        None => println!("vectors       none (lexical-only index)"),
    }
    println!("topics        {}", manifest.settings.topics.len());
    println!("warnings      {}", manifest.warnings.len());
    for warning in &manifest.warnings {
        println!("  {warning}");
    }
    Ok(())
}

fn run_export(index: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let passages = PassageIndex::open(index)?.all_passages()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for passage in passages {
        let line = passage.export_json();
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

fn render_counts(counts: &std::collections::BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(key, count)| format!("{key}={count}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn run_search(
    index: &Path,
    query: &str,
    language: Option<String>,
    limit: usize,
) -> anyhow::Result<()> {
    let passages = PassageIndex::open(index)?;
    let language = language.or_else(|| detect(query).map(|detection| detection.tag));
    let mut request = SearchRequest::new(query).limit(limit);
    if let Some(language) = &language {
        request = request.language(language.clone());
    }
    let hits = passages.search(&request)?;
    println!(
        "query language: {}",
        language.as_deref().unwrap_or("unknown")
    );
    if hits.is_empty() {
        println!("no passage matches");
    }
    for (rank, hit) in hits.iter().enumerate() {
        let passage = &hit.passage;
        println!(
            "\n{}. score {:.3}  [{}] {}  ({})",
            rank + 1,
            hit.score,
            passage.language,
            passage.source,
            passage.kind.as_str()
        );
        println!("   {}", passage.section);
        if let Some(url) = &passage.url {
            println!("   {url}");
        }
        let snippet: String = passage.text.chars().take(240).collect();
        println!("   {}", snippet.replace('\n', " "));
    }
    Ok(())
}

fn run_derive(pin: &Path, input: &Path, out: &Path) -> anyhow::Result<()> {
    let pin_text = std::fs::read_to_string(pin)
        .with_context(|| format!("cannot read the pin {}", pin.display()))?;
    let provenance: votecheck_encoder::Provenance = toml::from_str(&pin_text)
        .with_context(|| format!("the pin {} is not valid", pin.display()))?;
    let source =
        std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let bytes = votecheck_encoder::convert::convert(input, &source, &provenance)?;
    let staging = out.with_extension("vce.tmp-derive");
    std::fs::write(&staging, &bytes)
        .with_context(|| format!("cannot write {}", staging.display()))?;
    std::fs::rename(&staging, out)
        .with_context(|| format!("cannot move {} to {}", staging.display(), out.display()))?;
    let encoder = votecheck_encoder::Encoder::open(out)?;
    eprintln!(
        "derived {} ({} bytes): {}",
        out.display(),
        bytes.len(),
        encoder.model_id()
    );
    Ok(())
}

fn run_describe(model: &Path) -> anyhow::Result<()> {
    let file = votecheck_encoder::ModelFile::open(model)?;
    let header = file.header();
    let provenance = &header.provenance;
    println!("model         {}", model.display());
    println!("id            {}", header.model_id);
    println!(
        "upstream      {} (licence {})",
        provenance.upstream_model, provenance.upstream_licence
    );
    println!(
        "package       {} {}=={} ({}, licence {})",
        provenance.registry,
        provenance.package,
        provenance.version,
        provenance.package_file,
        provenance.package_licence
    );
    println!("package sha256 {}", provenance.package_sha256);
    println!(
        "weights       {} sha256 {}",
        provenance.member, provenance.member_sha256
    );
    let config = &header.config;
    println!(
        "shape         {} layers, {} heads, hidden {}, feed-forward {}, {} positions, {} pieces",
        config.layers,
        config.heads,
        config.hidden,
        config.intermediate,
        config.max_positions,
        header.tokenizer.pieces
    );
    Ok(())
}
