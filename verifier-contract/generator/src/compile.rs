//! Compiles Solidity with the pinned solc-js from npm (`verifier-contract/package.json`),
//! through `solc/compile.cjs`. Nothing is downloaded at run time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The solc-js version every artifact is compiled with (`package.json` pins it).
pub const SOLC_VERSION: &str = "0.8.37";
/// The environment variable naming a directory whose `node_modules` holds solc-js.
pub const SOLC_DIR_ENV: &str = "ZKPOLICY_SOLC_DIR";
/// The compile script, embedded so an installed binary needs only Node.js and solc-js.
const COMPILE_SCRIPT: &str = include_str!("../solc/compile.cjs");

/// Why a Solidity source did not become bytecode.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// `node` could not be started (Node.js is missing or not on `PATH`).
    #[error("cannot run node with {script}: {source} (install Node.js, then `npm ci --prefix verifier-contract`)")]
    Node {
        /// The compile script `node` was asked to run.
        script: PathBuf,
        /// Why starting it failed.
        source: std::io::Error,
    },
    /// No directory holding `node_modules/solc` was given or found beside the build tree;
    /// the message says which.
    #[error(
        "compiling a verifier for this model needs solc-js {SOLC_VERSION}, and {0}; install it with \
         `npm install --prefix DIR solc@{SOLC_VERSION}` (Node.js 20) and pass --solc-dir DIR or set {SOLC_DIR_ENV}=DIR"
    )]
    NoCompiler(String),
    /// The compile script failed, usually solc reporting errors in the source; holds its stderr.
    #[error("solc rejected the source:\n{0}")]
    Solc(String),
    /// The sources or the compile script could not be written to the scratch directory.
    #[error("cannot write the source to {path}: {source}")]
    Io {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// Why writing it failed.
        source: std::io::Error,
    },
    /// The compiler's JSON (or a committed artifact) lacks a contract or field, or holds
    /// bytecode that is not hex.
    #[error("unexpected compiler output: {0}")]
    Output(String),
}

/// One compiled contract.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The contract's ABI, as solc emits it.
    pub abi: serde_json::Value,
    /// Creation bytecode: deploy it with the ABI-encoded constructor arguments appended.
    pub bytecode: Vec<u8>,
    /// Runtime bytecode, as it sits on chain after deployment.
    pub deployed_bytecode: Vec<u8>,
    /// The compiler's version string, as solc-js reports it.
    pub compiler: String,
    /// Every enum the compiled sources declare, by canonical name (`Contract.Enum`), with its
    /// members in order: the ABI types enums as `uint8` and names no members. Empty when read
    /// from an artifact.
    pub enums: BTreeMap<String, Vec<String>>,
}

impl Compiled {
    /// The deployable artifact (`{contractName, compiler, abi, bytecode, deployedBytecode}`),
    /// with `extra` fields inserted after the compiler.
    pub fn artifact(&self, name: &str, extra: serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert("contractName".into(), name.into());
        out.insert("compiler".into(), self.compiler.clone().into());
        out.extend(extra);
        out.insert("abi".into(), self.abi.clone());
        out.insert("bytecode".into(), format!("0x{}", hex::encode(&self.bytecode)).into());
        out.insert("deployedBytecode".into(), format!("0x{}", hex::encode(&self.deployed_bytecode)).into());
        serde_json::Value::Object(out)
    }

    /// Reads an artifact written by [`Compiled::artifact`] from its JSON text.
    pub fn parse_artifact(text: &str) -> Result<Self, CompileError> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| CompileError::Output(e.to_string()))?;
        Self::from_artifact(&json)
    }

    /// Reads an artifact written by [`Compiled::artifact`].
    pub fn from_artifact(json: &serde_json::Value) -> Result<Self, CompileError> {
        let bytes = |key: &str| {
            let text = json[key].as_str().ok_or_else(|| CompileError::Output(format!("the artifact has no {key}")))?;
            hex::decode(text.trim_start_matches("0x")).map_err(|e| CompileError::Output(format!("{key}: {e}")))
        };
        Ok(Self {
            abi: json["abi"].clone(),
            bytecode: bytes("bytecode")?,
            deployed_bytecode: bytes("deployedBytecode")?,
            compiler: json["compiler"].as_str().unwrap_or_default().to_string(),
            enums: BTreeMap::new(),
        })
    }

    /// The contract's ABI as a Solidity interface named `name` (alloy's `JsonAbi::to_sol`, with
    /// constructors, and enums declared with their members), headed by a line that says so:
    /// what the Rust bindings are generated from (`sol!`, in `zkpolicy-contracts`).
    pub fn interface(&self, name: &str) -> Result<String, CompileError> {
        let abi: alloy_json_abi::JsonAbi =
            serde_json::from_value(self.abi.clone()).map_err(|e| CompileError::Output(format!("{name}'s ABI: {e}")))?;
        let config = alloy_json_abi::ToSolConfig::new()
            .print_constructors(true)
            .for_sol_macro(true)
            .enum_definitions(self.enums.iter().map(|(k, v)| (k.clone(), v.clone())));
        let body = abi.to_sol(name, Some(config));
        Ok(format!(
            "// {name}'s compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts \
             --example render_contracts`;\n// the Rust bindings are generated from it. Do not edit.\n{body}\n"
        ))
    }
}

/// The directory holding `package.json`, `node_modules/solc` and `solc/compile.cjs` in the
/// source tree this was built from (tests and the benchmark compile with it).
pub fn bundled_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Where solc-js is: `explicit` (a `--solc-dir`, or `$ZKPOLICY_SOLC_DIR`) if given, otherwise
/// the build tree's when this binary runs beside it. Either must hold `node_modules/solc`.
pub fn find_solc(explicit: Option<&Path>) -> Result<PathBuf, CompileError> {
    let has_solc = |dir: &Path| dir.join("node_modules/solc/package.json").is_file();
    match explicit {
        Some(dir) if has_solc(dir) => Ok(dir.to_path_buf()),
        Some(dir) => Err(CompileError::NoCompiler(format!("{} has no node_modules/solc", dir.display()))),
        None if has_solc(bundled_dir()) => Ok(bundled_dir().to_path_buf()),
        None => Err(CompileError::NoCompiler("none was given".into())),
    }
}

/// Compiles `(file name, source)` pairs; returns every contract by name.
pub fn compile(dir: &Path, sources: &[(&str, &str)]) -> Result<BTreeMap<String, Compiled>, CompileError> {
    let work = std::env::temp_dir().join(format!("zkpolicy-solc-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&work).map_err(|source| CompileError::Io { path: work.clone(), source })?;
    let mut files = Vec::new();
    for (name, content) in sources {
        let path = work.join(name);
        std::fs::write(&path, content).map_err(|source| CompileError::Io { path: path.clone(), source })?;
        files.push(path);
    }
    let script = work.join("compile.cjs");
    std::fs::write(&script, COMPILE_SCRIPT).map_err(|source| CompileError::Io { path: script.clone(), source })?;
    let dir = std::path::absolute(dir).map_err(|source| CompileError::Io { path: dir.to_path_buf(), source })?;
    let output = Command::new("node").arg(&script).args(&files).env(SOLC_DIR_ENV, &dir).current_dir(&work).output();
    let _ = std::fs::remove_dir_all(&work);
    let output = output.map_err(|source| CompileError::Node { script: script.clone(), source })?;
    if !output.status.success() {
        return Err(CompileError::Solc(String::from_utf8_lossy(&output.stderr).into_owned()));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| CompileError::Output(e.to_string()))?;
    let compiler = json["compiler"].as_str().unwrap_or_default().to_string();
    let enums: BTreeMap<String, Vec<String>> =
        serde_json::from_value(json["enums"].clone()).map_err(|e| CompileError::Output(format!("enums: {e}")))?;
    let contracts = json["contracts"].as_object().ok_or_else(|| CompileError::Output("no contracts".into()))?;
    contracts
        .iter()
        .map(|(name, c)| {
            let bytes = |key: &str| {
                let text = c[key].as_str().unwrap_or_default().trim_start_matches("0x");
                hex::decode(text).map_err(|e| CompileError::Output(format!("{name}.{key}: {e}")))
            };
            Ok((
                name.clone(),
                Compiled {
                    abi: c["abi"].clone(),
                    bytecode: bytes("bytecode")?,
                    deployed_bytecode: bytes("deployedBytecode")?,
                    compiler: compiler.clone(),
                    enums: enums.clone(),
                },
            ))
        })
        .collect()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The committed files of `names` from a fresh compile, as `(path, text)`: per contract its
/// artifact (`<dir>/<name>.json`, pretty JSON) and its ABI as a Solidity interface
/// (`<dir>/<name>.abi.sol`, [`Compiled::interface`]); an empty `dir` leaves the names bare.
pub fn render_artifacts(dir: &str, names: &[&str], compiled: &BTreeMap<String, Compiled>) -> Result<Vec<(String, String)>, CompileError> {
    let under = |file: String| if dir.is_empty() { file } else { format!("{dir}/{file}") };
    let mut files = Vec::with_capacity(2 * names.len());
    for name in names {
        let c = compiled.get(*name).ok_or_else(|| CompileError::Output(format!("no {name} in the compiler output")))?;
        let text =
            serde_json::to_string_pretty(&c.artifact(name, serde_json::Map::new())).map_err(|e| CompileError::Output(e.to_string()))?;
        files.push((under(format!("{name}.json")), format!("{text}\n")));
        files.push((under(format!("{name}.abi.sol")), c.interface(name)?));
    }
    Ok(files)
}
