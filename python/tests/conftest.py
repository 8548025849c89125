import os
import sys

import torch

# Run from anywhere: make the repository root importable as the parent of the `python` package.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
torch.set_num_threads(1)
