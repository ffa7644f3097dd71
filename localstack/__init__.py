"""The local stack: nats-server, the gateway and executors as supervised processes."""
