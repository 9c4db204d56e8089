//! A streamed zip of STORED entries whose sizes and CRC-32s are known before the first byte:
//! every local header carries them (no data descriptors, which streaming unzippers such as
//! Java's ZipInputStream cannot read behind a STORED entry), Zip64 records appear only where a
//! size, an offset or the entry count needs them, and the total length is known up front (the
//! answer's Content-Length). The crates we looked at write data descriptors or want the data in
//! memory, so this small writer is ours; tests read it back with standard readers.

use chrono::{DateTime, Datelike, Timelike, Utc};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
const UTF8_FLAG: u16 = 1 << 11;
const MAX32: u64 = 0xFFFF_FFFF;
const MAX16: u64 = 0xFFFF;

/// One file of the zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the zip, `/`-separated; sanitised by `sanitize_path`.
    pub name: String,
    pub size: u64,
    pub crc32: u32,
    pub modified: DateTime<Utc>,
}

/// Makes a name safe for every unzipper: no `..` or `.` segments, no absolute path, no
/// backslashes or control characters, no empty segments.
pub fn sanitize_path(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || c == '\\' || c == ':' {
                '_'
            } else {
                c
            }
        })
        .collect();
    let parts: Vec<&str> = cleaned
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    if parts.is_empty() {
        "file".into()
    } else {
        parts.join("/")
    }
}

fn dos_time(t: DateTime<Utc>) -> (u16, u16) {
    if t.year() < 1980 {
        return (0, (1 << 5) | 1);
    }
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | ((t.second() as u16) / 2);
    let date =
        (((t.year() - 1980).min(127) as u16) << 9) | ((t.month() as u16) << 5) | t.day() as u16;
    (time, date)
}

struct Buf(Vec<u8>);

impl Buf {
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

fn clamp32(v: u64) -> u32 {
    v.min(MAX32) as u32
}

/// Whether the entry's sizes need a Zip64 extra.
fn big(e: &Entry) -> bool {
    e.size >= MAX32
}

/// The length of the entry's local header (its data follows it).
pub fn local_len(e: &Entry) -> u64 {
    30 + e.name.len() as u64 + if big(e) { 20 } else { 0 }
}

/// The local header of an entry: sizes and CRC-32 in it, no data descriptor.
pub fn local_header(e: &Entry) -> Vec<u8> {
    let name = e.name.as_bytes();
    let (time, date) = dos_time(e.modified);
    let big = big(e);
    let mut local = Buf(Vec::with_capacity(local_len(e) as usize));
    local.u32(LOCAL_SIG);
    local.u16(if big { 45 } else { 20 });
    local.u16(UTF8_FLAG);
    local.u16(0); // STORED
    local.u16(time);
    local.u16(date);
    local.u32(e.crc32);
    local.u32(if big { MAX32 as u32 } else { e.size as u32 });
    local.u32(if big { MAX32 as u32 } else { e.size as u32 });
    local.u16(name.len() as u16);
    local.u16(if big { 20 } else { 0 });
    local.bytes(name);
    if big {
        local.u16(0x0001);
        local.u16(16);
        local.u64(e.size);
        local.u64(e.size);
    }
    local.0
}

/// The length of the entry's central record when its local header is at `offset`.
pub fn central_len(e: &Entry, offset: u64) -> u64 {
    let fields = if big(e) { 16 } else { 0 } + if offset >= MAX32 { 8 } else { 0 };
    46 + e.name.len() as u64 + if fields > 0 { 4 + fields } else { 0 }
}

/// The central record of an entry whose local header is at `offset`: a Zip64 extra with the
/// fields that do not fit, in the spec's order.
pub fn central_record(e: &Entry, offset: u64) -> Vec<u8> {
    let name = e.name.as_bytes();
    let (time, date) = dos_time(e.modified);
    let big = big(e);
    let far = offset >= MAX32;
    let mut extra = Buf(Vec::new());
    if big || far {
        let mut fields = Buf(Vec::new());
        if big {
            fields.u64(e.size);
            fields.u64(e.size);
        }
        if far {
            fields.u64(offset);
        }
        extra.u16(0x0001);
        extra.u16(fields.0.len() as u16);
        extra.bytes(&fields.0);
    }
    let mut central = Buf(Vec::with_capacity(central_len(e, offset) as usize));
    central.u32(CENTRAL_SIG);
    // Made by Unix (3), so the external attributes below read as a mode.
    central.u16((3 << 8) | if big || far { 45 } else { 20 });
    central.u16(if big || far { 45 } else { 20 }); // needed
    central.u16(UTF8_FLAG);
    central.u16(0);
    central.u16(time);
    central.u16(date);
    central.u32(e.crc32);
    central.u32(if big { MAX32 as u32 } else { e.size as u32 });
    central.u32(if big { MAX32 as u32 } else { e.size as u32 });
    central.u16(name.len() as u16);
    central.u16(extra.0.len() as u16);
    central.u16(0); // comment
    central.u16(0); // disk
    central.u16(0); // internal attributes
    central.u32(0o100644 << 16); // a regular file, rw-r--r--
    central.u32(clamp32(offset));
    central.bytes(name);
    central.bytes(&extra.0);
    central.0
}

/// The records after the central directory: Zip64 ones only when a count, size or offset
/// needs them, then the classic end record.
pub fn end_records(count: u64, cd_offset: u64, cd_size: u64) -> Vec<u8> {
    let mut end = Buf(Vec::new());
    if count >= MAX16 || cd_size >= MAX32 || cd_offset >= MAX32 {
        let eocd64_offset = cd_offset + cd_size;
        end.u32(EOCD64_SIG);
        end.u64(44);
        end.u16(45);
        end.u16(45);
        end.u32(0);
        end.u32(0);
        end.u64(count);
        end.u64(count);
        end.u64(cd_size);
        end.u64(cd_offset);
        end.u32(LOCATOR64_SIG);
        end.u32(0);
        end.u64(eocd64_offset);
        end.u32(1);
    }
    end.u32(EOCD_SIG);
    end.u16(0);
    end.u16(0);
    end.u16(count.min(MAX16) as u16);
    end.u16(count.min(MAX16) as u16);
    end.u32(clamp32(cd_size));
    end.u32(clamp32(cd_offset));
    end.u16(0);
    end.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitize_path("../../etc/passwd"), "etc/passwd");
        assert_eq!(sanitize_path("/abs/x.txt"), "abs/x.txt");
        assert_eq!(sanitize_path("a\\b\u{7}c.txt"), "a_b_c.txt");
        assert_eq!(sanitize_path("C:/x"), "C_/x");
        assert_eq!(sanitize_path("./a//./b/.."), "a/b");
        assert_eq!(sanitize_path(".."), "file");
    }

    #[test]
    fn record_lengths_match_their_bytes() {
        let t = DateTime::parse_from_rfc3339("2030-01-15T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let small = Entry {
            name: "dir/b.bin".into(),
            size: 3,
            crc32: 0x352441c2,
            modified: t,
        };
        let huge = Entry {
            size: 5 << 30,
            ..small.clone()
        };
        for e in [&small, &huge] {
            assert_eq!(local_header(e).len() as u64, local_len(e));
            for offset in [0, 6 << 30] {
                assert_eq!(
                    central_record(e, offset).len() as u64,
                    central_len(e, offset)
                );
            }
        }
        assert_eq!(local_len(&small), 30 + 9);
        assert_eq!(central_len(&small, 0), 46 + 9);
        assert_eq!(end_records(2, 100, 50).len(), 22);
        assert_eq!(end_records(70_000, 100, 50).len(), 22 + 56 + 20);
    }
}
