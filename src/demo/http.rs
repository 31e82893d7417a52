//! The demo's own web server on 127.0.0.1: it serves the validation files of the demo's
//! file-validated orders, so `c` in the Validation queue passes without touching the network.
//! Bounded: it answers at most 10,000 requests and lives as long as the demo.
use crate::domain::order::Challenge;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

/// Starts the server for these challenges and returns its address.
pub fn serve_challenges(challenges: Vec<Challenge>) -> std::io::Result<SocketAddr> {
    let files: HashMap<String, String> = challenges
        .into_iter()
        .filter_map(|c| match c {
            Challenge::File { url, content, .. } => {
                let path = url
                    .trim_start_matches("http://")
                    .split_once('/')
                    .map(|(_, p)| format!("/{p}"))?;
                Some((path, content))
            }
            Challenge::DnsTxt { .. } | Challenge::DnsCname { .. } => None,
        })
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("demo-http".into())
        .spawn(move || {
            for stream in listener.incoming().take(10_000) {
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&req);
                let path = text.split_whitespace().nth(1).unwrap_or("");
                let reply = match files.get(path) {
                    Some(body) => format!(
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
                };
                let _ = s.write_all(reply.as_bytes());
            }
        })?;
    Ok(addr)
}
