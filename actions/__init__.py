"""Custom actions for the rasa-sdk action server: thin adapters over the `civic` package.

The action server imports every module of this package, so nothing here imports `rasa`.
"""
