"""Ways in: the command line (cli) and the web demo."""
