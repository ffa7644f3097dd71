"""The HTTP gateway: users, functions and invocations over a Litestar app."""
