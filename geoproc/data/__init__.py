"""SSB data layer: validated tidy tables, loaders for local files, kommune code reforms and a
PxWebApi v2 client. See docs/architecture.md for the table contracts."""
