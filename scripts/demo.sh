#!/usr/bin/env bash
# The whole job on a demo fleet of seven repos shaped like the Juniper ones,
# built in a temp folder with its own throwaway age key.
set -euo pipefail
root="$(mktemp -d "${TMPDIR:-/tmp}/juniper-demo.XXXXXX")"
python -m juniper_rollout.demo "$root"
export SOPS_AGE_KEY_FILE="$root/age/keys.txt"
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-Juniper Demo}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-demo@juniper.invalid}"
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-Juniper Demo}" GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-demo@juniper.invalid}"
m="$root/repos.yaml"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step rollout plan --manifest "$m" || true
step rollout apply --manifest "$m" --yes
step rollout apply --manifest "$m" --yes   # again: nothing to do
if rollout --help | grep -q verify; then
  step rollout verify --manifest "$m" --ref chore/sops-age-rollout || true
fi
printf '\nDemo fleet left in %s (delete it when done).\n' "$root"
printf 'Look at a branch: git -C %s/fleet/juniper-cascor show --stat chore/sops-age-rollout\n' "$root"
