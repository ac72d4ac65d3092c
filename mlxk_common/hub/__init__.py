"""The Hugging Face Hub side: the client settings and errors (``client``), the
cache's write side (``cache_write``), resumable downloads (``download``), a
whole pull (``pull``) and its progress display (``transfer_progress``).

huggingface_hub is imported inside the functions that talk to the Hub.
"""
