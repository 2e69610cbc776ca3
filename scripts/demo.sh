#!/usr/bin/env bash
# The whole job on a demo fleet of seven repos shaped like the Juniper ones,
# built in a temp folder with its own throwaway age key. Fails if any step fails
# (plan's exit 2 means "there are changes", which a demo fleet always has).
set -euo pipefail
root="$(mktemp -d "${TMPDIR:-/tmp}/juniper-demo.XXXXXX")"
# the demo fleet builder lives with the tests (tests/demofleet.py): not part of the installed package
PYTHONPATH="$(cd "$(dirname "$0")/.." && pwd)${PYTHONPATH:+:$PYTHONPATH}" python -m tests.demofleet "$root"
export SOPS_AGE_KEY_FILE="$root/age/keys.txt"
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-Juniper Demo}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-demo@juniper.invalid}"
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-Juniper Demo}" GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-demo@juniper.invalid}"
m="$root/repos.yaml"
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }
status=0
step rollout plan --manifest "$m" --detailed-exitcode || status=$?
if [ "$status" -ne 2 ]; then echo "demo: rollout plan exited $status (expected 2: changes to make)" >&2; exit 1; fi
step rollout apply --manifest "$m" --yes
step rollout apply --manifest "$m" --yes   # again: nothing to do
step rollout verify --manifest "$m" --ref chore/sops-age-rollout
# A second rollout on the same fleet, on its own branch: no age key needed (it encrypts nothing).
unset SOPS_AGE_KEY_FILE
step rollout plan --manifest "$m" --rollout repo-hygiene --repo juniper-cascor
step rollout apply --manifest "$m" --rollout repo-hygiene --yes
step rollout verify --manifest "$m" --rollout repo-hygiene --ref chore/repo-hygiene
step rollout drift --manifest "$m" --rollout repo-hygiene --ref chore/repo-hygiene
printf '\nDemo fleet left in %s (delete it when done).\n' "$root"
printf 'Look at a branch: git -C %s/fleet/juniper-cascor show --stat chore/sops-age-rollout\n' "$root"
printf 'and the other:    git -C %s/fleet/juniper-cascor show --stat chore/repo-hygiene\n' "$root"
