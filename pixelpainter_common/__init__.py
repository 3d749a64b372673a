"""The few lines both the bot and the refine server must agree on, byte for byte.

The two parts install apart (``[bot]`` and ``[refine]`` extras, on different machines) and must
not import each other (the bot never loads torch; the refine server never loads TensorFlow), so
what they share lives here: standard library only, installed with every extra.

- :mod:`pixelpainter_common.redaction`: secrets masked in log lines, tracebacks included.
- :mod:`pixelpainter_common.discovery`: the signed discovery document (version 2).
- :mod:`pixelpainter_common.settings_values`: id lists and URLs in settings, read alike.
- :mod:`pixelpainter_common.rate_limit`: per-client rolling-window request limits (the bot and
  the web app, which runs inside the bot too).
"""
