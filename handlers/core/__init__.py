"""The framework every feature stands on: the message model, the context a handler sees, routing, the engine, notifications, permissions and shared texts."""
