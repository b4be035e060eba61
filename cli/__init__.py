"""The `ecom` command line (entry point: cli.main:main)."""
