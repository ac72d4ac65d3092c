"""The web chat page's files, served as they are by ``mlxk_bin.serve.ui``
(a package so that wheels ship the folder like any other)."""
