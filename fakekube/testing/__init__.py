"""Tools for testing with fakekube: object builders (and, as they arrive, invariants,
hypothesis strategies and state machines)."""
