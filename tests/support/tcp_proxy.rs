//! A TCP proxy on loopback that a test owns, between the server and a store: it can go down
//! (refusing new connections and cutting live ones) and come back, or go down by itself once a
//! given number of bytes went up through it. The store behind it keeps its state.
//!
//! Include with `#[path = "support/tcp_proxy.rs"] mod tcp_proxy;`.
#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The proxy: `start(to)` forwards to `to` (`host:port`).
pub struct Proxy {
    pub port: u16,
    pub down: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    /// Goes down by itself once `sent_up` passes this many bytes (0 = never).
    pub cut_after: Arc<std::sync::atomic::AtomicU64>,
    pub sent_up: Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    pub fn start(to: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let cut_after = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let sent_up = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (d, l, cut, total) = (
            down.clone(),
            live.clone(),
            cut_after.clone(),
            sent_up.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&to) else {
                    continue;
                };
                l.lock().unwrap().push(client.try_clone().unwrap());
                l.lock().unwrap().push(server.try_clone().unwrap());
                let (mut up_from, mut up_to) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (d, l, cut, total) = (d.clone(), l.clone(), cut.clone(), total.clone());
                // Up: counted, and cut once past `cut_after`.
                std::thread::spawn(move || {
                    use std::io::Write;
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match up_from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        // Counted over all connections: parts go up on several.
                        let limit = cut.load(Ordering::SeqCst);
                        let sent = total.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                        if limit > 0 && sent > limit {
                            d.store(true, Ordering::SeqCst);
                            for s in l.lock().unwrap().drain(..) {
                                let _ = s.shutdown(std::net::Shutdown::Both);
                            }
                            break;
                        }
                        if up_to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = up_to.shutdown(std::net::Shutdown::Both);
                });
                let (mut down_from, mut down_to) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut down_from, &mut down_to);
                    let _ = down_to.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy {
            port,
            down,
            live,
            cut_after,
            sent_up,
        }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            for s in self.live.lock().unwrap().drain(..) {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}
