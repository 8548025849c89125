"""Model sizes of LlamaGen/PAR (class-conditional GPT configs): layers, width, heads."""
SIZES = {
    "B": {"n_layer": 12, "dim": 768, "n_head": 12},  # 111M
    "L": {"n_layer": 24, "dim": 1024, "n_head": 16},  # 343M
    "XL": {"n_layer": 36, "dim": 1280, "n_head": 20},  # 775M
    "XXL": {"n_layer": 48, "dim": 1536, "n_head": 24},  # 1.4B
    "XXXL": {"n_layer": 48, "dim": 2560, "n_head": 40},  # 3.9B
    "1B": {"n_layer": 22, "dim": 2048, "n_head": 32},  # 1.2B
    "3B": {"n_layer": 24, "dim": 3200, "n_head": 32},  # 3.1B
    "7B": {"n_layer": 32, "dim": 4096, "n_head": 32},  # 6.6B
}


def size_spec(name: str) -> dict:
    key = name.upper().removeprefix("GPT-").removeprefix("GPT_")
    if key not in SIZES:
        raise ValueError(f"unknown size {name!r}: use one of {', '.join(SIZES)} or 'custom' with --heads")
    return SIZES[key]
