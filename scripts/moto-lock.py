"""The emulator's lock (scripts/moto-requirements.txt): moto with extra `server` and every distribution it
needs, each at one exact version. Used by scripts/install-moto.sh; standard library only, except that
reading requirement markers needs `packaging` (or pip's copy of it).

  python3 scripts/moto-lock.py write [REQUIREMENT]
      Writes the lock from the distributions this python has installed: the closure of REQUIREMENT (default:
      the lock's own `# root:` line), markers evaluated for this python. Fails when one is not installed.
  python3 scripts/moto-lock.py check [--path DIR] [--closure] [--import]
      Exit 0 when every locked distribution is there at exactly its locked version: only in DIR (and then
      nothing else may be in DIR), else on this python's sys.path. --closure: also no requirement of the
      closure (for this python's markers) names a distribution the lock lacks. --import: moto.server imports
      and says the locked version. Otherwise exit 1, naming each one missing, at another version or unlisted.
  python3 scripts/moto-lock.py copy --to DIR
      Copies the locked distributions from this python's sys.path into DIR, file by file from each one's
      RECORD (its .dist-info included; files RECORD places outside the folder, such as bin/ scripts, left).

--lock FILE (before the command) reads another lock; the tests use it.
"""

import importlib.metadata
import os
import platform
import re
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_LOCK = Path(__file__).resolve().parent / "moto-requirements.txt"


class Refused(Exception):
    pass


def canonical(name):
    # PEP 503: the index treats Flask_Cors, flask-cors and flask.cors as one name.
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path):
    root, pins = None, {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if line.startswith("# root:"):
            root = line[len("# root:") :].strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)", line)
        if not match:
            raise Refused(f"{path}:{number}: not a name==version line: {line}")
        pins[canonical(match[1])] = match[2]
    if not pins:
        raise Refused(f"{path}: no name==version lines")
    return root, pins


def installed(path):
    """name -> distribution: the first of each name in sys.path order (the one `import` would use), or
    every one in DIR alone."""
    found = {}
    dists = importlib.metadata.distributions(path=[str(path)]) if path else importlib.metadata.distributions()
    for dist in dists:
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical(name), dist)
    return found


def packaging_requirement():
    try:
        from packaging.requirements import Requirement
    except ImportError:
        try:
            from pip._vendor.packaging.requirements import Requirement
        except ImportError:
            raise Refused(f"{sys.executable} has neither packaging nor pip: cannot read requirement markers")
    return Requirement


def closure(root, found):
    """name -> (extras, needed-by) for ROOT and everything it requires, markers evaluated for this python.
    A requirement whose distribution is not in FOUND is kept with needed-by set, for the caller to name."""
    Requirement = packaging_requirement()
    root_req = Requirement(root)
    needed = {}
    queue = [(canonical(root_req.name), set(root_req.extras), "the root requirement")]
    while queue:
        name, extras, by = queue.pop()
        known = needed.get(name)
        if known is not None and extras <= known[0]:
            continue
        needed[name] = ((known[0] if known else set()) | extras, known[1] if known else by)
        dist = found.get(name)
        if dist is None:
            continue
        # A requirement without a marker holds for every extra; one with `extra == "x"` only when asked for x.
        environments = [{"extra": extra} for extra in sorted(needed[name][0])] or [{"extra": ""}]
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate(env) for env in environments):
                queue.append((canonical(req.name), set(req.extras), f"{name} ({text})"))
    return needed


def compare(pins, found, only_here):
    problems = []
    for name, version in sorted(pins.items()):
        dist = found.get(name)
        if dist is None:
            problems.append(f"{name}: missing (locked {version})")
        elif dist.version != version:
            problems.append(f"{name}: {dist.version} here, locked {version}")
    if only_here:
        for name in sorted(set(found) - set(pins)):
            problems.append(f"{name}: {found[name].version} here, not in the lock")
    return problems


def check(lock, path, with_closure, with_import):
    root, pins = read_lock(lock)
    found = installed(path)
    problems = compare(pins, found, only_here=path is not None)
    if with_closure and not problems:
        if not root:
            raise Refused(f"{lock}: no '# root:' line")
        for name, (_, by) in sorted(closure(root, found).items()):
            if name not in pins:
                problems.append(f"{name}: needed by {by}, not in the lock")
    if problems:
        where = path or f"{sys.executable}'s sys.path"
        raise Refused(f"{len(problems)} of the lock's distributions do not match in {where}:\n  " + "\n  ".join(problems))
    if with_import:
        import moto
        import moto.server  # noqa: F401  (the server's own imports: flask, werkzeug, ...)

        if moto.__version__ != pins.get("moto"):
            raise Refused(f"moto.__version__ is {moto.__version__}, locked {pins.get('moto')}")
    print(len(pins))


def copy(lock, target):
    _, pins = read_lock(lock)
    found = installed(None)
    problems = compare(pins, found, only_here=False)
    if problems:
        raise Refused(f"{sys.executable} lacks {len(problems)} of the lock's versions:\n  " + "\n  ".join(problems))
    target = Path(target)
    for name in sorted(pins):
        dist = found[name]
        if dist.files is None:
            raise Refused(f"{name} {dist.version} has no RECORD: cannot tell its files")
        for file in dist.files:
            # bin/ scripts and the like sit outside site-packages (../../../bin/x): the emulator runs as -m.
            if file.is_absolute() or ".." in file.parts:
                continue
            source = Path(dist.locate_file(file))
            if not source.is_file():
                # RECORD lists byte code a read-only or -B install may never have written.
                if file.suffix == ".pyc":
                    continue
                raise Refused(f"{name} {dist.version}: {source} is in its RECORD but not on disk")
            destination = target / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    print(len(pins))


def write(lock, root):
    if root is None:
        root, _ = read_lock(lock)
    found = installed(None)
    needed = closure(root, found)
    missing = [f"{name} (needed by {by})" for name, (_, by) in sorted(needed.items()) if name not in found]
    if missing:
        raise Refused(f"{sys.executable} lacks: " + ", ".join(missing))
    lines = [
        f"# The emulator's whole dependency closure, one exact version each: {root} and every distribution it",
        f"# needs, markers evaluated for {platform.python_implementation()} {platform.python_version()} on {sys.platform}.",
        "# scripts/install-moto.sh installs exactly these (pip --no-deps) or copies them from a python that has",
        "# exactly these (into .emulator/site); the moto line is the pinned version. Made by",
        f"# `python3 scripts/moto-lock.py write` from {sys.executable}, {datetime.now(timezone.utc):%Y-%m-%d}.",
        f"# root: {root}",
    ]
    lines += [f"{name}=={found[name].version}" for name in sorted(needed)]
    Path(lock).write_text("\n".join(lines) + "\n")
    print(f"{lock}: {len(needed)} distributions", file=sys.stderr)


def main(argv):
    lock = DEFAULT_LOCK
    if argv[:1] == ["--lock"]:
        lock, argv = Path(argv[1]), argv[2:]
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command == "write" and len(args) <= 1:
        write(lock, args[0] if args else None)
    elif command == "check":
        path = None
        if "--path" in args:
            path = args[args.index("--path") + 1]
            if not os.path.isdir(path):
                raise Refused(f"{path}: no such folder")
        check(lock, path, "--closure" in args, "--import" in args)
    elif command == "copy" and args[:1] == ["--to"] and len(args) == 2:
        copy(lock, args[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Refused as refusal:
        print(refusal, file=sys.stderr)
        sys.exit(1)
