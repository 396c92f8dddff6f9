"""GAN Course: the reusable code behind the lessons in ``notebooks/``, one sub-package per role: ``core``, ``data``,
``models``, ``training``, ``evaluation``, ``teaching``, ``widgets`` (the README's "`gan_course` by role" table).

Importing this package never trains, downloads, prints or touches the disk. Import the modules you need
(``from gan_course.training import gan, losses``) so a reader sees where each function lives.
"""

__version__ = "0.1.0"
