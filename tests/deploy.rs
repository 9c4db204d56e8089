//! Issue 17, item 8: the deploy files are real. The nginx site passes `nginx -t` with a throwaway
//! self-signed certificate, including the very proxy file the proxy test (tests/proxy.rs) runs
//! with; the systemd unit has the hardening it promises.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}\n{}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_nginx_site_passes_nginx_t() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path();
    let (cert, key) = (tmp.join("cert.pem"), tmp.join("key.pem"));
    let o = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=files.example.com", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (scripts/test.sh installs it)");
    assert!(o.status.success(), "{}", output_text(&o));

    // The site as shipped; only the paths of this machine are put in.
    let proxy = Path::new(ROOT).join("deploy/nginx/sharebox-proxy.conf");
    assert!(proxy.exists(), "no {}", proxy.display());
    let site = std::fs::read_to_string(Path::new(ROOT).join("deploy/nginx/sharebox.conf"))
        .unwrap()
        .replace(
            "/etc/letsencrypt/live/files.example.com/fullchain.pem",
            &cert.display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/files.example.com/privkey.pem",
            &key.display().to_string(),
        )
        .replace(
            "/etc/nginx/snippets/sharebox-proxy.conf",
            &proxy.display().to_string(),
        );
    let left = site
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .any(|l| l.contains("/etc/"));
    assert!(!left, "a path left unreplaced:\n{site}");
    std::fs::write(tmp.join("site.conf"), &site).unwrap();
    let main = format!(
        "pid {0}/nginx.pid;\nerror_log {0}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  \
         client_body_temp_path {0}/body;\n  proxy_temp_path {0}/proxy;\n  include {0}/site.conf;\n}}\n",
        tmp.display()
    );
    std::fs::write(tmp.join("nginx.conf"), main).unwrap();
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("nginx");
    let o = Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(tmp)
        .arg("-c")
        .arg(tmp.join("nginx.conf"))
        .output()
        .expect("nginx (scripts/test.sh installs it)");
    assert!(o.status.success(), "nginx -t:\n{}", output_text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("test is successful"),
        "{}",
        output_text(&o)
    );
}

#[test]
fn the_systemd_unit_is_hardened() {
    let unit = std::fs::read_to_string(Path::new(ROOT).join("deploy/sharebox.service")).unwrap();
    let lines: Vec<&str> = unit.lines().map(str::trim).collect();
    for want in [
        "User=sharebox",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/sharebox",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "Environment=SHAREBOX_DATA_DIR=/var/lib/sharebox",
        "Environment=SHAREBOX_TRUSTED_PROXIES=127.0.0.1",
        "Environment=SHAREBOX_LISTEN=127.0.0.1:8080",
    ] {
        assert!(
            lines.contains(&want),
            "deploy/sharebox.service lacks {want}"
        );
    }
    // The service listens where the proxies send to, and its base URL is https.
    let base = lines
        .iter()
        .find_map(|l| l.strip_prefix("Environment=SHAREBOX_BASE_URL="))
        .unwrap();
    assert!(base.starts_with("https://"), "{base}");
    for proxy in ["deploy/Caddyfile", "deploy/nginx/sharebox.conf"] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(proxy)).unwrap();
        assert!(text.contains("127.0.0.1:8080"), "{proxy} proxies elsewhere");
        assert!(
            text.contains(base.trim_start_matches("https://")),
            "{proxy} serves another host than {base}"
        );
    }
}
