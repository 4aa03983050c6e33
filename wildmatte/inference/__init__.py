"""wildmatte.inference."""
