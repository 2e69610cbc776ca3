"""Plan (or audit, for drift) every selected repository: read it at a ref through refreader, run the pure
planner (or audit). Read-only.

Repos are planned in parallel (juniper_rollout.pool) and come back in manifest order.
A repo that cannot be read becomes a RepoPlan with an error; the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from typing import Any

from juniper_rollout import audit, gitrepo, leakguard, secrets_plan
from juniper_rollout.artifacts import RepoFacts, requires_python
from juniper_rollout.audit import RepoAudit
from juniper_rollout.changes import ON_TOP, REBUILD, RepoPlan
from juniper_rollout.discover import EnvVar, candidate_paths, discover_all
from juniper_rollout.errors import RepoError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.paths import SOPS_CONFIG
from juniper_rollout.planner import (
    Snapshot,
    is_plaintext_env,
    plan_repo,
    tracked_plaintext,
    wanted_paths,
)
from juniper_rollout.pool import run_in_order
from juniper_rollout.printedlines import value_free
from juniper_rollout.refreader import guarded, read_at
from juniper_rollout.sopsmeta import is_lfs_pointer
from juniper_rollout.wording import shell_word

Progress = Callable[[str], None]


def plan_fleet(
    manifest: Manifest,
    repos: Iterable[RepoSpec],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    secrets: bool = True,
) -> list[RepoPlan]:
    tick = (lambda plan: progress(plan.name)) if progress else None
    fleet = leakguard.fleet_values(manifest)  # read once, before the workers fork
    return run_in_order(
        partial(plan_one, manifest, secrets=secrets, fleet=fleet),
        list(repos),
        jobs=jobs,
        on_result=tick,
    )


def plan_one(
    manifest: Manifest,
    repo: RepoSpec,
    *,
    secrets: bool = True,
    fleet: leakguard.FleetValues | None = None,
) -> RepoPlan:
    empty = RepoPlan(repo.name, repo.base, repo.branch)
    return guarded(
        repo,
        "planning",
        lambda: read_at(repo, None, partial(_plan_at, manifest, repo, secrets, fleet)),
        lambda line: empty.failed(value_free(manifest, repo, fleet, line)),
    )


def _plan_at(
    manifest: Manifest,
    repo: RepoSpec,
    secrets: bool,
    fleet: leakguard.FleetValues | None,
    clone,
    base,
) -> RepoPlan:
    tip = gitrepo.branch_tip(clone, repo.branch)
    mode = gitrepo.branch_mode(clone, tip, base, repo.rollout)
    # compare with what exists: the rollout branch while it sits on the current base, else the base
    onto = tip if mode == ON_TOP else base
    assert onto is not None, "on top only of a branch that exists"
    # where the committed ciphertext may be when the plaintext is gone: the branch, or
    # (deleted locally) what the tool last pushed of it, or origin's copy
    known = tip or gitrepo.last_known_branch(clone, repo.branch)
    snap = snapshot(manifest, repo, clone, onto, known)
    stored = [  # a committed pointer is named as one by the secrets plan
        target
        for target in sorted(snap.lfs_tracked & {s.target for s in repo.encrypt if s.enabled})
        if not is_lfs_pointer(snap.files.get(target) or b"")
    ]
    if secrets and stored:  # ciphertext written as a plain blob where git-lfs wants a pointer
        raise RepoError(_lfs_way_out(clone, stored[0], gitrepo.base_ref(clone, repo.base)))
    if mode == ON_TOP:  # what the tool's commits added is not a person's file (pass 8)
        at_base, _ = gitrepo.read_files(base, list(snap.files))
        snap = replace(snap, tool_written=frozenset(snap.files) - frozenset(at_base))
    files = plan_repo(manifest, repo, snap)
    label = gitrepo.base_label(clone, repo.base)
    plan = RepoPlan(
        repo.name,
        repo.base,
        repo.branch,
        base.hexsha,
        tip.hexsha if tip else None,
        tuple(files),
        base_ref=label if label != repo.base else None,
        onto=mode if mode in (ON_TOP, REBUILD) else None,
    )
    public = _public(manifest, repo, clone, base)
    if secrets and repo.encrypt:
        # pass 23e (13.6): sops reads the rendered .sops.yaml and quotes it in its errors, cut to a
        # width (a `path_regex` holding a value: "missing closing ): `(…VAL`", a part no check of the
        # printed line sees whole): the guard reads the file before sops does
        rendered = [f for f in plan.files if f.path == SOPS_CONFIG]
        before = gitrepo.read_files(base, [SOPS_CONFIG])[0] if mode == ON_TOP else None
        leakguard.check(
            manifest,
            repo,
            rendered,
            _read_in_the_code(snap),
            fleet,
            public=public,
            committed=before,
        )
        plan = secrets_plan.add_encrypted(
            manifest, repo, plan, onto, known, foreign=mode == "foreign"
        )
    if known is not None and mode != ON_TOP:  # rebuilt on the base: its ciphertext is kept
        old_base = gitrepo.tool_chain_root(
            clone, known, repo.rollout
        )  # what the tool's commits were built on
        secrets_plan.never_drop_committed_ciphertext(repo, plan, base, known, old_base)
    if secrets and tip is not None:
        _never_push_over_the_only_copy(repo, clone, tip)
    plan = replace(plan, notes=plan.notes + _apply_would_refuse(clone, repo, mode, tip, base))
    obstacle = gitrepo.in_the_way(onto, [f.path for f in plan.writes])
    if obstacle:  # a directory, submodule or file where a file goes: refused, never replaced
        raise RepoError(obstacle)
    committed = None
    if mode == ON_TOP:  # compared with the tool's own branch: what is committed is the base's text
        committed, _ = gitrepo.read_files(base, [f.path for f in plan.files if not f.secret])
    cleared = leakguard.check(
        manifest,
        repo,
        plan.files,
        _read_in_the_code(snap),
        fleet,
        public=public,
        committed=committed,
    )
    return replace(plan, cleared=cleared)


def _never_push_over_the_only_copy(repo: RepoSpec, clone, tip) -> None:
    """Refuse a rollout branch moved back from what the tool last pushed of it while that push holds
    the only copy of a ciphertext (pass 24d, 13.1 in another spelling: `git branch -f BRANCH main`,
    the `.env` moved away; apply --push wrote the branch anew and pushed it over origin's copy)."""
    pushed = gitrepo.pushed_ahead(clone, repo.branch, tip)
    if pushed is None:
        return
    held = gitrepo.PUSHED_REF + repo.branch  # what `git show` reads the values from
    words = secrets_plan.only_copy_words(replace(repo, branch=held), pushed, tip)
    if words:
        record = shell_word(held)
        back = (  # git moves no branch checked out in a worktree (bring the values back there)
            f"; or put the branch back (`{gitrepo.branch_move(clone, repo.branch, tip.hexsha, record)}`)"
            if gitrepo.checked_out_in(clone, repo.branch) is None
            # pass 24h: never over a commit no other ref holds (a branch of that name made anew
            # for other work: pasted, `git branch -f` left that work on no branch)
            and gitrepo.held_elsewhere(clone, repo.branch, tip)
            else ""
        )
        raise RepoError(
            f"{repo.branch} here lacks the tool's last push of it ({record}, {pushed.hexsha[:7]}: "
            f"was the branch moved back?), and a push would replace it{words}{back}"
        )


def _lfs_way_out(clone, target: str, base: str) -> str:
    """Why ``target`` (an encrypt target git stores through Git LFS) is refused, and the line that stops
    that where it wins: at the end of the ``.gitattributes`` in the target's own folder (a deeper file
    beats the top one; pass 27a: `*.enc filter=lfs` in `config/.gitattributes`, and the line the
    refusal asked for at the end of the top one changed nothing), or the clone's own
    ``.git/info/attributes``, which beats every ``.gitattributes``. The line is read as committed on
    ``base`` (pass 28a: added in the working tree as the refusal said, "then try again" was refused
    the same: the tool reads the commit it builds on, never the working tree), origin's copy of it
    when the clone has one (then it must be pushed there)."""
    said = (
        f"{target} would be stored in Git LFS (its git attributes say filter=lfs), which the tool "
        "does not write"
    )
    if gitrepo.lfs_by_info_attributes(clone, target):
        info = shell_word(f"{clone.git_dir}/info/attributes")
        return (
            f"{said}; it is your clone's {info} that says so (it beats every .gitattributes): "
            "remove or narrow that line there, then try again"
        )
    folder, _, name = target.rpartition("/")
    where = (
        f"{folder}/.gitattributes (make it if there is none)"
        if folder
        else "the top .gitattributes"
    )
    return (
        f"{said}; stop tracking it with LFS (a line `{_attributes_pattern(name)} !filter !diff !merge "
        "!text` at the end "
        f"of {where}, committed on {base.removeprefix('origin/')}"
        f"{' and pushed to origin' if base.startswith('origin/') else ''}), then try again"
    )


def _attributes_pattern(name: str) -> str:
    """``/NAME`` as a .gitattributes pattern matching that one file, as git reads it: glob characters
    escaped, and the whole quoted in C style where it holds a blank (git ends a pattern at one).
    Pass 29a: `/my app.env.enc !filter …` was the pattern `/my`, and `/[prod].env.enc` matched
    `p.env.enc`: committed as the refusal said, the repo was refused the same, every time."""
    pattern = "/" + re.sub(r"([*?\[\\])", r"\\\1", name)
    if not re.search(r"\s", pattern):
        return pattern
    escapes = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"}
    return '"' + "".join(escapes.get(c, c) for c in pattern) + '"'


def _base_or_none(clone, repo: RepoSpec):
    try:
        return gitrepo.base_commit(clone, repo.base)
    except RepoError:
        return None


def _public(manifest: Manifest, repo: RepoSpec, clone, commit) -> leakguard.Public | None:
    """Which words the repo's files at ``commit`` hold, its plaintext env files and ciphertext aside
    (None: no commit to ask, so no word is public)."""
    if commit is None:
        return None
    plaintext = is_plaintext_env(repo, manifest)
    return partial(
        gitrepo.committed_words, clone, commit, skip=lambda p: plaintext(p) or p.endswith(".enc")
    )


def audit_fleet(manifest: Manifest, repos: Iterable[RepoSpec], ref: str | None) -> list[RepoAudit]:
    """``rollout drift``: each repo's audit, the fleet's plaintext values read once (before the
    workers fork), as plan reads them. Pass 21b (13.6): drift's check had only the repo's own, so
    `drift --diff` printed another repo's `.env` value from a template holding it."""
    fleet = leakguard.fleet_values(manifest)
    return run_in_order(partial(audit_one, manifest, ref=ref, fleet=fleet), list(repos))


def audit_one(
    manifest: Manifest,
    repo: RepoSpec,
    ref: str | None,
    fleet: leakguard.FleetValues | None = None,
) -> RepoAudit:
    """``rollout drift``'s job for one repo: its state at ``ref`` (None: the base branch) against the manifest."""
    return guarded(
        repo,
        "reading",
        lambda: _audit_read(manifest, repo, ref, fleet),
        lambda error: RepoAudit(
            repo.name, ref or repo.base, error=value_free(manifest, repo, fleet, error)
        ),
    )


def _audit_read(
    manifest: Manifest, repo: RepoSpec, ref: str | None, fleet: leakguard.FleetValues | None
) -> RepoAudit:
    """:func:`_audit_at` of the repo at ``ref`` (None: its base branch), read-only as ``read_at``. A
    ref or base branch not found is said beside the history's hazards, which need no ref (pass 26c,
    13.9: a repo whose branch is `master`, not the manifest's `main`, was its error line alone, "0
    findings" beside a `.env.prod` in its history)."""
    with gitrepo.open_clone(repo.path) as clone:
        try:
            commit = (
                gitrepo.resolve_ref(clone, ref) if ref else gitrepo.base_commit(clone, repo.base)
            )
        except RepoError as err:
            return _audit_at(manifest, repo, ref, fleet, clone, None, missing=err)
        return _audit_at(manifest, repo, ref, fleet, clone, commit)


def _audit_at(
    manifest: Manifest,
    repo: RepoSpec,
    ref: str | None,
    fleet: leakguard.FleetValues | None,
    clone,
    commit,
    missing: RepoError | None = None,
) -> RepoAudit:
    """The audit of ``commit``; with ``missing`` (no commit: why), its history's hazards beside that."""
    paths = gitrepo.list_paths(commit) if commit is not None else []
    enc_named = manifest.env_files.is_enc_named
    unread: RepoError | None = missing
    cut: frozenset[str] = frozenset()
    try:
        encrypted, _ = (
            gitrepo.read_files(commit, [p for p in paths if enc_named(p)])
            if commit is not None
            else ({}, frozenset())
        )
    except RepoError as err:  # over 16 MB: said below, beside the hazards its ends still show (24f)
        unread = err
        encrypted, cut = _encrypted_ends(commit, [p for p in paths if enc_named(p)])
    unchecked = False
    try:
        plaintext = leakguard.own_values(repo, manifest.env_files, fleet)  # read once, asked twice
    except RepoError as err:
        # pass 26i: the values of the file it cannot read are unknown, so is any subject holding
        # one (a FIFO `.env`'s value in `git commit -m "db pass is VALUE"` was printed): none shown
        unchecked = True
        # pass 26c (13.9): a `.env` that is a folder (docker's bind mount of a missing file makes
        # one), a FIFO or a symlink made the repo its error line alone, "0 findings" beside a
        # `.env.prod` in its history: said beside the history's hazards, the values of the files it
        # can read still hiding what they must (pass 21b's reading, as plan's check of the fleet)
        # (pass 27c: this reading refused a clone holding more env files than the guard reads too,
        # and the repo was its error line alone again; it reads what it can, as another repo's does)
        plaintext = leakguard.read_plaintext_values(repo, manifest.env_files, strict=False)
        if unread is None:
            unread = err
    budget = gitrepo.HistoryBudget()  # all the history blobs below, together (pass 21c)
    blobs_unread: list[RepoError] = []

    def or_said(read: Callable[[], Iterable[Any]]) -> tuple[Any, ...]:
        """A fact read from history's blobs, or none when they cannot be read (a partial clone whose
        remote does not answer, more than the budget): said below, beside the hazards found by name
        (pass 25c: such a repo was its error line alone, "0 findings" beside a `.env.prod` in its
        history, which needs no blob to be named)."""
        try:
            return tuple(read())
        except RepoError as err:
            blobs_unread.append(err)
            return ()

    facts = audit.Facts(
        paths=tuple(paths),
        encrypted=encrypted,
        cut=cut,
        sops_config=None,  # read below, with the managed files: a 17 MB one is theirs to say
        env_commits=tuple(
            gitrepo.commits_touching(clone, audit.plaintext_pathspecs(repo, manifest), budget)
        ),
        enc_history=or_said(
            lambda: (
                entry
                for entry in gitrepo.blobs_in_history(
                    clone, [":(glob,icase)**/*.enc"], budget=budget
                )
                if enc_named(entry[2])
            )
        ),
        # notes kept on a branch (its tree names each note by the annotated object's id); the
        # refs/notes/* refs are read as notes by outside_commits (pass 11b)
        note_history=or_said(
            lambda: gitrepo.blobs_in_history(
                clone, audit.NOTE_PATHSPECS, skip=("refs/notes/*",), budget=budget
            )
        ),
        notes_ref_history=or_said(
            lambda: gitrepo.notes_refs_history(clone, audit.NOTE_PATHSPECS, budget)
        ),
        messages=or_said(
            lambda: leakguard.message_hits(
                plaintext.values, gitrepo.history_messages(clone, budget)
            )
        ),
        outside=or_said(
            lambda: gitrepo.outside_commits(
                clone,
                [*audit.plaintext_pathspecs(repo, manifest), ":(glob,icase)**/*.enc"],
                budget=budget,
            )
        ),
    )
    if blobs_unread and unread is None:  # said as the repo's error, beside what was found
        unread = blobs_unread[0]
    # the fleet's values too: a template may carry another repo's `.env` into this one's commits
    # pass 25d: the refs a finding may offer to delete, as read (the delete's expected old value)
    offered = [r for r, _, _ in facts.outside] + [r for r, *_ in facts.notes_ref_history]
    facts = replace(facts, ref_tips=gitrepo.ref_tips(clone, offered))
    facts = _hide_subjects(
        facts,
        [*plaintext.values, *(v for _, v in fleet.named)] if fleet else plaintext.values,
        unchecked=unchecked,
    )

    def judged() -> RepoAudit:
        if unread is not None:
            raise unread
        nonlocal facts
        facts = replace(
            facts,
            sops_config=gitrepo.read_blob(commit, SOPS_CONFIG),
            read_at=ref or gitrepo.base_ref(clone, repo.base),
        )
        snap = snapshot(manifest, repo, clone, commit)
        result = audit.audit_repo(
            manifest, repo, snap, facts, ref=ref or repo.base, commit=commit.hexsha
        )
        _checked(manifest, repo, ref, fleet, clone, commit, snap, result, plaintext)
        return result

    if not repo.sops:
        return judged()
    # pass 24c (13.9): a managed file that cannot be judged (a UTF-16 `.gitignore`, a 17 MB
    # AGENTS.md or `.sops.yaml`) made the whole repo an error line, and its secret hazards went
    # unsaid: "0 findings" beside a `.env.prod` history holds. They do not depend on that file. Pass
    # 24f: nor on any failure of that judgement, which `guarded` words as for a whole repo (a
    # NUL byte in `.pre-commit-config.yaml` is pre-commit's error, a 17 MB `.env.enc`, a crash:
    # each was "0 findings" still)
    return guarded(
        repo,
        "reading",
        judged,
        lambda error: audit.hazards_only(
            manifest,
            repo,
            facts,
            ref=ref or repo.base,
            commit=commit.hexsha if commit is not None else None,
            error=value_free(manifest, repo, fleet, error),
        ),
    )


def _encrypted_ends(commit, paths: list[str]) -> tuple[dict[str, bytes], frozenset[str]]:
    """Each ``.enc`` file at ``commit`` as far as its hazards need it, and the paths of those read by
    their ends: whole, or its first and last lines when it is larger than the tool reads (sops writes
    its metadata at the end), as its history is read (pass 24i: a line number counted in those
    lines named another line of the file, and its history said again what the ref's file said)."""
    cut = frozenset(
        p for p in paths if (gitrepo.blob_size(commit, p) or 0) > gitrepo.MAX_FILE_BYTES
    )
    read = {
        p: blob
        for p in paths
        if (
            blob := gitrepo.read_blob_ends(
                commit, p, gitrepo.HISTORY_BLOB_LIMIT if p in cut else gitrepo.MAX_FILE_BYTES
            )
        )
        is not None
    }
    return read, cut


def _checked(manifest, repo, ref, fleet, clone, commit, snap, result, plaintext) -> None:
    """RepoError when a file drift judged (and `--diff` prints) holds a plaintext value."""
    leakguard.check(
        manifest,
        repo,
        [a.change for a in result.artifacts if a.change is not None],
        _read_in_the_code(snap),
        fleet,
        # public text is the base's, whatever ref is audited: a contributor's branch committing a
        # list of words made every one of them public to `drift --ref` (pass 19c)
        public=_public(
            manifest, repo, clone, commit if ref is None else _base_or_none(clone, repo)
        ),
        plaintext=plaintext,
    )  # --diff prints what was rendered


def _hide_subjects(
    facts: audit.Facts, plaintext: list[leakguard.Value], *, unchecked: bool = False
) -> audit.Facts:
    """``facts`` with each commit subject that holds a value of the clone's plaintext env files
    replaced by ``audit.HIDDEN_SUBJECT``: the audit names those commits, never such a subject. With
    ``unchecked`` (a plaintext env file of the clone could not be read), every subject is
    ``audit.UNCHECKED_SUBJECT``: any may hold a value of that file."""
    holds = leakguard.holds_a_value(plaintext)

    def hide(subject: str) -> str:
        if unchecked:
            return audit.UNCHECKED_SUBJECT
        return audit.HIDDEN_SUBJECT if holds(subject) else subject

    return replace(
        facts,
        env_commits=tuple((sha, hide(subject), paths) for sha, subject, paths in facts.env_commits),
        enc_history=tuple(
            (sha, hide(subject), path, blob) for sha, subject, path, blob in facts.enc_history
        ),
        note_history=tuple(
            (sha, hide(subject), path, blob) for sha, subject, path, blob in facts.note_history
        ),
        notes_ref_history=tuple(
            (ref, sha, hide(subject), path, blob)
            for ref, sha, subject, path, blob in facts.notes_ref_history
        ),
    )


def _apply_would_refuse(clone, repo: RepoSpec, mode: str | None, tip, base) -> tuple[str, ...]:
    """Why apply will block this repo's branch, said at plan time (the plan itself is still shown)."""
    notes = []
    if mode == "foreign":
        what, way_out = gitrepo.foreign_words(clone, repo.branch, tip, repo.rollout, repo.base)
        notes.append(
            f"apply will refuse it: {what}; {way_out} first"
            + secrets_plan.only_copy_words(repo, tip, base)
        )
    clash = gitrepo.branch_in_the_way(clone, repo.branch) if mode is None else None
    if clash is not None:  # pass 16b: plan said "1 with changes", apply failed in git's words
        notes.append(f"apply will refuse it: {gitrepo.branch_clash(clone, repo.branch, clash)}")
    theirs = gitrepo.branch_in_the_way(clone, repo.branch, "refs/remotes/origin/")
    if theirs is not None:  # pass 18b: the same clash on origin; apply --push failed in git's words
        notes.append(f"apply --push will fail: {gitrepo.origin_clash(repo.branch, theirs)}")
    target = gitrepo.alias_of(clone, repo.branch)
    if target is not None:  # pass 17: apply refuses it (update-ref would move what it names)
        notes.append(
            f"apply will refuse it: {repo.branch} {gitrepo.alias_advice(repo.branch, target)}"
        )
    where = gitrepo.checked_out_in(clone, repo.branch)
    if where is not None:
        notes.append(
            f"apply will refuse it: {repo.branch} is checked out in {where} "
            f"({gitrepo.worktree_advice(clone, where, repo.path, repo.base)})"
        )
    return tuple(notes)


def _read_in_the_code(snap: Snapshot) -> list[str | None]:
    """What the `.env.example` shows from the base's committed code: each default, and each field's
    description and group title (pass 16c: `TOKEN_STORE=database` in `.env`, and a description saying
    "kept in the database or memory", refused an ordinary repo's first plan once the leak guard
    checked words under any name holding "token"). Committed text is no new leak."""
    return [text for v in snap.code_vars for text in (v.default, v.description, v.group)]


def snapshot(manifest: Manifest, repo: RepoSpec, clone, base, tip=None) -> Snapshot:
    files, links = gitrepo.read_files(base, wanted_paths(repo))
    code_vars: tuple[EnvVar, ...] = ()
    unresolved: tuple[str, ...] = ()
    also_read: tuple[str, ...] = ()
    listing = gitrepo.listed_paths(clone, base)
    for spec in repo.files:
        if spec.env_from == "code":
            paths = candidate_paths(gitrepo.list_paths(base), spec.include, spec.exclude)
            blobs, _ = gitrepo.read_files(base, paths)
            found = discover_all(
                {p: b.decode("utf-8", "replace") for p, b in blobs.items()},
                spec.include,
                spec.exclude,
            )
            code_vars, unresolved, also_read = found.vars, found.unresolved, found.also_read
            break
    dotenv_names: dict[str, tuple[str, ...]] = {}
    if any(spec.env_from == "dotenv" for spec in repo.files):
        dotenv_names = {".env": secrets_plan.plaintext_names(repo, ".env", base, tip)}
    tracked = (
        tracked_plaintext(manifest, repo, listing) if repo.sops else ()
    )  # the SOPS rollout untracks them
    history: dict[str, tuple[tuple[str, str], ...]] = {}
    if tracked:
        for short, subject, touched in gitrepo.commits_touching(
            clone, [f":(literal){p}" for p in tracked]
        ):
            for path in touched:
                history[path] = (*history.get(path, ()), (short, subject))
    facts = repo_facts(repo, clone, base, listing) if needs_facts(repo) else None
    # pass 16b: a file the tool creates where .gitattributes says `filter=lfs` (`*.md`) was written
    # as a plain blob: every clone then showed it modified ("should have been a pointer")
    lfs = gitrepo.lfs_tracked(clone, base, wanted_paths(repo), listing)
    return Snapshot(
        files,
        links,
        code_vars,
        dotenv_names,
        tracked,
        history,
        code_unresolved=unresolved,
        facts=facts,
        code_also_read=also_read,
        lfs_tracked=lfs,
    )


def needs_facts(repo: RepoSpec) -> bool:
    """Whether a manifest `files:` entry is planned here (the SOPS files alone need no facts of the repo)."""
    builtin = ("sops.yaml.j2", "env.example.j2", "env.secrets.example.j2")
    return not repo.sops or any(spec.template not in builtin for spec in repo.files)


def repo_facts(repo: RepoSpec, clone, base, listing: list[str]) -> RepoFacts:
    """What templates and `when:` may know, read at the base: its paths, pyproject.toml, origin's default branch."""
    return RepoFacts(
        frozenset(listing),
        gitrepo.default_branch(clone) or repo.base,
        requires_python(gitrepo.read_blob(base, "pyproject.toml")),
    )
