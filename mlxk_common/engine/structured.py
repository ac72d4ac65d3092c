"""What a request asks of its output's shape, as a ``constrain.Constraint`` (or None).

``tool_choice`` "required" (one or more calls) or a function's name (that
call) forces the family's tool-call markup with JSON arguments that follow
the tool's parameter schema; ``response_format`` forces a JSON object or a
JSON schema.  A tool template without tools, or a family whose call body is
not JSON, is refused with the reason, never served unconstrained.
"""

from __future__ import annotations

from mlxk_common.engine import constrain
from mlxk_common.errors import MlxkError

FORMATS = ("text", "json_object", "json_schema")


def check_response_format(value, param: str = "response_format") -> dict | None:
    """OpenAI's ``response_format`` -> None (text), ``{"type": "json_object"}`` or
    ``{"type": "json_schema", "schema": {...}, "name": ...}``.  The Responses API's
    ``text.format`` has the schema at the top level; both shapes are read."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MlxkError("usage_error", f"{param} must be an object", param=param)
    kind = value.get("type", "text")
    if kind not in FORMATS:
        raise MlxkError("usage_error", f"{param}.type must be one of {', '.join(FORMATS)}", param=f"{param}.type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    spec = value.get("json_schema", value)
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise MlxkError("usage_error", f"{param} of type json_schema needs a schema object "
                        f"({param}.json_schema.schema)", param=f"{param}.json_schema")
    schema = spec["schema"]
    if spec.get("strict") is True:
        schema = constrain.closed(schema)
    return {"type": "json_schema", "schema": schema, "name": spec.get("name")}


def output_constraint(engine, tools, tool_choice: str, parallel: bool, response_format: dict | None):
    fmt = engine.tool_format
    if tools and tool_choice != "none" and fmt is None:
        raise MlxkError("usage_error", f"{engine.info.name}'s chat template has no tool support, so it cannot "
                        "be given tools (send the request without 'tools', or use a model whose template "
                        "calls tools)", param="tools")
    if tools and tool_choice not in ("auto", "none"):
        if not fmt.json_body:
            raise MlxkError("usage_error", f"tool_choice {tool_choice!r} needs a constrained call, which this "
                            f"server can build for JSON tool calls only; this model's calls use the "
                            f"{fmt.name!r} format (use tool_choice 'auto')", param="tool_choice")
        name = None if tool_choice == "required" else tool_choice
        grammar = constrain.tool_call_grammar(tools, fmt.start, fmt.end, name, parallel)
        return constrain.Constraint(engine, grammar, param="tools")
    if response_format is None:
        return None
    if response_format["type"] == "json_object":
        return constrain.Constraint(engine, constrain.json_object_grammar())
    return constrain.Constraint(engine, constrain.json_schema_grammar(response_format["schema"]))
