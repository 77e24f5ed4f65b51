"""Widgets: the road-scenario dock."""
