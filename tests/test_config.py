"""RunConfig is the one boundary where user input becomes typed configuration."""

from __future__ import annotations

import pytest

from lmms_eval.config import RunConfig, typed_model_args
from lmms_eval.errors import ConfigError
from lmms_eval.generation import validate_generation_kwargs
from lmms_eval.models.api.openai_chat import OpenAIChat


def from_file(**values) -> RunConfig:
    return RunConfig.from_layers({"tasks": "t", **values}, {}, "--config run.yaml")


def from_flags(**values) -> RunConfig:
    return RunConfig.from_layers({}, {"tasks": "t", **values})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"limit": "abc"}, "--config run.yaml: key 'limit' must be a count of docs or a fraction below 1, not 'abc'"),
        ({"limit": [1]}, "--config run.yaml: key 'limit' must be a positive count"),
        ({"tasks": 5}, "--config run.yaml: key 'tasks' must be comma-separated names or a list of names, not 5"),
        ({"model_args": [1, 2]}, "--config run.yaml: key 'model_args' must be k=v,k=v text or a mapping, not [1, 2]"),
        ({"model_args": {"model": [1]}}, "key 'model_args': model must be a single value"),
        ({"log_samples": "yes"}, "key 'log_samples' must be true or false, not 'yes'"),
        ({"offset": 1.5}, "key 'offset' must be an int, not 1.5"),
        ({"batch_size": 0}, "key 'batch_size' must be at least 1, not 0"),
        ({"seed": "1,2"}, "key 'seed' takes one or four values, not 2"),
        ({"verbosity": 3}, "key 'verbosity' must be one of DEBUG, INFO, WARNING, ERROR, not 3"),
        ({"gen_kwargs": {"max_new_tokens": "ten"}}, "key 'gen_kwargs': max_new_tokens must be an int of at least 1, not 'ten'"),
        ({"output_path": 7}, "key 'output_path' must be text, not 7"),
    ],
)
def test_config_file_values_of_the_wrong_type_name_the_file_and_key(values, message):
    with pytest.raises(ConfigError) as caught:
        from_file(**values)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"limit": "nan"}, "--limit must be a positive count of docs or a fraction below 1, not nan"),
        ({"limit": "inf"}, "--limit must be a positive count of docs or a fraction below 1, not inf"),
        ({"limit": "-3"}, "--limit must be a positive count"),
        ({"limit": "2.5"}, "--limit must be a whole count of docs"),
        ({"seed": "-1"}, "--seed: seeds must be between 0 and 4294967295, not -1"),
        ({"seed": "1,2,3,x"}, "--seed must be an int or four comma-separated ints, not 'x'"),
        ({"num_fewshot": "-1"}, "--num_fewshot must be at least 0, not -1"),
        ({"offset": "-1"}, "--offset must be at least 0, not -1"),
        ({"bootstrap_iters": "many"}, "--bootstrap_iters must be an int, not 'many'"),
        ({"gen_kwargs": "temperature=hot"}, "--gen_kwargs: temperature must be a number of at least 0, not 'hot'"),
        ({"gen_kwargs": "top_p=1.5"}, "--gen_kwargs: top_p must be a number from 0 to 1, not 1.5"),
        ({"gen_kwargs": "do_sample=maybe"}, "--gen_kwargs: do_sample must be true or false, not 'maybe'"),
        ({"gen_kwargs": "until=5"}, "--gen_kwargs: until must be a string or a list of strings, not 5"),
        ({"gen_kwargs": "max_new_tokens=0"}, "--gen_kwargs: max_new_tokens must be an int of at least 1, not 0"),
    ],
)
def test_flag_values_out_of_range_are_input_errors(values, message):
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        from_flags(**values)


def test_values_are_typed_once():
    config = from_flags(limit="5", offset="2", seed="7", num_fewshot="0", gen_kwargs="temperature=0,max_new_tokens=8,until=###")
    assert (config.limit, config.offset, config.num_fewshot) == (5, 2, 0)
    assert config.seeds() == (7, 7, 7, 7) and config.seed == [7, 7, 7, 7]
    assert config.gen_kwargs == {"temperature": 0, "max_new_tokens": 8, "until": "###"}
    assert from_flags(limit="0.25").limit == 0.25
    assert from_file(tasks=["a", " b "], limit=3, seed=[1, 2, 3, 4]).tasks == ["a", "b"]
    # flags override the file, and each layer's errors name their own source
    assert RunConfig.from_layers({"tasks": "a", "limit": 3}, {"limit": "4"}).limit == 4
    with pytest.raises(ConfigError, match="^--limit "):
        RunConfig.from_layers({"tasks": "a", "limit": 3}, {"limit": "x"})


def test_model_args_are_typed_by_the_constructor():
    typed = typed_model_args(OpenAIChat, {"num_concurrent": "8", "timeout": "2", "send_stop": "false", "model": "1234", "api_key": "none"})
    assert typed == {"num_concurrent": 8, "timeout": 2.0, "send_stop": False, "model": "1234", "api_key": None}
    with pytest.raises(ConfigError, match="^--model_args: num_concurrent must be an int, not 'abc'$"):
        typed_model_args(OpenAIChat, {"num_concurrent": "abc"})
    with pytest.raises(ConfigError, match="^--model_args: timeout must be a number, not 'soon'$"):
        typed_model_args(OpenAIChat, {"timeout": "soon"})
    with pytest.raises(ConfigError, match="send_stop must be true or false, not 'yes please'"):
        typed_model_args(OpenAIChat, {"send_stop": "yes please"})
    # values from a --config mapping are checked, not read
    assert typed_model_args(OpenAIChat, {"num_concurrent": 4, "model": 7}) == {"num_concurrent": 4, "model": "7"}
    with pytest.raises(ConfigError, match="num_concurrent must be an int, not 4.5"):
        typed_model_args(OpenAIChat, {"num_concurrent": 4.5})


def test_model_args_from_a_config_file_name_the_file():
    config = from_file(model_args={"num_concurrent": "abc"})
    with pytest.raises(ConfigError, match="^--config run.yaml: key 'model_args': num_concurrent must be an int"):
        config.parsed_model_args(OpenAIChat)


def test_generation_settings_pass_unknown_keys_and_library_values():
    validate_generation_kwargs({"max_new_tokens": 16, "temperature": 0, "top_p": 1.0, "num_beams": 1, "do_sample": False,
                                "until": ["\n\n"], "seed": 3, "custom": object()}, "here")
    validate_generation_kwargs({"top_p": 0}, "here")  # lmms-eval folders write it beside greedy decoding
    with pytest.raises(ConfigError, match="^here: max_new_tokens must be an int of at least 1, not True$"):
        validate_generation_kwargs({"max_new_tokens": True}, "here")
    with pytest.raises(ConfigError, match="until must be a string or a list of strings"):
        validate_generation_kwargs({"until": ["a", 1]}, "here")


def test_reasoning_tags_flag():
    assert from_flags().reasoning_tags == (("<think>", "</think>"), ("<analysis>", "</analysis>"))
    assert from_flags(reasoning_tags="none").reasoning_tags == ()
    assert from_flags(reasoning_tags='[["<r>", "</r>"]]').reasoning_tags == (("<r>", "</r>"),)
    assert from_file(reasoning_tags=[["<r>", "</r>"]]).reasoning_tags == (("<r>", "</r>"),)
    with pytest.raises(ConfigError, match="^--reasoning_tags must be none or a JSON list"):
        from_flags(reasoning_tags="<think>")
    with pytest.raises(ConfigError, match="key 'reasoning_tags' must be none or a list of"):
        from_file(reasoning_tags=[["<r>"]])
