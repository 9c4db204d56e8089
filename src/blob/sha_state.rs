//! SHA-256 whose state survives a restart: a tus upload on S3 sends its parts as they come and
//! frees them on disk, so after a restart nothing is left to hash again. `sha2::Sha256` keeps
//! its state private; this runs `sha2`'s own block function (`compress256`, SHA-NI where the
//! CPU has it) over whole 64-byte blocks and does only the final padding itself. Tested
//! against `sha2` below.

use sha2::digest::generic_array::GenericArray;

const BLOCK: usize = 64;

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The state after a whole number of blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShaState {
    h: [u32; 8],
    /// Bytes hashed so far (a multiple of 64).
    len: u64,
}

impl Default for ShaState {
    fn default() -> Self {
        ShaState { h: H0, len: 0 }
    }
}

impl ShaState {
    /// Hashes `data`, whose length must be a multiple of 64 (a part is 5 MiB); anything else is
    /// refused, never hashed wrongly.
    pub fn update_blocks(&mut self, data: &[u8]) -> Result<(), String> {
        if !data.len().is_multiple_of(BLOCK) {
            return Err(format!("{} bytes are not whole SHA-256 blocks", data.len()));
        }
        self.compress(data);
        Ok(())
    }

    fn compress(&mut self, data: &[u8]) {
        // A few blocks at a time through a stack buffer: compress256 takes typed blocks.
        let mut batch = [GenericArray::default(); 64];
        for chunk in data.chunks(BLOCK * batch.len()) {
            let n = chunk.len() / BLOCK;
            for (block, bytes) in batch.iter_mut().zip(chunk.chunks_exact(BLOCK)) {
                block.copy_from_slice(bytes);
            }
            sha2::compress256(&mut self.h, &batch[..n]);
        }
        self.len += data.len() as u64;
    }

    /// The digest of everything hashed, followed by `tail` (any length).
    pub fn finish(mut self, tail: &[u8]) -> [u8; 32] {
        let whole = tail.len() / BLOCK * BLOCK;
        self.compress(&tail[..whole]);
        let rest = &tail[whole..];
        let bits = (self.len + rest.len() as u64) * 8;
        let mut last = Vec::with_capacity(2 * BLOCK);
        last.extend_from_slice(rest);
        last.push(0x80);
        while last.len() % BLOCK != BLOCK - 8 {
            last.push(0);
        }
        last.extend_from_slice(&bits.to_be_bytes());
        self.compress(&last);
        let mut out = [0u8; 32];
        for (o, h) in out.chunks_exact_mut(4).zip(self.h) {
            o.copy_from_slice(&h.to_be_bytes());
        }
        out
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// 40 bytes: the eight words, then the length, big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        for h in self.h {
            out.extend_from_slice(&h.to_be_bytes());
        }
        out.extend_from_slice(&self.len.to_be_bytes());
        out
    }

    /// The inverse of `to_bytes`; None for anything else (a damaged row is refused).
    pub fn from_bytes(raw: &[u8]) -> Option<ShaState> {
        if raw.len() != 40 {
            return None;
        }
        let mut h = [0u32; 8];
        for (w, b) in h.iter_mut().zip(raw.chunks_exact(4)) {
            *w = u32::from_be_bytes(b.try_into().ok()?);
        }
        let len = u64::from_be_bytes(raw[32..].try_into().ok()?);
        len.is_multiple_of(BLOCK as u64)
            .then_some(ShaState { h, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn matches_sha2_at_every_length_and_split() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for len in (0..300).chain([4095, 4096, 4097, 4999, 5000]) {
            let want = Sha256::digest(&data[..len]);
            for split in [0, 64, 128, 4096].into_iter().filter(|s| *s <= len) {
                let mut s = ShaState::default();
                s.update_blocks(&data[..split]).unwrap();
                let s = ShaState::from_bytes(&s.to_bytes()).unwrap();
                assert_eq!(
                    s.finish(&data[split..len]),
                    want.as_slice(),
                    "{len} {split}"
                );
            }
        }
        assert!(ShaState::default().update_blocks(&data[..65]).is_err());
        assert!(ShaState::from_bytes(&[0; 39]).is_none());
    }

    #[test]
    fn a_large_input_in_parts() {
        let data: Vec<u8> = (0..(3 << 20) + 17).map(|i: u32| (i % 251) as u8).collect();
        let mut s = ShaState::default();
        s.update_blocks(&data[..1 << 20]).unwrap();
        s.update_blocks(&data[1 << 20..2 << 20]).unwrap();
        assert_eq!(s.finish(&data[2 << 20..]), Sha256::digest(&data).as_slice());
    }
}
