#!/usr/bin/env python3
"""The reference side of the YAML differential test: each file as PyYAML reads it, printed as one JSON
object {path: value}. Scalars stay text (no implicit typing: Switchyard keeps scalars as written and
types them where it reads them), merge keys are applied, mappings are printed as objects, and a file
PyYAML refuses is {"__error__": message}. One document per file, as Switchyard reads its files.
The reference is PyYAML's pure-Python parser; where that one refuses what YAML allows and libyaml
reads (a tab before a comment or inside a plain scalar, a known PyYAML limitation), PyYAML's libyaml
loader answers, and the file is listed under "__libyaml__".
Usage: pyyaml.py FILE..."""
import json, re, sys
import yaml


class TextLoader(yaml.SafeLoader):
    pass


class CTextLoader(yaml.CSafeLoader):
    pass


# Only the merge key is resolved; every other plain scalar stays a string.
for loader in (TextLoader, CTextLoader):
    loader.yaml_implicit_resolvers = {}
    loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def text_keys(value):
    if isinstance(value, dict):
        return {str(k): text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [text_keys(v) for v in value]
    return "" if value is None else value


out = {"__libyaml__": []}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    try:
        value = yaml.load(data, Loader=TextLoader)
        out[path] = text_keys({} if value is None else value)
    except yaml.YAMLError as e:
        try:
            value = yaml.load(data, Loader=CTextLoader)
            out[path] = text_keys({} if value is None else value)
            out["__libyaml__"].append(path)
        except yaml.YAMLError:
            out[path] = {"__error__": str(e).splitlines()[0]}
print(json.dumps(out, ensure_ascii=False, sort_keys=True))
