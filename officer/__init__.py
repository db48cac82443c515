"""The officers' web workspace and the `nagar-admin` command line."""
