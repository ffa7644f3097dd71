"""Floors: the least work each layer of an invocation could do, run alone."""
