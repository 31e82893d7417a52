//! A real nginx on a loopback port, its config and certificates in a temp dir (deployment and
//! hosting tests).
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("nginx is installed (.ci/run installs it)")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An nginx serving `shop.example.com` from `certs/shop.crt` and `certs/shop.key` under `dir`.
pub struct Nginx {
    pub dir: PathBuf,
    pub port: u16,
}

impl Nginx {
    pub fn conf(&self) -> PathBuf {
        self.dir.join("nginx.conf")
    }

    /// `nginx -p DIR -c CONF ARGS`, as a shell command for a resource.
    pub fn command(&self, args: &str) -> String {
        format!(
            "{} -p {} -c {} {args}",
            nginx_binary().display(),
            self.dir.display(),
            self.conf().display()
        )
    }

    pub fn start(dir: &Path, cert_pem: &str, key_pem: &str) -> Nginx {
        let port = free_port();
        std::fs::create_dir_all(dir.join("certs")).unwrap();
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        std::fs::write(dir.join("certs/shop.crt"), cert_pem).unwrap();
        std::fs::write(dir.join("certs/shop.key"), key_pem).unwrap();
        std::fs::set_permissions(
            dir.join("certs/shop.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let d = dir.display();
        Nginx::run(
            dir,
            port,
            &format!(
                "listen 127.0.0.1:{port} ssl;\n    server_name shop.example.com;\n\
                 ssl_certificate {d}/certs/shop.crt;\n    ssl_certificate_key {d}/certs/shop.key;\n\
                 return 200 \"ok\";"
            ),
        )
    }

    /// nginx with one `server { body }`, its config, pid and logs under `dir`.
    fn run(dir: &Path, port: u16, server: &str) -> Nginx {
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        let d = dir.display();
        let conf = format!(
            "pid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\nworker_processes 1;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
             fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
             server {{\n    {server}\n  }}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let n = Nginx {
            dir: dir.to_path_buf(),
            port,
        };
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(n.command(""))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nginx starts: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        n
    }

    /// A plain-HTTP nginx on 127.0.0.1:`port` serving the files under `webroot` (ACME http-01
    /// through --webroot), its config and logs under `dir`.
    pub fn serve_webroot(dir: &Path, webroot: &Path, port: u16) -> Nginx {
        Nginx::run(
            dir,
            port,
            &format!("listen 127.0.0.1:{port};\n    root {};", webroot.display()),
        )
    }

    /// A resource named `name` for this nginx: its certs directory, check and reload commands,
    /// endpoint and SNI.
    pub fn add_resource(&self, env: &super::Env, name: &str, sni: &str) {
        let certs = self.dir.join("certs");
        let (code, r) = env.json(&[
            "resource",
            "add",
            name,
            "--preset",
            "nginx",
            "--dir",
            certs.to_str().unwrap(),
            "--check",
            &self.command("-t -q"),
            "--reload",
            &self.command("-s reload"),
            "--endpoint",
            &format!("127.0.0.1:{}", self.port),
            "--sni",
            sni,
        ]);
        assert_eq!(code, 0, "{r}");
    }

    /// The served leaf's SHA-256 fingerprint, as openssl sees it (lower-case hex).
    pub fn served(&self) -> String {
        let hello = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{}", self.port),
                "-servername",
                "shop.example.com",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        super::fingerprint(&hello.stdout, "PEM")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("/bin/sh")
            .arg("-c")
            .arg(self.command("-s stop"))
            .output();
    }
}
