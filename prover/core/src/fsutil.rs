//! Writes that never leave a partial artifact behind.

use std::io::Write;
use std::path::Path;

use zkpolicy_verifier::transcript::keccak256;

use crate::ProverError;

/// Writes `bytes` to a temporary file beside `path`, syncs it, then renames it
/// over `path`: readers see the old file or the whole new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    let err = |source| ProverError::Write { path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// The whole file at `path`, with no size limit (for files this program wrote, such as
/// cached keys); a failure names the path.
pub fn read(path: &Path) -> Result<Vec<u8>, ProverError> {
    std::fs::read(path).map_err(|source| ProverError::Read { path: path.to_owned(), source })
}

/// Reads a file that should be small, refusing one larger than `max` bytes (an endless
/// file such as `/dev/zero` included) before it fills memory.
pub fn read_at_most(path: &Path, max: u64, what: &'static str) -> Result<Vec<u8>, ProverError> {
    zkpolicy_model::io::read_limited(path, max).map_err(|source| match source.kind() {
        std::io::ErrorKind::FileTooLarge => {
            ProverError::Corrupt { path: path.to_owned(), what, reason: format!("a {what} is at most {max} bytes") }
        }
        _ => ProverError::Read { path: path.to_owned(), source },
    })
}

/// Reads a file that may be large (a powers-of-tau file): only a regular file (a device or a
/// pipe, such as `/dev/zero`, is refused before anything is read) of at most `max` bytes.
pub fn read_regular(path: &Path, max: u64, what: &'static str) -> Result<Vec<u8>, ProverError> {
    let metadata = std::fs::metadata(path).map_err(|source| ProverError::Read { path: path.to_owned(), source })?;
    let corrupt = |reason: String| ProverError::Corrupt { path: path.to_owned(), what, reason };
    if !metadata.is_file() {
        return Err(corrupt(format!("a {what} is a regular file")));
    }
    if metadata.len() > max {
        return Err(corrupt(format!("it has {} bytes; a {what} has at most {max}", metadata.len())));
    }
    read_at_most(path, max, what)
}

/// Writes `bytes` behind their keccak-256, so a truncated or edited file is detected on read.
pub(crate) fn write_checked(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    let mut framed = keccak256(bytes).to_vec();
    framed.extend_from_slice(bytes);
    write_atomic(path, &framed)
}

/// The payload of a [`write_checked`] file if it exists and its digest matches; `None` otherwise.
pub(crate) fn read_checked(path: &Path) -> Result<Option<Vec<u8>>, ProverError> {
    if !path.exists() {
        return Ok(None);
    }
    let framed = read(path)?;
    if framed.len() < 32 || framed[..32] != keccak256(&framed[32..]) {
        return Ok(None);
    }
    Ok(Some(framed[32..].to_vec()))
}
