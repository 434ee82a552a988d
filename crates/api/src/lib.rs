//! mayfly-api (placeholder until its first real commit).
