"""tracechain: hash-chained, signed traceability events for key food and drug products."""
