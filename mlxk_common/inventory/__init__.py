"""The model inventory: what is in the cache and the workspaces, and whether it can run.

File-system work only (no mlx, no huggingface_hub): ``store`` (cache and
workspace layout), ``names`` (references to models), ``records`` (the model
objects list/show/health print), ``health`` and ``runtime`` (the health
rules), ``locate`` (from a reference to a checked model, for mlx-run and
mlxk-serve), and the file helpers the tools that write share (``atomic``
staging, ``fscopy``, ``workspace_sentinel``).
"""
