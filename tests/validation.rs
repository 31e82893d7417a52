//! "Check now" for file validation against a real HTTP server on loopback, and the order it
//! validates then being issued at the end of its review.
mod common;
use common::Env;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A tiny HTTP server on 127.0.0.1 that serves `body` at `path` (404 elsewhere), bounded to
/// `max` requests so it always ends.
fn serve(path: &'static str, body: Arc<Mutex<String>>, max: usize) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let req = String::from_utf8_lossy(&req).to_string();
            let wanted = req.split_whitespace().nth(1).unwrap_or("");
            let reply = if wanted == path {
                let b = body.lock().unwrap().clone();
                format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{b}", b.len())
            } else {
                "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
            };
            let _ = s.write_all(reply.as_bytes());
        }
    });
    addr
}

#[test]
fn file_validation_is_checked_for_real_and_then_reviewed_and_issued() {
    let env = Env::new();
    env.json(&["account", "topup", "500"]);
    let v = common::dv_order(&env, "files.example.net", "file");
    let id = v["id"].as_str().unwrap().to_string();
    let content = v["order"]["challenges"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let body = Arc::new(Mutex::new("wrong content".to_string()));
    let addr = serve("/.well-known/pki-validation/fileauth.txt", body.clone(), 10);
    let check = || {
        let out = env
            .command()
            .args(["validate", &id, "--json"])
            .env("CERTDECK_VALIDATION_HTTP", addr.to_string())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        )
    };
    let (code, r) = check();
    assert_eq!(code, 1);
    assert_eq!(r["results"][0]["code"], "content_mismatch", "{r}");
    assert_eq!(r["validated"], false);
    *body.lock().unwrap() = format!("{content}\n");
    let (code, r) = check();
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["results"][0]["code"], "ok");
    assert!(
        r["order"]["review_due"].is_string() && r["order"]["deadline"].is_null(),
        "{r}"
    );
    let (_, t) = env.json(&[
        "tick",
        "--now",
        &(chrono::Utc::now() + chrono::Duration::days(4)).to_rfc3339(),
    ]);
    assert_eq!(t["fired"][0]["kind"], "review_done", "{t}");
}

#[test]
fn an_unreachable_or_missing_file_is_named() {
    let env = Env::new();
    env.json(&["account", "topup", "500"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "gone.example.net",
        "--product",
        "dnspod-dv",
        "--validation",
        "file",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    let addr = serve("/elsewhere", Arc::new(Mutex::new(String::new())), 2);
    let out = env
        .command()
        .args(["validate", &id, "--json"])
        .env("CERTDECK_VALIDATION_HTTP", addr.to_string())
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["results"][0]["code"], "file_missing", "{r}");
    // A closed port: unreachable, not a crash.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = env
        .command()
        .args(["validate", &id, "--json"])
        .env("CERTDECK_VALIDATION_HTTP", closed.to_string())
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["results"][0]["code"], "unreachable", "{r}");
}

#[test]
fn dns_validation_is_checked_against_a_real_resolver_on_loopback() {
    use certdeck::demo::dns::serve_txt;
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    let v = common::dv_order(&env, "txt.example.net", "dns");
    let id = v["id"].as_str().unwrap().to_string();
    let name = v["order"]["challenges"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let value = v["order"]["challenges"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let table = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let dns = serve_txt(table.clone(), 50).unwrap();
    let check = || {
        let out = env
            .command()
            .args(["validate", &id, "--json"])
            .env("CERTDECK_RESOLVER", dns.to_string())
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(check()["results"][0]["code"], "record_missing");
    table
        .lock()
        .unwrap()
        .insert(name.clone(), vec!["something else".to_string()]);
    assert_eq!(check()["results"][0]["code"], "value_mismatch");
    table
        .lock()
        .unwrap()
        .insert(name.clone(), vec!["unrelated".to_string(), value.clone()]);
    let r = check();
    assert_eq!(r["results"][0]["code"], "ok", "{r}");
    assert_eq!(r["validated"], true);
    // The --resolver flag works as the variable does.
    let (_, v3) = env.json(&[
        "apply",
        "--domain",
        "flag.example.net",
        "--product",
        "dnspod-dv",
        "--validation",
        "dns",
    ]);
    let out = env
        .command()
        .args([
            "validate",
            v3["id"].as_str().unwrap(),
            "--json",
            "--resolver",
            &dns.to_string(),
        ])
        .output()
        .unwrap();
    let flagged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(flagged["results"][0]["code"], "record_missing", "{flagged}");
    // A resolver that does not answer: unreachable, after a bounded wait.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let (_, v2) = env.json(&[
        "apply",
        "--domain",
        "slow.example.net",
        "--product",
        "dnspod-dv",
        "--validation",
        "dns",
    ]);
    let out = env
        .command()
        .args(["validate", v2["id"].as_str().unwrap(), "--json"])
        .env(
            "CERTDECK_RESOLVER",
            silent.local_addr().unwrap().to_string(),
        )
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["results"][0]["code"], "unreachable", "{r}");
}

#[test]
fn cname_validation_for_brands_that_use_it() {
    use certdeck::demo::dns::serve_records;
    let env = Env::new();
    env.json(&["account", "topup", "2000"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "*.cname.example.net",
        "--product",
        "trustasia-dv-wildcard",
        "--validation",
        "dns",
    ]);
    assert_eq!(code, 0, "{v}");
    let c = &v["order"]["challenges"][0];
    assert_eq!(c["type"], "CNAME", "{v}");
    let (name, target) = (
        c["name"].as_str().unwrap().to_string(),
        c["value"].as_str().unwrap().to_string(),
    );
    assert!(
        name.ends_with(".cname.example.net") && name.starts_with('_'),
        "{name}"
    );
    let id = v["id"].as_str().unwrap().to_string();
    let cnames = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let dns = serve_records(Default::default(), cnames.clone(), 20).unwrap();
    let check = || {
        let out = env
            .command()
            .args(["validate", &id, "--json", "--resolver", &dns.to_string()])
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(check()["results"][0]["code"], "record_missing");
    cnames
        .lock()
        .unwrap()
        .insert(name.clone(), vec![target.to_uppercase()]);
    let r = check();
    assert_eq!(r["results"][0]["code"], "ok", "{r}");
    assert_eq!(r["validated"], true);
}
