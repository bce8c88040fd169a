"""The suites, imported in the order they run: each registers itself with `benchmarks.harness`."""

# isort: off
from benchmarks.suites import append, codes, signing, validation, verify, proofs, lookup, memory, labels, tracing, scan  # noqa: F401
# isort: on

__all__: list[str] = []
