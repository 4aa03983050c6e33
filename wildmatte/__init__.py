"""wildmatte: mask-guided matting in the wild."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so `import wildmatte` stays fast and torch loads only when a Matter is wanted.
    if name == "Matter":
        from wildmatte.inference.matter import Matter

        return Matter
    raise AttributeError(f"module 'wildmatte' has no attribute {name!r}")


__all__ = ["Matter", "__version__"]
