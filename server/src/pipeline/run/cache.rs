//! Answers cached on disk by a hash of (provider, model, prompt, settings):
//! running a pipeline again on unchanged input makes no request. Keys are
//! never part of what is hashed or stored.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::pipeline::providers::ModelRequest;

pub fn key(provider: &str, request: &ModelRequest) -> String {
    let mut identity = serde_json::json!({
        "provider": provider,
        "model": request.model,
        "system": request.system,
        "prompt": request.prompt,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    });
    // Only when present, so that answers cached before demos existed stay valid.
    if !request.turns.is_empty() {
        identity["turns"] = request.turns.iter().map(|t| serde_json::json!([t.user, t.assistant])).collect();
    }
    let digest = Sha256::digest(identity.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn read(dir: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(format!("{key}.json"))).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["text"].as_str().map(str::to_string)
}

/// Forget every cached answer that is `text`: the user rejected it, and the
/// next run must ask again. How many entries went.
pub fn evict(dir: &Path, text: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut evicted = 0;
    for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let holds = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()).is_some_and(|v| v["text"] == text);
        if holds && std::fs::remove_file(&path).is_ok() {
            evicted += 1;
        }
    }
    evicted
}

/// Written through a temporary file, so a reader never sees half an entry.
pub fn write(dir: &Path, key: &str, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temporary, serde_json::json!({ "text": text }).to_string().as_bytes())?;
    temporary.persist(dir.join(format!("{key}.json"))).map_err(|e| e.error)?;
    Ok(())
}
