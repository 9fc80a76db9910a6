#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) into build-fuzz/ and runs each for a bounded
# time on a copy of its seed corpus (tests/fuzz/corpus/NAME). A crash, a failed check or a leak
# fails the run and leaves the input in build-fuzz/findings/.
# The seed is fixed (FUZZ_SEED, default 1), so a CI run explores the same inputs each time and a
# failure there is a failure of the change, reproducible here; FUZZ_SEED=0 picks a random seed, for
# longer exploratory runs (for example FUZZ_SEED=0 deploy/fuzz.sh 600).
# usage: deploy/fuzz.sh [seconds per target, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
seed=${FUZZ_SEED:-1}
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: FUZZ_SEED wants a number, not '$seed'" >&2; exit 1; }
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: seconds wants a positive integer, not '$seconds'" >&2; exit 1; }
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
targets=(line_framer_fuzz cpu_count_fuzz http_message_fuzz proxy_header_fuzz)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (deploy/install-deps.sh test)" >&2; exit 1; }
cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DREACTORD_SANITIZE=address -DREACTORD_FUZZ=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}"

mkdir -p "$build_dir/findings"
# One target: its corpus copied to a scratch directory, its log in build-fuzz/TARGET.log, its
# summary in build-fuzz/TARGET.summary; exit 1 on a finding.
fuzz_one() {
  local target=$1 name=${1%_fuzz} work
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$name"/* "$work"/
  if ! "$build_dir/tests/fuzz/$target" -seed="$seed" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$build_dir/findings/$target-" -print_final_stats=1 \
      "$work" 2>"$build_dir/$target.log"; then
    rm -rf "$work"
    return 1
  fi
  { grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build_dir/$target.log" | tr '\n' ' '
    echo "corpus=$(ls "$work" | wc -l) files"; } >"$build_dir/$target.summary"
  rm -rf "$work"
}

# As many targets at once as there are CPUs: each still has a whole CPU for its time.
failed=()
for ((i = 0; i < ${#targets[@]}; i += $(nproc))); do
  batch=("${targets[@]:i:$(nproc)}")
  pids=()
  for target in "${batch[@]}"; do
    echo "fuzz.sh: $target for ${seconds}s, seed $seed"
    fuzz_one "$target" &
    pids+=($!)
  done
  for j in "${!batch[@]}"; do
    if wait "${pids[$j]}"; then
      echo "fuzz.sh: ${batch[$j]}: $(cat "$build_dir/${batch[$j]}.summary")"
    else
      tail -40 "$build_dir/${batch[$j]}.log"
      echo "fuzz.sh: ${batch[$j]} FAILED" >&2
      failed+=("${batch[$j]}")
    fi
  done
done
[ ${#failed[@]} = 0 ] || exit 1
echo "fuzz.sh: all targets ran ${seconds}s without a finding"
