"""One router per resource; each parses, calls a service and returns what the service describes."""
