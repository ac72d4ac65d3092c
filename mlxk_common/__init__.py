"""mlxk_common: the small library every mlxk executable shares.

Keep this package's import cheap: modules import heavy libraries (mlx, mlx_lm,
huggingface_hub, bottle, gevent) inside the functions that need them.
"""

__version__ = "0.1.0"
# Version of the JSON/NDJSON contract (envelope, records, events, error types).
JSON_API_SPEC_VERSION = "0.4.0"
