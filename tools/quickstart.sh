#!/usr/bin/env bash
# The main job on a fresh machine: install, prepare Multi30k (SentencePiece is trained inside the run), train the
# reference model's layers with the multi30k_quickstart recipe for MINUTES (default 10) on the CPU, translate
# test_2016_flickr with beam search, score it.
#   SEQ2SEQ_DATA=../shared/data bash tools/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export SEQ2SEQ_DATA="${SEQ2SEQ_DATA:-../shared/data}"
RUN="${RUN:-runs/quickstart}"
MINUTES="${MINUTES:-10}"
TEST="$SEQ2SEQ_DATA/multi30k/test_2016_flickr"

if [ -z "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ]; then  # not in an environment of the user's: make one here
    echo "quickstart: installing into the virtual environment .venv (activate it with: . .venv/bin/activate)"
    python -m venv .venv
    . .venv/bin/activate
fi
if [ -e "$RUN/results.json" ]; then
    echo "quickstart: $RUN has finished training before and is reused as it is; RUN=runs/other bash $0 trains afresh"
fi
pip install torch==2.13.0 -e .
seq2seq-train experiment=multi30k_quickstart trainer.max_minutes="$MINUTES" hydra.run.dir="$RUN"
seq2seq-translate checkpoint="$RUN" decoding=beam input="$TEST.en.gz" output="$RUN/test_2016_flickr.beam5.de"
seq2seq-evaluate ref="$TEST.de.gz" hyp="$RUN/test_2016_flickr.beam5.de" json="$RUN/scores.json"
