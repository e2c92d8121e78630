"""Running it: the command line, metrics and logs."""
