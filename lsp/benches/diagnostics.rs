//! Diagnostics for a 5,000-line policy after an edit, through the server's
//! own path: a `didChange` notification in, `publishDiagnostics` out, over
//! an in-memory connection.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::json;

/// A policy of about `lines` lines: a schema and many rules.
pub fn policy(lines: usize) -> String {
    let mut text = String::from(
        "package bench\n\nlevel Tier = low < mid < high\nenum Zone { corp, home, internet }\n\
         entity Team {}\nentity User in [Team] {\n  clearance: Tier,\n  roles: Set<String>,\n  mfa_age: Duration?,\n}\n\
         entity Model {\n  tier: Tier,\n  family: String,\n}\n\
         action infer, embed { principal: User, resource: Model }\n\
         context {\n  zone: Zone,\n  risk: Int[0..100],\n}\nobligation audit(note: String)\n\n",
    );
    let mut i = 0;
    while text.lines().count() < lines {
        text.push_str(&format!(
            "@id(\"R-{i}\")\npermit (principal: User, action: infer, resource: Model)\n  \
             when principal.clearance >= resource.tier && \"role-{i}\" in principal.roles\n  \
             when context.zone == Zone.corp && context.risk < {}\n  obligate audit(note: \"r{i}\");\n\n",
            i % 100
        ));
        i += 1;
    }
    text
}

fn bench(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lsp-bench");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("policy.ward");
    let text = policy(5_000);
    let _ = std::fs::write(&path, &text);
    let uri = ward_lsp::path_to_uri(&path).map(|u| u.as_str().to_owned()).unwrap_or_default();

    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || ward_lsp::run(server));
    let send = |m: Message| client.sender.send(m).ok();
    send(Message::Request(Request::new(RequestId::from(1), "initialize".into(), json!({ "capabilities": {} }))));
    let _ = client.receiver.recv();
    send(Message::Notification(Notification::new("initialized".into(), json!({}))));
    let wait = || loop {
        match client.receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(Message::Notification(n))
                if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri.as_str() =>
            {
                return n;
            }
            Ok(_) => {}
            Err(_) => return Notification::new(String::new(), json!(null)),
        }
    };
    send(Message::Notification(Notification::new(
        "textDocument/didOpen".into(),
        json!({ "textDocument": { "uri": uri, "languageId": "ward", "version": 1, "text": text } }),
    )));
    let first = wait();
    let count = first.params["diagnostics"].as_array().map_or(0, Vec::len);
    eprintln!("{} lines: `{}` with {count} diagnostics", text.lines().count(), first.method);

    let edits = [text.replacen("context.risk < 0", "context.risk < 1", 1), text.clone()];
    let mut version = 1;
    c.bench_function("diagnostics after an edit, 5,000-line policy", |b| {
        b.iter(|| {
            version += 1;
            let edited = &edits[version % 2];
            send(Message::Notification(Notification::new(
                "textDocument/didChange".into(),
                json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": edited }] }),
            )));
            wait()
        })
    });

    send(Message::Request(Request::new(RequestId::from(2), "shutdown".into(), json!(null))));
    send(Message::Notification(Notification::new("exit".into(), json!(null))));
    let _ = thread.join();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(10));
    targets = bench
}
criterion_main!(benches);
