"""mlxk-list (not implemented yet)."""

import sys

from mlxk_common.cli import placeholder_tool

TOOL = placeholder_tool("mlxk-list")


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
