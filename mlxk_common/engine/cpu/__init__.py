"""The Linux CPU path of the engine (docs/cpu.md).

blas: a fast BLAS (OpenBLAS from scipy-openblas32) loaded before mlx.core,
with MLX's ``cblas_sgemm`` served by it and one-row products sent to
``sgemv``; elf: the pure-Python edit of the library copy that makes this
possible; path: float32 casts and dequantization at load, within a memory
budget; prompt_ops: a prompt pass's SiLU, softmax and RoPE in NumPy.
``blas.ensure()`` must run before anything imports mlx.
"""
