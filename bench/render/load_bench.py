"""The Python side of the loading benchmark: read a file of load_data.py as a
matplotlib user would, plot the second column against the first, save a PNG.

    load_bench.py csv|json|rows.json|pkl|db FILE OUT.png

csv: pandas.read_csv; json: pandas.read_json; rows.json: json.load (pandas has no
reader for {"columns", "rows"}); pkl: pickle.load; db: pandas.read_sql of the store's
rows, the packed values unpacked with numpy. Whole-process timing is the caller's.
"""
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

kind, path, out = sys.argv[1:4]
if kind == "csv":
    import pandas as pd
    df = pd.read_csv(path)
    x, y = df.iloc[:, 0], df.iloc[:, 1]
elif kind == "json":
    import pandas as pd
    df = pd.read_json(path)
    x, y = df.iloc[:, 0], df.iloc[:, 1]
elif kind == "rows.json":
    import json
    with open(path) as f:
        a = np.array(json.load(f)["rows"], dtype=float)
    x, y = a[:, 0], a[:, 1]
elif kind == "pkl":
    import pickle
    with open(path, "rb") as f:
        d = pickle.load(f)
    x, y = d["time"], d["value"]
else:
    import sqlite3
    import pandas as pd
    con = sqlite3.connect("file:%s/iotplot-series.db?mode=ro" % path, uri=True)
    df = pd.read_sql("SELECT vals FROM rows WHERE series = 1 ORDER BY seq", con)
    a = np.frombuffer(b"".join(df["vals"]), dtype="<f8").reshape(-1, 2)
    x, y = a[:, 0], a[:, 1]
fig = plt.figure(figsize=(5, 3))
plt.plot(x, y)
plt.grid(True)
fig.savefig(out, dpi=100)
plt.close(fig)
