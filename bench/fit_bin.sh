# Sourced by the fit bench scripts: builds the `fit` benchmark binary and prints its path.
# Needs $PYTHON.
fit_bench_bin() {
  cargo build --release --bench fit >&2
  cargo bench --bench fit --no-run --message-format=json 2>/dev/null \
    | "$PYTHON" -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "fit":
        print(m["executable"])'
}
