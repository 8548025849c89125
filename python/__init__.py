"""parlab's PyTorch bridge: a LlamaGen/PAR-compatible class-conditional GPT, its ONNX export under
the step contract, checkpoint conversion, schedule builders, training and the reference sampler.

Run modules from the repository root, e.g. ``/usr/bin/python3 -m python.convert --help``.
"""
