"""GAN Course: the reusable code behind the lessons in ``notebooks/``.

Importing this package never trains, downloads, prints or touches the disk. Import the submodules you need
(``from gan_course import runtime, losses``) so a reader sees where each function lives.
"""

__version__ = "0.1.0"
