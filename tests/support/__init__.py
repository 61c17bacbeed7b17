"""Test support: real components with faults injected at the venue boundary."""
