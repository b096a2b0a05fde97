//! The preview console in a real browser: headless Chromium driven through ChromeDriver
//! (WebDriver) against `votecheck serve` on the sample corpus. Asks in English and in Japanese,
//! checks the rendered reply (WhatsApp quotes as block quotes, links) and the reasoning panel
//! (outcome, language, citations with passage links), opens the topic menu and picks a row, taps
//! a feedback button (and checks it was stored), and opens the report view. Screenshots go to
//! `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (the README's test command installs them);
//! `VOTECHECK_CHROMEDRIVER` and `VOTECHECK_CHROMIUM` override where they are. Without them the
//! test fails, it never skips.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use votecheck_end_to_end::local_server::LocalServer;
use votecheck_end_to_end::moto::free_port;
use votecheck_end_to_end::{sample_corpus, workspace_root};

const WAIT: Duration = Duration::from_secs(30);

fn tool(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{} is missing: install Debian's chromium and chromium-driver (`bash scripts/test.sh` does), or point {variable} at it",
        path.display()
    );
    path
}

/// ChromeDriver on a free port, stopped on drop.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        let driver = tool("VOTECHECK_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < WAIT, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        ChromeDriver { child, port }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &ChromeDriver, profile: &std::path::Path) -> Client {
    let chromium = tool("VOTECHECK_CHROMIUM", "/usr/bin/chromium");
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless Chromium")
}

/// Waits until at least `count` elements match `css`, and returns them.
async fn wait_for_count(
    client: &Client,
    css: &str,
    count: usize,
) -> Vec<fantoccini::elements::Element> {
    let started = Instant::now();
    loop {
        let found = client.find_all(Locator::Css(css)).await.unwrap_or_default();
        if found.len() >= count {
            return found;
        }
        assert!(
            started.elapsed() < WAIT,
            "waited for {count} × `{css}`, found {}",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("`{css}` on the page"))
        .text()
        .await
        .unwrap()
}

async fn ask(client: &Client, question: &str, bot_bubbles_after: usize) {
    let input = client.find(Locator::Id("question")).await.unwrap();
    input.send_keys(question).await.unwrap();
    client
        .find(Locator::Id("send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_count(client, "#chat .bubble.bot", bot_bubbles_after).await;
}

async fn save_screenshot(client: &Client, name: &str) -> PathBuf {
    let directory = workspace_root().join("target/test-artifacts");
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_citizen_and_an_authority_use_the_console_in_a_real_browser() {
    let directory = tempfile::tempdir().unwrap();
    let server = LocalServer::start(
        &[
            "--corpus",
            sample_corpus().to_str().unwrap(),
            "--out",
            directory.path().join("index").to_str().unwrap(),
            "--store",
            directory.path().join("store.sqlite3").to_str().unwrap(),
        ],
        &[],
    );
    let driver = ChromeDriver::start();
    let client = browser(&driver, &directory.path().join("profile")).await;

    client.goto(&server.url("/")).await.unwrap();
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("body[data-ready=true]"))
        .await
        .expect("the console starts");
    assert!(text_of(&client, "#corpus").await.contains("DRY RUN"));

    // A reply holding the formatter's own link placeholders (NUL, digits, NUL) is shown as text:
    // it used to throw, which froze the outbox panel on that entry for good.
    let formatted = client
        .execute(
            "return formatWhatsApp(arguments[0]);",
            vec![json!(
                "a \u{0}0\u{0} b https://vote.example/ c \u{0}5\u{0} *d*"
            )],
        )
        .await
        .expect("the formatter copes with NULs in a reply");
    let formatted = formatted.as_str().unwrap();
    assert_eq!(formatted.matches("<a href").count(), 1, "{formatted}");
    assert!(formatted.contains('\u{FFFD}'), "{formatted}");
    assert!(formatted.contains("<strong>d</strong>"), "{formatted}");

    // English: the quoted passages render as block quotes, the source as a link, and the
    // reasoning panel shows the outcome and the citations with links to the passages.
    ask(&client, "How do I vote by mail?", 1).await;
    let reply = client
        .find(Locator::Css("#chat .bubble.bot .body"))
        .await
        .unwrap();
    let reply_html = reply.html(true).await.unwrap();
    assert!(reply_html.contains("<blockquote>"), "{reply_html}");
    assert!(reply_html.contains("<a href=\"https://"), "{reply_html}");
    assert!(reply_html.contains("<strong>"), "{reply_html}");
    assert_eq!(text_of(&client, "#r-outcome").await, "answer");
    assert_eq!(text_of(&client, "#r-language").await, "en");
    let citations = wait_for_count(&client, "#r-citations li.citation", 1).await;
    let link = citations[0]
        .find(Locator::Css("a.passage-link"))
        .await
        .unwrap();
    assert!(
        link.attr("href")
            .await
            .unwrap()
            .unwrap()
            .starts_with("/passages/")
    );
    assert!(citations[0].text().await.unwrap().contains("score"));
    save_screenshot(&client, "console-english.png").await;

    // Tap "helpful" on the English answer.
    let feedback = wait_for_count(&client, "#chat .reply-button", 1).await;
    feedback[0].click().await.unwrap();
    wait_for_count(&client, "#chat .bubble.bot", 3).await;

    // Japanese.
    let before = client
        .find_all(Locator::Css("#chat .bubble.bot"))
        .await
        .unwrap()
        .len();
    ask(&client, "期日前投票はいつからですか", before + 1).await;
    assert_eq!(text_of(&client, "#r-language").await, "ja");
    assert_eq!(text_of(&client, "#r-outcome").await, "answer");
    let japanese_citation = text_of(&client, "#r-citations li.citation .where").await;
    assert!(japanese_citation.contains("ja"), "{japanese_citation}");

    // The topic menu: one click opens the list, a row asks that topic.
    let before = client
        .find_all(Locator::Css("#chat .bubble.bot"))
        .await
        .unwrap()
        .len();
    client
        .find(Locator::Id("menu"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_count(&client, "#chat .bubble.bot", before + 1).await;
    assert_eq!(text_of(&client, "#r-outcome").await, "menu");
    let open = wait_for_count(&client, "#chat .list-open", 1).await;
    open.last().unwrap().click().await.unwrap();
    let rows = wait_for_count(&client, "#list-rows .list-row", 2).await;
    rows[0].click().await.unwrap();
    wait_for_count(&client, "#chat .bubble.bot", before + 2).await;
    assert_eq!(text_of(&client, "#r-outcome").await, "answer");
    save_screenshot(&client, "console.png").await;

    // The feedback was stored: the report counts it, and shows the chart.
    client.goto(&server.url("/report?since=1d")).await.unwrap();
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("svg#chart rect.bar"))
        .await
        .expect("the report's chart");
    let total: u64 = text_of(&client, "#total").await.parse().unwrap();
    assert_eq!(total, 4, "English, Japanese, menu and the chosen row");
    let page = client.source().await.unwrap();
    assert!(page.contains("1 helpful"), "{page}");
    save_screenshot(&client, "report.png").await;

    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let figures: Value = reqwest::get(server.url("/api/report?since=1d"))
        .await
        .expect("GET /api/report")
        .json()
        .await
        .expect("the report JSON");
    assert_eq!(figures["feedback"]["helpful"], 1);

    // Alerts: a new citizen subscribes from the alerts menu, the authority sends a sample alert
    // from the console, and the citizen receives it as the template message.
    client.goto(&server.url("/")).await.unwrap();
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("body[data-ready='true']"))
        .await
        .expect("the console is ready again");
    client
        .find(Locator::Id("new-chat"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ask(&client, "alerts", 1).await;
    let open = wait_for_count(&client, "#chat .list-open", 1).await;
    open.last().unwrap().click().await.unwrap();
    let deadlines = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(
            "#list-rows .list-row[data-id='subscribe:deadlines']",
        ))
        .await
        .expect("the deadlines row of the alerts menu");
    deadlines.click().await.unwrap();
    wait_for_count(&client, "#chat .bubble.bot", 2).await;
    client
        .find(Locator::Id("alerts"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let alert_row = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(
            "#list-rows .list-row[data-file='registration-deadline.toml']",
        ))
        .await
        .expect("the sample alert in the alerts sheet");
    alert_row.click().await.unwrap();
    let bubbles = wait_for_count(&client, "#chat .bubble.bot", 3).await;
    let received = bubbles.last().unwrap().text().await.unwrap();
    // The citizen wrote a moment ago: inside WhatsApp's 24-hour window the alert goes as its
    // text (outside it, as the template).
    assert!(
        received.contains("the last day to register to vote is Monday, October 19"),
        "{received}"
    );
    save_screenshot(&client, "console-alert.png").await;
    client.close().await.unwrap();
    let figures: Value = reqwest::get(server.url("/api/report?since=1d"))
        .await
        .expect("GET /api/report")
        .json()
        .await
        .expect("the report JSON");
    assert_eq!(figures["alerts"][0]["delivered"], 1, "{figures}");
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
}
