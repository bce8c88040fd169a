"""The guarantee battery (GitHub issue 5): crash, concurrency, corruption, tampering, proof mutation, hostile input,
a stateful model, and keys and signatures.

Each battery is a module with a ``run_*`` function returning counted results (`support.Tally`). The ``test_*``
modules run them with small counts in the default test run; ``long.py`` runs the same functions with the large
counts of the issue and prints a table. Hypothesis example counts follow ``TRACECHAIN_EXAMPLES`` (a number) or
``TRACECHAIN_LONG=1`` (10,000); see `support.examples`.
"""
