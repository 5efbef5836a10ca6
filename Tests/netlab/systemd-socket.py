#!/usr/bin/env python3
"""Starts a socket-activated service the way systemd does, from its package's own unit files, on
machines without systemd running (containers, CI):

  systemd-socket.py <name.socket> <name.service> <socket-path> [environment-file]

The socket unit's ListenStream is replaced by <socket-path> (so that tests do not collide); its
SocketMode, SocketUser and SocketGroup are applied as systemd applies them. The service then runs as
its unit's User and Group, with its Environment= and EnvironmentFile= and ExecStart's ${VAR}s
expanded (an extra environment file, read after the unit's own, stands in for /etc/default/<name>),
receiving the listening socket as fd 3 with LISTEN_FDS=1 and LISTEN_PID (sd_listen_fds).
Must run as root, as systemd does."""
import grp, os, pwd, shlex, signal, socket, sys


def read_unit(path):
    values = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        values.setdefault(key.strip(), []).append(value.strip())
    return values


def main():
    socket_unit, service_unit, path = sys.argv[1:4]
    extra_files = sys.argv[4:]
    sock = read_unit(socket_unit)
    svc = read_unit(service_unit)
    mode = int(sock.get("SocketMode", ["0666"])[-1], 8)
    owner = sock.get("SocketUser", ["root"])[-1]
    group = sock.get("SocketGroup", [grp.getgrgid(pwd.getpwnam(owner).pw_gid).gr_name])[-1]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(int(sock.get("Backlog", ["4096"])[-1]))
    os.chmod(path, mode)
    os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    for assignment in svc.get("Environment", []):
        for word in shlex.split(assignment):
            k, _, v = word.partition("=")
            env[k] = v
    for f in svc.get("EnvironmentFile", []) + extra_files:
        optional = f.startswith("-")
        f = f.lstrip("-")
        if not os.path.exists(f):
            if optional:
                continue
            sys.exit(f"EnvironmentFile {f} is missing")
        for line in open(f, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, _, v = line.partition("=")
                env[k.strip()] = v.strip().strip('"')
    argv = []
    for word in shlex.split(svc["ExecStart"][-1].lstrip("-@+!")):
        if word.startswith("${") and word.endswith("}"):
            argv += shlex.split(env.get(word[2:-1], ""))
        else:
            argv.append(word)

    # Like systemd, stay outside the service: the service runs in a child, and this process (still
    # root) waits for it and passes on the signals that stop it.
    child = os.fork()
    if child:
        s.close()
        def forward(signum, _frame):
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, forward)
        while True:
            try:
                _, status = os.waitpid(child, 0)
                sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
            except InterruptedError:
                continue

    user = svc.get("User", ["root"])[-1]
    pw = pwd.getpwnam(user)
    gid = grp.getgrnam(svc["Group"][-1]).gr_gid if "Group" in svc else pw.pw_gid
    if s.fileno() != 3:
        os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    for fd in range(4, 256):
        try:
            os.close(fd)
        except OSError:
            pass
    os.setgroups([])
    os.setgid(gid)
    os.setuid(pw.pw_uid)
    env["LISTEN_FDS"] = "1"
    env["LISTEN_PID"] = str(os.getpid())
    env["HOME"] = pw.pw_dir
    env["USER"] = env["LOGNAME"] = user
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
