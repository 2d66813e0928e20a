#!/usr/bin/python3
"""Oracle for quoted TSV fields: reads a file with pandas' read_csv as the reference does and prints
one JSON line per row with the requested columns (NaN -> null).

usage: pandas_tsv.py mind-news FILE | lastfm-artists FILE | raw FILE (every field, as strings)
"""
import json
import sys

import pandas as pd

kind, path = sys.argv[1], sys.argv[2]
if kind == "mind-news":
    names = ["news_id", "category", "sub_category", "title", "abstract", "url", "title_entities",
             "abstract_entities"]
    df = pd.read_csv(path, sep="\t", header=None, names=names)
    cols = ["news_id", "category", "sub_category", "title", "abstract"]
elif kind == "raw":
    df = pd.read_csv(path, sep="\t", header=None, dtype=str, keep_default_na=False)
    cols = list(df.columns)
elif kind == "lastfm-artists":
    df = pd.read_csv(path, sep="\t")
    cols = ["id", "name"]
else:
    sys.exit("unknown kind " + kind)
for row in df[cols].itertuples(index=False):
    out = []
    for v in row:
        if isinstance(v, float) and v != v:
            out.append(None)
        else:
            out.append(str(v))
    print(json.dumps(out, ensure_ascii=False))
