"""wildmatte: mask-guided matting in the wild."""
__version__ = "0.1.0"
