"""The tracechain command line."""
