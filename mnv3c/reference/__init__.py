"""Float reference semantics of the IR: the oracle every later stage is checked against."""
