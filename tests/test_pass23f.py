"""Pass 23f (issue 13 items 9-12 and the smaller ones, the second pass over pass 23c's fixes): what
still broke. Each test here fails without its fix."""

from __future__ import annotations

from juniper_rollout import gitrepo
from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_drift_messages import _victim
from tests.test_lead26 import DATA, _partial_clone_in_place_of
from tests.test_pass23c import drift_over_side_enc, loose_object


def test_a_loose_object_whose_header_says_small_but_inflates_huge_is_read_in_bounded_memory(
    tmp_path,
):
    """Item 11's bound over 9's scan: pass 23c streams a loose object whose header says more than
    16 MB, but one whose header said 10 bytes was still inflated whole by one zlib call, whatever it
    inflated to: 2.2 GB of zeros behind `blob 10`, 10 MB on disk, "unexpected MemoryError" under
    the 2 GB cap. (The reverse, a header of 3 GB over 100 bytes, held: gitdb streams it.)"""
    for said, size in ((10, 2_200_000_000), (3_000_000_000, 100)):
        (tmp_path / str(said)).mkdir()
        manifest, repo = _victim(tmp_path / str(said))
        victim = drift_over_side_enc(manifest, repo, loose_object(repo, said, size))
        assert "error" not in victim, victim
        assert [f["id"] for f in victim["findings"] if "s.enc" in f["message"]] == [
            "enc-without-sops"
        ], victim


def test_a_tag_of_a_tree_a_replace_ref_hides_in_a_partial_clone_is_found(fleet, tmp_path):
    """Item 9 (what refs hold outside every commit) in a blob-less partial clone, pass 23c's open
    question: drift peeled each ref's tags with GitPython, whose reader in a partial clone is `git
    cat-file`, which follows `git replace`: an annotated tag of a tree holding a plaintext `s.enc`,
    replaced by a tag of the empty tree, was read as the replacement, "0 findings" (a full clone's
    reader, gitdb, ignores replace refs, as the history listing does)."""
    source = fleet.repo(DATA)
    data = b"API_TOKEN=version-0\n"
    blob = git(source, "hash-object", "-w", "--stdin", input=data.decode()).strip()
    tree = git(source, "mktree", input=f"100644 blob {blob}\ts.enc\n").strip()
    git(source, "tag", "-a", "snap", "-m", "snapshot", tree)
    clone, _ = _partial_clone_in_place_of(fleet, tmp_path, DATA)
    empty = git(clone, "hash-object", "-w", "-t", "tree", "--stdin", input="").strip()
    git(clone, "tag", "-a", "cover", "-m", "snapshot", empty)
    snap = git(clone, "rev-parse", "refs/tags/snap").strip()
    git(clone, "replace", "-f", snap, git(clone, "rev-parse", "refs/tags/cover").strip())
    git(clone, "tag", "-d", "cover")
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", DATA)
    assert "s.enc in the tree refs/tags/snap points at" in result.stdout, result.stdout


class _CountingBudget(gitrepo.HistoryBudget):
    """The real budget, counting the objects it reads."""

    reads = 0

    def _stream(self, repo, binsha):
        self.reads += 1
        return super()._stream(repo, binsha)


def test_a_chain_of_tags_each_a_ref_is_read_once_per_tag(tmp_path):
    """Item 11 (hangs) over 9's scan of what refs hold: each ref's tags were followed to their end
    on their own, so a chain of N annotated tags, each with its ref (tag i tags tag i-1), was
    N²/2 object reads: 2,000 took drift 26 s, 10,000 (1.5 MB anyone who can push tags sends)
    about 10 minutes. Each tag is now read once."""
    repo = make_repo(tmp_path / "r", {"README.md": "x\n"})
    target, kind, refs = git(repo, "rev-parse", "HEAD").strip(), "commit", []
    for i in range(300):
        body = f"object {target}\ntype {kind}\ntag t{i}\ntagger a <a@b> 1700000000 +0000\n\nt{i}\n"
        target = git(repo, "hash-object", "-t", "tag", "-w", "--stdin", input=body).strip()
        kind = "tag"
        refs.append(f"create refs/tags/t{i} {target}\n")
    git(repo, "update-ref", "--stdin", input="".join(refs))
    budget = _CountingBudget()
    with gitrepo.open_clone(repo) as clone:
        assert gitrepo.outside_commits(clone, [":(glob)**/*.enc"], budget=budget) == []
    assert budget.reads <= 301, budget.reads
