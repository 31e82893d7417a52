//! DS-2: web server configuration read to link certificates to the sites that use them: nginx
//! (`server` blocks), Apache (`<VirtualHost>`) and HAProxy (`bind … crt`). Pure: the caller
//! hands in a loader that returns the files an `include` names (it does the globbing and the
//! reading, bounded), and gets back the sites with their config file and line.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Server {
    Nginx,
    Apache,
    Haproxy,
}

/// One site: the names it answers, where it listens, the certificate (and key) files it
/// loads, and where it is configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub server: Server,
    pub names: Vec<String>,
    pub listen: Vec<String>,
    pub cert_path: String,
    pub key_path: Option<String>,
    pub config: String,
    pub line: usize,
    /// The server's main configuration file (what `-c`/`-f` names); empty when not known.
    pub main: String,
}

/// Files an include pattern names: (path, text). Relative patterns are the loader's to resolve.
pub type Loader<'a> = dyn Fn(&str) -> Vec<(String, String)> + 'a;

/// Includes nest at most this deep (a file including itself ends here).
const MAX_INCLUDE_DEPTH: usize = 16;

/// nginx tokens with their file and line: words (quotes removed), `{`, `}`, `;`.
fn nginx_tokens(
    path: &str,
    text: &str,
    load: &Loader,
    depth: usize,
    out: &mut Vec<(String, usize, String)>,
) {
    let mut words: Vec<(String, usize, String)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let mut chars = raw.chars().peekable();
        let mut word = String::new();
        let flush = |word: &mut String, words: &mut Vec<(String, usize, String)>| {
            if !word.is_empty() {
                words.push((path.to_string(), line, std::mem::take(word)));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '#' => break,
                '"' | '\'' => {
                    let q = c;
                    for d in chars.by_ref() {
                        if d == q {
                            break;
                        }
                        word.push(d);
                    }
                }
                '{' | '}' | ';' => {
                    flush(&mut word, &mut words);
                    words.push((path.to_string(), line, c.to_string()));
                }
                c if c.is_whitespace() => flush(&mut word, &mut words),
                c => word.push(c),
            }
        }
        flush(&mut word, &mut words);
    }
    // `include PATTERN;` is replaced by the included files' tokens.
    let mut i = 0;
    while i < words.len() {
        if words[i].2 == "include" && words.get(i + 2).is_some_and(|w| w.2 == ";") {
            if depth < MAX_INCLUDE_DEPTH {
                for (p, t) in load(&words[i + 1].2) {
                    nginx_tokens(&p, &t, load, depth + 1, out);
                }
            }
            i += 3;
            continue;
        }
        out.push(words[i].clone());
        i += 1;
    }
}

/// DS-2: nginx's sites, from its main configuration (`nginx.conf` or `nginx -T`'s output).
pub fn nginx_sites(path: &str, text: &str, load: &Loader) -> Vec<Site> {
    let mut tokens = Vec::new();
    nginx_tokens(path, text, load, 0, &mut tokens);
    let mut sites = Vec::new();
    // Block stack: the block's name and, for `http`/`server`, what it sets.
    #[derive(Default, Clone)]
    struct Block {
        name: String,
        names: Vec<String>,
        listen: Vec<String>,
        cert: Option<String>,
        key: Option<String>,
        at: (String, usize),
    }
    let mut stack: Vec<Block> = vec![Block::default()];
    let mut stmt: Vec<(String, usize, String)> = Vec::new();
    for t in tokens {
        match t.2.as_str() {
            "{" => {
                let name = stmt.first().map(|w| w.2.clone()).unwrap_or_default();
                let at = stmt
                    .first()
                    .map(|w| (w.0.clone(), w.1))
                    .unwrap_or((t.0.clone(), t.1));
                // A server block inherits the http block's certificate.
                let parent = stack.last().cloned().unwrap_or_default();
                stack.push(Block {
                    name,
                    cert: parent.cert,
                    key: parent.key,
                    at,
                    ..Default::default()
                });
                stmt.clear();
            }
            "}" => {
                if let Some(b) = stack.pop() {
                    if b.name == "server" {
                        if let Some(cert) = b.cert {
                            sites.push(Site {
                                server: Server::Nginx,
                                names: b.names,
                                listen: b.listen,
                                cert_path: cert,
                                key_path: b.key,
                                config: b.at.0,
                                line: b.at.1,
                                main: path.to_string(),
                            });
                        }
                    }
                }
                if stack.is_empty() {
                    stack.push(Block::default());
                }
                stmt.clear();
            }
            ";" => {
                if let (Some(b), Some(first)) = (stack.last_mut(), stmt.first()) {
                    let args: Vec<String> = stmt[1..].iter().map(|w| w.2.clone()).collect();
                    match first.2.as_str() {
                        "server_name" => b.names.extend(args.into_iter().filter(|n| n != "_")),
                        "listen" => {
                            if let Some(a) = args.first() {
                                b.listen.push(a.clone());
                            }
                        }
                        "ssl_certificate" => b.cert = args.first().cloned(),
                        "ssl_certificate_key" => b.key = args.first().cloned(),
                        _ => {}
                    }
                }
                stmt.clear();
            }
            _ => stmt.push(t),
        }
    }
    sites
}

/// DS-2: Apache's TLS virtual hosts (`Include`/`IncludeOptional` followed).
pub fn apache_sites(path: &str, text: &str, load: &Loader) -> Vec<Site> {
    let mut sites = Vec::new();
    apache_walk(path, text, load, 0, &mut None, &mut sites);
    sites
}

fn apache_walk(
    path: &str,
    text: &str,
    load: &Loader,
    depth: usize,
    open: &mut Option<Site>,
    sites: &mut Vec<Site>,
) {
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or("").to_ascii_lowercase();
        let args: Vec<String> = words
            .map(|w| w.trim_matches('"').trim_end_matches('>').to_string())
            .collect();
        match key.as_str() {
            "<virtualhost" => {
                *open = Some(Site {
                    server: Server::Apache,
                    names: Vec::new(),
                    listen: args,
                    cert_path: String::new(),
                    key_path: None,
                    config: path.to_string(),
                    line: n + 1,
                    main: String::new(),
                })
            }
            "</virtualhost>" => {
                if let Some(s) = open.take() {
                    if !s.cert_path.is_empty() {
                        sites.push(s);
                    }
                }
            }
            "servername" | "serveralias" => {
                if let Some(s) = open.as_mut() {
                    s.names.extend(args);
                }
            }
            "sslcertificatefile" => {
                if let (Some(s), Some(a)) = (open.as_mut(), args.first()) {
                    s.cert_path = a.clone();
                }
            }
            "sslcertificatekeyfile" => {
                if let (Some(s), Some(a)) = (open.as_mut(), args.first()) {
                    s.key_path = Some(a.clone());
                }
            }
            "include" | "includeoptional" if depth < MAX_INCLUDE_DEPTH => {
                if let Some(pattern) = args.first() {
                    for (p, t) in load(pattern) {
                        apache_walk(&p, &t, load, depth + 1, open, sites);
                    }
                }
            }
            _ => {}
        }
    }
}

/// DS-2: HAProxy's TLS binds: `bind ADDR ssl crt FILE|DIR` (a directory's files are each a
/// certificate the caller lists), in `frontend` sections.
pub fn haproxy_sites(path: &str, text: &str) -> Vec<Site> {
    let mut sites = Vec::new();
    let mut section = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            Some(&("frontend" | "listen")) => {
                section = words.get(1).unwrap_or(&"").to_string();
            }
            Some(&("backend" | "defaults" | "global")) => section.clear(),
            Some(&"bind") => {
                let addr = words.get(1).map(|s| s.to_string()).unwrap_or_default();
                for (i, w) in words.iter().enumerate() {
                    if *w == "crt" || *w == "crt-list" {
                        if let Some(file) = words.get(i + 1) {
                            sites.push(Site {
                                server: Server::Haproxy,
                                names: if section.is_empty() {
                                    Vec::new()
                                } else {
                                    vec![section.clone()]
                                },
                                listen: vec![addr.clone()],
                                cert_path: file.to_string(),
                                key_path: None,
                                config: path.to_string(),
                                line: n + 1,
                                main: path.to_string(),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ds2_nginx_server_blocks_with_includes_and_an_inherited_certificate() {
        let main = "user www-data;\nhttp {\n  ssl_certificate /etc/ssl/default.pem; # for all\n  include sites/*.conf;\n}\n";
        let site_a = "server {\n  listen 443 ssl;\n  listen [::]:443 ssl;\n  server_name shop.example.com www.example.com;\n  ssl_certificate \"/etc/letsencrypt/live/shop/fullchain.pem\";\n  ssl_certificate_key /etc/letsencrypt/live/shop/privkey.pem;\n}\n";
        let site_b = "server { listen 8443 ssl; server_name api.example.com; }\nserver { listen 80; server_name _; }\n";
        let load = |pattern: &str| {
            assert_eq!(pattern, "sites/*.conf");
            vec![
                ("/etc/nginx/sites/a.conf".to_string(), site_a.to_string()),
                ("/etc/nginx/sites/b.conf".to_string(), site_b.to_string()),
            ]
        };
        let sites = nginx_sites("/etc/nginx/nginx.conf", main, &load);
        assert_eq!(sites.len(), 3, "{sites:?}");
        let shop = &sites[0];
        assert_eq!(shop.names, vec!["shop.example.com", "www.example.com"]);
        assert_eq!(shop.listen, vec!["443", "[::]:443"]);
        assert_eq!(shop.cert_path, "/etc/letsencrypt/live/shop/fullchain.pem");
        assert_eq!(
            shop.key_path.as_deref(),
            Some("/etc/letsencrypt/live/shop/privkey.pem")
        );
        assert_eq!(
            (shop.config.as_str(), shop.line),
            ("/etc/nginx/sites/a.conf", 1)
        );
        // The api server inherits the http block's certificate; the port-80 one too (nginx
        // would load it if it listened with ssl; it is linked all the same).
        assert_eq!(sites[1].cert_path, "/etc/ssl/default.pem");
        assert_eq!(sites[1].names, vec!["api.example.com"]);
    }

    #[test]
    fn globs_match_like_a_shell_in_one_component() {
        assert!(glob_match("*.conf", "shop.conf"));
        assert!(!glob_match("*.conf", "shop.conf.bak"));
        assert!(glob_match("site?.conf", "site1.conf"));
        assert!(glob_match("*", "anything"));
        assert!(!glob_match(&"*a".repeat(100), &"a".repeat(50)));
    }

    #[test]
    fn rule_ds2_an_include_loop_ends() {
        let text = "http { include self.conf; }";
        let load = |_: &str| vec![("self.conf".to_string(), "include self.conf;".to_string())];
        assert!(nginx_sites("nginx.conf", text, &load).is_empty());
    }

    #[test]
    fn rule_ds2_apache_vhosts_and_haproxy_binds() {
        let main = "Listen 443\nIncludeOptional sites-enabled/*.conf\n";
        let vhost = "<VirtualHost *:443>\n  ServerName shop.example.com\n  ServerAlias www.example.com\n  SSLEngine on\n  SSLCertificateFile /etc/ssl/shop.crt\n  SSLCertificateKeyFile /etc/ssl/shop.key\n</VirtualHost>\n<VirtualHost *:80>\n  ServerName plain.example.com\n</VirtualHost>\n";
        let load = |_: &str| {
            vec![(
                "/etc/apache2/sites-enabled/shop.conf".to_string(),
                vhost.to_string(),
            )]
        };
        let sites = apache_sites("/etc/apache2/apache2.conf", main, &load);
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].names, vec!["shop.example.com", "www.example.com"]);
        assert_eq!(sites[0].listen, vec!["*:443"]);
        assert_eq!(sites[0].key_path.as_deref(), Some("/etc/ssl/shop.key"));
        assert_eq!(sites[0].line, 1);
        let cfg = "global\n  daemon\nfrontend web\n  bind :443 ssl crt /etc/haproxy/certs/ alpn h2\n  bind :8443 ssl crt /etc/haproxy/api.pem\nbackend app\n  server a 127.0.0.1:8080\n";
        let sites = haproxy_sites("/etc/haproxy/haproxy.cfg", cfg);
        assert_eq!(sites.len(), 2);
        assert_eq!(sites[0].cert_path, "/etc/haproxy/certs/");
        assert_eq!(sites[1].listen, vec![":8443"]);
        assert_eq!(sites[1].names, vec!["web"]);
        assert_eq!(sites[1].line, 5);
    }
}

/// A resource proposed for a site (DS-2): where its certificate lives and the server's own
/// check and reload commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub name: String,
    pub server: Server,
    pub cert_path: String,
    pub key_path: Option<String>,
    pub check: String,
    pub reload: String,
    pub endpoint: Option<String>,
    pub sni: Option<String>,
}

impl Proposal {
    /// The resource this proposal adds (section 4): the site's own files as targets, so a
    /// hosting replaces exactly what the server loads. A site whose key file is not known
    /// cannot be taken over (a new certificate without its key would break it).
    pub fn resource_input(
        &self,
    ) -> Result<crate::domain::resource::ResourceInput, crate::domain::refusal::Refusal> {
        use crate::domain::resource::{Part, Preset, ResourceInput};
        use std::path::PathBuf;
        let preset = match self.server {
            Server::Nginx => Preset::Nginx,
            Server::Apache => Preset::Apache,
            Server::Haproxy => Preset::Haproxy,
        };
        let targets = match (self.server, &self.key_path) {
            // HAProxy loads one PEM holding the chain and the key; a `crt DIR` gets a file
            // of its own in that directory.
            (Server::Haproxy, _) => {
                let path = if self.cert_path.ends_with('/') {
                    format!("{}{}.pem", self.cert_path, self.name)
                } else {
                    self.cert_path.clone()
                };
                vec![(Part::Combined, PathBuf::from(path))]
            }
            (_, Some(key)) if key == &self.cert_path => {
                vec![(Part::Combined, PathBuf::from(&self.cert_path))]
            }
            (_, Some(key)) => vec![
                (Part::Fullchain, PathBuf::from(&self.cert_path)),
                (Part::Key, PathBuf::from(key)),
            ],
            (_, None) => {
                return Err(crate::domain::refusal::Refusal::new(
                    "DS-3",
                    crate::domain::refusal::Field::Key,
                    format!(
                        "site {}: its configuration names no key file, so certdeck cannot replace its certificate safely (DS-3)",
                        self.name
                    ),
                ))
            }
        };
        Ok(ResourceInput {
            name: self.name.clone(),
            preset: Some(preset),
            targets,
            check_command: Some(self.check.clone()),
            reload_command: Some(self.reload.clone()),
            endpoint: self.endpoint.clone(),
            sni: self.sni.clone(),
            ..Default::default()
        })
    }
}

/// DS-2: the resource a site would be.
pub fn propose(site: &Site) -> Proposal {
    // The server's own commands, aimed at the configuration the site was found in when that
    // is not the server's default one.
    let main = |default: &str| {
        if site.main.is_empty() || site.main == default {
            None
        } else {
            Some(shell_quote(&site.main))
        }
    };
    let (check, reload) = match site.server {
        Server::Nginx => match main("/etc/nginx/nginx.conf") {
            None => ("nginx -t".to_string(), "nginx -s reload".to_string()),
            Some(m) => (
                format!("nginx -t -c {m}"),
                format!("nginx -s reload -c {m}"),
            ),
        },
        Server::Apache => (
            "apachectl configtest".to_string(),
            "apachectl graceful".to_string(),
        ),
        Server::Haproxy => (
            format!(
                "haproxy -c -f {}",
                main("").unwrap_or_else(|| "/etc/haproxy/haproxy.cfg".into())
            ),
            "systemctl reload haproxy".to_string(),
        ),
    };
    let name = site
        .names
        .first()
        .cloned()
        .unwrap_or_else(|| format!("site-{}", site.line));
    let port = site.listen.iter().find_map(|l| {
        let p = l.rsplit(':').next().unwrap_or(l);
        p.parse::<u16>().ok()
    });
    Proposal {
        name,
        server: site.server,
        cert_path: site.cert_path.clone(),
        key_path: site.key_path.clone(),
        check,
        reload,
        endpoint: port.map(|p| format!("127.0.0.1:{p}")),
        sni: site.names.first().cloned(),
    }
}

/// `nginx -T`'s output split into the configuration files nginx read, in its order, each with
/// its text (the main file first).
pub fn split_nginx_dump(dump: &str) -> Vec<(String, String)> {
    const MARK: &str = "# configuration file ";
    let mut files: Vec<(String, String)> = Vec::new();
    for line in dump.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if let Some(path) = bare.strip_prefix(MARK).and_then(|r| r.strip_suffix(':')) {
            files.push((path.to_string(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        }
    }
    files
}

/// The files of an nginx dump an `include` pattern names: relative patterns are relative to
/// `base` (the main file's directory, as nginx has it); `*` and `?` match within one path
/// component, in any component.
pub fn dump_include(
    files: &[(String, String)],
    base: &str,
    pattern: &str,
) -> Vec<(String, String)> {
    let full = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        format!("{}/{pattern}", base.trim_end_matches('/'))
    };
    let want: Vec<&str> = full.split('/').filter(|c| !c.is_empty()).collect();
    files
        .iter()
        .filter(|(path, _)| {
            let have: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
            have.len() == want.len() && want.iter().zip(&have).all(|(w, h)| glob_match(w, h))
        })
        .cloned()
        .collect()
}

/// `s` as one word for `/bin/sh` (single quotes; a quote inside closed, escaped, reopened).
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A file name against a pattern with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    // Dynamic programming over (pattern, name) prefixes: linear in each, whatever the stars.
    let p: Vec<char> = pattern.chars().take(256).collect();
    let n: Vec<char> = name.chars().take(256).collect();
    let mut row = vec![false; n.len() + 1];
    row[0] = true;
    for pc in &p {
        let mut next = vec![false; n.len() + 1];
        if *pc == '*' {
            next[0] = row[0];
            for j in 1..=n.len() {
                next[j] = row[j] || next[j - 1];
            }
        } else {
            for j in 1..=n.len() {
                next[j] = row[j - 1] && (*pc == '?' || *pc == n[j - 1]);
            }
        }
        row = next;
    }
    row[n.len()]
}

#[cfg(test)]
mod dump_tests {
    use super::*;

    #[test]
    fn rule_ds2_nginx_dump_is_split_by_file_and_includes_resolve_in_any_component() {
        let dump = "# configuration file /etc/nginx/nginx.conf:\nhttp {\n  include sites-*/site.conf;\n}\n\n\
                    # configuration file /etc/nginx/sites-a/site.conf:\nserver { listen 443 ssl; ssl_certificate a.pem; }\n\n\
                    # configuration file /etc/nginx/sites-b/site.conf:\nserver { listen 8443 ssl; ssl_certificate /b.pem; }\n";
        let files = split_nginx_dump(dump);
        assert_eq!(
            files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
            [
                "/etc/nginx/nginx.conf",
                "/etc/nginx/sites-a/site.conf",
                "/etc/nginx/sites-b/site.conf"
            ]
        );
        assert!(files[0].1.starts_with("http {"));
        let got = dump_include(&files, "/etc/nginx", "sites-*/site.conf");
        assert_eq!(got.len(), 2);
        assert!(dump_include(&files, "/etc/nginx", "/etc/nginx/sites-a/*.conf").len() == 1);
        assert!(dump_include(&files, "/etc/nginx", "other/*.conf").is_empty());
        let load = |p: &str| dump_include(&files, "/etc/nginx", p);
        let sites = nginx_sites(&files[0].0, &files[0].1, &load);
        assert_eq!(sites.len(), 2, "{sites:?}");
        assert_eq!(sites[0].cert_path, "a.pem");
        assert_eq!(sites[0].config, "/etc/nginx/sites-a/site.conf");
        // Nothing before the first marker is a file (nginx's own messages).
        assert!(split_nginx_dump("nginx: the configuration file is ok\n").is_empty());
    }
}
