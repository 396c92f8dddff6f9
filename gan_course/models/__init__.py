"""Neural network models (``nn.Module``s only), one family per file: ``mlp``, ``cnn``, ``rnn``, ``dcgan``..."""
