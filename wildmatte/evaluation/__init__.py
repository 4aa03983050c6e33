"""wildmatte.evaluation."""
