"""``python -m python.vq``: convert a LlamaGen VQ checkpoint (see python/vq/convert.py)."""
import sys

from .convert import main

sys.exit(main())
