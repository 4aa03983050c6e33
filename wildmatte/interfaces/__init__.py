"""Ways in: the command line (`cli`, one module per command in `commands/`)."""
