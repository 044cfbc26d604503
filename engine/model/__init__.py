"""The detector itself: configuration, network, heads, grid encode/decode, losses, weights, checkpoints."""
