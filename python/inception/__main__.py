"""``python -m python.inception``: export the FID Inception-v3 (see python/inception/cli.py)."""
import sys

from .cli import main

sys.exit(main())
