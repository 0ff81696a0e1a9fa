"""Reads Parquet files with pyarrow, pandas, DuckDB and Polars and prints, per file and
reader, each column's type and every value in a normalized, exact form (JSON): integers
as decimal strings, floats as repr, times as epoch milliseconds, nulls as null. The
interop test compares this with what tapedeck wrote."""
import json
import math
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq


def norm(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return None if math.isnan(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, pd.Timestamp) or hasattr(v, "timestamp"):
        ts = pd.Timestamp(v)
        if ts.tzinfo is None:
            return {"naive_ms": str(ts.value // 1_000_000)}
        return str(ts.value // 1_000_000)
    if hasattr(v, "item"):  # numpy scalars
        return norm(v.item())
    return v


def columns_of(names, types, rows):
    return {"types": dict(zip(names, types)), "rows": [[norm(v) for v in r] for r in rows]}


def read(path):
    """One file, as a file: no partition columns guessed from its folder names."""
    out = {}
    t = pq.read_table(path, partitioning=None)
    out["pyarrow"] = columns_of(t.column_names, [str(f.type) for f in t.schema], zip(*[c.to_pylist() for c in t.columns]) if t.num_rows else [])
    df = pd.read_parquet(path, partitioning=None)
    out["pandas"] = columns_of(list(df.columns), [str(d) for d in df.dtypes], df.astype(object).itertuples(index=False, name=None))
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}', hive_partitioning = false)")
    out["duckdb"] = columns_of(rel.columns, [str(t) for t in rel.types], rel.fetchall())
    pf = pl.read_parquet(path, hive_partitioning=False)
    out["polars"] = columns_of(pf.columns, [str(d) for d in pf.dtypes], pf.rows())
    return out


def read_dataset(root):
    """A partitioned archive folder (venue=…/date=…), as users open it: rows per exchange."""
    glob = f"{root}/**/*.parquet"
    counts = {}
    t = pq.read_table(root, partitioning="hive")
    counts["pyarrow"] = t.group_by("exchange").aggregate([("session", "count")]).to_pylist()
    counts["pandas"] = pd.read_parquet(root).groupby("exchange", observed=True)["session"].count().to_dict()
    counts["duckdb"] = dict(duckdb.sql(f"SELECT exchange, count(*) FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY ALL").fetchall())
    counts["polars"] = dict(pl.scan_parquet(glob, hive_partitioning=True).group_by("exchange").len().collect().rows())
    counts["pyarrow"] = {r["exchange"]: r["session_count"] for r in counts["pyarrow"]}
    return {k: {str(x): int(n) for x, n in v.items()} for k, v in counts.items()}


args = sys.argv[1:]
json.dump({p: (read_dataset(p[len("dataset:"):]) if p.startswith("dataset:") else read(p)) for p in args}, sys.stdout)
