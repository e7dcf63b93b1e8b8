//! Drops the debugging names from a wasm module: its `name` section (about
//! 40% of the file; only useful for stack traces in a debugger) and the
//! `producers` section.

use anyhow::{Context, Result, bail, ensure};

/// Returns `wasm` without its `name` and `producers` custom sections.
///
/// The profile could strip them (`strip = true`), but wasm-bindgen must still
/// see its own custom sections, so stripping after it is the safe place.
pub(super) fn strip_names(wasm: &[u8]) -> Result<Vec<u8>> {
    ensure!(wasm.starts_with(b"\0asm"), "not a wasm module");
    let mut out = wasm[..8].to_vec();
    let mut rest = &wasm[8..];
    while let Some(&id) = rest.first() {
        let (size, len) = leb128(&rest[1..])?;
        let end = 1 + len + size;
        ensure!(end <= rest.len(), "truncated wasm section");
        let drop = id == 0 && matches!(custom_name(&rest[1 + len..end])?, "name" | "producers");
        if !drop {
            out.extend_from_slice(&rest[..end]);
        }
        rest = &rest[end..];
    }
    Ok(out)
}

/// An unsigned LEB128 number (at most 32 bits) and how many bytes it took.
pub(super) fn leb128(bytes: &[u8]) -> Result<(usize, usize)> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().take(5).enumerate() {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    bail!("bad LEB128 number in wasm")
}

/// The name of a custom section, from its payload.
pub(super) fn custom_name(payload: &[u8]) -> Result<&str> {
    let (n, len) = leb128(payload)?;
    let name = payload
        .get(len..len + n)
        .context("truncated custom section")?;
    Ok(std::str::from_utf8(name)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_name_sections() {
        let custom = |name: &str, body: &[u8]| {
            let mut payload = vec![name.len() as u8];
            payload.extend_from_slice(name.as_bytes());
            payload.extend_from_slice(body);
            let mut section = vec![0, payload.len() as u8];
            section.extend(payload);
            section
        };
        let header = b"\0asm\x01\0\0\0".to_vec();
        let types = vec![1u8, 1, 0]; // a (bogus) type section, kept as is
        let kept = custom("__wasm_bindgen_unstable", b"x");
        let module = [
            header.clone(),
            types.clone(),
            custom("name", b"abc"),
            kept.clone(),
            custom("producers", b""),
        ]
        .concat();
        assert_eq!(
            strip_names(&module).unwrap(),
            [header, types, kept].concat()
        );
        assert!(strip_names(b"nope").is_err());
    }
}
