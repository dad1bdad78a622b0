//! Where the transaction key comes from: an environment variable, an encrypted JSON
//! keystore, or a remote signer that keeps the key itself ([`crate::remote_signer`]). The
//! key is never printed, logged or put in an error message; errors name only the variable,
//! the file or the signer's redacted URL.

use std::path::PathBuf;
use std::str::FromStr;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;

use super::ChainError;

/// The default environment variable holding a hex private key.
pub const KEY_ENV: &str = "ZKPOLICY_PRIVATE_KEY";
/// The default environment variable holding a keystore's password.
pub const PASSWORD_ENV: &str = "ZKPOLICY_KEYSTORE_PASSWORD";

/// Where to load the signing key from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// A 32-byte hex private key (with or without `0x`) in this environment variable.
    Env(String),
    /// An Ethereum JSON keystore (v3, scrypt or pbkdf2), its password in this environment variable.
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// The environment variable holding its password.
        password_env: String,
    },
    /// A remote signer answering `eth_signTransaction` (Web3Signer, Clef) at this URL.
    Remote {
        /// The signer's JSON-RPC URL (it may carry credentials: it is never shown whole).
        url: String,
        /// The account to sign with; the signer's only account when `None`.
        address: Option<Address>,
    },
}

/// The account that signs, wherever its key is.
#[derive(Clone, Debug)]
pub struct Signer {
    /// The wallet alloy signs with.
    pub wallet: EthereumWallet,
    /// Its account.
    pub address: Address,
}

/// Loads the signer from any source: a local key or a remote signer.
pub fn signer(source: &KeySource) -> Result<Signer, ChainError> {
    if let KeySource::Remote { url, address } = source {
        let remote = crate::remote_signer::RemoteSigner::connect(url, *address)?;
        return Ok(Signer { address: remote.address(), wallet: EthereumWallet::from(remote) });
    }
    let key = load(source)?;
    Ok(Signer { address: key.address(), wallet: EthereumWallet::from(key) })
}

/// Loads a local key. Messages name where the key was looked for, never the key.
pub fn load(source: &KeySource) -> Result<PrivateKeySigner, ChainError> {
    match source {
        KeySource::Remote { .. } => Err(ChainError::Key("a remote signer holds the key: there is no local key to load".into())),
        KeySource::Env(var) => {
            let value = std::env::var(var).map_err(|_| {
                ChainError::Key(format!(
                    "no signing key: the environment variable {var} is not set; export the account's hex private key there, or pass --keystore FILE"
                ))
            })?;
            PrivateKeySigner::from_str(value.trim().trim_start_matches("0x"))
                .map_err(|_| ChainError::Key(format!("the environment variable {var} does not hold a 32-byte hex private key")))
        }
        KeySource::Keystore { path, password_env } => {
            if !path.is_file() {
                return Err(ChainError::File { path: path.clone(), reason: "no such keystore file".into() });
            }
            let password = std::env::var(password_env).map_err(|_| {
                ChainError::Key(format!(
                    "the keystore {} needs its password in the environment variable {password_env}, which is not set",
                    path.display()
                ))
            })?;
            PrivateKeySigner::decrypt_keystore(path, password).map_err(|_| ChainError::File {
                path: path.clone(),
                reason: format!("cannot decrypt the keystore: wrong password in {password_env}, or not a JSON keystore"),
            })
        }
    }
}
