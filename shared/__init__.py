"""What the gateway and the executors share: settings, wire models and NATS set-up."""
