"""Peers: other task systems doing the same ``input + 1`` on the same machine."""
