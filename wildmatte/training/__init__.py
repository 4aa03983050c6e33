"""wildmatte.training."""
