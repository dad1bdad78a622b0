// Compiles Solidity sources with the pinned solc-js through the standard-JSON
// interface and prints {compiler, contracts: {Name: {abi, bytecode, deployedBytecode}},
// enums: {"Contract.Enum": [member, ...]}} (the ABI has no enum members; the AST does).
// Usage: node compile.cjs <file.sol>...   (no network access; errors exit 1)
// solc and imports come from $ZKPOLICY_SOLC_DIR/node_modules when it is set (the zkpolicy
// binary embeds this script and sets it), otherwise from this package's node_modules
// (pinned by package-lock.json).
'use strict';
const fs = require('fs');
const path = require('path');
const base = process.env.ZKPOLICY_SOLC_DIR || path.join(__dirname, '..');
const solc = require(path.join(base, 'node_modules', 'solc'));

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node compile.cjs <file.sol>...');
  process.exit(2);
}
const sources = {};
for (const file of files) {
  sources[path.basename(file)] = { content: fs.readFileSync(file, 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'], '': ['ast'] } },
  },
};
// Imports resolve to the pinned npm packages (e.g. `solady/...`).
function findImports(importPath) {
  const file = path.join(base, 'node_modules', importPath);
  try {
    return { contents: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { error: `cannot import ${importPath}: ${e.message}` };
  }
}
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const contracts = {};
for (const file of Object.keys(output.contracts || {})) {
  for (const [name, c] of Object.entries(output.contracts[file])) {
    contracts[name] = {
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
  }
}
// Every enum declared in the sources and their imports, by canonical name, members in order.
const enums = {};
function collectEnums(node) {
  if (Array.isArray(node)) {
    node.forEach(collectEnums);
  } else if (node !== null && typeof node === 'object') {
    if (node.nodeType === 'EnumDefinition') enums[node.canonicalName] = node.members.map((m) => m.name);
    Object.values(node).forEach(collectEnums);
  }
}
for (const source of Object.values(output.sources || {})) collectEnums(source.ast);
process.stdout.write(JSON.stringify({ compiler: solc.version(), contracts, enums }));
