// Intentionally empty: the benchmark's baseline for Node's own ESM-loader start-up.
