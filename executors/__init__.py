"""Executors: pull invocations from JetStream, run them in the sandbox, answer."""
