"""`python -m wildmatte ...` (also what torchrun launches: `torchrun -m wildmatte train ...`)."""

import sys

from wildmatte.interfaces.cli import main

sys.exit(main())
