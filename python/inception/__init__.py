"""The FID Inception-v3 (TF's inception-2015-12-05 as pytorch-fid ports it) for parlab's FID, sFID, IS
and precision/recall: the network (``model.py``), the reference preprocessing (``preprocess.py``), the
ONNX export with its feature manifest (``export.py``), the command line (``cli.py``) and a random-weight
golden fixture for the parity test (``golden.py``). See src/metrics/README.md.
"""
