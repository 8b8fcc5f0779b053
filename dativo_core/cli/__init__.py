"""The `dativo` command line; subcommands are imported only when they run."""
