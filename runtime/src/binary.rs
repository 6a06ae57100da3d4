//! Just enough of the WebAssembly binary format to find custom sections.
//! Everything else about the module is checked by wasmtime when it compiles it.

use crate::LoadError;

const HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/// Reads an unsigned LEB128 `u32` at `*pos`, advancing it.
fn read_u32(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result: u32 = 0;
    for i in 0..5 {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        let low = u32::from(byte & 0x7f);
        if i == 4 && low > 0x0f {
            return None;
        }
        result |= low << (7 * i);
        if byte & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

/// The payloads of the custom sections called `name`, in order.
pub(crate) fn custom_sections<'a>(wasm: &'a [u8], name: &str) -> Result<Vec<&'a [u8]>, LoadError> {
    let invalid = |what: &str| LoadError::InvalidWasm(what.to_owned());
    if wasm.get(..8) != Some(&HEADER[..]) {
        return Err(invalid("missing the WebAssembly module header (magic number and version 1)"));
    }
    let mut found = Vec::new();
    let mut pos = 8;
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = read_u32(wasm, &mut pos).ok_or_else(|| invalid("malformed section size"))?;
        let end = pos.checked_add(size as usize).filter(|&end| end <= wasm.len());
        let end = end.ok_or_else(|| invalid("a section extends past the end of the module"))?;
        if id == 0 {
            let mut at = pos;
            let len = read_u32(&wasm[..end], &mut at).ok_or_else(|| invalid("malformed custom section name"))?;
            let name_end = at.checked_add(len as usize).filter(|&e| e <= end);
            let name_end = name_end.ok_or_else(|| invalid("malformed custom section name"))?;
            if &wasm[at..name_end] == name.as_bytes() {
                found.push(&wasm[name_end..end]);
            }
        }
        pos = end;
    }
    Ok(found)
}

/// Appends a custom section to a module's bytes (a module may carry custom
/// sections anywhere, including at the end).
pub fn append_custom_section(wasm: &mut Vec<u8>, name: &str, payload: &[u8]) {
    let mut body = Vec::with_capacity(name.len() + payload.len() + 5);
    write_u32(&mut body, name.len() as u32);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    wasm.push(0);
    write_u32(wasm, body.len() as u32);
    wasm.extend_from_slice(&body);
}

fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips() {
        for value in [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX] {
            let mut bytes = Vec::new();
            write_u32(&mut bytes, value);
            let mut pos = 0;
            assert_eq!(read_u32(&bytes, &mut pos), Some(value));
            assert_eq!(pos, bytes.len());
        }
        let mut pos = 0;
        assert_eq!(read_u32(&[0xff, 0xff, 0xff, 0xff, 0x7f], &mut pos), None, "more than 32 bits");
        let mut pos = 0;
        assert_eq!(read_u32(&[0x80], &mut pos), None, "truncated");
    }

    #[test]
    fn finds_appended_custom_sections() {
        let mut wasm = HEADER.to_vec();
        append_custom_section(&mut wasm, "other", b"x");
        append_custom_section(&mut wasm, "ward.manifest", b"{}");
        assert_eq!(custom_sections(&wasm, "ward.manifest"), Ok(vec![&b"{}"[..]]));
        assert_eq!(custom_sections(&wasm, "nothing"), Ok(vec![]));
        wasm.pop();
        assert!(custom_sections(&wasm, "ward.manifest").is_err(), "truncated section");
        assert!(custom_sections(b"\0asm\x02\0\0\0", "x").is_err(), "bad version");
    }
}
