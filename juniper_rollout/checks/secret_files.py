"""The secret files: no plaintext env file tracked, and every committed *.enc really sops-encrypted (dotenv,
for the manifest's recipients), decrypting to the clone's plaintext when there is one, its names
documented in its example. Decrypted values are compared in memory and dropped."""

from __future__ import annotations

from juniper_rollout import dotenv, secrets_plan, sops, sopsmeta
from juniper_rollout.agekey import short
from juniper_rollout.checks.base import (
    APPLY,
    Check,
    RefFiles,
    example_names,
    example_path,
    failed,
    lfs_pointer,
    passed,
)
from juniper_rollout.errors import RolloutError
from juniper_rollout.keys import AgeKeys
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.wording import count, filter_path, path_word, shell_word


def check_plaintext(repo: RepoSpec, snap: RefFiles) -> Check:
    """No plaintext env file may be tracked at the ref: its values are in git for anyone with the repo.
    Its commands name the clone (pass 25d: pasted in another clone of the fleet, `git rm --cached`
    unstaged that clone's file, and `git filter-repo` rewrites a fresh clone's history)."""
    name = "plaintext-env"
    if snap.plaintext:
        first = snap.plaintext[0]
        git_c = f"git -C {path_word(repo.path)}"
        return failed(
            name,
            f"{', '.join(snap.plaintext)} tracked in git at {snap.ref}: plaintext secrets in the repository",
            f"{APPLY} (its commit removes them; or `{git_c} rm --cached -- {shell_word(first)}`), rotate every "
            f"value they held, and consider `{git_c} filter-repo --invert-paths {filter_path(first)}` (rewrites "
            "history: the owner's call)",
        )
    return passed(name, "no plaintext env file tracked")


def check_encrypted(manifest: Manifest, repo: RepoSpec, snap: RefFiles, age: AgeKeys) -> Check:
    """Every committed *.enc: really sops-encrypted, for the manifest's recipients, decrypts, same names."""
    name = "encrypted-files"
    expected = [s for s in repo.encrypt if s.enabled and s.target not in snap.encrypted]
    if expected:
        spec = expected[0]
        return failed(
            name,
            f"no {spec.target} at {snap.ref} (the manifest encrypts {spec.source})",
            f"put {spec.source} in the clone, then {APPLY}",
        )
    if not snap.encrypted:
        return passed(name, "no *.enc files committed", applies=False)
    checks = [_encrypted_file(manifest, repo, path, snap, age) for path in snap.encrypted]
    return next((c for c in checks if not c.ok), None) or passed(
        name, "; ".join(c.detail for c in checks)
    )


def _encrypted_file(
    manifest: Manifest, repo: RepoSpec, path: str, snap: RefFiles, age: AgeKeys
) -> Check:
    name = "encrypted-files"
    blob = snap.files[path]
    meta = sops.read_metadata(blob)
    if meta is None and sopsmeta.is_lfs_pointer(blob):
        return failed(
            name,
            f"{path} {sopsmeta.lfs_note(snap.read_at or snap.ref)}",
            sopsmeta.lfs_way_out(snap.read_at or snap.ref, "the encrypted file"),
        )
    if meta is None or not sops.is_encrypted(blob, filename=path):
        return failed(
            name,
            f"{path} is not sops-encrypted (no sops metadata): it may be plaintext in git",
            "remove it from git and its history, rotate those secrets, then encrypt with sops",
        )
    line = sopsmeta.plaintext_line(blob)
    if line is not None:  # no key needed: the hook's own pattern (require-encrypted-values)
        return failed(
            name,
            f"{path}:{line}: a value sops did not encrypt, or a comment or sops_ line sops did not "
            "write (plaintext added to the encrypted file?)",
            f"remove line {line} from {path}; put the value in the plaintext file and re-encrypt "
            f"({APPLY}); rotate it if it was ever committed",
        )
    # pass 25f: a vendored sops file (`vendor/creds.yaml.enc`) is checked for what leaks (a value or
    # a name sops keeps in clear); its format and recipients are its owner's: apply neither writes
    # nor re-keys it, and "apply (re-encrypts it as dotenv)" failed verify for ever
    ours = path in {s.target for s in repo.encrypt} or manifest.env_files.is_encrypted_form(path)
    if ours and meta.format != "dotenv":
        return failed(
            name,
            f"{path} is sops-encrypted in {meta.format} format, not dotenv: the documented commands "
            "(--input-type dotenv) cannot read it",
            APPLY + " (re-encrypts it as dotenv)",
        )
    if not ours:
        if sopsmeta.credential_name_line(blob) is not None:
            return failed(
                name,
                f"{path} holds a name shaped like a credential (a pasted secret? sops keeps names "
                "in clear: it is readable in git); not shown",
                f"remove it (`sops edit {path_word(path)}`) and rotate what it holds",
            )
        return passed(name, f"{path}: sops-encrypted, no env file's (its recipients are its own)")
    hidden = dotenv.unnamed(meta.names)
    source = _source_of(repo, path)
    words = sum(map(dotenv.worded, meta.names))
    if hidden and hidden == words:
        # pass 27d: words joined by '.' or '-' (`stripe-webhook-secret`) are a real variable's
        # name, its value a real one: kept under a variable name, not rotated
        return failed(
            name,
            f"{path} holds {count(hidden, 'name')} that "
            + ("is no variable name" if hidden == 1 else "are no variable names")
            + " (words joined by '.' or '-'; not shown): a `.env` cannot hold "
            + ("it" if hidden == 1 else "them"),
            f"put {'its value' if hidden == 1 else 'each value'} in {source} under a variable name "
            f"(letters, digits, _); the tool encrypts {source} again without "
            f"{'it' if hidden == 1 else 'them'}: {APPLY}"
            if source is not None
            else f"rename {'it' if hidden == 1 else 'them'} to a variable name (letters, digits, "
            f"_) where {path} is checked out (`sops edit --input-type dotenv --output-type dotenv "
            f"{path_word(path)}`)",
        )
    if hidden and words:
        # pass 28e: beside a token pasted as a name, a worded one (a real variable's) was told
        # "rotate what they hold", and apply then refused for the value the source lacked
        others = hidden - words
        return failed(
            name,
            f"{path} holds {count(hidden, 'name')} that are no variable names or shaped like a "
            f"credential (sops keeps names in clear: they are readable in git), {words} of them "
            "words joined by '.' or '-' (a real variable's); not shown",
            f"put each worded name's value in {source} under a variable name (letters, digits, "
            f"_) and rotate what the other {'one holds' if others == 1 else 'ones hold'}; the "
            f"tool encrypts {source} again without them: {APPLY}"
            if source is not None
            else "give each worded name a variable name (letters, digits, _) and remove the other "
            f"{'line' if others == 1 else 'lines'} where {path} is checked out (`sops edit "
            f"--input-type dotenv --output-type dotenv {shell_word(path)}`), and rotate what "
            + ("it holds" if others == 1 else "they hold"),
        )
    if hidden:  # pass 16b: listed as undocumented names, a token a contributor committed as a name
        return failed(  # was printed (CI logs): sops keeps names in clear; never echoed (13.8)
            name,
            f"{path} holds {count(hidden, 'name')} that "
            + ("is no variable name" if hidden == 1 else "are no variable names")
            + " or shaped like a credential (a pasted secret? sops keeps names in clear: it is "
            "readable in git); not shown",
            (
                # lead 31 (pass 27b's F3): plan encrypts the source again without such names, or
                # says how to write the source from the committed file first; a bare `sops edit
                # PATH` named no clone nor ref, and failed pasted where the file was on a branch only
                f"rotate what {'it holds' if hidden == 1 else 'they hold'}; the tool encrypts "
                f"{source} again without {'it' if hidden == 1 else 'them'}: {APPLY}"
                if source is not None
                else f"remove {'that line' if hidden == 1 else 'those lines'} where {path} is "
                f"checked out (`sops edit --input-type dotenv --output-type dotenv "
                f"{path_word(path)}`) and rotate what "
                + ("it holds" if hidden == 1 else "they hold")
            ),
        )
    if set(meta.recipients) != set(manifest.recipients):
        now = ", ".join(map(short, meta.recipients))
        return failed(
            name,
            f"{path} is encrypted for {now}, not the manifest's recipients",
            APPLY + " (re-keys it with sops updatekeys)",
        )
    said = [f"{path}: {len(meta.names)} variables"]
    source = next((s.source for s in repo.encrypt if s.target == path), None)
    if not set(age.public) & set(meta.recipients):
        said.append(  # a forged sops_mac or ciphertext-shaped value passes every check without a key
            f"not decrypted ({'your key is not a recipient' if age.public else 'no age key found'}), "
            "so its MAC is unchecked: a forged or altered value shows only to verify with a key"
        )
    else:
        try:
            same = _decrypts_to_clone_copy(repo, blob, path, source)
        except RolloutError as err:
            return failed(name, str(err))
        if same is False:
            return failed(
                name,
                f"{path} decrypts, but not to the {source} in your clone",
                f"{APPLY} (re-encrypts {source}), or decrypt {path} over {source} if git is right",
            )
        said.append(
            "decrypts"
            + (f" to {source} in the clone" if same is True and source else "")
            + " (sops checked its MAC)"
        )
    example = snap.files.get(example_path(path))
    stored = lfs_pointer(name, example_path(path), snap)
    if stored is not None:  # pass 27a: "add them to .env.example" edited what LFS stores
        return stored
    if example is None:
        said.append(f"no {example_path(path)} to compare names with")
    else:
        listed = example_names(example)
        undocumented = [n for n in meta.names if n not in listed]
        optional = [n for n in listed if n not in meta.names]
        if undocumented:  # a secret nobody can learn the name of from the example
            return failed(
                name,
                f"{path} holds {', '.join(undocumented)}, which {example_path(path)} does not list",
                f"add {'them' if len(undocumented) > 1 else 'it'} to {example_path(path)} "
                f"(or the manifest's env_example), then {APPLY}",
            )
        said.append(
            f"every name documented in {example_path(path)}"
            + (
                f" ({len(optional)} optional name{'s' if len(optional) != 1 else ''} there not set: fine)"
                if optional
                else ""
            )
        )
    return passed(name, ", ".join(said))


def _decrypts_to_clone_copy(
    repo: RepoSpec, blob: bytes, path: str, source: str | None
) -> bool | None:
    """Decrypt (sops finds the key) and compare with the clone's plaintext: None when there is none."""
    plaintext = sops.decrypt_dotenv(blob, filename=path)
    clone_copy = _clone_plaintext(repo, source) if source else None
    return None if clone_copy is None else clone_copy == plaintext


def _clone_plaintext(repo: RepoSpec, source: str) -> bytes | None:
    try:
        data = secrets_plan.read_plaintext(repo, source)
    except RolloutError:
        return None
    return None if data is None else dotenv.sops_form(data)[0]


def _source_of(repo: RepoSpec, path: str) -> str | None:
    """The plaintext file the manifest encrypts into ``path``, when apply writes ``path``."""
    return next((e.source for e in repo.encrypt if e.target == path and e.enabled), None)
