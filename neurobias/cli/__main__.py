"""``python -m neurobias.cli``: the same as the ``neurobias`` command."""
import sys

from neurobias.cli import main

sys.exit(main())
