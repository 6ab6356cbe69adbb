"""The reference broker: pairs applets with consoles and relays ciphertext it cannot read."""
