"""Ways in: the command line (`cli`, one module per command in `commands/`) and the web demo
(`web/`, started by `wildmatte serve`)."""
