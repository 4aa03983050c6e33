"""wildmatte.data."""
