"""wildmatte.applications."""
