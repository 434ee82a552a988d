//! Mint and verify cost next to the physical floor measured in the same run: one HMAC-SHA256
//! over a token-sized input, and one SHA-256. Verification does two HMAC-sized operations (the
//! token signature; SigV4 is the adapter's) plus one SHA-256 (the derived secret), so the goal
//! is verify <= 3 x (2 HMAC + 1 SHA-256).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use hmac::Mac;
use mayfly_core::fuzzing::tests_support::sample;
use mayfly_core::*;
use sha2::Digest;

fn bench(c: &mut Criterion) {
    let (secret, claims) = sample(vec!["data/".into()]);
    let creds = mint(&claims, &secret);
    let jwt_len = creds.session_token.expose_secret().len() * 3 / 4;
    let input = vec![b'x'; jwt_len];
    let audiences = [claims.audience().to_owned()];
    let ctx = VerifyContext {
        access_key_id: claims.issuer(),
        now: claims.issued_at() + 1,
        audiences: &audiences,
    };

    let mut g = c.benchmark_group("token");
    g.bench_function("floor/hmac_sha256", |b| {
        b.iter(|| {
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes())
                    .expect("any key length");
            mac.update(black_box(&input));
            black_box(mac.finalize())
        })
    });
    g.bench_function("floor/sha256", |b| {
        b.iter(|| black_box(sha2::Sha256::digest(black_box(&input))))
    });
    g.bench_function("mint", |b| {
        b.iter(|| black_box(mint(black_box(&claims), &secret)))
    });
    g.bench_function("parse", |b| {
        b.iter(|| black_box(parse_session_token(black_box(&creds.session_token)).is_ok()))
    });
    g.bench_function("verify", |b| {
        b.iter(|| {
            let t = parse_session_token(black_box(&creds.session_token)).expect("parses");
            black_box(t.verify(&secret, &ctx).is_ok())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
