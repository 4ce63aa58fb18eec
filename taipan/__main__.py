"""``python -m taipan`` runs the server, as ``taipan-server`` does."""

import sys

from taipan.cli import main

sys.exit(main())
