"""Sphinx configuration of the sklearn-musemb documentation.

Build (warnings are errors, as in CI)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

or ``docs/build.sh``, which also opens the built pages in headless Chromium
(``docs/check_rendered.py``). No extension here needs the network: there is no
intersphinx mapping, because CI runs offline.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
EXAMPLES = ROOT / "examples"

# The package is installed in the environment (pip install -e ".[docs]"); the
# checkout comes first anyway, so the docs always describe this tree.
sys.path.insert(0, str(ROOT))
# Examples import their sibling module ``_corpus`` (scripts run as
# ``python examples/x.py`` have examples/ on sys.path; sphinx-gallery appends the
# example's directory too, this makes it hold for any import order).
sys.path.insert(0, str(EXAMPLES))

# The gallery runs the plot_ examples at reduced size (examples/_corpus.py reads it).
os.environ["SKLEARN_MUSEMB_QUICK"] = "1"
# Headless rendering of the gallery figures, no display needed.
os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_musemb  # noqa: E402

# -- Project information -----------------------------------------------------

project = "sklearn-musemb"
author = "sklearn-musemb developers"
copyright = "sklearn-musemb developers"  # noqa: A001
release = sklearn_musemb.__version__
version = re.sub(r"(\.dev\d*|rc\d*|a\d*|b\d*)$", "", release)

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# `x` in a docstring is code, as in scikit-learn; links need an explicit role.
default_role = "literal"
pygments_style = "sphinx"
# Every cross-reference must resolve (sphinx-build -W turns warnings into errors).
nitpicky = True
# Except references into other projects: without intersphinx (CI is offline) they
# cannot resolve. Only names of Python, its standard library and third-party
# packages are listed here; a broken reference to sklearn_musemb stays an error.
_THIRD_PARTY = (
    "numpy|np|scipy|sklearn|skorch|torch|pandas|pd|joblib|dask|distributed|"
    "accelerate|matplotlib|umap|gensim|librosa|faiss|pretty_midi|symusic|music21|"
    "safetensors|tqdm|platformdirs|pathlib|os|typing|collections|numbers|argparse|"
    "datetime|io|re|types|enum|abc|builtins|csv|json|zipfile|warnings|concurrent|"
    "contextlib|functools|itertools|logging|signal|subprocess|tempfile|python"
)
_PYTHON_BUILTINS = (
    "int|float|complex|bool|str|bytes|bytearray|list|tuple|dict|set|frozenset|"
    "object|type|callable|None|True|False|Ellipsis|NotImplemented|slice|range|"
    "Exception|[A-Za-z]+Error|[A-Za-z]+Warning|KeyboardInterrupt|StopIteration|"
    "Any|Callable|Sequence|Iterable|Iterator|Mapping|Literal|Optional|Union"
)
nitpick_ignore_regex = [
    (r"py:.*", rf"~?({_THIRD_PARTY})(\..*)?"),
    (r"py:.*", rf"~?({_PYTHON_BUILTINS})"),
]

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False  # a module's __all__ is its public API
autodoc_default_options = {
    "members": True,
    "inherited-members": True,
    "show-inheritance": True,
}
autodoc_member_order = "groupwise"
# numpydoc documents the types; the annotations would repeat them (and name
# torch classes that cannot be linked offline).
autodoc_typehints = "none"
autodoc_inherit_docstrings = True
autoclass_content = "class"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = False
numpydoc_attributes_as_param_list = True
numpydoc_use_plots = False
# Types in Parameters/Returns stay plain text (as in scikit-learn): linking them
# would need intersphinx for Python's and NumPy's own types, and CI is offline.
numpydoc_xref_param_type = False


def _defined_outside_package(obj) -> bool:
    """Whether an inherited member comes from skorch, scikit-learn, torch...

    Those are documented by their own projects; the API pages show the members
    that sklearn-musemb defines (including ones inherited from its own bases).
    """
    target = obj
    if isinstance(obj, property):
        target = obj.fget
    elif isinstance(obj, (classmethod, staticmethod)):
        target = obj.__func__
    target = inspect.unwrap(target) if callable(target) else target
    module = getattr(target, "__module__", None)
    if module is None:
        return False
    return not module.startswith("sklearn_musemb")


def _skip_member(app, what, name, obj, skip, options):
    # Members of a class (autodoc: ``what`` is "class"), and members of a module
    # listed by autosummary (``what`` is then the member's own type): keep only
    # what sklearn-musemb defines.
    if what in ("class", "exception", "function") and (
        inspect.isroutine(obj)
        or inspect.isclass(obj)
        or isinstance(obj, (property, classmethod, staticmethod))
    ):
        if _defined_outside_package(obj):
            return True
    return None  # autodoc's own decision (private names, undocumented members)


_PACKAGE = "sklearn_musemb"


@functools.cache
def _public_names() -> dict[int, str]:
    """``id(obj) -> "sklearn_musemb.module.Name"`` for everything the API pages show.

    The documented name of an object is its public one: the ``__all__`` of a
    module listed in api.rst (``sklearn_musemb.embedders.AdjDEmbedder``), not the
    private submodule that defines it (``sklearn_musemb.embedders.adjacency``).
    An object exported under several names is documented under its own
    ``__name__`` (``AdjDEmbedder``; ``ADjDEmbedder`` is an "alias of" page).
    """
    import importlib

    names: dict[int, str] = {}
    for modname in _API_MODULES:
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if obj is None or isinstance(obj, (int, float, str, tuple)):
                continue
            own_name = getattr(obj, "__name__", None)
            known = names.get(id(obj))
            if known is None or (
                name == own_name and known.rsplit(".", 1)[1] != own_name
            ):
                names[id(obj)] = f"{modname}.{name}"
    return names


#: The modules of api.rst, each documented with its ``__all__``.
_API_MODULES = [
    f"{_PACKAGE}.{name}"
    for name in re.findall(
        rf"^\s+{_PACKAGE}\.(\w+)\s*$", (DOCS / "api.rst").read_text(), re.MULTILINE
    )
]


def _process_bases(app, name, obj, options, bases):
    """Show public bases only: a private base is replaced by its own bases."""
    public = _public_names()
    result = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        module = getattr(base, "__module__", "") or ""
        if not module.startswith(_PACKAGE) or id(base) in public:
            if base not in result:
                result.append(base)
        else:
            pending[:0] = [b for b in base.__bases__ if b is not object]
    bases[:] = result or [object]


def _data_docstring(app, what, name, obj, options, lines):
    """Doc comment (``#:``) of a constant re-exported by a package ``__init__``.

    autodoc looks for the comment in the module the constant is documented under;
    constants are defined in a submodule, so look there.
    """
    if what != "data" or not name.startswith(_PACKAGE + "."):
        return
    import importlib

    from sphinx.pycode import ModuleAnalyzer

    modname, attr = name.rsplit(".", 1)
    candidates = [m for m in sorted(sys.modules) if m.startswith(modname + ".")]
    for candidate in [modname, *candidates]:
        try:
            module = importlib.import_module(candidate)
        except ImportError:
            continue
        if getattr(module, attr, _MISSING) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except Exception:  # noqa: BLE001 - no source: keep what autodoc found
            continue
        if ("", attr) in docs:
            lines[:] = [line.rstrip("\n") for line in docs[("", attr)]]
            return


_MISSING = object()


def _drop_foreign_docstring(app, what, name, obj, options, lines):
    """Leave out docstrings a method of ours inherits from torch, skorch...

    ``ResidualLinear.forward`` has no docstring of its own, so autodoc would show
    the whole of ``torch.nn.Module.forward``'s, written for torch's documentation
    (and its cross-references). Point to it instead.
    """
    if what not in ("method", "attribute", "property") or not lines:
        return
    func = getattr(obj, "__func__", obj)
    func = getattr(func, "fget", func)
    if getattr(func, "__doc__", None) or "." not in name:
        return
    owner_name, attr = name.rsplit(".", 1)
    owner = _lookup(owner_name)
    if not inspect.isclass(owner):
        return
    for base in owner.__mro__[1:]:
        member = base.__dict__.get(attr)
        if member is not None and getattr(member, "__doc__", None):
            if not base.__module__.startswith(_PACKAGE):
                lines[:] = [f"See ``{base.__module__}.{base.__qualname__}.{attr}``."]
            return


def _lookup(path: str):
    """The object at a dotted path (a module, then attributes), or ``_MISSING``."""
    import importlib

    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return _MISSING
        return obj
    return _MISSING


def _scope_module(refdoc: str):
    """The module whose source holds the docstrings shown on an API page."""
    if not refdoc.startswith("generated/"):
        return None
    obj = _lookup(refdoc.removeprefix("generated/"))
    if obj is _MISSING:
        return None
    if inspect.ismodule(obj):
        return obj.__name__
    return getattr(obj, "__module__", None)


def _resolve_public_name(app, env, node, contnode):
    """Resolve a reference to an object of the package by what it names in Python.

    The API pages document every object under its public name
    (``sklearn_musemb.audio.load_audio``), while docstrings may name it by the
    module that defines it (``sklearn_musemb.audio.io.load_audio``), by a name
    imported into that module (``NoteTable`` in ``sklearn_musemb.audio.render``),
    or name a private submodule (``:mod:`.render``` in a package docstring). When
    such a name leads to an object that the API pages document, link to it (a
    submodule links to its documented package). Anything else (a typo, a private
    helper, an object that no ``__all__`` exports) stays unresolved and fails the
    build.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip("~")
    if not target:
        return None
    relative = target.lstrip(".")
    candidates = []
    if target.startswith(_PACKAGE + "."):
        candidates.append(target)
    current = node.get("py:module")
    if current and current.startswith(_PACKAGE):
        candidates.append(f"{current}.{relative}")
    scope = _scope_module(node.get("refdoc", ""))
    if scope and scope.startswith(_PACKAGE):
        candidates.append(f"{scope}.{relative}")
    domain = env.get_domain("py")
    for candidate in candidates:
        obj = _lookup(candidate)
        if obj is _MISSING:
            continue
        if inspect.ismodule(obj):
            parts = obj.__name__.split(".")
            for i in range(len(parts), 1, -1):
                package = ".".join(parts[:i])
                if package in domain.modules:
                    return domain.resolve_xref(
                        env, node["refdoc"], app.builder, "mod", package, node, contnode
                    )
            continue
        public = _public_names().get(id(obj))
        if public is None or public == target:
            continue
        found = domain.resolve_any_xref(
            env, node["refdoc"], app.builder, public, node, contnode
        )
        if found:
            return found[0][1]
    return None


_THUMB_START = '\n.. raw:: html\n\n    <div class="sphx-glr-thumbcontainer"'
_THUMBS_END = "\n.. thumbnail-parent-div-close"


def _thumbnail_blocks(text: str) -> list[tuple[str, str]]:
    """``(example page, rst block)`` of each thumbnail in a ``.examples`` file."""
    body = text.split(_THUMBS_END)[0]
    blocks = []
    for chunk in body.split(_THUMB_START)[1:]:
        page = re.search(r":doc:`(/[^`]+)`", chunk)
        if page:
            blocks.append((page.group(1), _THUMB_START + chunk.rstrip() + "\n"))
    return blocks


def _merge_backreferences(generated: Path) -> None:
    """Collect the examples that use an object under any of its names.

    sphinx-gallery names an object by the shortest import path that reaches it
    (``sklearn_musemb.HandcraftedFeatures``); its API page includes the file of
    its public name (``sklearn_musemb.features.HandcraftedFeatures.examples``).
    """
    aliases: dict[str, list[str]] = {}
    for path in sorted(generated.glob("*.examples")):
        name = path.name.removesuffix(".examples")
        text = path.read_text()
        obj = _lookup(name) if text.strip() else _MISSING
        public = None if obj is _MISSING else _public_names().get(id(obj))
        if public and public != name:
            aliases.setdefault(public, []).append(text)
    for public, texts in aliases.items():
        target = generated / f"{public}.examples"
        own = target.read_text() if target.exists() else ""
        blocks: dict[str, str] = {}
        for text in (own, *texts):
            for page, block in _thumbnail_blocks(text):
                blocks.setdefault(page, block)
        if not blocks:
            continue
        title = f"Examples using ``{public}``"
        target.write_text(
            f"\n\n{title}\n{'^' * len(title)}\n\n\n.. start-sphx-glr-thumbnails\n\n\n"
            '.. raw:: html\n\n    <div class="sphx-glr-thumbnails">\n\n'
            ".. thumbnail-parent-div-open\n"
            + "\n".join(blocks.values())
            + "\n.. thumbnail-parent-div-close\n\n.. raw:: html\n\n    </div>\n\n"
        )


def _touch_backreferences(app, env, docnames):
    """Give every generated API page its list of the examples that use it.

    sphinx-gallery writes ``generated/<name>.examples`` for the objects the
    examples use and, through autodoc, empty ones for the rest. Merge the lists of
    an object's other names into its public one, and create the empty files that
    are still missing (an alias documented as "alias of" never reaches autodoc's
    docstring hook).
    """
    generated = DOCS / "generated"
    if not generated.is_dir():
        return
    _merge_backreferences(generated)
    for page in generated.glob("*.rst"):
        for match in re.finditer(
            r"^\.\. include:: (\S+\.examples)$", page.read_text(), re.MULTILINE
        ):
            path = generated / match.group(1)
            if not path.exists():
                path.touch()


def _module_members() -> dict[str, dict[str, list[str]]]:
    """What each API page lists: classes, functions, exceptions and constants.

    A module's public names are its ``__all__``; a module without one lists the
    public classes and functions it defines itself (not those it imports).
    Computed here rather than by autosummary, which lists every imported name of a
    module without ``__all__`` and only the constants that the package
    ``__init__`` documents itself (they are defined, with their ``#:`` comments,
    in submodules).
    """
    import importlib

    listing: dict[str, dict[str, list[str]]] = {}
    for modname in _API_MODULES:
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        exported = getattr(module, "__all__", None)
        if exported is None:
            exported = [
                name
                for name, obj in vars(module).items()
                if not name.startswith("_")
                and (inspect.isclass(obj) or inspect.isroutine(obj))
                and getattr(obj, "__module__", None) == modname
            ]
        kinds: dict[str, list[str]] = {
            "classes": [],
            "functions": [],
            "exceptions": [],
            "data": [],
        }
        for name in exported:
            obj = getattr(module, name, None)
            if inspect.ismodule(obj):
                continue
            if inspect.isclass(obj):
                kind = "exceptions" if issubclass(obj, BaseException) else "classes"
            elif inspect.isroutine(obj):
                kind = "functions"
            else:
                kind = "data"
            kinds[kind].append(name)
        listing[modname] = {kind: sorted(names) for kind, names in kinds.items()}
    return listing


autosummary_context = {"module_members": _module_members()}


# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(EXAMPLES),
    "gallery_dirs": "auto_examples",
    # Executed (and their figures captured): examples/plot_*.py, which run in
    # minutes on a CPU with SKLEARN_MUSEMB_QUICK=1. The others need FluidSynth,
    # several GPUs or a Dask cluster: shown with their code, not run.
    "filename_pattern": re.escape(os.sep) + r"plot_",
    # examples/_corpus.py is the helper module the examples import, not an example.
    "ignore_pattern": r"^(__init__|_.*)\.py$",
    # Shortest first: the small executed plot_ examples, then the full scripts.
    "within_subsection_order": "NumberOfCodeLinesSortKey",
    "doc_module": ("sklearn_musemb",),
    "backreferences_dir": "generated",
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "default_thumb_file": None,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "min_reported_time": 1,
    "capture_repr": ("__repr__",),
}

# -- myst-parser (the guide pages are Markdown) -------------------------------

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
# "[Reproducibility](#reproducibility)" links between and within pages.
myst_heading_anchors = 3

# -- HTML output -------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-musemb {release}"
html_static_path = ["_static"]
html_css_files = ["musemb.css"]
html_show_sourcelink = False
html_theme_options = {
    "logo": {"text": "sklearn-musemb"},
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    # No version switcher, analytics or external icons: nothing fetched at run time.
    "icon_links": [],
}
html_context = {"default_mode": "light"}
# Pages without sub-pages get the full width instead of an empty section sidebar.
html_sidebars = {page: [] for page in ("index", "install", "quickstart", "cli", "api")}


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-bases", _process_bases)
    app.connect("autodoc-process-docstring", _data_docstring)
    app.connect("autodoc-process-docstring", _drop_foreign_docstring)
    app.connect("missing-reference", _resolve_public_name)
    app.connect("env-before-read-docs", _touch_backreferences)
