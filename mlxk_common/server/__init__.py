"""mlxk-serve's HTTP layer: an OpenAI-compatible API over the shared text engine.

Importing this package imports nothing heavy; ``app`` pulls in bottle and
``worker`` pulls in the engine (mlx) only when the server starts.
"""
