"""Processing provider "regio" and its algorithms."""
