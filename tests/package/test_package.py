"""The install rules and the Debian packages, end to end, as an administrator meets them.

`make install PREFIX=...` into a temporary folder, then `make deb`, lintian, `dpkg -i` of
the three packages on this machine, the installed files (unit, user, folders, config,
man pages, demo, a C program built with pkg-config against the installed library), and
`dpkg -r` / `--purge` leaving nothing behind. Needs root for dpkg (CI runs as root on a
throwaway machine); skipped (77) without it, or when iotplot packages are already
installed here (the test would replace and then remove them). The packages are purged
in a finally block whatever happens.
"""
import glob
import os
import pwd
import re
import shutil
import subprocess
import sys

import iptest

SRC = os.environ["IOTPLOT_SRC"]
WORK = os.path.join(os.environ["IOTPLOT_BUILD"], "package-test")
PACKAGES = ["iotplot", "libiotplot1", "libiotplot-dev"]
UNIT = "/lib/systemd/system/iotplot.service"
MAN1 = ["iotplot", "iotplot-serve", "iotplot-broker", "iotplot-plotserver", "iotplot-pub",
        "iotplot-sub", "iotplot-passwd", "iotplot-plot", "iotplot-demo"]


def sh(args, timeout=900, env=None, cwd=None):
    """Run args; on failure raise with the end of its output."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    if p.returncode != 0:
        tail = (p.stdout + p.stderr)[-3000:]
        raise AssertionError(f"{' '.join(args)} exited {p.returncode}:\n{tail}")
    return p.stdout


def installed(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", pkg],
                       capture_output=True, text=True)
    return p.returncode == 0 and p.stdout not in ("", "not-installed")


def build_program(name, pkg_config_env, static):
    """Compile publish.c.in with what pkg-config says; every installed libiotplot header
    is included, so the program follows headers as they are split."""
    incdir = sh(["pkg-config", "--variable=includedir", "iotplot"], env=pkg_config_env).strip()
    headers = sorted(glob.glob(os.path.join(incdir, "iotplot", "*.h")))
    if not headers:
        raise AssertionError(f"no headers in {incdir}/iotplot")
    with open(os.path.join(os.path.dirname(__file__), "publish.c.in")) as f:
        text = f.read().replace("@HEADERS@", "\n".join(
            f'#include "iotplot/{os.path.basename(h)}"' for h in headers))
    src = os.path.join(WORK, name + ".c")
    with open(src, "w") as f:
        f.write(text)
    flags = ["--cflags", "--libs"] + (["--static"] if static else [])
    pc = sh(["pkg-config"] + flags + ["iotplot"], env=pkg_config_env).split()
    if static:
        # pkg-config names the library; the archive is asked for by file name, since the
        # linker would otherwise take the shared library beside it.
        pc = ["-l:libiotplot.a" if a == "-liotplot" else a for a in pc]
    else:
        libdir = sh(["pkg-config", "--variable=libdir", "iotplot"], env=pkg_config_env).strip()
        pc.append(f"-Wl,-rpath,{libdir}")
    exe = os.path.join(WORK, name)
    sh(["cc", "-std=c11", "-Wall", "-Werror", "-o", exe, src] + pc)
    needed = sh(["readelf", "-d", exe])
    if static == ("libiotplot.so" in needed):
        raise AssertionError(f"{name}: libiotplot.so NEEDED is {not static}: {needed}")
    return exe


def check_publishes(exe, iotplot):
    """exe publishes to `iotplot broker` on an ephemeral port; `iotplot sub` reads it."""
    port = iptest.free_port()
    broker = iptest.spawn([iotplot, "broker", "-p", str(port)])
    try:
        iptest.wait_port(port, proc=broker)
        topic = "package/" + os.path.basename(exe)
        sh([exe, str(port), topic, "hello from " + os.path.basename(exe)], timeout=20)
        got = sh([iotplot, "sub", "-p", str(port), "-t", topic, "-C", "1", "-W", "10"],
                 timeout=20)
        iptest.expect_eq(got.strip(), "hello from " + os.path.basename(exe), "sub output")
    finally:
        iptest.stop(broker)


def check_exports(lib):
    names = [l.split()[-1] for l in sh(["nm", "-D", "--defined-only", lib]).splitlines()]
    stray = [n for n in names if not re.match(r"ipm_[a-z0-9]", n) and n != "IOTPLOT_1"]
    if stray or not names:
        raise AssertionError(f"{lib} exports more than ipm_: {stray[:10]}")
    soname = re.search(r"SONAME.*\[(.*)\]", sh(["readelf", "-d", lib])).group(1)
    iptest.expect_eq(soname, "libiotplot.so.1", "SONAME")


def check_make_install():
    prefix = os.path.join(WORK, "prefix")
    sh(["make", "-C", SRC, "--no-print-directory", "install", f"BUILD={WORK}/build",
        f"PREFIX={prefix}", "JOBS=2", "CMAKE_ARGS=-DIOTPLOT_TESTS=OFF"])
    pcs = glob.glob(f"{prefix}/lib*/**/iotplot.pc", recursive=True)
    if len(pcs) != 1:
        raise AssertionError(f"iotplot.pc under {prefix}: {pcs}")
    libdir = os.path.dirname(os.path.dirname(pcs[0]))
    for f in ["libiotplot.a", "libiotplot.so", "libiotplot.so.1"]:
        if not os.path.exists(os.path.join(libdir, f)):
            raise AssertionError(f"{f} not installed in {libdir}")
    check_exports(os.path.join(libdir, "libiotplot.so.1"))
    if os.path.exists(os.path.join(prefix, "include", "iotplot", "plotclient.h")):
        raise AssertionError("plotclient.h is not part of libiotplot")
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
    iotplot = os.path.join(prefix, "bin", "iotplot")
    for static in (False, True):
        exe = build_program("publish-prefix" + ("-static" if static else ""), env, static)
        check_publishes(exe, iotplot)


def check_lintian(changes):
    out = sh(["lintian", "--pedantic", "-I", "--no-tag-display-limit", changes])
    tags = [l for l in out.splitlines() if re.match(r"[EWIPX]: ", l)]
    if tags:
        raise AssertionError("lintian:\n" + "\n".join(tags))


def check_installed_files():
    pw = pwd.getpwnam("iotplot")
    for d in ("/var/lib/iotplot", "/var/log/iotplot"):
        iptest.expect_eq(os.stat(d).st_uid, pw.pw_uid, f"owner of {d}")
    with open("/etc/iotplot/iotplot.conf") as f:
        conf = f.read()
    if not re.search(r"^include_dir /etc/iotplot/conf\.d$", conf, re.M):
        raise AssertionError("iotplot.conf does not include /etc/iotplot/conf.d")
    if not re.search(r"^listener \d+ 127\.0\.0\.1$", conf, re.M):
        raise AssertionError("the default listener is not on the loopback address")
    for page in MAN1:
        sh(["man", "-w", "1", page])
    sh(["man", "-w", "5", "iotplot.conf"])
    if os.path.exists("/usr/include/iotplot/plotclient.h"):
        raise AssertionError("plotclient.h is not part of libiotplot")
    check_exports(glob.glob("/usr/lib/*/libiotplot.so.1")[0])


def check_installed_config():
    """The shipped configuration starts the installed broker (on another port)."""
    port = iptest.free_port()
    with open("/etc/iotplot/iotplot.conf") as f:
        conf = re.sub(r"^listener \d+", f"listener {port}", f.read(), flags=re.M)
    path = os.path.join(WORK, "iotplot.conf")
    with open(path, "w") as f:
        f.write(conf)
    broker = iptest.spawn(["/usr/bin/iotplot", "broker", "-c", path])
    try:
        iptest.wait_port(port, proc=broker)
    finally:
        iptest.stop(broker)


def check_unit():
    out = subprocess.run(["systemd-analyze", "verify", UNIT], capture_output=True, text=True)
    if out.returncode != 0 or "iotplot" in out.stdout + out.stderr:
        raise AssertionError(f"systemd-analyze verify: {out.stdout}{out.stderr}")
    with open(UNIT) as f:
        unit = f.read()
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "ReadWritePaths=/var/lib/iotplot /var/log/iotplot"):
        if line not in unit.splitlines():
            raise AssertionError(f"{UNIT} lacks {line}")
    sec = sh(["systemd-analyze", "security", "--offline=true", UNIT])
    level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", sec).group(1))
    if level > 2.0:
        raise AssertionError(f"exposure level {level} (was 1.4 when the unit was written)")


def check_logrotate():
    sh(["logrotate", "-d", "/etc/logrotate.d/iotplot"])


def check_demo():
    out = sh(["/usr/bin/iotplot", "demo", "-d", os.path.join(WORK, "demo")], timeout=120)
    files = [w for w in out.split() if w.startswith(WORK)]
    if not files or not all(os.path.getsize(f) > 0 for f in files):
        raise AssertionError(f"demo printed no files, or empty ones:\n{out}")


def check_installed_program():
    for static in (False, True):
        exe = build_program("publish-deb" + ("-static" if static else ""), dict(os.environ),
                            static)
        check_publishes(exe, "/usr/bin/iotplot")


def check_dlopen_depends():
    """The libraries iotplot loads on first use (src/dynlib) are in no NEEDED entry, so
    only debian/rules puts their packages in Depends: each must be there."""
    with open(os.path.join(os.environ["IOTPLOT_BUILD"], "dlopen-depends")) as f:
        want = [p.strip() for p in f.read().split(",") if p.strip()]
    if not want:
        raise AssertionError("dlopen-depends lists no package")
    depends = sh(["dpkg-query", "-W", "-f=${Depends}", "iotplot"])
    have = {re.match(r"\s*([^ (]+)", d).group(1) for d in depends.split(",")}
    missing = [p for p in want if p not in have]
    if missing:
        raise AssertionError(f"Depends: {depends!r} lacks {missing}")
    # and the installed binary finds the exporters' libraries
    src = os.path.join(WORK, "loaded.csv")
    with open(src, "w") as f:
        f.write("t,v\n0,1\n1,2\n")
    for ext in ("mat", "xlsx"):
        out = os.path.join(WORK, f"loaded.{ext}")
        sh(["/usr/bin/iotplot", "plot", src, "-o", out])
        if not os.path.getsize(out):
            raise AssertionError(f"empty {out}")


def check_remove_purge(owned):
    sh(["dpkg", "-r"] + PACKAGES)
    left = [f for f in owned if os.path.isfile(f) and not f.startswith("/etc/")]
    if left:
        raise AssertionError(f"left after dpkg -r: {left[:10]}")
    sh(["dpkg", "--purge"] + PACKAGES)
    left = [f for f in owned if os.path.lexists(f) and not os.path.isdir(f)]
    for d in ("/etc/iotplot", "/var/lib/iotplot", "/var/log/iotplot", "/usr/include/iotplot",
              "/usr/share/doc/iotplot"):
        if os.path.lexists(d):
            left.append(d)
    if left:
        raise AssertionError(f"left after dpkg --purge: {left[:10]}")


def main():
    if os.geteuid() != 0:
        print("SKIP: dpkg -i needs root")
        sys.exit(77)
    if any(installed(p) for p in PACKAGES):
        print("SKIP: iotplot packages are installed here already; not replacing them")
        sys.exit(77)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    r = iptest.Results()
    try:
        r.check("make install PREFIX=...; programs built with its pkg-config file",
                check_make_install)
        debs = os.path.join(WORK, "deb")
        sh(["make", "-C", SRC, "--no-print-directory", "deb", f"DEB_OUT={debs}", "JOBS=2"])
        files = [glob.glob(f"{debs}/{p}_*.deb")[0] for p in PACKAGES]
        r.check("lintian", check_lintian, glob.glob(f"{debs}/*.changes")[0])
        sh(["dpkg", "-i"] + files, timeout=120)
        owned = [l for p in PACKAGES for l in sh(["dpkg", "-L", p]).splitlines()]
        r.check("installed: user, folders, config, man pages, exports", check_installed_files)
        r.check("Depends names the libraries loaded on first use", check_dlopen_depends)
        r.check("installed config starts the broker", check_installed_config)
        r.check("systemd-analyze verify and security", check_unit)
        r.check("logrotate accepts its file", check_logrotate)
        r.check("installed iotplot demo", check_demo)
        r.check("C program with pkg-config against the packages publishes",
                check_installed_program)
        r.check("dpkg -r and --purge leave nothing", check_remove_purge, owned)
    finally:
        leftover = [p for p in PACKAGES if installed(p)]
        if leftover:
            subprocess.run(["dpkg", "--purge"] + leftover, capture_output=True, timeout=120)
        shutil.rmtree(WORK, ignore_errors=True)
    r.finish()


main()
