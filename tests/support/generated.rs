//! Test data made as it is read, never held: `len` deterministic pseudo-random bytes from a
//! seed (xorshift64, one little-endian word per 8 bytes), hashed as they go out.
//!
//! Include with `#[path = "support/generated.rs"] mod generated;` (every shared module is
//! included this way; see support/common.rs).
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::io::Read;

/// `len` deterministic pseudo-random bytes (xorshift64), hashed as they are read.
pub struct Generated {
    state: u64,
    /// Bytes not read yet.
    pub left: u64,
    sha: Sha256,
    /// Bytes of the current 8-byte word not handed out yet.
    word: [u8; 8],
    word_pos: usize,
}

impl Generated {
    pub fn new(seed: u64, len: u64) -> Generated {
        Generated {
            state: seed | 1,
            left: len,
            sha: Sha256::new(),
            word: [0; 8],
            word_pos: 8,
        }
    }

    fn next_word(&mut self) -> [u8; 8] {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x.to_le_bytes()
    }

    /// The SHA-256 (hex) of the bytes read so far.
    pub fn sha256(&self) -> String {
        hex::encode(self.sha.clone().finalize())
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        let out = &mut buf[..n];
        let mut i = 0;
        // Finish a word begun by the previous read, then whole words, then a partial one.
        while i < n && self.word_pos < 8 {
            out[i] = self.word[self.word_pos];
            self.word_pos += 1;
            i += 1;
        }
        while n - i >= 8 {
            let w = self.next_word();
            out[i..i + 8].copy_from_slice(&w);
            i += 8;
        }
        if i < n {
            self.word = self.next_word();
            self.word_pos = 0;
            while i < n {
                out[i] = self.word[self.word_pos];
                self.word_pos += 1;
                i += 1;
            }
        }
        self.sha.update(out);
        self.left -= n as u64;
        Ok(n)
    }
}
