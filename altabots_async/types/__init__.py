"""attrs models of the API, grouped like the resources. No I/O here."""

from .agent import Agent

__all__ = ["Agent"]
