"""Update handlers, one module per feature; wired together in :mod:`bot.app`."""
