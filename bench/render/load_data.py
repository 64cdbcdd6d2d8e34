"""Data files of the loading benchmark: one series of N rows (time, value) as
iotplot plot reads it, written by Python as a user or the iot-plot package would.

    load_data.py N DIR

DIR/signal.csv       header time,value; numbers as Python's repr() prints them
DIR/signal.json      {"time": [...], "value": [...]}: json.dump of a dict of lists
DIR/rows.json        {"series", "columns", "rows": [[t, v], ...]}: what save_series writes
DIR/signal.pkl       pickle.dump of the dict of lists (protocol 4, Python's default)
DIR/iotplot-series.db  the plot server's store (WAL off) with the series as session
                     "bench", series "signal"
"""
import json
import math
import os
import pickle
import random
import sqlite3
import struct
import sys

n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
rnd = random.Random(7)
time = [i / 1000 for i in range(n)]
value = [math.sin(12 * i / n) * (1 + i / n) + 0.3 * (rnd.random() - 0.5) for i in range(n)]

with open(os.path.join(out, "signal.csv"), "w") as f:
    f.write("time,value\n")
    f.writelines("%r,%r\n" % (t, v) for t, v in zip(time, value))
with open(os.path.join(out, "signal.json"), "w") as f:
    json.dump({"time": time, "value": value}, f)
with open(os.path.join(out, "rows.json"), "w") as f:
    f.write('{"series": "signal", "columns": ["time", "value"], "rows": [')
    f.write(",\n  ".join("[%r, %r]" % (t, v) for t, v in zip(time, value)))
    f.write("\n]}\n")
with open(os.path.join(out, "signal.pkl"), "wb") as f:
    pickle.dump({"time": time, "value": value}, f, protocol=4)

db = os.path.join(out, "iotplot-series.db")
if os.path.exists(db):
    os.remove(db)
con = sqlite3.connect(db)
con.executescript(
    "CREATE TABLE series(id INTEGER PRIMARY KEY, session TEXT NOT NULL, name TEXT NOT NULL,"
    " version INTEGER NOT NULL, columns TEXT NOT NULL, created REAL NOT NULL,"
    " UNIQUE(session, name, version));"
    "CREATE TABLE rows(series INTEGER NOT NULL, seq INTEGER NOT NULL, t REAL NOT NULL,"
    " vals BLOB NOT NULL, PRIMARY KEY(series, seq)) WITHOUT ROWID;"
    "CREATE TABLE plots(series INTEGER NOT NULL, t REAL NOT NULL, options TEXT NOT NULL);")
t0 = 1764633600.0  # 2025-12-02, arrival times a millisecond apart
con.execute("INSERT INTO series VALUES(1, 'bench', 'signal', 1, ?, ?)",
            (json.dumps(["time", "value"]), t0))
con.executemany("INSERT INTO rows VALUES(1, ?, ?, ?)",
                ((i, t0 + t, struct.pack("<2d", t, v))
                 for i, (t, v) in enumerate(zip(time, value))))
con.commit()
con.close()
