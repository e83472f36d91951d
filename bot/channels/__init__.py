"""Channel adapters: each turns a platform's payloads into the core's message model and back."""
