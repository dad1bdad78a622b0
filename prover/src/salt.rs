//! Salt files: the secret that keeps a private model's weight commitment from confirming a
//! guessed model (see `zkpolicy_circuits::private`). Losing the salt loses the ability to
//! prove for the deployed verifier; publishing it lets anyone test guesses of the weights.

use std::io::Write;
use std::path::Path;

use zkpolicy_circuits::Salt;

use crate::{fsutil, ProverError};

/// A salt file is one line: `0x` and 64 hex digits.
const MAX_FILE_BYTES: u64 = 1024;

pub fn load(path: &Path) -> Result<Salt, ProverError> {
    let bytes = fsutil::read_at_most(path, MAX_FILE_BYTES, "salt file")?;
    let corrupt = |reason: String| ProverError::Corrupt { path: path.to_owned(), what: "salt file", reason };
    let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("it is not text".into()))?;
    text.parse().map_err(|e: zkpolicy_circuits::private::SaltError| corrupt(e.to_string()))
}

/// Writes a fresh salt from `rng` to `path`, readable by its owner only. An existing file is
/// never replaced: its salt may be the only way to prove for a deployed verifier.
pub fn create(path: &Path, rng: impl rand::RngCore) -> Result<Salt, ProverError> {
    let salt = Salt::random(rng);
    let err = |source| ProverError::Write { path: path.to_owned(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => ProverError::Exists {
            path: path.to_owned(),
            why: "a salt is never replaced (it may be the only way to prove for a deployed verifier)",
        },
        _ => err(source),
    })?;
    let written = file.write_all(format!("{salt}\n").as_bytes()).and_then(|()| file.sync_all());
    if let Err(source) = written {
        let _ = std::fs::remove_file(path);
        return Err(err(source));
    }
    Ok(salt)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    #[test]
    fn a_created_salt_loads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("model.salt");
        let salt = create(&path, ChaCha20Rng::seed_from_u64(1)).expect("created");
        assert_eq!(load(&path).expect("loads"), salt);
        let again = create(&path, ChaCha20Rng::seed_from_u64(2)).expect_err("an existing salt is kept");
        assert!(again.to_string().contains("model.salt already exists"), "{again}");
        assert_eq!(load(&path).expect("still loads"), salt);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_salt_files_are_named_without_echoing_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (text, reason) in [("0x12", "64 hex digits"), (&*format!("0x{}", "f".repeat(64)), "modulus"), ("\u{0}\u{1}", "64 hex")] {
            let path = dir.path().join("bad.salt");
            std::fs::write(&path, text).expect("write");
            let e = load(&path).expect_err("refused").to_string();
            assert!(e.contains("bad.salt") && e.contains(reason), "{e}");
            assert!(!e.contains("ffffffff"), "the salt is echoed: {e}");
        }
    }
}
