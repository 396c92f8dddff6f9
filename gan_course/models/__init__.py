"""Neural network models used across the lessons, one concept per file.

Each module holds one family (``mlp``, ``cnn``, ``rnn``, ``transformer``, ``dcgan``...); import the module and
call it by name, e.g. ``from gan_course.models import mlp; mlp.MLP(...)``. Importing this package does nothing
else: no training, no downloads, no disk access.
"""
