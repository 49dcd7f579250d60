#!/usr/bin/env bash
# Rerun groups of benchmarks and save each table in benchmarks/results/ under a line
# that gives its command.
#
#   bash benchmarks/rerun.sh prior     # every figure that comes from the bundled prior
#                                      # (after training it further): ~15 min, 2 threads
#   bash benchmarks/rerun.sh timing    # kernel and I/O timings quoted in the README: ~3 min
#   THREADS=1 PYTHON=python bash benchmarks/rerun.sh prior
#
# prior: prior_set12.txt (and the Set12 block of the model card), restore_set12_4img,
#   restore_set12_4img_pnp_x8, restore_set12_ct (.md and .json), restore_dds_time.md.
#   The Noise2Score figures (bench_noise2score.py, an hour per noise model) are not rerun.
# timing: bilateral.md, filter2noise_speed.md, prior_speed.md, roi_read.md (the last
#   writes a 2.15 GB zarr in /tmp first, unless it is there). Run on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
threads=${THREADS:-2}
results=benchmarks/results

save() {  # save NAME COMMAND...: the command's output, under a line that names it
    local name=$1
    shift
    echo "running: $*" >&2
    { printf 'Command: `%s`\n\n' "$*"; "$@"; } > "$results/$name.tmp"
    mv "$results/$name.tmp" "$results/$name"
}

prior() {
    local restore=(benchmarks/bench_restore.py --size 128 --steps 50 --samples 4
        --threads "$threads")
    save prior_set12.txt "$py" benchmarks/bench_prior.py --threads "$threads" --ensemble \
        --update-card
    save restore_set12_4img.md "$py" "${restore[@]}" --images 02,03,05,08 \
        --samplers pnp,dds,diffpir --problems inpaint,superres,mri \
        --json "$results/restore_set12_4img.json"
    save restore_set12_4img_pnp_x8.md "$py" "${restore[@]}" --images 02,03,05,08 \
        --samplers pnp --problems inpaint,superres,mri --prior default-x8 \
        --json "$results/restore_set12_4img_pnp_x8.json"
    save restore_set12_ct.md "$py" "${restore[@]}" --images 02,03 --samplers dds \
        --problems ct --json "$results/restore_set12_ct.json"
    save restore_dds_time.md "$py" benchmarks/bench_restore.py --only-time-dds \
        --threads "$threads"
}

timing() {
    save bilateral.md "$py" benchmarks/bench_bilateral.py
    save filter2noise_speed.md "$py" benchmarks/bench_filter2noise.py
    save prior_speed.md "$py" benchmarks/bench_prior_speed.py --threads "$threads"
    save roi_read.md "$py" benchmarks/bench_roi_read.py /tmp/large_volume.zarr
}

case "${1:-}" in
    prior | timing) "$1" ;;
    *) echo "usage: rerun.sh prior|timing" >&2; exit 2 ;;
esac
