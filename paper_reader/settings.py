"""Settings with one precedence: flag > environment > notes-repo config > user config > default."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

import yaml

from paper_reader import plainyaml
from paper_reader.errors import ConfigError
from paper_reader.library.store import REPO_CONFIG
from paper_reader.models.llm import EMBEDDED_MODEL


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paper-reader"


def user_config_path() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "paper-reader" / "config.yaml"


@dataclass(frozen=True)
class Settings:
    model: str = EMBEDDED_MODEL  # any litellm model string
    lang: str = "en"  # en or zh: headings and answers
    template: str | None = None  # question set YAML; None = the packaged ten questions
    note_template: str | None = None  # jinja2 Markdown template; None = templates/notes.md.j2
    concurrency: int = 4  # model calls in flight at once (across all papers of a batch)
    papers: int = 2  # papers a batch works on at once
    output: str = "."  # folder (or .md file, or - for stdout) for the note
    cache: bool = True  # reuse stored answers for identical calls
    cache_dir: str = ""  # default: $XDG_CACHE_HOME/paper-reader
    context_window: int | None = None  # override the model's known context size (tokens)
    timeout: float = 300.0  # seconds per model call
    arxiv_api: str = "https://export.arxiv.org/api/query"  # arXiv API endpoint (tests use a local one)
    arxiv_pdf: str = "https://arxiv.org/pdf"  # where arXiv PDFs are downloaded from
    arxiv_interval: float = 3.0  # seconds between arXiv API requests (arXiv's etiquette)
    notes_path: str = "{topic}/{title}.md"  # where notes go inside a notes repository
    commit: bool = False  # commit each new or updated note (notes repository only)
    max_pages: int = 300  # refuse longer PDFs (books, proceedings) unless raised
    lookup: bool = False  # fill title, authors and DOI of a local PDF from arXiv when page 1 has its stamp
    max_download_mb: int = 200  # refuse larger downloads (after decompression)
    download_deadline: float = 600.0  # seconds for a whole download, however slowly it drips
    figures: bool = False  # put PNGs of page 1 and of Figure 1's page at the top of the note
    deployments: tuple = ()  # several servers for one model: [{model, api_base, api_key, rpm}, ...]

    def cache_path(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else _cache_home() / "llm"

    def download_path(self) -> Path:
        """Where downloaded PDFs and arXiv metadata are kept (beside the call cache)."""
        return self.cache_path().parent / "downloads"


# Every setting that names a host or URL, a file or folder, or a command (what a value could point
# outside the notes repository or at a server), by what it names. A notes repository's own config
# may set them only when the user trusts it, except a file or folder inside the repository itself;
# `_refuse_untrusted` applies the list, and tests/test_hostile_repo.py fails for a setting whose
# name, type or default looks like one of these when it is not listed here.
#   endpoint: a server (and the API keys sent to it) - refused
#   model:    a model string, fine unless it names a URL (an endpoint) or a file (gguf:) - refused then
#   file:     a file or folder, as it will be opened (relative to the working folder) - only inside
#   pattern:  a path inside the repository by construction (note_relpath refuses '..' and absolute)
#   bound:    a limit that keeps a run from hanging or filling the disk - may be tightened, not loosened
REPO_GUARDED: dict[str, str] = {
    "arxiv_api": "endpoint",
    "arxiv_pdf": "endpoint",
    "deployments": "endpoint",  # api_base and api_key of each server
    "model": "model",
    "template": "file",
    "note_template": "file",
    "output": "file",
    "cache_dir": "file",
    "notes_path": "pattern",
    "timeout": "bound",
    "download_deadline": "bound",
    "max_download_mb": "bound",
    "max_pages": "bound",
    "arxiv_interval": "bound",  # seconds between requests: lower is looser
    "context_window": "bound",  # the embedded model reserves memory for all of it
}
_LOWER_IS_LOOSER = {"arxiv_interval"}
# A bound whose default is None (the model's own) may be set up to this by an untrusted repository:
# the embedded model's largest default context (models.gguf.MAX_CONTEXT), beyond which its KV cache
# alone takes gigabytes.
_CEILING = {"context_window": 32_768}

_TYPES = {f.name: f.type for f in fields(Settings)}


def _base_type(name: str) -> str:
    """The field's own type, from its annotation: 'int | None' -> 'int'."""
    return str(_TYPES[name]).split("|")[0].strip()


def _coerce(name: str, value, where: str):
    """A value converted to its field's type (bool, int, float, str), or a ConfigError naming it."""
    if value is None:
        return None
    kind = _base_type(name)
    if isinstance(value, (list, dict)) and kind != "tuple":
        raise ConfigError(f"{where}: '{name}' must be a single value, not a {type(value).__name__}.")
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{where}: '{name}' must be true or false, not {value!r}.")
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: '{name}' must be a number, not {value!r}.") from exc
    return str(value)


def _unknown(key, where: str) -> ConfigError:
    import difflib

    close = difflib.get_close_matches(str(key), [*_TYPES, "trusted_repos"], n=1)
    hint = f" Did you mean '{close[0]}'?" if close else f" Known settings: {', '.join(_TYPES)}."
    return ConfigError(f"{where}: unknown setting '{key}'.{hint}")


MAX_CONFIG_BYTES = 1_000_000
TRUST_ENV = "PAPER_READER_TRUST_REPO"


def _read_yaml(path: Path):
    from paper_reader.files import decode_utf8, read_small_file

    raw = read_small_file(path, what="Config", limit=MAX_CONFIG_BYTES, error=ConfigError)
    try:
        return plainyaml.load(decode_utf8(raw, path, what="Config", error=ConfigError)) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"Config {path}: not valid YAML ({' '.join(str(exc).split())[:200]}).") from exc


def _from_file(path: Path, trusted: bool = True, cwd: Path | None = None) -> dict:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"Config {path}: must be a mapping of settings.")
    out = {}
    for key, value in data.items():
        if key == "deployments":
            out[key] = _deployments(value, f"Config {path}")
        elif key == "trusted_repos":
            continue  # the user config's own list, read by _trusted
        elif key in _TYPES:
            out[key] = _coerce(key, value, f"Config {path}")
        else:  # a typo ("modle:") must not silently run the default model
            raise _unknown(key, f"Config {path}")
    if not trusted:
        _refuse_untrusted(out, path, cwd or Path.cwd())
    return out


def _refuse_untrusted(values: dict, path: Path, cwd: Path) -> None:
    """A cloned repository's config chooses no server and no file outside itself (REPO_GUARDED).

    litellm sends the environment's key (OPENAI_API_KEY, ...) to whatever api_base a deployment
    names, and some providers take an endpoint URL as the model name; arxiv_api and arxiv_pdf decide
    where every lookup and download goes; a template, output or cache folder outside the repository
    would read the user's files into a note or write where the repository chose.
    """
    from paper_reader.library.store import RepoError, within

    how = f"Trust this repository: {how_to_trust()}."
    for name, value in values.items():
        kind = REPO_GUARDED.get(name)
        if kind is None or value in (None, "", ()):
            continue
        if kind == "endpoint":
            raise ConfigError(f"Config {path}: '{name}' chooses a server (where paper-reader connects, and "
                              f"for deployments where your API keys go); a notes repository's config may not "
                              f"set it unless trusted. {how}")
        if kind == "model" and str(value).lower().startswith("gguf:"):
            raise ConfigError(f"Config {path}: the model names a file on your disk (gguf:); a notes repository's "
                              f"config may not choose what is loaded into the model runtime. {how}")
        if kind == "model" and "://" in str(value):
            raise ConfigError(f"Config {path}: the model names a URL; a notes repository's config may not "
                              f"choose where your API keys go. {how}")
        if kind == "bound" and isinstance(value, (int, float)):
            default = getattr(Settings(), name)
            if default is None:
                default = _CEILING[name]
            looser = value < default if name in _LOWER_IS_LOOSER else value > default
            if looser:
                raise ConfigError(f"Config {path}: '{name}: {value}' loosens a limit (paper-reader's is {default}); "
                                  f"a notes repository's config may tighten limits, not loosen them, unless trusted. "
                                  f"Set it in your own config or with a flag, or trust the repository: {how}")
        if kind == "file" and not (name == "output" and str(value) == "-"):
            # the cache folder's parent holds the downloads too (Settings.download_path)
            opened = [cwd / str(value)] + ([cwd / Settings(cache_dir=str(value)).download_path()]
                                           if name == "cache_dir" else [])
            try:
                for place in opened:
                    within(path.parent, place)
            except RepoError as exc:
                why = str(exc).split(": paper-reader")[0]  # which link leads out, or that it is not inside
                raise ConfigError(f"Config {path}: '{name}' names {value}, and {why}; a notes repository's "
                                  f"config may name only its own files unless trusted. {how}") from exc


def _trusted(repo: Path, user_data: dict) -> bool:
    """Whether the user vouched for this repository's config (user config list, or the env flag)."""
    if os.environ.get(TRUST_ENV, "").lower() in ("1", "true", "yes"):
        return True
    listed = user_data.get("trusted_repos") or []
    if not isinstance(listed, list):
        raise ConfigError(f"Config {user_config_path()}: 'trusted_repos' must be a list of folders.")
    folder = repo.parent.resolve()
    return any(Path(str(p)).expanduser().resolve() == folder for p in listed)


def how_to_trust() -> str:
    """What an error about an untrusted repository tells the user to do."""
    return f"add its folder to 'trusted_repos:' in {user_config_path()} (or set {TRUST_ENV}=1 for one run)"


def trusted_repository(root: str | Path) -> bool:
    """Whether the user vouched for the notes repository at `root` (its folder in the user config's
    trusted_repos, or PAPER_READER_TRUST_REPO=1): its config, and its git's, may then run as written."""
    user = user_config_path()
    data = _read_yaml(user) if user.is_file() else {}
    return _trusted(Path(root) / REPO_CONFIG, data if isinstance(data, dict) else {})


def made_here_path() -> Path:
    """The record of notes repositories `paper-reader init` made on this machine (outside them all,
    so a clone cannot carry a claim to be one)."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "paper-reader" / "made-here.txt"


def _made_here() -> set[str]:
    from paper_reader.files import read_limited

    try:
        return set((read_limited(made_here_path(), 2**22) or b"").decode("utf-8", "replace").splitlines())
    except OSError:
        return set()


def record_made_here(root: str | Path) -> None:
    """Remember that this machine's `init` made the repository at `root` (a failure only means its
    notes may not name files elsewhere until it is trusted)."""
    from paper_reader.files import atomic_write

    made = _made_here() | {os.path.realpath(root)}
    try:
        made_here_path().parent.mkdir(parents=True, exist_ok=True)
        atomic_write(made_here_path(), ("\n".join(sorted(made)) + "\n").encode("utf-8"))
    except (OSError, ValueError):
        pass


def own_repository(root: str | Path) -> bool:
    """Whether the notes repository at `root` is the user's own: made by `init` on this machine, or
    trusted. Its notes and reading lists may then name PDFs and URLs anywhere; a clone's may name
    only files inside it (anything else would read the user's files into notes that get pushed)."""
    return os.path.realpath(root) in _made_here() or trusted_repository(root)


def _deployments(value, where: str) -> tuple:
    """A list of litellm parameter mappings, each naming at least its model."""
    if not isinstance(value, list) or not all(isinstance(d, dict) and d.get("model") for d in value):
        raise ConfigError(f"{where}: 'deployments' must be a list of mappings, each with a 'model' "
                          "(and usually api_base, api_key, rpm).")
    return tuple(dict(d) for d in value)


def find_repo_config(start: Path | None = None) -> Path | None:
    """The nearest paper-reader.yaml in this folder or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / REPO_CONFIG
        if candidate.is_file():
            return candidate
    return None


def load_settings(flags: dict | None = None, cwd: Path | None = None) -> Settings:
    """Merge defaults, user config, repo config, environment (PAPER_READER_*) and flags."""
    return resolve_settings(flags, cwd)[0]


def resolve_settings(flags: dict | None = None, cwd: Path | None = None) -> tuple[Settings, dict[str, str]]:
    """The settings and, for each one not at its default, where its value came from."""
    merged: dict = {}
    origin: dict[str, str] = {}  # where each value came from, for the error naming it
    user = user_config_path()
    user_data = {}
    if user.is_file():
        loaded = _read_yaml(user)
        user_data = loaded if isinstance(loaded, dict) else {}
        values = _from_file(user)
        merged.update(values)
        origin.update(dict.fromkeys(values, f"Config {user}"))
    repo = find_repo_config(cwd)
    if repo:
        values = _from_file(repo, trusted=_trusted(repo, user_data), cwd=cwd)
        merged.update(values)
        origin.update(dict.fromkeys(values, f"Config {repo}"))
    for name in _TYPES:
        if name == "deployments":
            continue  # a list: config files only
        env = os.environ.get(f"PAPER_READER_{name.upper()}")
        if env not in (None, ""):
            merged[name] = _coerce(name, env, f"PAPER_READER_{name.upper()}")
            origin[name] = f"PAPER_READER_{name.upper()}"
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    merged.update(given)
    origin.update({k: f"--{k.replace('_', '-')}" for k in given})
    _check_values(merged, origin)
    settings = replace(Settings(), **merged)
    if settings.lang not in ("en", "zh"):
        raise ConfigError(f"Language '{settings.lang}' is not supported: use en or zh.")
    if settings.concurrency < 1:
        raise ConfigError("concurrency must be at least 1.")
    return settings, origin


def describe(settings: Settings, origin: dict[str, str]) -> list[tuple[str, str, str]]:
    """(name, value, where from) for every setting, as `paper-reader config` shows them."""
    rows = []
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if f.name == "deployments":
            value = [{k: ("***" if "key" in k.lower() else v) for k, v in d.items()} for d in value]
        rows.append((f.name, str(value), origin.get(f.name, "default")))
    return rows


# name -> (smallest allowed, what it is): every number must also be finite
_LIMITS = {
    "timeout": (None, "seconds per model call, more than 0"),
    "download_deadline": (None, "seconds for a download, more than 0"),
    "arxiv_interval": (0, "seconds between arXiv requests, 0 or more"),
    "concurrency": (1, "model calls at once, at least 1"),
    "papers": (1, "papers at once, at least 1"),
    "max_pages": (1, "pages, at least 1"),
    "max_download_mb": (1, "megabytes, at least 1"),
    "context_window": (512, "tokens, at least 512"),
}


def _check_values(values: dict, origin: dict[str, str]) -> None:
    """Refuse numbers that would turn a limit off or hang a run: 0, negative, nan, inf."""
    import math

    for name, (least, what) in _LIMITS.items():
        value = values.get(name)
        if value is None:
            continue
        where = origin.get(name, name)
        bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        if not bad:
            bad = value <= 0 if least is None else value < least
        if bad:
            raise ConfigError(f"{where}: '{name}' must be a finite number of {what}, not {value!r}.")
    for name in ("model", "output", "notes_path"):
        if name in values and not str(values[name]).strip():
            raise ConfigError(f"{origin.get(name, name)}: '{name}' must not be empty.")
