#!/usr/bin/env python3
"""How long TAB takes to list model names on a large cache.

Builds a synthetic Hugging Face cache of N models (default 1,000; each with a
snapshot folder and refs/main, like a real cache) and times the committed
completion scripts completing ``mlx-run <TAB>`` (every model), a prefix, and an
``ORG/NAME@`` revision, in bash, zsh and fish (where installed).  Each number
is the mean wall time of one completion inside a running shell, as a user
feels it.  zsh's completion builtins (compadd, _wanted, compset) only work
inside the line editor, so they are stubbed there; the globbing and name
rewriting are the real function's.

    python bench/completion_speed.py [--models 1000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ("", "org-7/", "org-7/model-0007@")


def build_cache(root: Path, count: int) -> Path:
    hub = root / "hub"
    for i in range(count):
        repo = hub / f"models--org-{i % 25}--model-{i:04d}"
        commit = f"{i:040x}"
        (repo / "snapshots" / commit).mkdir(parents=True)
        (repo / "blobs").mkdir()
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)
    return hub


# Per shell: the command line, a program that completes `mlx-run WORD` once to
# warm up and then {repeat} times, printing "CANDIDATES START END", and the
# clock's unit in seconds.
SHELLS = {
    "bash": (["bash", "--norc", "-c"], """
        source {completions}/mlxk.bash
        export HF_HOME={hf_home}
        COMP_LINE='mlx-run {word}'; COMP_POINT=${{#COMP_LINE}}
        _mlxk_complete
        start=$EPOCHREALTIME
        for ((k = 0; k < {repeat}; k++)); do _mlxk_complete; done
        echo "${{#COMPREPLY[@]}} $start $EPOCHREALTIME"
    """, 1.0),
    "zsh": (["zsh", "-f", "-c"], """
        zmodload zsh/datetime
        compdef() {{ : }}
        source {completions}/_mlxk
        typeset -ga _got
        _wanted() {{ shift 3; "$@" }}
        compadd() {{ _got=( ${{(P)2}} ) }}
        compset() {{ : }}
        export HF_HOME={hf_home}
        PREFIX='{word}'
        _mlxk_models
        start=$EPOCHREALTIME
        for ((k = 0; k < {repeat}; k++)); do _mlxk_models; done
        echo "$#_got $start $EPOCHREALTIME"
    """, 1.0),
    "fish": (["fish", "--no-config", "-c"], """
        source {completions}/mlxk.fish
        set -gx HF_HOME {hf_home}
        set n (count (complete -C 'mlx-run {word}'))
        set start (date +%s%N)
        for k in (seq {repeat}); complete -C 'mlx-run {word}' >/dev/null; end
        echo $n $start (date +%s%N)
    """, 1e-9),
}


def time_shell(shell: str, hf_home: Path, repeat: int) -> list[tuple[str, float, int]]:
    argv, template, unit = SHELLS[shell]
    results = []
    for word in WORDS:
        program = template.format(completions=REPO / "completions", hf_home=hf_home, word=word, repeat=repeat)
        out = subprocess.run([*argv, program], capture_output=True, text=True, check=True).stdout.split()
        count, start, end = int(out[0]), float(out[1]), float(out[2])
        results.append((word, (end - start) * unit / repeat * 1000, count))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000, help="models in the synthetic cache (default 1000)")
    parser.add_argument("--repeat", type=int, default=20, help="completions timed per case (default 20)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        build_cache(Path(tmp), args.models)
        print(f"model-name completion on a synthetic cache of {args.models} models (mean of {args.repeat})")
        print(f"{'shell':<6} {'word':<22} {'candidates':>10} {'ms':>8}")
        for shell in SHELLS:
            if not shutil.which(shell):
                print(f"{shell:<6} (not installed)")
                continue
            for word, ms, count in time_shell(shell, Path(tmp), args.repeat):
                print(f"{shell:<6} {'mlx-run ' + word:<22} {count:>10} {ms:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
