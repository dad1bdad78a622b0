//! Criterion benchmarks: keygen, prove and native verify for each bundled model.
//! `cargo bench -p zkpolicy-benches -- --quick` for a fast pass.

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_benches::{setup, MODELS};
use zkpolicy_model::synth;
use zkpolicy_prover::{keys, proof};

fn proving(c: &mut Criterion) {
    for name in MODELS {
        let s = setup(name).expect("bundled model sets up");
        let kpis = synth::random_kpis(s.circuit.model(), &mut ChaCha20Rng::seed_from_u64(1));
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.bench_function("keygen", |b| b.iter(|| keys::keygen(&s.params, &s.circuit).expect("keygen")));
        group.bench_function("prove", |b| {
            b.iter(|| proof::prove(&s.params, &s.pk, &s.circuit, &kpis, 1, ChaCha20Rng::seed_from_u64(2)).expect("prove"))
        });
        let (public, bytes) = proof::prove(&s.params, &s.pk, &s.circuit, &kpis, 1, ChaCha20Rng::seed_from_u64(2)).expect("prove");
        group.bench_function("verify", |b| b.iter(|| proof::verify(&s.params, s.pk.get_vk(), &public, &bytes).expect("verify")));
        group.finish();
    }
}

criterion_group!(benches, proving);
criterion_main!(benches);
