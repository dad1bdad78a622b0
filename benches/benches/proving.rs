//! Criterion benchmarks for each bundled model: keygen, prove, native verify,
//! EVM verification (time; the gas is printed), and batch proving throughput.
//! `cargo bench -p zkpolicy-benches -- --quick` for a fast pass.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_benches::{setup, MODELS};
use zkpolicy_model::Observation;
use zkpolicy_prover::proof::{self, BatchJob};
use zkpolicy_prover::{evm, keys};
use zkpolicy_verifier::compile;

fn proving(c: &mut Criterion) {
    for name in MODELS {
        let s = setup(name).expect("bundled model sets up");
        let kpis = Observation::random(s.circuit.model(), &mut ChaCha20Rng::seed_from_u64(1));
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.bench_function("keygen", |b| b.iter(|| keys::keygen(&s.params, &s.circuit).expect("keygen")));
        group.bench_function("prove", |b| {
            b.iter(|| proof::prove(&s.params, &s.pk, &s.circuit, &kpis, 1, ChaCha20Rng::seed_from_u64(2)).expect("prove"))
        });
        let (public, bytes) = proof::prove(&s.params, &s.pk, &s.circuit, &kpis, 1, ChaCha20Rng::seed_from_u64(2)).expect("prove");
        group.bench_function("verify", |b| b.iter(|| proof::verify(&s.params, s.pk.get_vk(), &public, &bytes).expect("verify")));
        let source = evm::verifier_source(&s.params, s.pk.get_vk(), &s.circuit).expect("render");
        let compiled = evm::compile_verifier(&source, compile::bundled_dir()).expect("solc (npm ci --prefix verifier-contract)");
        let verdict = evm::verify_in_evm(&compiled.bytecode, &public, &bytes).expect("evm");
        println!("{name}: EVM verification {} gas, deployment {} gas", verdict.verify_gas, verdict.deployment.gas_used);
        group.bench_function("evm_verify", |b| b.iter(|| evm::verify_in_evm(&compiled.bytecode, &public, &bytes).expect("evm")));
        for parallel in [1usize, 2, 4] {
            let mut rng = ChaCha20Rng::seed_from_u64(3);
            let jobs: Vec<BatchJob> =
                (0..parallel as u64).map(|epoch| BatchJob { epoch, input: Observation::random(s.circuit.model(), &mut rng) }).collect();
            group.throughput(Throughput::Elements(parallel as u64));
            group.bench_with_input(BenchmarkId::new("batch", parallel), &jobs, |b, jobs| {
                b.iter(|| proof::prove_batch(&s.params, &s.pk, &s.circuit, jobs, &|| {}))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, proving);
criterion_main!(benches);
