//! Engine overhead: a 10-step pipeline against an instant local model, and
//! 100 pipelines at once. `cargo bench --bench pipelines` prints figures.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use elexirion::config::ProviderSettings;
use elexirion::pipeline::run::{self, RunOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An OpenAI-compatible server that answers at once.
async fn instant_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 65536];
                let mut seen = Vec::new();
                // Serve requests on this connection until it closes (keep-alive).
                loop {
                    let Ok(read) = socket.read(&mut buffer).await else { return };
                    if read == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..read]);
                    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
                    let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                    if seen.len() < end + 4 + length {
                        continue;
                    }
                    seen.drain(..end + 4 + length);
                    let body = r#"{"choices":[{"message":{"content":"ok"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
                    let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                    if socket.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn pipeline(steps: usize) -> String {
    let mut text = String::from("workflow:\n  name: bench\n  steps:\n");
    for i in 0..steps {
        let previous = if i > 0 { format!("\n        - type: previous_response\n          step: s{}", i - 1) } else { String::new() };
        text.push_str(&format!("    - name: s{i}\n      type: claude\n      prompt:\n        - type: static\n          content: \"step {i} {{{{inputs.x}}}}\"{previous}\n"));
    }
    text
}

fn options(url: &str) -> RunOptions {
    let mut providers = ProviderSettings::default();
    providers.claude = vec!["openai".into()];
    providers.base_urls.insert("openai".into(), url.to_string());
    RunOptions {
        fresh: false,
        workspace: std::env::temp_dir(),
        inputs: HashMap::from([("x".to_string(), serde_json::json!("value"))]),
        cache_dir: None,
        providers,
        run_timeout: Duration::from_secs(60),
        store: None,
        mode: None,
    }
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = instant_server().await;
        let source = pipeline(10);
        let events: run::EventSink = Arc::new(|_| {});

        // The provider's own time: bare requests to the same server.
        let client = reqwest::Client::new();
        let body = serde_json::json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }], "max_tokens": 10 });
        let mut bare = Vec::new();
        for _ in 0..200 {
            let started = Instant::now();
            let response = client.post(format!("{url}/chat/completions")).json(&body).send().await.unwrap();
            response.bytes().await.unwrap();
            bare.push(started.elapsed());
        }
        bare.sort();
        let round_trip = bare[bare.len() / 2];

        let mut runs = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            run::run(&source, options(&url), events.clone()).await.unwrap();
            runs.push(started.elapsed());
        }
        runs.sort();
        let median = runs[runs.len() / 2];
        let per_step = median / 10;
        println!("10-step pipeline, instant local model (cache off):");
        println!("  whole run:            median {:.3} ms", median.as_secs_f64() * 1e3);
        println!("  per step:             {:.3} ms", per_step.as_secs_f64() * 1e3);
        println!("  bare HTTP round trip: {:.3} ms", round_trip.as_secs_f64() * 1e3);
        println!("  engine overhead/step: {:.3} ms", per_step.saturating_sub(round_trip).as_secs_f64() * 1e3);

        let before = peak_memory_kib();
        let started = Instant::now();
        let all: Vec<_> = (0..100).map(|_| tokio::spawn(run::run_owned(source.clone(), options(&url), events.clone()))).collect();
        for handle in all {
            handle.await.unwrap().unwrap();
        }
        println!("100 pipelines at once (1,000 steps): {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
        if let (Some(before), Some(after)) = (before, peak_memory_kib()) {
            println!("  peak memory: {} MiB (before: {} MiB)", after / 1024, before / 1024);
        }
    });
}
