"""Can this model run here?  Framework, kind, capabilities and context window,
decided from the model folder's small files alone.

Nothing here imports mlx, mlx_lm, mlx_vlm, mlx_audio or transformers: whether a
backend supports a ``model_type`` is answered by looking for the backend's model
module file on disk (the way its loader would find it), so ``mlxk-list`` and
``mlxk-health`` stay fast.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # pathlib costs milliseconds at start-up: imported where it is used
if TYPE_CHECKING:
    from pathlib import Path

from mlxk_common.inventory.model_files import ModelFiles
from mlxk_common.inventory.rawio import read_head
from mlxk_common.inventory.safetensors_header import SafetensorsError, read_header
from mlxk_common.jsonio import parse_untrusted

# mlx_lm.utils.MODEL_REMAPPING / MODEL_ARCHITECTURE_REMAPPING: config model_types
# that mlx-lm loads through another type's module.  A copy, because importing
# mlx_lm.utils imports mlx; tests/test_runtime.py checks it against mlx-lm's own.
MLX_LM_REMAPPING = {
    "mistral": "llama",
    "llava": "mistral3",
    "phi-msft": "phixtral",
    "falcon_mamba": "mamba",
    "joyai_llm_flash": "deepseek_v3",
    "kimi_k2": "deepseek_v3",
    "qwen2_5_vl": "qwen2_vl",
    "minimax_m2": "minimax",
    "iquestcoder": "llama",
    "xverse": "llama",
    "gemma4_unified": "gemma4",
    "deepseek_v41_text": "deepseek_v41",
}
MLX_LM_ARCHITECTURE_REMAPPING = {
    ("bailing_hybrid", "BailingMoeV3ForCausalLM"): "bailing_moe_v3",
}
# mlx_vlm.utils.MODEL_REMAPPING (same idea, for the vision backend).
MLX_VLM_REMAPPING = {
    "llava-qwen2": "llava_bunny",
    "bunny-llama": "llava_bunny",
}

CAPABILITIES = ("text-generation", "chat", "vision", "audio", "embeddings")

# config model_types of vision-language models (a truthy vision_config also counts).
VISION_MODEL_TYPES = frozenset({
    "llava", "llava_next", "pixtral", "qwen2_vl", "phi3_v", "mllama", "paligemma", "idefics",
    "idefics2", "idefics3", "smolvlm",
})
# Speech-to-text models: audio in, text out, no chat (matched as substrings,
# so "vibevoice_asr" counts).
STT_MODEL_TYPES = ("whisper", "vibevoice", "voxtral")
AUDIO_MODEL_TYPES = ("gemma3n", "voxtral", "whisper", "vibevoice", "audio")
EMBEDDING_ENCODER_TYPES = frozenset({"bert", "xlm-roberta", "modernbert", "nomic_bert"})
KNOWN_DECODER_EMBEDDERS = ("qwen3-embedding",)

CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "context_length", "max_sequence_length", "seq_len")
MODEL_FILE_REASON = "requires executing model-supplied code (config.json: model_file)"

# Patterns as strings: re compiles each on first use and caches it (nothing to compile at start-up).
_LFS_WEIGHT_LEGACY = (r"^weights\.\d+\.safetensors$", r"^pytorch_model-\d+\.safetensors$")
_MLX_LM_WEIGHT = r"^model(-\d{5}-of-\d{5})?\.safetensors$"


class RuntimeResult:
    """What ``check_runtime`` found.  ``model_type`` is the model's kind as
    mlx-knife's JSON API reports it (``chat``, ``base``, ``embedding``,
    ``audio``); ``architecture`` is config.json's ``model_type``."""

    __slots__ = ("framework", "model_type", "architecture", "capabilities", "context_length",
                 "runtime_compatible", "reason", "chat", "backend")

    def __init__(self, framework, model_type, architecture, capabilities, context_length,
                 runtime_compatible, reason, chat, backend):
        self.framework = framework
        self.model_type = model_type
        self.architecture = architecture
        self.capabilities = capabilities
        self.context_length = context_length
        self.runtime_compatible = runtime_compatible
        self.reason = reason
        self.chat = chat
        self.backend = backend  # "mlx_lm", "mlx_vlm", "mlx_audio" or None

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self):
        return f"RuntimeResult({self.to_dict()!r})"


# -- small readers (all tolerant: health reports broken files, not us) --------

def _files_of(model_dir, files):
    """The ``ModelFiles`` of ``model_dir``: the one given, else a fresh walk."""
    if files is None:
        files = ModelFiles(model_dir)
    return files


def _config_of(files) -> dict | None:
    config = files.json("config.json")[0]
    return config if isinstance(config, dict) else None


def _readme_head(model_dir, files) -> str | None:
    """README.md's first 64K characters as text mode reads them; None if unreadable."""
    from pathlib import Path

    if files is not None:
        data = files.cached("README.md")
        if data is not None:  # read already (a small file): decode it as open() would
            import io

            return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace").read(65536)
        if not files.may_open("README.md"):
            return None
    try:
        head = read_head(Path(model_dir) / "README.md", 4 * 65536)  # a regular file only (never a FIFO)
    except OSError:
        return None
    import io

    return io.TextIOWrapper(io.BytesIO(head), encoding="utf-8", errors="replace").read(65536)


def read_front_matter(model_dir: Path, files=None) -> dict:
    """``{"library_name": str|None, "tags": [str]}`` from README.md's leading
    ``---`` block; a tiny reader for the two keys we need (no YAML import).
    ``files``: the folder's ``ModelFiles``, when the caller has one."""
    result = {"library_name": None, "tags": []}
    head = _readme_head(model_dir, files)
    if head is None:
        return result
    lines = head.splitlines()
    if not lines or lines[0].strip() != "---":
        return result
    in_tags = False
    for raw in lines[1:]:
        line = raw.strip()
        if line == "---":
            break
        if in_tags and line.startswith("-"):
            result["tags"].append(line[1:].strip().strip("'\""))
            continue
        in_tags = False
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "library_name":
            result["library_name"] = value.strip("'\"") or None
        elif key == "tags":
            if value.startswith("["):
                result["tags"].extend(t.strip().strip("'\"") for t in value.strip("[]").split(",") if t.strip())
            elif value:
                result["tags"].append(value.strip("'\""))
            else:
                in_tags = True
    return result


def _safetensors_says_mlx(files) -> bool:
    """MLX writes ``{"format": "mlx"}`` into the safetensors metadata it saves
    (the first ``*.safetensors`` entry, by name, is asked)."""
    for name in files.top_names(".safetensors")[:1]:
        try:
            header = files.known_header(name) or read_header(files.path(name), validate=False)
            return header["metadata"].get("format") == "mlx"
        except (OSError, SafetensorsError):
            return False
    return False


def detect_framework(model_dir: Path, config: dict | None = None, repo_id: str | None = None,
                     files=None) -> str:
    """MLX (mlx-community org, README ``library_name: mlx`` or tag ``mlx``, a
    ``quantization`` key, or MLX-written safetensors), else GGUF, PyTorch or
    Unknown.  ``files``: the folder's ``ModelFiles``, when the caller has one."""
    if repo_id and repo_id.lower().startswith("mlx-community/"):
        return "MLX"
    files = _files_of(model_dir, files)
    front = read_front_matter(model_dir, files)
    if (front["library_name"] or "").lower() == "mlx" or "mlx" in {t.lower() for t in front["tags"]}:
        return "MLX"
    if config is None:
        config = _config_of(files)
    if isinstance(config, dict) and "quantization" in config:
        return "MLX"
    if _safetensors_says_mlx(files):
        return "MLX"
    # Anywhere below the folder, as a recursive glob would find them.
    if files.any_name("", ".gguf"):
        return "GGUF"
    if files.any_name("", ".safetensors") or files.any_name("pytorch_model", ".bin"):
        return "PyTorch"
    return "Unknown"


# Larger "windows" are not a model's: a crafted config's 10**30 is unknown, not a number to print.
MAX_CONTEXT = 1 << 40


def context_length(config: dict | None) -> int | None:
    """The window the config states (top level first, then ``text_config``); None if none."""
    if not isinstance(config, dict):
        return None
    text_config = config.get("text_config")
    for section in (config, text_config if isinstance(text_config, dict) else {}):
        for key in CONTEXT_KEYS:
            value = section.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_CONTEXT:
                return value
            if isinstance(value, float) and value.is_integer() and 0 < value <= MAX_CONTEXT:
                return int(value)
    return None


def chat_template_present(model_dir: Path, files=None) -> bool:
    """A chat template in tokenizer_config.json, chat_template.json/.jinja, or
    tokenizer.json (which is probed by bytes first: it is often megabytes)."""
    files = _files_of(model_dir, files)
    if files.is_file("chat_template.jinja") or files.is_file("chat_template.json"):
        return True
    for name in ("tokenizer_config.json", "tokenizer.json"):
        data = files.read(name)
        if data is None:
            continue
        if b'"chat_template"' not in data:
            continue
        try:
            template = parse_untrusted(data).get("chat_template")
        except (ValueError, AttributeError):
            continue
        if template:
            return True
    return False


def is_vision(model_dir: Path, config: dict | None, files=None) -> bool:
    """Vision tower declared in the config, or image-processor files present
    (video-only processors need torch and do not count)."""
    if isinstance(config, dict):
        vision_config = config.get("vision_config")
        if isinstance(vision_config, dict) and vision_config:
            return True
        model_type = config.get("model_type")
        if isinstance(model_type, str) and model_type.lower() in VISION_MODEL_TYPES:
            return True
        if config.get("image_processor"):
            return True
    files = _files_of(model_dir, files)
    if "vision" not in files.memo:  # the files' verdict, whatever config the caller holds
        files.memo["vision"] = _processor_says_vision(files)
    return files.memo["vision"]


def _processor_says_vision(files) -> bool:
    for name in ("preprocessor_config.json", "processor_config.json", "image_processor_config.json"):
        if files.is_file(name):
            if files.exists("video_preprocessor_config.json"):
                return False
            data = files.json(name)[0]
            if isinstance(data, dict) and (data.get("processor_class") == "AutoVideoProcessor"
                                           or "temporal_patch_size" in data):
                return False
            if name == "preprocessor_config.json" and _whisper_features(data):
                return False  # an audio feature extractor, not an image processor
            return True
    return False


def _whisper_features(data) -> bool:
    return isinstance(data, dict) and "whisper" in str(data.get("feature_extractor_type", "")).lower()


def is_stt(config: dict | None) -> bool:
    model_type = str((config or {}).get("model_type", "")).lower()
    return any(t in model_type for t in STT_MODEL_TYPES)


def is_audio(model_dir: Path, config: dict | None, files=None) -> bool:
    if isinstance(config, dict):
        audio_config = config.get("audio_config")
        if isinstance(audio_config, dict) and audio_config:
            return True
        model_type = str(config.get("model_type", "")).lower()
        if model_type and any(t in model_type for t in AUDIO_MODEL_TYPES):
            return True
    return _whisper_features(_files_of(model_dir, files).json("preprocessor_config.json")[0])


def embedder_route(config: dict | None, name: str) -> str | None:
    """``decoder`` (a causal LM used for embeddings), ``encoder`` (BERT-like) or None."""
    cfg = config or {}
    model_type = str(cfg.get("model_type", "")).lower()
    architectures = cfg.get("architectures") or []
    if isinstance(architectures, str):
        architectures = [architectures]
    architectures = architectures if isinstance(architectures, list) else []
    causal = any("forcausallm" in str(a).lower() for a in architectures) or model_type in ("qwen3", "mistral")
    lowered = name.lower()
    if causal and ("embed" in lowered or any(k in lowered for k in KNOWN_DECODER_EMBEDDERS)):
        return "decoder"
    if model_type in EMBEDDING_ENCODER_TYPES:
        return "encoder"
    return None


# -- backends: is the model module there? ----------------------------------

_PACKAGE_DIRS: dict[str, list[Path] | None] = {}


def _package_dirs(package: str) -> list[Path] | None:
    """Folders of an installed top-level package, found without importing it
    (``find_spec`` of a top-level name only locates it), cached per process."""
    from pathlib import Path

    if package not in _PACKAGE_DIRS:
        import importlib.util

        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        _PACKAGE_DIRS[package] = [Path(p) for p in locations] or None
    return _PACKAGE_DIRS[package]


def backend_installed(package: str) -> bool:
    return _package_dirs(package) is not None


# A loadable model module binds both names: ``class Model`` (or imports it)
# and ``ModelArgs``; helper modules beside them (base.py, cache.py, …) do not.
_BINDS_MODEL = r"(?m)^(class Model\b|Model\s*=|from\s+\S+\s+import\s+(\(?\s*)?([\w\s,]*,\s*)?Model\b(?!\s+as))"
_MODULE_CACHE: dict[tuple[str, str, str], bool] = {}


def has_model_module(package: str, subdir: str, model_type: str) -> bool:
    """True when ``<package>/<subdir>/<model_type>.py`` defines a model, or
    ``…/<model_type>/`` is a package (mlx-vlm, mlx-audio); cached per process."""
    if not model_type or len(model_type) > 100 or not re.fullmatch(r"[A-Za-z0-9_-]+", model_type):
        return False  # no module has such a name (and a long one is no file name at all)
    key = (package, subdir, model_type)
    if key not in _MODULE_CACHE:
        _MODULE_CACHE[key] = _find_model_module(package, subdir, model_type)
    return _MODULE_CACHE[key]


def _find_model_module(package: str, subdir: str, model_type: str) -> bool:
    for root in _package_dirs(package) or ():
        base = root / subdir
        if (base / model_type / "__init__.py").is_file():
            return True
        try:
            source = (base / f"{model_type}.py").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "ModelArgs" in source and re.search(_BINDS_MODEL, source):
            return True
    return False


def mlx_lm_module_name(config: dict) -> str:
    """The mlx_lm.models module mlx-lm would load for this config."""
    model_type = str(config.get("model_type", ""))
    architectures = config.get("architectures") or ()
    if isinstance(architectures, str):
        architectures = (architectures,)
    for architecture in architectures if isinstance(architectures, (list, tuple)) else ():
        remapped = MLX_LM_ARCHITECTURE_REMAPPING.get((model_type, str(architecture)))
        if remapped is not None:
            return remapped
    return MLX_LM_REMAPPING.get(model_type, model_type)


def mlx_lm_supports(config: dict) -> bool:
    return has_model_module("mlx_lm", "models", mlx_lm_module_name(config))


# What a config value must be for a ModelArgs field annotated with this plain type.
_FIELD_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
_ARGS_CACHE: dict[str, dict[str, str] | None] = {}


def missing_model_args(config: dict) -> list[str]:
    """What ``config`` lacks for the ``ModelArgs`` of the mlx-lm module that
    would load it: required fields that are absent or null, and required
    fields of a plain type (int, float, str, bool) holding another type
    (mlx-lm would fail building the model).  Empty when nothing is missing
    or nothing can be told: no mlx-lm, no module for the model_type, or a
    ``ModelArgs`` that builds itself (its own ``from_dict``, a base other
    than ``BaseModelArgs``)."""
    if not isinstance(config.get("model_type"), str):
        return []
    module = mlx_lm_module_name(config)
    if not has_model_module("mlx_lm", "models", module):
        return []
    if module not in _ARGS_CACHE:
        _ARGS_CACHE[module] = _required_fields(module)
    fields = _ARGS_CACHE[module]
    if not fields:
        return []
    missing, wrong = [], []
    for name, kind in fields.items():
        value = config.get(name)
        if value is None:
            missing.append(name)
            continue
        types = _FIELD_TYPES.get(kind)
        if types is not None and (not isinstance(value, types) or (isinstance(value, bool) and kind != "bool")):
            wrong.append(f"{name} must be {kind}, not {type(value).__name__}")
    problems = [("missing " + ", ".join(missing))] if missing else []
    return problems + wrong


def _required_fields(module: str) -> dict[str, str] | None:
    """``{field: annotation}`` of the fields without a default in the module's
    ``@dataclass class ModelArgs(BaseModelArgs)``, read from its source (mlx-lm
    itself is never imported here); None when unknown."""
    for root in _package_dirs("mlx_lm") or ():
        try:
            source = (root / "models" / f"{module}.py").read_text(encoding="utf-8")
        except OSError:
            continue
        match = re.search(r"(?m)^((?:@.*\n)*)class ModelArgs\(BaseModelArgs\):[ \t]*\n((?:(?:[ \t].*|[ \t]*)\n)*)",
                          source)
        if match is None or not re.search(r"(?m)^@(dataclasses\.)?dataclass\b", match.group(1)):
            return None  # another base, or not a dataclass: its fields are not all here
        return _class_fields(match.group(2).splitlines())
    return None


_DOCSTRING_QUOTES = ('"' * 3, "'" * 3)


def _class_fields(lines: list[str]) -> dict[str, str] | None:
    """The annotated class-level names without a value in a class body's
    lines (an annotation may span lines inside brackets); None when the class
    builds itself (``from_dict`` or ``__init__`` of its own)."""
    required: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line, i = lines[i], i + 1
        text = line.strip()
        if not text or text.startswith("#") or len(line) - len(line.lstrip()) != 4:
            continue
        if re.match(r"(async\s+)?def\s+(from_dict|__init__)\b", text):
            return None
        if text[:3] in _DOCSTRING_QUOTES:  # a docstring: skip to its end
            quote = text[:3]
            while text.count(quote) < 2 and i < len(lines):
                text, i = lines[i], i + 1
            continue
        while _depth(text) > 0 and i < len(lines):  # an annotation or value over several lines
            text, i = text + " " + lines[i].strip(), i + 1
        field = re.match(r"(\w+)\s*:\s*(.+)$", text)
        if field and not re.match(r"ClassVar\b", field.group(2)) and "=" not in _top_level(field.group(2)):
            required[field.group(1)] = field.group(2).split("#")[0].strip()
    return required


def _depth(text: str) -> int:
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def _top_level(text: str) -> str:
    """``text`` without what lies inside brackets."""
    out, depth = [], 0
    for c in text:
        depth += c in "([{"
        if depth == 0 and c not in ")]}":
            out.append(c)
        depth -= c in ")]}"
    return "".join(out)


def mlx_vlm_supports(config: dict) -> bool:
    model_type = str(config.get("model_type", ""))
    return has_model_module("mlx_vlm", "models", MLX_VLM_REMAPPING.get(model_type, model_type))


def mlx_embeddings_module(config: dict) -> str:
    """The mlx_embeddings.models module its loader would pick (dashes become underscores)."""
    return str(config.get("model_type", "")).replace("-", "_")


def mlx_embeddings_supports(config: dict) -> bool:
    return has_model_module("mlx_embeddings", "models", mlx_embeddings_module(config))


def _embedding_compatibility(config: dict, architecture: str):
    """Embedding models, encoders and decoders alike, run through mlx-embeddings."""
    if not backend_installed("mlx_embeddings"):
        return False, "mlx-embeddings is not installed (embedding models need the 'embeddings' extra)", None
    if not mlx_embeddings_supports(config):
        return False, f"model_type '{architecture}' not supported by mlx-embeddings", None
    return True, None, "mlx_embeddings"


def mlx_audio_supports(config: dict) -> bool:
    model_type = str(config.get("model_type", "")).lower()
    return any(has_model_module("mlx_audio", "stt/models", name) for name in {model_type, *[
        t for t in STT_MODEL_TYPES if t in model_type]})


# -- the whole judgement ---------------------------------------------------

def check_runtime(model_dir: Path, *, repo_id: str | None = None, config: dict | None = None,
                  files=None) -> RuntimeResult:
    """Decide framework, kind, capabilities, context window and whether the
    installed backends can run the model.  Never raises for a broken folder:
    integrity problems are ``check_integrity``'s to report.  ``files``: the
    folder's ``ModelFiles``, when the caller has one (nothing is read twice)."""
    from pathlib import Path

    files = _files_of(model_dir, files)
    if config is None:
        config = _config_of(files)
    name = repo_id or Path(model_dir).name
    framework = detect_framework(model_dir, config, repo_id, files)
    architecture = config.get("model_type") if isinstance(config, dict) else None
    architecture = architecture if isinstance(architecture, str) else None
    template = chat_template_present(model_dir, files)
    lowered = name.lower()

    route = embedder_route(config, name)
    vision = is_vision(model_dir, config, files)
    audio = is_audio(model_dir, config, files)
    if route is not None:
        kind, capabilities = "embedding", ["embeddings"]
    elif is_stt(config):
        kind, capabilities = "audio", ["audio"]
    else:
        chat = (template or vision or "instruct" in lowered or "chat" in lowered
                or (architecture or "").lower() == "chat")
        kind = "chat" if chat else "base"
        capabilities = ["text-generation"] + (["chat"] if chat else [])
        capabilities += (["vision"] if vision else []) + (["audio"] if audio else [])
    compatible, reason, backend = _compatibility(files, config, framework, kind, route, vision, audio)
    return RuntimeResult(framework, kind, architecture, capabilities, context_length(config),
                         compatible, reason, "chat" in capabilities, backend)


def _compatibility(files, config, framework, kind, route, vision, audio):
    """(runtime_compatible, reason, backend): the first gate that fails names the reason."""
    if framework != "MLX":
        return False, f"Incompatible framework: {framework}", None
    if not isinstance(config, dict):
        return False, "config.json missing or unreadable (required for model_type detection)", None
    if config.get("model_file") is not None:
        return False, MODEL_FILE_REASON, None
    architecture = config.get("model_type")
    if not isinstance(architecture, str) or not architecture:
        return False, "config.json missing model_type field", None
    if kind == "audio":
        if not backend_installed("mlx_audio"):
            return False, "mlx-audio is not installed (speech-to-text needs the 'audio' extra)", None
        if not mlx_audio_supports(config):
            return False, f"model_type '{architecture}' not supported by mlx-audio", None
        return True, None, "mlx_audio"
    if route is not None:
        return _embedding_compatibility(config, architecture)
    if vision or (audio and kind != "audio"):
        if not backend_installed("mlx_vlm"):
            return False, "mlx-vlm is not installed (vision and audio-chat models need the 'vision' extra)", None
        if not mlx_vlm_supports(config):
            return False, f"model_type '{architecture}' not supported by mlx-vlm", None
        return True, None, "mlx_vlm"
    if not backend_installed("mlx_lm"):
        return False, "mlx-lm is not installed", None
    names = files.top_names(".safetensors")
    if names and not any(re.match(_MLX_LM_WEIGHT, n) for n in names) and any(
            re.match(p, n) for p in _LFS_WEIGHT_LEGACY for n in names):
        return False, "Legacy weight file names not supported by mlx-lm", None
    if not mlx_lm_supports(config):
        return False, f"model_type '{architecture}' not supported by mlx-lm", None
    return True, None, "mlx_lm"
