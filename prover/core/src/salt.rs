//! Salt files: the secret that keeps a private model's weight commitment from confirming a
//! guessed model (see `zkpolicy_circuits::private`). Losing the salt loses the ability to
//! prove for the deployed verifier; publishing it lets anyone test guesses of the weights.

use std::io::Write;
use std::path::Path;

use halo2_proofs::halo2curves::ff::Field;
use zkpolicy_circuits::Salt;

use crate::{fsutil, ProverError};

/// A salt file is one line: `0x` and 64 hex digits.
const MAX_FILE_BYTES: u64 = 1024;

/// Reads the salt at `path`. Only a regular file is opened: the type is checked first, so a
/// FIFO (whose open would wait for a writer for ever), a device or a directory is refused
/// at once, by name.
pub fn load(path: &Path) -> Result<Salt, ProverError> {
    let bytes = fsutil::read_regular(path, MAX_FILE_BYTES, "salt file")?;
    let corrupt = |reason: String| ProverError::Corrupt { path: path.to_owned(), what: "salt file", reason };
    let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("it is not text".into()))?;
    text.parse().map_err(|e: zkpolicy_circuits::private::SaltError| corrupt(e.to_string()))
}

/// Writes a fresh salt from `rng` to `path`, readable by its owner only. An existing file is
/// never replaced: its salt may be the only way to prove for a deployed verifier.
pub fn create(path: &Path, mut rng: impl rand::RngCore) -> Result<Salt, ProverError> {
    // Zero is refused when read back (a salt anyone can guess); drawing it is a 2^-254
    // chance, but a salt file that cannot be read is never written.
    let salt = loop {
        let salt = Salt::random(&mut rng);
        if !bool::from(salt.value().is_zero()) {
            break salt;
        }
    };
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
        // r, the BN254 scalar modulus: 0 mod r, but not canonical.
        let modulus = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
        let cases = [
            ("0x12", "64 hex digits"),
            (&*format!("0x{}", "f".repeat(64)), "modulus"),
            ("\u{0}\u{1}", "64 hex"),
            (&*format!("0x{}\n", "0".repeat(64)), "the salt is zero"),
            (modulus, "modulus"),
        ];
        for (text, reason) in cases {
            let path = dir.path().join("bad.salt");
            std::fs::write(&path, text).expect("write");
            let e = load(&path).expect_err("refused").to_string();
            assert!(e.contains("bad.salt") && e.contains(reason), "{e}");
            assert!(!e.contains("ffffffff"), "the salt is echoed: {e}");
        }
    }

    #[test]
    fn a_salt_path_that_is_not_a_regular_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("salt.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", fifo.display());
        // On a thread, so that a regression (an open that waits for a writer) fails the test
        // instead of hanging it.
        let (done, result) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = done.send(load(&path).map(|_| ()).map_err(|e| e.to_string()));
        });
        let got = result.recv_timeout(std::time::Duration::from_secs(10)).expect("load returned instead of waiting for a writer");
        let e = got.expect_err("a FIFO is refused");
        assert!(e.contains("salt.fifo") && e.contains("a salt file is a regular file"), "{e}");
        let e = load(dir.path()).expect_err("a directory is refused").to_string();
        assert!(e.contains("a salt file is a regular file"), "{e}");
    }
}
