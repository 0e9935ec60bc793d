# Sourced by bench/compare-*.sh: sets $py to an interpreter with a current PyTorch (2.x) and NumPy.
# $PYTHON wins; else the venv ../shared/ref/README.md makes (~/venvs/peers). Debian's python3-torch
# (1.13) is refused: it is far slower than current PyTorch and would flatter our ratios.
py=${PYTHON:-$HOME/venvs/peers/bin/python}
if ! "$py" -c 'import sys, torch, numpy; sys.exit(int(torch.__version__.split(".")[0]) < 2)' 2>/dev/null; then
  echo "$(basename "$0"): need PyTorch >= 2 and NumPy in \$PYTHON (tried $py); make it with: python3 -m venv ~/venvs/peers && ~/venvs/peers/bin/pip install torch numpy threadpoolctl" >&2
  exit 2
fi
