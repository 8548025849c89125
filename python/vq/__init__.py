"""LlamaGen's VQ image tokenizer: model (checkpoint-compatible), ONNX export, tokenizer manifest.

    /usr/bin/python3 -m python.vq --checkpoint vq_ds16_c2i.pt --out models/      # convert
    /usr/bin/python3 -m python.vq.fixture                                        # the committed fixture
"""
from .model import VQConfig, VQModel, VqError, load_vq_checkpoint, vq_8, vq_16  # noqa: F401
