//! A scripted HTTP/1.1 server on 127.0.0.1 that plays a model provider:
//! it records every request and answers with the next scripted response
//! (the last one repeats), sent in chunks, with delays, or cut short.

#![allow(dead_code)] // each test file uses part of it

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body pieces, each sent after its delay.
    pub chunks: Vec<(Duration, Vec<u8>)>,
    /// Close the connection before the body is complete.
    pub cut: bool,
}

impl Reply {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Reply { status, headers: vec![("content-type".into(), "application/json".into())], chunks: vec![(Duration::ZERO, body.to_string().into_bytes())], cut: false }
    }

    pub fn raw(status: u16, body: &str) -> Self {
        Reply { status, headers: Vec::new(), chunks: vec![(Duration::ZERO, body.as_bytes().to_vec())], cut: false }
    }

    /// Server-sent events, one chunk per event.
    pub fn sse(events: &[&str]) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks: events.iter().map(|e| (Duration::ZERO, format!("{e}\n\n").into_bytes())).collect(),
            cut: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        if let Some(first) = self.chunks.first_mut() {
            first.0 = delay;
        }
        self
    }

    pub fn cut(mut self) -> Self {
        self.cut = true;
        self
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON request body")
    }
}

pub struct TestServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    /// Answer with the scripted replies in turn (the last one repeats).
    pub async fn start(replies: Vec<Reply>) -> Self {
        let served = Arc::new(Mutex::new(0usize));
        Self::start_with(move |_| {
            let mut count = served.lock().unwrap();
            let reply = replies[(*count).min(replies.len() - 1)].clone();
            *count += 1;
            reply
        })
        .await
    }

    /// Answer each request with what `respond` makes of it.
    pub async fn start_with(respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let recorded = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let Some(request) = read_request(&mut socket).await else { continue };
                let reply = respond(&request);
                recorded.lock().unwrap().push(request);
                tokio::spawn(async move {
                    let _ = write_reply(&mut socket, &reply).await;
                });
            }
        });
        TestServer { url, requests }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Recorded> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    let header_end = loop {
        let read = socket.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = data[header_end + 4..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut buffer).await.ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buffer[..read]);
    }
    Some(Recorded { method, path, headers, body: String::from_utf8_lossy(&body).to_string() })
}

async fn write_reply(socket: &mut tokio::net::TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Scripted\r\nconnection: close\r\ntransfer-encoding: chunked\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    for (index, (delay, chunk)) in reply.chunks.iter().enumerate() {
        tokio::time::sleep(*delay).await;
        if reply.cut && index + 1 == reply.chunks.len() {
            // Half of the last chunk, then hang up.
            let half = &chunk[..chunk.len() / 2];
            socket.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
            socket.write_all(half).await?;
            return socket.shutdown().await;
        }
        socket.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
        socket.write_all(chunk).await?;
        socket.write_all(b"\r\n").await?;
    }
    socket.write_all(b"0\r\n\r\n").await?;
    socket.shutdown().await
}

/// An OpenAI-compatible model that answers, after `delay`, with the answer of
/// the first trigger the prompt contains, else with "echo: <the prompt>".
pub async fn scripted_model(script: &'static [(&'static str, &'static str)], delay: Duration) -> TestServer {
    TestServer::start_with(move |request: &Recorded| {
        let body = request.json();
        let prompt = body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
        let answer = script.iter().find(|(trigger, _)| prompt.contains(trigger)).map(|(_, a)| a.to_string()).unwrap_or(format!("echo: {prompt}"));
        let reply = serde_json::json!({ "choices": [{ "message": { "content": answer } }], "usage": { "prompt_tokens": 5, "completion_tokens": 7 } });
        Reply::json(200, &reply).delayed(delay)
    })
    .await
}

/// A body that never ends on its own: a 200 `text/event-stream` answer that
/// sends `opening`, then `piece` again and again (after `pause` each time)
/// until `total` bytes went out or the client hung up. It plays a provider
/// streaming a line with no end, or events that never finish the answer.
pub async fn endless_stream(opening: &[u8], piece: &[u8], pause: Duration, total: usize) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let recorded = requests.clone();
    let (opening, piece) = (opening.to_vec(), piece.to_vec());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let Some(request) = read_request(&mut socket).await else { continue };
            recorded.lock().unwrap().push(request);
            let (opening, piece) = (opening.clone(), piece.clone());
            tokio::spawn(async move {
                let head = "HTTP/1.1 200 Scripted\r\nconnection: close\r\ntransfer-encoding: chunked\r\ncontent-type: text/event-stream\r\n\r\n";
                socket.write_all(head.as_bytes()).await?;
                let mut sent = 0;
                let mut next = opening;
                while sent < total {
                    // An empty chunk would end the body.
                    if !next.is_empty() {
                        socket.write_all(format!("{:x}\r\n", next.len()).as_bytes()).await?;
                        socket.write_all(&next).await?;
                        socket.write_all(b"\r\n").await?;
                    }
                    sent += next.len();
                    next = piece.clone();
                    tokio::time::sleep(pause).await;
                }
                socket.write_all(b"0\r\n\r\n").await?;
                socket.shutdown().await
            });
        }
    });
    TestServer { url, requests }
}
