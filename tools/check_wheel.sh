#!/usr/bin/env bash
# The package as a user installs it: build the wheel, install it (not editable) into a fresh virtual environment
# and, from a folder outside the checkout, prepare and train the toy task for a few steps, translate and evaluate
# with it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# build from a copy of the files git would commit (tracked, or untracked and not ignored): a stale build/ folder
# or an ignored file must not make a broken package look whole
mkdir "$work/src"
git -C "$repo" ls-files -co --exclude-standard -z | tar -C "$repo" --null -T - -cf - | tar -C "$work/src" -xf -
python -m pip wheel --no-deps -q -w "$work/dist" "$work/src"
python -m venv "$work/venv"
"$work/venv/bin/pip" install -q torch==2.13.0 "$work"/dist/seq2seq-*.whl
cd "$work"
export SEQ2SEQ_PREPARED="$work/prepared"  # the prepared corpora of this check, not the user's cache
"$work/venv/bin/seq2seq-prepare" experiment=toy_reverse
"$work/venv/bin/seq2seq-train" experiment=toy_reverse trainer.max_steps=20 trainer.validate_every=20 \
    trainer.progress=false hydra.run.dir=run
echo "a b c d" | "$work/venv/bin/seq2seq-translate" checkpoint=run
"$work/venv/bin/seq2seq-evaluate" checkpoint=run decoding=greedy
echo "wheel check passed: $(ls "$work"/dist)"
