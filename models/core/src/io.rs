//! Reading user files without trusting their size.

use std::io::{self, Read};
use std::path::Path;

/// The largest model file read (a million-parameter model is about 5 MB of JSON).
pub const MAX_MODEL_BYTES: u64 = 256 << 20;
/// The largest KPI snapshot read.
pub const MAX_SNAPSHOT_BYTES: u64 = 1 << 20;

/// The contents of `path`, refused once they pass `max` bytes: a huge file, or an endless
/// one such as `/dev/zero`, gives an error instead of exhausting memory or hanging.
pub fn read_limited(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, format!("it is larger than {max} bytes")));
    }
    Ok(bytes)
}

/// [`read_limited`], as UTF-8 text.
pub fn read_text_limited(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_limited(path, max)?).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}
