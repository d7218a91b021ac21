#!/bin/sh
# Lab instances for sshdoctor tests: a network namespace joined to the root namespace by
# a veth pair, plus mount and PID namespaces over a copy-on-write overlay of the root
# filesystem. Nothing of the host's /etc, iptables or services changes.
#
#   lab.sh net OWNER_PID      creates netns + veth, prints "NAME N"
#   lab.sh boot NAME          runs the instance in the foreground (becomes its `unshare`)
#   lab.sh up OWNER_PID       net + boot in the background; prints "NAME N INIT_PID" when ready
#   lab.sh destroy NAME       kills its processes, deletes its veth and netns
#   lab.sh cleanup-stale      destroys labs whose owner process is gone
#   lab.sh init NAME          (internal) PID 1 side of `boot`
#
# Naming: netns `sdlab-N-OWNER-RAND`, veth `sdlabNh` (root side, 10.231.N.1 and .3)
# and `sdlabNi` (instance side, 10.231.N.2). The veth name is the reservation of N.
set -eu

# `parent` runs right after `unshare --pid`: its first fork becomes PID 1 of the new PID
# namespace, so nothing may fork before it (not even a command substitution).
if [ "${1:-}" = parent ]; then
  sh ${SDLAB_TRACE:+-x} "$3" init "$2"
  exit "$?"
fi

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
LOCK=/run/sdlab.lock
SELF=$(readlink -f "$0")

die() { printf 'lab.sh: %s\n' "$*" >&2; exit 1; }

# Bounded poll: `wait_for TRIES CMD...` retries CMD every 20 ms.
wait_for() {
  tries=$1; shift
  while [ "$tries" -gt 0 ]; do
    if "$@"; then return 0; fi
    tries=$((tries - 1))
    sleep 0.02
  done
  return 1
}

n_of() { printf '%s\n' "$1" | sed -n 's/^sdlab-\([0-9][0-9]*\)-[0-9][0-9]*-[a-z0-9]*$/\1/p'; }
owner_of() { printf '%s\n' "$1" | sed -n 's/^sdlab-[0-9][0-9]*-\([0-9][0-9]*\)-[a-z0-9]*$/\1/p'; }

netns_pids() { ip netns pids "$1" 2>/dev/null || true; }
no_netns_pids() { [ -z "$(netns_pids "$1")" ]; }
# The instance's PID 1 among the children of $1: the one that is PID 1 of a nested PID
# namespace (other children are the boot script's own short-lived commands).
init_child() {
  # shellcheck disable=SC2013 # the file is one line of space-separated PIDs
  for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
    if is_ns_init "$c"; then printf '%s\n' "$c"; return 0; fi
  done
  return 1
}
is_ns_init() { grep -Eq '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$1/status" 2>/dev/null; }
has_child() { init_child "$1" >/dev/null; }
is_ready() { [ -e "/proc/$1/root/run/sdlab-ready" ]; }

net() {
  owner=$1
  rand=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  # Reserve N under the lock so cleanup-stale never sees a half-made reservation.
  exec 9>"$LOCK"
  flock -w 10 9 || die "could not take $LOCK"
  n=1
  while [ "$n" -le 250 ]; do
    if ip link add "sdlab${n}h" type veth peer name "sdlab${n}i" 2>/dev/null; then break; fi
    n=$((n + 1))
  done
  [ "$n" -le 250 ] || die "no free lab number (1-250 all taken)"
  name="sdlab-$n-$owner-$rand"
  ip link set "sdlab${n}h" alias "$name"
  ip netns add "$name"
  flock -u 9
  exec 9>&-

  h="sdlab${n}h" i="sdlab${n}i"
  ip link set "$i" netns "$name"
  ip addr add "10.231.$n.1/24" dev "$h"
  # A second root-side address, so tests can probe from two client IPs.
  ip addr add "10.231.$n.3/24" dev "$h"
  ip link set "$h" up
  ip -n "$name" link set lo up
  ip -n "$name" addr add "10.231.$n.2/24" dev "$i"
  ip -n "$name" link set "$i" up
  ip -n "$name" route add default via "10.231.$n.1"

  printf '%s %s\n' "$name" "$n"
}

# Boots the instance in the foreground: this process becomes `unshare`, whose child is
# the instance's PID 1. Callers that want to reap it themselves (lab.ts) run this.
boot() {
  name=$1
  [ -e "/run/netns/$name" ] || die "no netns $name"
  # Not `unshare --fork`: util-linux 2.38 intermittently fails its child with
  # "sigprocmask unblock failed". Without --fork, the first child of the process that
  # unshare execs becomes PID 1 of the new PID namespace, so `parent` (top of this
  # file) forks it.
  exec nsenter --net="/run/netns/$name" \
    unshare --mount --pid --propagation private -- sh "$SELF" parent "$name" "$SELF"
}



# `create` for shell use: network, then boot in the background, wait until ready.
up() {
  # shellcheck disable=SC2046 # net prints two words, split on purpose
  set -- $(net "$1")
  name=$1 n=$2
  log="/tmp/$name.boot.log"
  setsid sh "$SELF" boot "$name" </dev/null >"$log" 2>&1 &
  upid=$!
  if ! wait_for 250 has_child "$upid"; then
    cat "$log" >&2 || true
    destroy "$name" || true
    die "instance $name: PID 1 did not start"
  fi
  ipid=$(init_child "$upid")
  if ! wait_for 250 is_ready "$ipid"; then
    cat "$log" >&2 || true
    destroy "$name" || true
    die "instance $name: boot did not finish"
  fi
  printf '%s %s %s\n' "$name" "$n" "$ipid"
}

# Runs as PID 1 of the new PID namespace, in the new (private) mount namespace and the
# lab's netns. Every mount made here dies with the namespace: the host keeps none.
init() {
  name=$1
  mount -t tmpfs -o mode=0755,size=512m sdlab /mnt
  mkdir /mnt/upper /mnt/work /mnt/root
  r=/mnt/root
  mount -t overlay -o "lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work" "$name" "$r"
  mount -t proc proc "$r/proc"
  mount -t sysfs -o ro sysfs "$r/sys" || true
  # A private /dev rather than a bind of the host's: syslogd replaces /dev/log, and the
  # host's /dev/log must stay untouched.
  mount -t tmpfs -o mode=0755,size=1m dev "$r/dev"
  for d in null zero full random urandom tty; do
    : >"$r/dev/$d"
    mount --bind "/dev/$d" "$r/dev/$d"
  done
  mkdir "$r/dev/pts" "$r/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts"
  ln -s pts/ptmx "$r/dev/ptmx"
  ln -s /proc/self/fd "$r/dev/fd"
  ln -s /proc/self/fd/0 "$r/dev/stdin"
  ln -s /proc/self/fd/1 "$r/dev/stdout"
  ln -s /proc/self/fd/2 "$r/dev/stderr"
  mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
  mount -t tmpfs -o mode=0755 run "$r/run"
  mkdir -m 0755 "$r/run/sshd" "$r/run/lock" "$r/run/fail2ban"
  mount -t tmpfs -o mode=1777 tmp "$r/tmp"
  mkdir -p "$r/var/log"
  : >"$r/var/log/auth.log"
  chmod 0640 "$r/var/log/auth.log"
  cat >"$r/run/sdlab-init.sh" <<'EOF_INIT'
set -e
if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then ssh-keygen -A >/dev/null; fi
# Debian's busybox syslogd has no rotation, so a test never loses a line; -S keeps
# the traditional auth.log line format (no facility.priority field).
busybox syslogd -S -O /var/log/auth.log
: >/run/sdlab-ready
# PID 1 must reap orphans: daemons started through nsenter are reparented to it.
exec perl -e '
  $SIG{TERM} = $SIG{INT} = sub { kill "KILL", -1; exit 0 };
  while (1) { sleep 1 if wait() == -1 }
'
EOF_INIT
  exec chroot "$r" /bin/sh /run/sdlab-init.sh
}

destroy() {
  name=$1
  n=$(n_of "$name")
  [ -n "$n" ] || die "not a lab name: $name"
  # The instance's PID 1 first: its death takes the whole PID namespace with it, and its
  # parent `unshare` reaps it (no zombie left for the host's init).
  for pid in $(netns_pids "$name"); do
    if is_ns_init "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  tries=50
  while [ "$tries" -gt 0 ] && ! no_netns_pids "$name"; do
    # shellcheck disable=SC2046 # word splitting of the PID list is intended
    kill -KILL $(netns_pids "$name") 2>/dev/null || true
    tries=$((tries - 1))
    sleep 0.02
  done
  no_netns_pids "$name" || die "processes of $name survived SIGKILL"
  if [ "$(cat "/sys/class/net/sdlab${n}h/ifalias" 2>/dev/null || true)" = "$name" ]; then
    ip link del "sdlab${n}h" 2>/dev/null || true
  fi
  if [ -e "/run/netns/$name" ]; then
    wait_for 50 ip netns del "$name" 2>/dev/null || die "could not delete netns $name"
  fi
  [ -n "${SDLAB_KEEP_LOG:-}" ] || rm -f "/tmp/$name.boot.log"
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

cleanup_stale() {
  exec 9>"$LOCK"
  flock -w 10 9 || die "could not take $LOCK"
  for ns in $(ip netns list 2>/dev/null | sed -n 's/^\(sdlab-[0-9a-z-]*\).*/\1/p'); do
    alive "$(owner_of "$ns")" || destroy "$ns"
  done
  for dev in /sys/class/net/sdlab*h; do
    [ -e "$dev" ] || continue
    alias_=$(cat "$dev/ifalias" 2>/dev/null || true)
    if [ -z "$alias_" ] || ! alive "$(owner_of "$alias_")"; then
      ip link del "$(basename "$dev")" 2>/dev/null || true
    fi
  done
  for f in /tmp/sdlab-*.boot.log; do
    [ -e "$f" ] || continue
    ns=$(basename "$f" .boot.log)
    alive "$(owner_of "$ns")" || rm -f "$f"
  done
  flock -u 9
}

[ "$(id -u)" = 0 ] || die "must run as root"
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  net) [ $# -eq 1 ] || die "usage: lab.sh net OWNER_PID"; net "$1" ;;
  boot) [ $# -eq 1 ] || die "usage: lab.sh boot NAME"; boot "$1" ;;
  init) init "$1" ;;
  up) [ $# -eq 1 ] || die "usage: lab.sh up OWNER_PID"; up "$1" ;;
  destroy) [ $# -eq 1 ] || die "usage: lab.sh destroy NAME"; destroy "$1" ;;
  cleanup-stale) cleanup_stale ;;
  *) die "usage: lab.sh net OWNER_PID | boot NAME | up OWNER_PID | destroy NAME | cleanup-stale" ;;
esac
