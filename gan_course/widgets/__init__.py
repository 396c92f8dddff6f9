"""The only place that imports ipywidgets; thin shells over plain engines."""
