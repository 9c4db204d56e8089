//! The client address and scheme, the one place that reads `Forwarded`, `X-Forwarded-For` and
//! `X-Forwarded-Proto`. They are believed only from a TCP peer in `--trusted-proxies`: from any
//! other peer they are ignored, so a spoofed header cannot dodge a throttle. (actix's
//! `realip_remote_addr()` and `ConnectionInfo::scheme()` believe them from anyone.)

use crate::net::canonical;
use crate::net::TrustedProxies;
use crate::state::AppState;
use actix_web::{web, HttpRequest};
use std::net::IpAddr;

/// Where a request comes from, as throttles, activity and the request log see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The client address, or "unknown" without a peer.
    pub addr: String,
    /// Arrived as https through a trusted proxy (`X-Forwarded-Proto: https`).
    pub forwarded_https: bool,
}

/// The client of a request from `peer` with these header values (each `None` when absent; a
/// repeated header's values joined by `,`).
pub fn resolve(
    trusted: &TrustedProxies,
    peer: Option<IpAddr>,
    forwarded: Option<&str>,
    x_forwarded_for: Option<&str>,
    x_forwarded_proto: Option<&str>,
) -> Client {
    let Some(peer) = peer.map(canonical) else {
        return Client {
            addr: "unknown".into(),
            forwarded_https: false,
        };
    };
    if !trusted.contains(peer) {
        return Client {
            addr: peer.to_string(),
            forwarded_https: false,
        };
    }
    // `Forwarded` wins when both arrive; the right-most hop that is no trusted proxy is the
    // client. An unreadable entry (an obfuscated `_id`, `unknown`, garbage) stops the walk:
    // nothing left of it can be believed, so the last trusted hop read (or the peer) is it.
    let hops = match forwarded {
        Some(f) => forwarded_for(f),
        None => x_forwarded_for.map(|x| x.split(',').map(parse_node).collect()),
    };
    let mut addr = peer;
    for hop in hops.unwrap_or_default().into_iter().rev() {
        match hop {
            Some(ip) if trusted.contains(ip) => addr = ip,
            Some(ip) => {
                addr = ip;
                break;
            }
            None => break,
        }
    }
    let forwarded_https = x_forwarded_proto
        .and_then(|p| p.split(',').next_back())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    Client {
        addr: addr.to_string(),
        forwarded_https,
    }
}

/// The `for=` of each element of a `Forwarded` header (RFC 7239), in order; an element without
/// `for=` is an unknown hop.
fn forwarded_for(header: &str) -> Option<Vec<Option<IpAddr>>> {
    let hops = header
        .split(',')
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_node(v))
        })
        .collect();
    Some(hops)
}

/// A node: `1.2.3.4`, `1.2.3.4:80`, `"[::1]:80"`, `[::1]`, `::1`; `unknown`, `_hidden` and
/// garbage are None.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"').trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse().ok().map(canonical);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    // IPv4 with a port.
    let (ip, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn joined(req: &HttpRequest, name: &str) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The client of `req` under the app's `--trusted-proxies`.
pub fn client(req: &HttpRequest) -> Client {
    let empty = TrustedProxies::default();
    let state = req.app_data::<web::Data<AppState>>();
    let trusted = state.map_or(&empty, |s| &s.config.trusted_proxies);
    resolve(
        trusted,
        req.peer_addr().map(|a| a.ip()),
        joined(req, "forwarded").as_deref(),
        joined(req, "x-forwarded-for").as_deref(),
        joined(req, "x-forwarded-proto").as_deref(),
    )
}

/// The client address: what throttles, activity hashes and the request log key on.
pub fn client_addr(req: &HttpRequest) -> String {
    client(req).addr
}

/// Whether cookies are `Secure` and pages send HSTS: an https base URL, or https through a
/// trusted proxy.
pub fn is_https(req: &HttpRequest) -> bool {
    let base = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.config.base_url.starts_with("https://"));
    base || client(req).forwarded_https
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }
    fn trusted(s: &str) -> TrustedProxies {
        TrustedProxies::parse(s).unwrap()
    }
    fn addr(t: &str, peer: &str, fwd: Option<&str>, xff: Option<&str>) -> String {
        resolve(&trusted(t), ip(peer), fwd, xff, None).addr
    }

    #[test]
    fn parses_ips_and_cidrs() {
        let t = trusted(" 10.0.0.0/8, 192.168.1.5 ,fd00::/8,::1");
        assert!(t.contains("10.200.3.4".parse().unwrap()));
        assert!(!t.contains("11.0.0.1".parse().unwrap()));
        assert!(t.contains("192.168.1.5".parse().unwrap()));
        assert!(!t.contains("192.168.1.6".parse().unwrap()));
        assert!(t.contains("fd12::1".parse().unwrap()));
        assert!(t.contains("::1".parse().unwrap()));
        assert!(!t.contains("fe80::1".parse().unwrap()));
        assert!(t.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(trusted("0.0.0.0/0").contains("8.8.8.8".parse().unwrap()));
        assert!(!trusted("0.0.0.0/0").contains("::2".parse().unwrap()));
        assert_eq!(TrustedProxies::parse(""), Ok(TrustedProxies::default()));
        for bad in [
            "10.0.0.0/33",
            "nginx",
            "10.0.0",
            "::1/129",
            "1.2.3.4/x",
            "1.2.3.4:80",
        ] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn untrusted_peer_headers_are_ignored() {
        assert_eq!(addr("", "1.2.3.4", None, Some("9.9.9.9")), "1.2.3.4");
        assert_eq!(
            addr("10.0.0.1", "1.2.3.4", Some("for=9.9.9.9"), Some("9.9.9.9")),
            "1.2.3.4"
        );
        let c = resolve(&trusted(""), ip("1.2.3.4"), None, None, Some("https"));
        assert!(!c.forwarded_https);
        assert_eq!(
            resolve(&trusted(""), None, None, None, None).addr,
            "unknown"
        );
    }

    #[test]
    fn x_forwarded_for_right_most_untrusted() {
        let t = "10.0.0.0/8";
        assert_eq!(addr(t, "10.0.0.1", None, Some("9.9.9.9")), "9.9.9.9");
        assert_eq!(
            addr(t, "10.0.0.1", None, Some("6.6.6.6, 9.9.9.9, 10.0.0.7")),
            "9.9.9.9"
        );
        assert_eq!(
            addr(t, "10.0.0.1", None, Some("2001:db8::1")),
            "2001:db8::1"
        );
        assert_eq!(addr(t, "10.0.0.1", None, None), "10.0.0.1");
        // Every hop a trusted proxy: the left-most of them.
        assert_eq!(addr(t, "10.0.0.1", None, Some("10.0.0.9")), "10.0.0.9");
        // Garbage falls back to the peer.
        assert_eq!(addr(t, "10.0.0.1", None, Some("garbage")), "10.0.0.1");
        assert_eq!(addr(t, "10.0.0.1", None, Some("")), "10.0.0.1");
        assert_eq!(addr(t, "10.0.0.1", None, Some("9.9.9.9, junk")), "10.0.0.1");
    }

    #[test]
    fn forwarded_wins_and_is_parsed() {
        let t = "10.0.0.0/8";
        assert_eq!(
            addr(t, "10.0.0.1", Some("for=9.9.9.9"), Some("8.8.8.8")),
            "9.9.9.9"
        );
        assert_eq!(
            addr(
                t,
                "10.0.0.1",
                Some(r#"for="[2001:db8::7]:4711";proto=https"#),
                None
            ),
            "2001:db8::7"
        );
        assert_eq!(
            addr(t, "10.0.0.1", Some("For=\"9.9.9.9:80\""), None),
            "9.9.9.9"
        );
        assert_eq!(
            addr(
                t,
                "10.0.0.1",
                Some("for=6.6.6.6, for=9.9.9.9;by=10.0.0.1, for=10.1.1.1"),
                None
            ),
            "9.9.9.9"
        );
        assert_eq!(
            addr(t, "10.0.0.1", Some("proto=https;for=[::1]"), None),
            "::1"
        );
        // Obfuscated identifiers and unknown: the peer.
        assert_eq!(addr(t, "10.0.0.1", Some("for=_hidden"), None), "10.0.0.1");
        assert_eq!(addr(t, "10.0.0.1", Some("for=unknown"), None), "10.0.0.1");
        assert_eq!(addr(t, "10.0.0.1", Some("by=10.0.0.1"), None), "10.0.0.1");
        assert_eq!(addr(t, "10.0.0.1", Some("for=\"[::1"), None), "10.0.0.1");
    }

    #[test]
    fn forwarded_proto_from_trusted_peer_only() {
        let t = trusted("127.0.0.2");
        let c = resolve(&t, ip("127.0.0.2"), None, None, Some("https"));
        assert!(c.forwarded_https);
        assert!(!resolve(&t, ip("127.0.0.2"), None, None, Some("http")).forwarded_https);
        assert!(!resolve(&t, ip("127.0.0.3"), None, None, Some("https")).forwarded_https);
    }
}
