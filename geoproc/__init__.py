"""Regional development analysis for Norway: SSB data, the attractiveness model
(attraktivitetsmodellen), road-improvement scenarios, figures and the `regio` CLI."""

__version__ = "0.1.0"
