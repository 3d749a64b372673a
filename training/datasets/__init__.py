"""Builders of paired sketch/color datasets in the Kaggle layout the trainer reads."""
