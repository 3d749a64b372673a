"""Colorize workers on Celery over Redis: ``pixelpainter worker`` and the client front ends use.

``INFERENCE_BACKEND=celery`` sends each colorize job to a Celery queue; workers (each loading the
model once) take jobs, micro-batch the ones that arrive together, and push the result straight
back to the waiting caller through a Redis list. Needs the ``[scale]`` extra.
"""
