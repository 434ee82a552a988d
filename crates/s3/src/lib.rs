//! mayfly-s3 (placeholder until its first real commit).
