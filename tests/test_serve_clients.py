"""mlxk-serve with the agent clients people use, over HTTP: the `llm` CLI (-T with a
tool, --schema), LangChain's ChatOpenAI (bind_tools, with_structured_output) and
litellm with tools.  Before tools and structured output, each of these failed on
its first request (422/404).

The 135M model writes no call on its own when the choice is left to it
(``auto``): where a client can name the tool (LangChain, litellm) the grammar
forces the call and the test checks it; the `llm` CLI always sends ``auto``,
so its test checks that the tool is offered and the answer comes back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest

from fixtures.tooling import base_env
from fixtures.tools import make_tools_model

pytestmark = pytest.mark.slow

TOOLS = "SmolLM2-tools"
PLAIN = "SmolLM2-plain"
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30}},
                  "required": ["city"], "additionalProperties": False}


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace, tmp_path_factory):
    home = tmp_path_factory.mktemp("clients_home")
    make_tools_model(smollm2_workspace, home / TOOLS)
    os.symlink(smollm2_workspace, home / PLAIN)
    return serve("--model", TOOLS, "--max-models", "2", env=base_env(MLXK_WORKSPACE_HOME=home))


# -- llm ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def llm_env(server, tmp_path_factory):
    pytest.importorskip("llm")
    folder = tmp_path_factory.mktemp("llm_user")
    models = [{"model_id": alias, "model_name": name, "api_base": server.base_url, "supports_tools": True,
               "supports_schema": True} for alias, name in (("smol-tools", TOOLS), ("smol", PLAIN))]
    (folder / "extra-openai-models.yaml").write_text(json.dumps(models))  # YAML is a superset of JSON
    return {**base_env(), "LLM_USER_PATH": str(folder), "OPENAI_API_KEY": "unused"}


def run_llm(env, *args):
    cmd = [sys.executable, "-m", "llm", "prompt", "--no-log", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def test_llm_with_a_tool(llm_env):
    code = "def get_weather(city: str) -> str:\n    'The weather of a city.'\n    return 'sunny, 21 degrees'\n"
    out, err = run_llm(llm_env, "-m", "smol-tools", "--functions", code, "--td", "-o", "temperature", "0",
                       "-o", "max_tokens", "12", "What is the weather in Paris?")
    assert out.strip()  # an answer, not an error about the tools


def test_llm_schema(llm_env):
    # A closed schema: llm sends it without "strict", and an open one lets the model add fields freely.
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    out, _ = run_llm(llm_env, "-m", "smol", "--schema", json.dumps(schema), "-o", "max_tokens", "60",
                     "Invent a person")
    doc = json.loads(out)
    assert isinstance(doc["name"], str) and isinstance(doc["age"], int)


# -- LangChain -------------------------------------------------------------------------------

def chat_model(server, name, **kwargs):
    langchain_openai = pytest.importorskip("langchain_openai")
    return langchain_openai.ChatOpenAI(model=name, base_url=server.base_url, api_key="unused", max_retries=0,
                                       timeout=900, **kwargs)


def test_langchain_bind_tools(server):
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        return "sunny"

    model = chat_model(server, TOOLS, temperature=0, max_tokens=60).bind_tools([get_weather],
                                                                             tool_choice="get_weather")
    message = model.invoke("What is the weather in Paris?")
    [call] = message.tool_calls
    assert call["name"] == "get_weather" and isinstance(call["args"]["city"], str) and call["id"]


def test_langchain_with_structured_output(server):
    schema = {"title": "Person", "description": "A person", "type": "object",
              "properties": {"name": {"type": "string", "maxLength": 20},
                             "age": {"type": "integer", "minimum": 0, "maximum": 120}},
              "required": ["name", "age"], "additionalProperties": False}
    model = chat_model(server, PLAIN, temperature=1, max_tokens=60).with_structured_output(schema,
                                                                                          method="json_schema")
    person = model.invoke("Invent a person.")
    jsonschema.validate(person, schema)


# -- litellm ------------------------------------------------------------------------------------

def test_litellm_with_tools(server):
    litellm = pytest.importorskip("litellm")
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "The weather of a city",
                                               "parameters": WEATHER_SCHEMA}}]
    reply = litellm.completion(model=f"openai/{TOOLS}", api_base=server.base_url, api_key="unused",
                               messages=[{"role": "user", "content": "What is the weather in Paris?"}],
                               tools=tools, tool_choice="required", max_tokens=60, temperature=0)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_SCHEMA)
