#!/usr/bin/env bash
# The keeper at scale: one keeper daemon serves N deployments of the default model on a
# local node (its own, started here), every epoch's proofs made in one rayon batch.
# For each epoch the node's clock is moved past the boundary, and the keeper's JSON logs
# give the batch's proving time and, per deployment, the time from the boundary to the
# confirmed submission; its round log lines give each phase's time, and /proc its peak RSS.
# Writes benches/keeper.json (or OUT), which docs/keeper.md quotes.
# Usage: benches/keeper.sh [deployments] [epochs] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
epochs=${2:-5}
root=$(pwd)
out=$(realpath -m "${3:-$root/benches/keeper.json}")
cargo build --release --locked -p zkpolicy-cli
zkpolicy="$root/target/release/zkpolicy"
work=$(mktemp -d)
port=18745
verifier-contract/node/local-node.sh "$port" >"$work/node.log" 2>&1 &
node_pid=$!
keeper_pid=
trap 'kill $keeper_pid $node_pid 2>/dev/null || true; rm -rf "$work"' EXIT
url="http://127.0.0.1:$port"
rpc() {
  node -e 'fetch(process.argv[1], {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: 1, method: process.argv[2], params: JSON.parse(process.argv[3])})})
      .then(r => r.json()).then(j => { if (j.error) process.exit(1); console.log(JSON.stringify(j.result)) }, () => process.exit(1))' \
    "$url" "$1" "$2"
}
for _ in $(seq 1 120); do rpc eth_chainId '[]' >/dev/null 2>&1 && break; sleep 1; done

# Hardhat's public development account #0 (printed by every Hardhat node).
export ZKPOLICY_PRIVATE_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
cd "$work"
python3 - "$root" <<'EOF'
import json, sys
root = sys.argv[1]
rails = [
    {"name": "emission_rate_bps", "initial": 500, "min": 0, "max": 2000, "max_step": 25},
    {"name": "staking_reward_bps", "initial": 800, "min": 0, "max": 2000, "max_step": 60},
    {"name": "burn_rate_bps", "initial": 100, "min": 0, "max": 1000, "max_step": 25},
    {"name": "fee_bps", "initial": 30, "min": 0, "max": 300, "max_step": 10},
]
config = {"mode": "autonomous", "governance_delay": 86400,
          "timing": {"epoch_length": 86400, "max_snapshot_age": 172800, "adjustment_delay": 0}, "parameters": rails}
json.dump(config, open("config.json", "w"))
EOF
echo "deploying $n controllers"
for i in $(seq 1 "$n"); do
  "$zkpolicy" deploy --config config.json --out "d$i.json" --allow-dev-srs --rpc "$url" --cache-dir cache --json >/dev/null 2>>deploy.log
done
mkdir kpis
{
  cat <<EOF
state_dir = "state"
cache_dir = "cache"
poll_interval_secs = 1
log_format = "json"

[signer]
env = "ZKPOLICY_PRIVATE_KEY"

[chains.local]
rpc = ["$url"]
max_fee_gwei = 500
EOF
  for i in $(seq 1 "$n"); do
    printf '\n[[deployment]]\nname = "d%s"\nchain = "local"\nrecord = "d%s.json"\nkpis_dir = "kpis"\n' "$i" "$i"
  done
} >keeper.toml

current() { "$zkpolicy" status --deployment d1.json --rpc "$url" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["current_epoch"])'; }
confirmed() { grep '"message":"confirmed"' keeper.log | grep "\"epoch\":$1," | grep -c '"kind":"submit"' || true; }
first=$(current)
cp "$root/models/kpis-sample.json" "kpis/$first.json"
"$zkpolicy" keeper --config keeper.toml 2>keeper.log &
keeper_pid=$!
: >boundaries.txt
for e in $(seq "$first" $((first + epochs - 1))); do
  cp "$root/models/kpis-sample.json" "kpis/$e.json"
  if [ "$e" != "$first" ]; then
    rpc evm_increaseTime '[86400]' >/dev/null
    rpc evm_mine '[]' >/dev/null
  fi
  echo "$e $(date -u +%s.%N)" >>boundaries.txt
  for _ in $(seq 1 1800); do
    [ "$(confirmed "$e")" -ge "$n" ] && break
    sleep 0.5
  done
  echo "epoch $e: $(confirmed "$e") of $n confirmed"
done
peak_rss_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$keeper_pid/status")
kill -TERM "$keeper_pid"
wait "$keeper_pid" || true
# The keeper's JSON logs, for a closer look at where the time went.
cp keeper.log "$root/target/keeper-bench.log"

python3 - "$out" "$n" "$peak_rss_kib" <<'EOF'
import json, sys, datetime, statistics
out, n, rss_kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
boundaries = {int(e): float(t) for e, t in (l.split() for l in open("boundaries.txt"))}
batches, latencies, gas, rounds = [], [], [], []
for line in open("keeper.log"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    at = datetime.datetime.fromisoformat(ev["timestamp"].replace("Z", "+00:00")).timestamp()
    if ev.get("message") == "round":
        rounds.append({k: round(ev[k], 2) for k in ("snapshot", "prove", "submit")})
    if ev.get("message") == "proved a batch":
        batches.append((ev["proofs"], ev["seconds"]))
    if ev.get("message") == "confirmed" and ev.get("kind") == "submit" and ev["epoch"] in boundaries:
        latencies.append((ev["epoch"], at - boundaries[ev["epoch"]]))
        gas.append(ev["gas"])
# The first epoch's clock starts with the keeper (keys loaded, state opened): reported apart.
first = min(boundaries)
first_latencies = [l for e, l in latencies if e == first]
latencies = [l for e, l in latencies if e != first]
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None
result = {
    "deployments": n,
    "epochs": len(boundaries),
    "submissions_confirmed": len(latencies) + len(first_latencies),
    "first_epoch_latency_seconds": {"p50": round(pct(first_latencies, 50), 2), "max": round(max(first_latencies), 2)},
    "batches": [{"proofs": p, "seconds": round(s, 3)} for p, s in batches],
    # Rounds that straddle the boundary split an epoch's proofs over two batches.
    "proofs_per_second": round(sum(p for p, _ in batches) / sum(s for _, s in batches), 2) if batches else None,
    "latency_seconds": {"p50": round(pct(latencies, 50), 2), "p95": round(pct(latencies, 95), 2), "max": round(max(latencies), 2)},
    "submit_gas": {"min": min(gas), "max": max(gas)},
    # Each round that proved or confirmed: seconds in its snapshot, prove and submit phases.
    "rounds": rounds,
    "keeper_peak_rss_mib": round(rss_kib / 1024),
    "machine": "2 cores",
}
json.dump(result, open(out, "w"), indent=2)
print(json.dumps(result, indent=2))
EOF
