"""Data sources for the course: Fashion-MNIST / MNIST from IDX files, toy 2-D distributions, toy sequences."""
