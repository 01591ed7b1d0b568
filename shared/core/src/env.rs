//! What an operation may know of the world: the time, some randomness, and the
//! runtime's signature code.

use edge_mfa_webauthn::crypto::{Crypto, RustCrypto};

/// A cryptographically secure random source, supplied by the runtime
/// (`crypto.getRandomValues` on Workers, `getrandom` on WASI).
pub trait Random {
    fn fill(&mut self, dest: &mut [u8]);
}

/// The environment of one operation.
pub struct Env<'a> {
    /// Unix seconds.
    pub now: u64,
    pub random: &'a mut dyn Random,
    /// Where signatures are made and checked: [`RustCrypto`] unless the runtime
    /// brings its own ([`Env::with_crypto`]).
    pub crypto: &'a dyn Crypto,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<'a> Env<'a> {
    /// At `now` (Unix seconds), with the pure-Rust signature code.
    pub fn new(now: u64, random: &'a mut dyn Random) -> Env<'a> {
        Env {
            now,
            random,
            crypto: &RustCrypto,
        }
    }

    /// The same environment, signing and verifying with `crypto`.
    pub fn with_crypto(self, crypto: &'a dyn Crypto) -> Env<'a> {
        Env { crypto, ..self }
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.random.fill(&mut out);
        out
    }
}

/// The operating system's CSPRNG through `getrandom`: `crypto.getRandomValues` on
/// Workers, `wasi:random` on Spin, the kernel natively.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        if getrandom::fill(dest).is_err() {
            // Without randomness nothing we would issue is safe: stop, do not degrade.
            fail_closed();
        }
    }
}

#[cold]
fn fail_closed() -> ! {
    #[allow(clippy::panic)]
    {
        panic!("the operating system's random source failed")
    }
}

/// SHA-256 in counter mode over a seed: reproducible randomness for tests and
/// benchmarks. Not a CSPRNG for production: the seed is public.
#[cfg(feature = "test-support")]
#[derive(Debug, Clone)]
pub struct SeededRandom {
    seed: [u8; 32],
    counter: u64,
}

#[cfg(feature = "test-support")]
impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        SeededRandom {
            seed: s,
            counter: 0,
        }
    }
}

#[cfg(feature = "test-support")]
impl Random for SeededRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        use sha2::{Digest, Sha256};
        for chunk in dest.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.counter += 1;
            let block = h.finalize();
            for (out, byte) in chunk.iter_mut().zip(block) {
                *out = byte;
            }
        }
    }
}
