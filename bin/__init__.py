"""The mlxk executables, one module each (installed as the package ``mlxk_bin``)."""
