"""tracechain's benchmark harness: ``python -m benchmarks`` (see ``__main__``); not part of the test suite.

Each line measures tracechain beside its peers in one process run, on the same data, and reports the ratio;
``harness`` holds the model and the timing, ``suites`` the lines, ``report`` the JSON and Markdown outputs.
"""
