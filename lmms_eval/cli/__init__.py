"""Command-line entry points: argument parsing and subcommands only."""
