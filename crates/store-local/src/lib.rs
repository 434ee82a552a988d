//! mayfly-store-local (placeholder until its first real commit).
