"""Development tools run by tasks.py (not installed with tracechain)."""
