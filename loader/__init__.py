"""E-commerce warehouse loader: settings, embedded PostgreSQL, generator, CSV loader."""

__version__ = "0.1.0"
