"""The warehouse's shared core: settings, connections and the embedded server, the
raw and app schema, accounts, dbt runs and the editing layer.

Everything else (the loader, predictions, the app, the CLI) builds on it; it imports
none of them.
"""
