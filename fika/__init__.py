"""The ``fika`` command: the outermost shell. It may import every layer; nothing imports it."""
