"""``python -m automl_vision.cli``: the same as the ``automl-vision`` command."""

import sys

from automl_vision.cli import main

sys.exit(main())
