"""The libraries only some commands need (libmatio, libxlsxwriter, libsystemd,
libavahi-client) are loaded by those commands, not linked: the binary does not name them,
a command that needs none of them runs where they are missing, and one that needs a
missing one says which library and package it needs. IOTPLOT_DYNLIB_DIR makes the
binary look for them in one folder only: empty (missing), with a link to the real
library (found: so a failure is the absence alone), or with another library under its
name (a function missing)."""
import os
import re
import subprocess

import iptest

res = iptest.Results()
bin = iptest.binary()
LIBS = {"matio": "mat", "xlsxwriter": "xlsx"}


def installed(name):
    """(soname, path) of lib<name> as the dynamic loader's cache has it."""
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^\s*(lib%s\.so\.[0-9]+) \([^)]*x86-64[^)]*\) => (\S+)" % re.escape(name),
                  out, re.M) or re.search(r"^\s*(lib%s\.so\.[0-9]+) .*=> (\S+)" %
                                          re.escape(name), out, re.M)
    if not m:
        raise AssertionError(f"lib{name} is not installed")
    return m.group(1), m.group(2)


def package(soname):
    """Debian's package name for a soname (policy 8.1), as the binary names it."""
    stem, ver = re.match(r"(.*)\.so\.(.*)", soname).groups()
    return (stem + ("-" if stem[-1].isdigit() else "") + ver).lower()


def needed():
    out = subprocess.run(["readelf", "-d", bin], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out)


def check_not_linked():
    names = needed()
    if not names:
        raise AssertionError("readelf found no NEEDED entry at all")
    for lib in ("matio", "xlsxwriter", "systemd", "avahi-client", "avahi-common"):
        linked = [n for n in names if n.startswith(f"lib{lib}.so")]
        iptest.expect_eq(linked, [], f"lib{lib} in the binary's NEEDED")


def plot(tmp, libdir, out):
    env = dict(os.environ, IOTPLOT_DYNLIB_DIR=libdir)
    return subprocess.run([bin, "plot", os.path.join(tmp, "in.csv"), "-o", out], env=env,
                          capture_output=True, text=True, timeout=iptest.TIMEOUT)


def check_figure_needs_none(tmp, empty):
    out = os.path.join(tmp, "fig.png")
    r = plot(tmp, empty, out)
    iptest.expect_eq((r.returncode, r.stderr), (0, ""), "plot to .png, no optional library")
    if not os.path.getsize(out):
        raise AssertionError("empty figure")


def check_missing(tmp, empty, lib, ext):
    soname, _ = installed(lib)
    out = os.path.join(tmp, f"missing.{ext}")
    r = plot(tmp, empty, out)
    want = f"cannot load {soname} (package {package(soname)}): {empty}/{soname}: cannot open"
    if r.returncode == 0 or want not in r.stderr:
        raise AssertionError(f"exit {r.returncode}, stderr {r.stderr!r}; want {want!r}")
    if os.path.exists(out):
        raise AssertionError(f"{out} was written")


def check_found(tmp, lib, ext):
    soname, path = installed(lib)
    d = os.path.join(tmp, f"has-{lib}")
    os.mkdir(d)
    os.symlink(path, os.path.join(d, soname))
    out = os.path.join(tmp, f"found.{ext}")
    r = plot(tmp, d, out)
    iptest.expect_eq((r.returncode, r.stderr), (0, ""), f".{ext} with {soname} in the folder")
    if not os.path.getsize(out):
        raise AssertionError("empty file")


def check_wrong(tmp, lib, ext):
    soname, _ = installed(lib)
    _, zlib = installed("z")
    d = os.path.join(tmp, f"wrong-{lib}")
    os.mkdir(d)
    os.symlink(zlib, os.path.join(d, soname))
    r = plot(tmp, d, os.path.join(tmp, f"wrong.{ext}"))
    want = f"cannot load {soname} (package {package(soname)}): it has no "
    if r.returncode == 0 or want not in r.stderr:
        raise AssertionError(f"exit {r.returncode}, stderr {r.stderr!r}; want {want!r}")


def check_discover_missing(empty):
    soname, _ = installed("avahi-client")
    env = dict(os.environ, IOTPLOT_DYNLIB_DIR=empty)
    r = subprocess.run([bin, "sub", "-h", "auto", "-t", "x", "-C", "1"], env=env,
                       capture_output=True, text=True, timeout=iptest.TIMEOUT)
    want = f"-h auto: cannot load {soname} (package {package(soname)})"
    if r.returncode == 0 or want not in r.stderr:
        raise AssertionError(f"exit {r.returncode}, stderr {r.stderr!r}; want {want!r}")


with iptest.tempdir() as tmp:
    with open(os.path.join(tmp, "in.csv"), "w") as f:
        f.write("t,v\n" + "".join(f"{i * 0.5},{i * i}\n" for i in range(20)))
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    res.check("the binary links none of the optional libraries", check_not_linked)
    res.check("a figure needs none of them", check_figure_needs_none, tmp, empty)
    for lib, ext in LIBS.items():
        res.check(f".{ext} without lib{lib}: the error names it and its package",
                  check_missing, tmp, empty, lib, ext)
        res.check(f".{ext} with lib{lib} in the folder: written", check_found, tmp, lib, ext)
        res.check(f".{ext} with another library as lib{lib}: the missing function",
                  check_wrong, tmp, lib, ext)
    res.check("-h auto without libavahi-client: the error names it", check_discover_missing,
              empty)
res.finish()
