// A remote signer for the tests: answers the JSON-RPC calls a keeper makes of Web3Signer or
// Clef (eth_accounts, eth_signTransaction) over HTTP, signing with ethers, an implementation
// independent of the keeper's own (alloy).
//
//   SIGNER_KEY=0x… node signer.mjs [--mode MODE]
//
// Prints "listening on PORT" once it accepts connections (an ephemeral loopback port), then
// one line per signature on stdout. MODE, to test that a keeper believes nothing it is given:
//   web3signer      the raw signed transaction as a hex string (the default)
//   clef            {raw, tx}, as Clef and geth answer
//   other-recipient signs the transaction with its recipient changed
//   other-key       signs with another key than the account it lists
//   garbage         answers with bytes that are no transaction
//   fail-first      refuses the first signature (a signer restarting), then signs
import http from "node:http";
import { Transaction, Wallet } from "ethers";

const mode = process.argv.includes("--mode") ? process.argv[process.argv.indexOf("--mode") + 1] : "web3signer";
const wallet = new Wallet(process.env.SIGNER_KEY);
const stranger = Wallet.createRandom();
let refused = 0;

async function signTransaction(request) {
  if (request.from?.toLowerCase() !== wallet.address.toLowerCase()) {
    throw new Error(`no key for ${request.from}`);
  }
  const tx = {
    type: 2,
    chainId: BigInt(request.chainId),
    nonce: Number(BigInt(request.nonce)),
    gasLimit: BigInt(request.gas),
    maxFeePerGas: BigInt(request.maxFeePerGas),
    maxPriorityFeePerGas: BigInt(request.maxPriorityFeePerGas),
    to: request.to ?? null,
    value: BigInt(request.value ?? 0),
    data: request.data ?? request.input ?? "0x",
  };
  if (mode === "fail-first" && refused++ === 0) throw new Error("the signer is starting");
  if (mode === "other-recipient") tx.to = stranger.address;
  if (mode === "garbage") return "0xdeadbeef";
  const raw = await (mode === "other-key" ? stranger : wallet).signTransaction(tx);
  if (mode === "clef") return { raw, tx: Transaction.from(raw).toJSON() };
  return raw;
}

async function answer(call) {
  switch (call.method) {
    case "eth_accounts":
      return [wallet.address];
    case "eth_signTransaction": {
      const signed = await signTransaction(call.params[0]);
      console.log(`signed nonce ${BigInt(call.params[0].nonce)}`);
      return signed;
    }
    default:
      throw new Error(`the method ${call.method} does not exist`);
  }
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", async () => {
    let call = {};
    let reply;
    try {
      call = JSON.parse(body);
      reply = { jsonrpc: "2.0", id: call.id, result: await answer(call) };
    } catch (e) {
      reply = { jsonrpc: "2.0", id: call.id ?? null, error: { code: -32000, message: e.message } };
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(reply));
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
