"""Test helpers shipped with abplan: a loopback server that speaks OpenAI chat completions and injects faults."""

from abplan.testing.fault_server import FAULT_KINDS, FaultServer

__all__ = ["FAULT_KINDS", "FaultServer"]
