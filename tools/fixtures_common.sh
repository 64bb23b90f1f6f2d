# Sourced by tools/make_*_fixtures.sh: what every parity-fixture script does besides building its own
# reference models. Sets $root (the repository) and $py (a python3 that imports torch), or exits.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py=""
for cand in "${PYTHON:-}" /usr/bin/python3 python3; do
  if [ -n "$cand" ] && "$cand" -c 'import torch' 2>/dev/null; then py="$cand"; break; fi
done
[ -n "$py" ] || { echo "a python3 with torch is needed (apt-get install python3-torch libopenblas0-pthread; or set PYTHON)" >&2; exit 1; }

# fresh_fixture_dir NAME: sets $out to model-zoo/src/test/resources/NAME-ref, emptied.
fresh_fixture_dir() {
  out="$root/model-zoo/src/test/resources/$1-ref"
  rm -rf "$out"
  mkdir -p "$out"
}

# write_tokens FILE SEED LOW HIGH: 4 sequences of 25 token ids drawn from [LOW, HIGH), one per line.
write_tokens() {
  "$py" - "$@" <<'PY'
import random, sys
path, seed, low, high = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
with open(path, "w") as f:
    for _ in range(4):
        f.write(" ".join(str(rng.randrange(low, high)) for _ in range(25)) + "\n")
PY
}

# write_expected REF OUT STYLE [ARGS...]: the reference script REF loads OUT/STYLE and runs 3 AdamW steps on
# OUT/tokens.txt; its "grad_norm <name> <norm>" and "step <i> loss <loss>" lines go to OUT/expected-STYLE.txt.
write_expected() {
  local ref="$1" out="$2" style="$3"
  shift 3
  "$py" "$ref" "$@" --load "$out/$style" --tokens "$out/tokens.txt" --steps 3 --grads \
    | grep -E '^(grad_norm|step) ' | sed -E 's/ time [0-9.]+s$//' > "$out/expected-$style.txt"
}
