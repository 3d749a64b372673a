"""The slow or stateful work behind the handlers: colorizing, refining, discovery, limits."""
