#!/bin/sh
# sshdoctor collector, document version 1. Contract (lib/collector/CONTRACT.md):
# POSIX sh (dash, busybox ash, bash); read-only; no network; never prompts; every
# command bounded in time; each section bounded in size; exit 0 for any diagnostic
# outcome. Arguments: client IP addresses (anything else is ignored and reported).
# Output: "#sshdoctor-collector 1", then sections "@section NAME" / "|data" lines /
# "@end NAME rc=N chars=N dropped=N [k=v...]", then "#end". It never judges.

# Functions are called through section(), which shellcheck cannot follow.
# shellcheck disable=SC2317

LC_ALL=C
export LC_ALL
PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin:$PATH
export PATH
umask 077

CLIENTS=""
BADARGS=0
# With --user: "user=NAME" and "key=TYPE BASE64", validated again here (never evaluated).
USER_NAME=""
USER_KEY=""
for a in "$@"; do
  case $a in
    user=*)
      v=${a#user=}
      case $v in
        '' | [!A-Za-z_]* | *[!A-Za-z0-9_.$-]*) BADARGS=$((BADARGS + 1)) ;;
        *) if [ ${#v} -le 32 ]; then USER_NAME=$v; else BADARGS=$((BADARGS + 1)); fi ;;
      esac
      ;;
    key=*)
      v=${a#key=}
      case $v in
        ssh-ed25519\ * | ssh-rsa\ * | ecdsa-sha2-nistp256\ * | ecdsa-sha2-nistp384\ * | ecdsa-sha2-nistp521\ * | sk-ssh-ed25519@openssh.com\ * | sk-ecdsa-sha2-nistp256@openssh.com\ *)
          case ${v#* } in
            '' | *[!A-Za-z0-9+/=]*) BADARGS=$((BADARGS + 1)) ;;
            *) USER_KEY=$v ;;
          esac
          ;;
        *) BADARGS=$((BADARGS + 1)) ;;
      esac
      ;;
    '' | *[!0-9a-fA-F:.]*) BADARGS=$((BADARGS + 1)) ;;
    *) if [ ${#a} -le 45 ]; then CLIENTS="$CLIENTS $a"; else BADARGS=$((BADARGS + 1)); fi ;;
  esac
done

have() { command -v "$1" >/dev/null 2>&1; }

# has_ip IP: the lines of stdin that name IP as a whole address: 10.0.0.1 is not in
# 10.0.0.15 or 110.0.0.1; [10.0.0.1]:22 and ::ffff:10.0.0.1 are.
has_ip() {
  awk -v ip="$1" '{
    n = split($0, t, /[^0-9A-Fa-f:.]+/)
    for (i = 1; i <= n; i++) { x = t[i]; sub(/[.]$/, "", x); sub(/^::[fF][fF][fF][fF]:/, "", x); if (x == ip) { print; next } }
  }'
}

# Bounded time. Every command that could block (a hung systemd or fail2ban socket, a slow
# journal, df on a dead mount, an NSS lookup) goes through run(): at most CALL_S seconds
# each, and none once BUDGET_S seconds have passed since the start (the runners wait 30 s).
# A command that was cut once is not started again (a hung systemd hangs every systemctl).
# Each cut or skipped call is recorded in a private temporary directory and reported after
# its section as "@cut NAME calls=N first=KIND SECONDS CMD...".
CALL_S=5
BUDGET_S=20
T0=$(date +%s)
TMPD=""
# /dev/shm first: memory only (a full root disk does not stop it), and outside the
# filesystems the disk section measures.
for d in /dev/shm "${TMPDIR:-/tmp}" /run /var/tmp; do
  TMPD=$(mktemp -d "$d/sshdoctor.XXXXXX" 2>/dev/null) && [ -d "$TMPD" ] && break
  TMPD=""
done
trap '[ -n "$TMPD" ] && rm -rf -- "$TMPD"' EXIT
# GNU coreutils' timeout signals the whole process group, so a script's children die with it;
# with any other (busybox kills only the command) or none, the collector bounds the call itself.
case $(timeout --version 2>/dev/null | head -n 1) in
  *"GNU coreutils"*) BOUND=timeout ;;
  *) BOUND=self ;;
esac

# kill_tree PID: SIGKILL to PID and every process it started (a script's `sleep` child would
# keep the output pipe open), from /proc/PID/stat: "pid (comm) state ppid ..." (comm may hold
# spaces). The commands are read-only queries: nothing is lost by not asking them to stop.
kill_tree() {
  pids=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
    { s = $0; sub(/^.*\) /, "", s); split(s, f, " "); kids[f[2]] = kids[f[2]] " " $1 }
    END {
      q[1] = root; n = 1
      for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], c, " "); for (j = 1; j <= m; j++) q[++n] = c[j] }
    }')
  # shellcheck disable=SC2086 # a list of process ids
  kill -KILL ${pids:-$1} 2>/dev/null
  return 0
}

# bounded SECONDS CMD...: CMD in the background, and a watcher that kills its process tree
# after SECONDS; CMD's exit code (137 when the watcher killed it). Nothing started here may
# outlive the call: the shell's saved copies of redirected descriptors (dash keeps them on
# fd 10+) would hold the caller's pipe open, so the watcher is ended before returning.
bounded() {
  _lim=$1
  shift
  "$@" &
  _pid=$!
  (sleep "$_lim" && kill_tree "$_pid") </dev/null >/dev/null 2>&1 &
  _w=$!
  wait "$_pid"
  _rc=$?
  kill_tree "$_w"
  return "$_rc"
}

cut_note() {
  [ -n "$TMPD" ] || return 0
  printf '%s\n' "$*" | cut -c1-160 >>"$TMPD/cuts.${_name:-none}"
}

# run CMD [ARGS...]: CMD bounded in time; 124 when it was cut or not started.
run() {
  _cmd=${1##*/}
  if [ -n "$TMPD" ] && [ -e "$TMPD/hung.$_cmd" ]; then
    cut_note skipped-hung 0 "$@"
    return 124
  fi
  _t=$(date +%s)
  _lim=$((T0 + BUDGET_S - _t))
  if [ "$_lim" -le 0 ]; then
    cut_note skipped-budget 0 "$@"
    return 124
  fi
  [ "$_lim" -le "$CALL_S" ] || _lim=$CALL_S
  if [ "$BOUND" = timeout ]; then
    timeout -k 1 "$_lim" "$@"
  else
    bounded "$_lim" "$@"
  fi
  _rc=$?
  # 124: timeout's own code; 137/143: killed by the watcher (or by busybox timeout). A quick
  # exit with those codes is the command's own answer, not a cut.
  case $_rc in
    124 | 137 | 143) [ $(($(date +%s) - _t)) -ge "$_lim" ] || return "$_rc" ;;
    *) return "$_rc" ;;
  esac
  cut_note timeout "$_lim" "$@"
  [ -z "$TMPD" ] || : >"$TMPD/hung.$_cmd"
  return 124
}

# section NAME CAP CMD [ARGS...]: runs CMD (a command or function), prefixes each output
# line with "|", keeps at most CAP characters, and reports CMD's exit code and what it
# dropped. The rc line goes through the same pipe; awk treats only the last line as rc.
section() {
  _name=$1
  _cap=$2
  shift 2
  [ -n "$TMPD" ] || _s0=$(date +%s)
  printf '@section %s\n' "$_name"
  { "$@" 2>&1; printf '@rc %s\n' "$?"; } | awk -v name="$_name" -v cap="$_cap" '
    function emit(l) {
      if (length(l) > 1000) { l = substr(l, 1, 1000) "..."; cut++ }
      if (total + length(l) + 2 > cap) { dropped++; return }
      print "|" l
      total += length(l) + 2
    }
    { if (n) emit(prev); prev = $0; n = 1 }
    END {
      # Output without a final newline gets the rc marker glued to its last line.
      rc = "?"
      if (match(prev, /@rc -?[0-9]+$/)) {
        rc = substr(prev, RSTART + 4)
        if (RSTART > 1) emit(substr(prev, 1, RSTART - 1))
      }
      printf "@end %s rc=%s chars=%d dropped=%d cut=%d\n", name, rc, total, dropped + 0, cut + 0
    }'
  # Calls of this section that run() cut or skipped: a marker line the budget never drops.
  if [ -n "$TMPD" ]; then
    [ -s "$TMPD/cuts.$_name" ] && printf '@cut %s calls=%s first=%s\n' "$_name" "$(wc -l <"$TMPD/cuts.$_name" | tr -d ' ')" "$(head -n 1 "$TMPD/cuts.$_name" | cut -c1-120)"
  elif [ $(($(date +%s) - _s0)) -ge "$CALL_S" ] || [ $(($(date +%s) - T0)) -ge "$BUDGET_S" ]; then
    # Nowhere to record calls: a section this slow, or run past the budget, may hold one.
    printf '@cut %s calls=1 first=timeout %s (not recorded: no writable temporary directory)\n' "$_name" "$CALL_S"
  fi
  return 0
}

meta() {
  echo "collector=1"
  echo "uid=$(id -u 2>/dev/null)"
  echo "hostname=$(uname -n 2>/dev/null)"
  echo "kernel=$(uname -sr 2>/dev/null)"
  echo "arch=$(uname -m 2>/dev/null)"
  echo "time=$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"
  # Syslog's year-less stamps are local time: the checks compare them with this clock.
  echo "localtime=$(date +%Y-%m-%dT%H:%M:%S 2>/dev/null)"
  echo "clients=$CLIENTS"
  echo "badargs=$BADARGS"
  echo "bound=$BOUND call=$CALL_S budget=$BUDGET_S"
  if [ -d /run/systemd/system ]; then echo "init=systemd"; else echo "init=other"; fi
}

os_release() {
  for f in /etc/os-release /usr/lib/os-release; do
    if [ -r "$f" ]; then
      grep -E '^(ID|ID_LIKE|VERSION_ID|PRETTY_NAME)=' "$f"
      return 0
    fi
  done
  [ -r /etc/system-release ] && head -n 1 /etc/system-release
}

# hosts_file PATH: "NO<TAB>TEXT" for every physical line that can matter. A rule whose
# client list holds only literal addresses, none of them a client's, cannot match any
# client and is omitted (DenyHosts writes tens of thousands of those); omitted counts.
hosts_file() {
  if [ ! -e "$1" ]; then
    echo "#missing"
    return 0
  fi
  # libwrap stops reading at a last line without a newline (and, in hosts.deny, denies
  # everyone not matched before it): that line is always kept and flagged.
  unterm=0
  if [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' \n')" != "0a" ]; then unterm=1; fi
  awk -v clients="$CLIENTS" -v unterm="$unterm" '
    BEGIN { cnt = 0; n = split(clients, c, " "); for (i = 1; i <= n; i++) isclient[c[i]] = 1 }
    function literal_only(rule,    parts, list, toks, k, t, m, seg) {
      # Colons inside [IPv6] brackets do not separate fields (Debian libwrap split_at).
      while (match(rule, /\[[^]]*:[^]]*\]/)) {
        seg = substr(rule, RSTART, RLENGTH)
        gsub(/:/, "|", seg)
        rule = substr(rule, 1, RSTART - 1) seg substr(rule, RSTART + RLENGTH)
      }
      m = split(rule, parts, ":")
      if (m < 2) return 0
      list = parts[2]
      gsub(/,/, " ", list)
      m = split(list, toks, " ")
      if (m == 0) return 0
      for (k = 1; k <= m; k++) {
        t = toks[k]
        gsub(/\|/, ":", t)
        if (t ~ /^\[.*\]$/) t = substr(t, 2, length(t) - 2)
        if (t !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ && t !~ /^[0-9a-fA-F]*:[0-9a-fA-F:.]*$/) return 0
        if (t in isclient) return 0
      }
      return 1
    }
    function flush(last,   i) {
      if (cnt == 0) return
      if (n > 0 && !(last && unterm) && literal_only(logical)) omitted += cnt
      else for (i = 0; i < cnt; i++) print nos[i] "\t" txt[i]
      cnt = 0; logical = ""
    }
    {
      line = $0
      if (cnt == 0 && line ~ /^[ \t]*(#|$)/) { comments++; next }
      nos[cnt] = NR; txt[cnt] = line; cnt++
      if (line ~ /\\$/) { logical = logical substr(line, 1, length(line) - 1) " "; next }
      logical = logical line
      flush()
    }
    END {
      flush(1)
      printf "#lines=%d omitted=%d comments=%d unterminated=%d\n", NR, omitted + 0, comments + 0, unterm
    }
  ' "$1"
}

# Files named by "/path" patterns in the kept rules of hosts.allow/deny (libwrap reads them).
pattern_files() {
  for f in /etc/hosts.allow /etc/hosts.deny; do
    [ -r "$f" ] || continue
    grep -v '^[[:space:]]*#' "$f" | awk '{ n = split($0, t, /[ ,:\t]+/); for (i = 1; i <= n; i++) if (t[i] ~ /^\//) print t[i] }' | head -n 10
  done | sort -u | while read -r p; do
    if [ -r "$p" ] && [ -f "$p" ]; then
      echo "#file $p"
      head -c 2000 "$p" | awk '{ print NR "\t" $0 }'
    else
      echo "#unreadable $p"
    fi
  done
}

SSHD=$(command -v sshd 2>/dev/null)
[ -n "$SSHD" ] || for p in /usr/sbin/sshd /usr/local/sbin/sshd /sbin/sshd; do [ -x "$p" ] && SSHD=$p && break; done

sshd_bin() {
  if [ -z "$SSHD" ]; then
    echo "path="
    return 0
  fi
  echo "path=$SSHD"
  ls -l "$SSHD"
  echo "elf-machine=$(elf_machine "$SSHD")"
}

# e_machine from the ELF header (bytes 18-19, little-endian): 3e00=x86_64, b700=aarch64.
elf_machine() {
  od -An -tx1 -j18 -N2 "$1" 2>/dev/null | tr -d ' \n'
}

sshd_test() {
  [ -n "$SSHD" ] || return 127
  run "$SSHD" -t
}

# Effective configuration (Include and defaults resolved); only keys the checks use.
sshd_effective() {
  [ -n "$SSHD" ] || return 127
  out=$(run "$SSHD" -T 2>&1) || { printf '%s\n' "$out" | tail -n 5; return 1; }
  printf '%s\n' "$out" | grep -E '^(port|listenaddress|addressfamily|maxstartups|persourcepenalties|persourcepenaltyexemptlist|persourcemaxstartups|persourcenetblocksize|logingracetime|maxauthtries|usedns|usepam|permitrootlogin|passwordauthentication|pubkeyauthentication|kbdinteractiveauthentication|allowusers|denyusers|allowgroups|denygroups|hostkey|pidfile) '
}

# sshd_config and its Includes: non-comment lines as FILE<TAB>NO<TAB>TEXT.
sshd_config_lines() {
  main=/etc/ssh/sshd_config
  [ -r "$main" ] || { echo "#missing $main"; return 0; }
  inc=$(awk 'tolower($1) == "include" { for (i = 2; i <= NF; i++) print $i }' "$main")
  for f in $main $(for g in $inc; do case $g in /*) echo "$g" ;; *) echo "/etc/ssh/$g" ;; esac; done); do
    [ -r "$f" ] || continue
    awk -v f="$f" '$0 !~ /^[ \t]*(#|$)/ { print f "\t" NR "\t" $0 }' "$f"
  done
}

libraries() {
  [ -n "$SSHD" ] || return 127
  have ldd || { echo "#no-ldd"; return 0; }
  run ldd "$SSHD" | sed 's/ (0x[0-9a-f]*)$//'
}

# For each library ldd could not resolve: the versioned files present beside it.
missing_libraries() {
  [ -n "$SSHD" ] && have ldd || return 0
  run ldd "$SSHD" 2>/dev/null | awk '/not found/ { print $1 }' | while read -r lib; do
    echo "#missing $lib"
    base=${lib%%.so*}.so
    for d in /lib /lib64 /usr/lib /usr/lib64 /lib/*-linux-gnu /usr/lib/*-linux-gnu /usr/local/lib; do
      [ -d "$d" ] || continue
      for f in "$d/$base" "$d/$base".*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        if [ -L "$f" ]; then
          echo "link $f -> $(readlink "$f") exists=$([ -e "$f" ] && echo 1 || echo 0)"
        else
          echo "file $f elf-machine=$(elf_machine "$f")"
        fi
      done
    done
  done
}

service() {
  if have systemctl && [ -d /run/systemd/system ]; then
    for u in ssh.service sshd.service ssh.socket sshd.socket; do
      # `show --value` needs systemd 230+ (CentOS 7, Amazon Linux 2 run 219): strip the key.
      load=$(run systemctl show -p LoadState "$u" 2>/dev/null | sed -n 's/^LoadState=//p')
      [ "$load" = "loaded" ] || continue
      echo "unit $u active=$(run systemctl is-active "$u" 2>/dev/null) enabled=$(run systemctl is-enabled "$u" 2>/dev/null) $(run systemctl show -p SubState -p Result -p ExecMainStatus -p NRestarts "$u" 2>/dev/null | tr '\n' ' ')"
    done
  fi
  if have ps; then
    run ps -e -o pid= -o args= 2>/dev/null | awk '$2 ~ /(^|\/)sshd$/ || $2 ~ /^sshd:/ { print "proc " $0 }' | head -n 20
  fi
  for pidf in /run/sshd.pid /var/run/sshd.pid; do
    [ -r "$pidf" ] && echo "pidfile $pidf $(cat "$pidf")"
  done
  return 0
}

# Listening TCP sockets straight from the kernel (no ss/netstat needed): state 0A.
listening() {
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] && awk -v f="${f##*/}" '$4 == "0A" { print f, $2, $10 }' "$f"
  done
  if have ss; then
    run ss -Htlnp 2>/dev/null | awk '{ print "ss", $4, $6 }' | head -n 40
  fi
  return 0
}

# iptables-save, minus what cannot decide a new TCP connection from a client: single-host
# rules for addresses that are no client's (fail2ban and sshguard add one per ban), LOG rules,
# and udp/icmp-only rules (ufw writes dozens of both); every omission is counted.
iptables_dump() {
  have "$1" || { echo "#absent"; return 0; }
  # stderr is kept: a permission error must not read as an empty ruleset.
  # With the nf_tables backend its filter table is also in `nft -j` (as bulky xt expressions):
  # a flag file tells nft_json that iptables-save covers it.
  run "$1" 2>&1 | awk -v clients="$CLIENTS" -v flag="${TMPD:+$TMPD/nft-owned.$1}" '
    BEGIN { n = split(clients, c, " "); for (i = 1; i <= n; i++) { isclient[c[i]] = 1; isclient[c[i] "/32"] = 1; isclient[c[i] "/128"] = 1 } }
    /Permission denied|Operation not permitted|must be root/ { print "#denied " $0; next }
    /^# Warning: iptables-legacy tables present/ { print "#legacy-warning " $0; next }
    /^# Generated by .*\(nf_tables\)/ { nfb = 1 }
    /^# Table `filter. is incompatible/ { incompat = 1 }
    /^\*filter$/ { hasfilter = 1 }
    /^#/ { next }
    !/^[*:]/ && !/^-A / && !/^COMMIT/ { print "#stderr " $0; next }
    /^-A / && / -j LOG( |$)/ { omitted++; next }
    /^-A / && / -p (udp|icmp|ipv6-icmp|icmpv6|17|1|58)( |$)/ && !/ ! -p / { omitted++; next }
    /^-A / && / -s [0-9a-fA-F:.]+\/(32|128) / {
      for (i = 1; i <= NF; i++) if ($i == "-s") src = $(i + 1)
      if (!(src in isclient)) { omitted++; next }
    }
    { print }
    END {
      printf "#omitted=%d\n", omitted + 0
      if (flag != "" && nfb && hasfilter && !incompat) printf "" >flag
    }'
}

nft_dump() {
  have nft || { echo "#absent"; return 0; }
  # With JSON (section nft-json) the text form is only a fallback for evidence.
  if run nft -j list ruleset >/dev/null 2>&1; then echo "#json"; return 0; fi
  run nft list ruleset 2>/dev/null | awk 'length($0) > 300 { print substr($0, 1, 300) " ..."; next } { print }'
}

# Lines of the nft ruleset naming a client (big ban sets would otherwise be cut off).
nft_clients() {
  have nft || return 0
  [ -n "$CLIENTS" ] || return 0
  rules=$(run nft list ruleset 2>/dev/null)
  for ip in $CLIENTS; do
    printf '%s\n' "$rules" | grep -n -F -w -- "$ip" | head -n 5 | sed "s/^/$ip /"
  done
  return 0
}

# The ruleset as `nft -j` JSON (one line), spaces after separators removed and folded into
# 240-character lines: the reader joins the lines back without separators. Only what a new
# connection can meet is kept (a firewalld or ufw ruleset is far larger than the section):
# tables, sets, the input-hook base chains and the chains they jump or go to, with their rules;
# not the ip/ip6 filter tables iptables-save already showed (iptables-nft). Omissions are counted.
nft_json() {
  have nft || { echo "#absent"; return 0; }
  out=$(run nft -j list ruleset 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ "${out#\{}" = "$out" ]; then
    printf '%s\n' "$out" | head -n 3 | sed 's/^/#error /'
    return "$rc"
  fi
  own=""
  [ -n "$TMPD" ] && [ -e "$TMPD/nft-owned.iptables-save" ] && own="$own ip"
  [ -n "$TMPD" ] && [ -e "$TMPD/nft-owned.ip6tables-save" ] && own="$own ip6"
  printf '%s\n' "$out" | sed 's/": /":/g; s/, "/,"/g; s/, {/,{/g; s/, \[/,[/g' | awk -v own="$own" -v clients="$CLIENTS" '
    function field(o, k,    m) { if (match(o, "\"" k "\":\"[^\"]*\"")) return substr(o, RSTART + length(k) + 4, RLENGTH - length(k) - 5); return "" }
    # A set of addresses keeps its prefixes, ranges and the clients, not other single addresses
    # (a ban set holds thousands): no client changes membership.
    function thin(o,    a, i, d, q, ch, st, e, v, kept, dropped) {
      a = index(o, "\"elem\":[")
      if (!a) return o
      i = a + 8; d = 1; q = 0; st = i; kept = ""; dropped = 0
      for (; i <= length(o) && d > 0; i++) {
        ch = substr(o, i, 1)
        if (q) { if (ch == "\\") i++; else if (ch == "\"") q = 0; continue }
        if (ch == "\"") q = 1
        else if (ch == "[" || ch == "{") d++
        else if (ch == "]" || ch == "}") d--
        if ((ch == "," && d == 1) || d == 0) {
          e = substr(o, st, i - st); st = i + 1
          v = e; sub(/^\{"elem":\{"val":/, "", v); sub(/,.*$/, "", v); sub(/\}+$/, "", v)
          if (v ~ /^"[0-9a-fA-F:.]+"$/ && v ~ /[.:]/ && !((substr(v, 2, length(v) - 2)) in isclient)) { dropped++; continue }
          kept = kept (kept == "" ? "" : ",") e
        }
      }
      if (dropped) print "#omitted-elements " field(o, "name") " " dropped " (addresses of no client)"
      return substr(o, 1, a + 7) kept substr(o, i - 1)
    }
    {
      # Split the top-level array into objects (depth 3 inside {"nftables":[...]}), outside strings.
      s = $0; len = length(s); d = 0; q = 0
      for (i = 1; i <= len; i++) {
        ch = substr(s, i, 1)
        if (q) { if (ch == "\\") i++; else if (ch == "\"") q = 0; continue }
        if (ch == "\"") q = 1
        else if (ch == "{" || ch == "[") { d++; if (d == 3) st = i }
        else if (ch == "}" || ch == "]") { if (d == 3) obj[++n] = substr(s, st, i - st + 1); d-- }
      }
    }
    END {
      split(own, o, " "); for (k in o) owned[o[k] " filter"] = 1
      split(clients, o, " "); for (k in o) isclient[o[k]] = 1
      for (k = 1; k <= n; k++) {
        x = obj[k]; kind[k] = substr(x, 3, index(substr(x, 3), "\"") - 1)
        tab[k] = field(x, "family") " " (kind[k] == "table" ? field(x, "name") : field(x, "table"))
        if (kind[k] == "chain" && field(x, "hook") == "input") { reach[tab[k] " " field(x, "name")] = 1; todo[++t] = tab[k] " " field(x, "name") }
        if (kind[k] == "rule") { ch = tab[k] " " field(x, "chain"); rules[ch] = rules[ch] " " k }
      }
      # Chains reached from the input hooks by jump, goto or a verdict map.
      for (j = 1; j <= t; j++) {
        m = split(rules[todo[j]], r, " "); split(todo[j], f, " ")
        for (a = 1; a <= m; a++) {
          x = obj[r[a]]
          while (match(x, /"(jump|goto)":\{"target":"[^"]*"/)) {
            tg = substr(x, RSTART, RLENGTH); sub(/.*"target":"/, "", tg); sub(/"$/, "", tg)
            x = substr(x, RSTART + RLENGTH)
            c = f[1] " " f[2] " " tg
            if (!(c in reach)) { reach[c] = 1; todo[++t] = c }
          }
        }
      }
      out = ""; skipped = 0
      for (k = 1; k <= n; k++) {
        keep = kind[k] == "metainfo" || kind[k] == "table" || kind[k] == "set" || kind[k] == "map" || kind[k] == "element"
        if (kind[k] == "chain") keep = (tab[k] " " field(obj[k], "name")) in reach
        if (kind[k] == "rule") keep = (tab[k] " " field(obj[k], "chain")) in reach
        if (kind[k] != "metainfo" && tab[k] in owned) { if (!(tab[k] in said)) print "#omitted-table " tab[k] " (iptables-nft: read through iptables-save)"; said[tab[k]] = 1; keep = 0 }
        if (keep && kind[k] == "set") obj[k] = thin(obj[k])
        if (keep) out = out (out == "" ? "" : ",") obj[k]; else skipped++
      }
      print "#omitted-objects " skipped
      print "{\"nftables\":[" out "]}"
    }' | fold -w 240
}

# The interface each client's packets arrive on (the route back to it, as the kernel picks
# it), for iptables -i and nft iif/iifname rules.
fw_route() {
  have ip || { echo "#no-ip"; return 0; }
  for ip in $CLIENTS; do
    printf 'route %s %s\n' "$ip" "$(run ip -o route get "$ip" 2>&1 | head -n 1)"
  done
  run ip -o addr show 2>/dev/null | awk '{ print "addr " $2 " " $4 }' | head -n 20
  return 0
}

# iptables-legacy tables (x_tables), read only when the kernel already has some loaded:
# iptables-nft prints "# Warning: iptables-legacy tables present" then.
iptables_legacy() {
  names=/proc/net/ip_tables_names
  [ "$1" = ip6tables-legacy-save ] && names=/proc/net/ip6_tables_names
  [ -s "$names" ] || { echo "#none"; return 0; }
  iptables_dump "$1"
}

# ufw: status (needs root) and its configuration files as fallback facts.
ufw_state() {
  have ufw || [ -e /etc/ufw/ufw.conf ] || { echo "#absent"; return 0; }
  [ -r /etc/ufw/ufw.conf ] && grep -E '^ENABLED=' /etc/ufw/ufw.conf | sed 's/^/conf /'
  [ -r /etc/default/ufw ] && grep -E '^DEFAULT_INPUT_POLICY=' /etc/default/ufw | sed 's/^/conf /'
  if have ufw; then
    st=$(run ufw status verbose 2>&1)
    echo "#status-rc=$?"
    printf '%s\n' "$st" | head -n 60
  fi
  return 0
}

# firewalld: running state, default and active zones, and each active zone's settings; from
# its XML (/etc overrides /usr/lib) when it is not running.
firewalld_state() {
  have firewall-cmd || [ -d /etc/firewalld ] || { echo "#absent"; return 0; }
  if have firewall-cmd && [ "$(run firewall-cmd --state 2>/dev/null)" = running ]; then
    echo "#running"
    echo "default $(run firewall-cmd --get-default-zone 2>/dev/null)"
    run firewall-cmd --get-active-zones 2>/dev/null | head -n 20 | sed 's/^/active /'
    for z in $(run firewall-cmd --get-active-zones 2>/dev/null | grep -v '^[[:space:]]' | head -n 5); do
      echo "#zone $z"
      run firewall-cmd --list-all --zone="$z" 2>/dev/null | head -n 30
    done
    return 0
  fi
  echo "#not-running"
  def=$(sed -n 's/^DefaultZone=//p' /etc/firewalld/firewalld.conf 2>/dev/null | head -n 1)
  [ -n "$def" ] || def=public
  echo "default $def"
  # Zones customised in /etc (they override /usr/lib), then the default zone's shipped file.
  files=""
  for f in /etc/firewalld/zones/*.xml; do [ -r "$f" ] && files="$files $f"; done
  [ -r "/etc/firewalld/zones/$def.xml" ] || files="$files /usr/lib/firewalld/zones/$def.xml"
  for f in $files; do
    [ -r "$f" ] || { echo "#missing $f"; continue; }
    echo "#xml $f"
    grep -E '<(zone|service|port|source|interface|rule|accept|drop|reject|forward-port)' "$f" | sed 's/^[[:space:]]*//' | head -n 25
  done
  return 0
}

fail2ban() {
  have fail2ban-client || { echo "installed=no"; return 0; }
  echo "installed=yes"
  # fail2ban-client is a Python start-up (~0.1 s): skip it when the server has no socket.
  if [ ! -S /run/fail2ban/fail2ban.sock ] && [ ! -S /var/run/fail2ban/fail2ban.sock ]; then
    echo "status-rc=255"
    echo "ERROR fail2ban server socket not found: fail2ban is not running"
    return 0
  fi
  st=$(run fail2ban-client status 2>&1)
  echo "status-rc=$?"
  printf '%s\n' "$st" | head -n 5
  jails=$(printf '%s\n' "$st" | sed -n 's/.*Jail list:[[:space:]]*//p' | tr ',' ' ')
  for j in $jails; do
    js=$(run fail2ban-client status "$j" 2>&1)
    printf '%s\n' "$js" | grep -E 'Currently (failed|banned)|Total (failed|banned)' | sed "s/^[^A-Z]*/jail $j /"
    list=" $(printf '%s\n' "$js" | sed -n 's/.*Banned IP list:[[:space:]]*//p') "
    for ip in $CLIENTS; do
      case $list in *" $ip "*) echo "banned $j $ip" ;; esac
    done
  done
  return 0
}

blockers() {
  if [ -e /etc/denyhosts.conf ]; then echo "denyhosts config=/etc/denyhosts.conf"; fi
  for f in /var/lib/denyhosts/hosts /var/lib/denyhosts/hosts-restricted; do
    [ -r "$f" ] || continue
    for ip in $CLIENTS; do grep -q -F -x -- "$ip" "$f" 2>/dev/null && echo "denyhosts-listed $ip $f"; done
  done
  if have sshguard; then echo "sshguard installed=yes"; fi
  if have ps; then
    run ps -e -o args= 2>/dev/null | awk '/[d]enyhosts|[s]shguard|[f]ail2ban-server|[c]rowdsec/ { print "running " $0 }' | head -n 5
  fi
  for f in /var/db/sshguard/blacklist.db /var/lib/sshguard/blacklist.db /var/lib/sshguard/enemies; do
    [ -r "$f" ] || continue
    for ip in $CLIENTS; do [ -n "$(has_ip "$ip" <"$f" 2>/dev/null | head -n 1)" ] && echo "sshguard-listed $ip $f"; done
  done
  return 0
}

# Recent sshd lines that explain refusals; client-specific lines first.
AUTHPAT='Authentication refused|ROOT LOGIN REFUSED|account has expired|by PAM account configuration|not in PubkeyAcceptedAlgorithms|refused connect|MaxStartups|penalt|error|fatal|Server listening|Received signal|terminating|Bad configuration|Missing privilege|Did not receive identification|not allowed because|Failed password|Invalid user|Connection (closed|reset)|banner exchange'
auth_log() {
  found=0
  for f in /var/log/auth.log /var/log/secure /var/log/messages; do
    [ -r "$f" ] || continue
    found=1
    echo "#file $f"
    recent=$(tail -n 20000 "$f" 2>/dev/null | grep -E 'sshd' | grep -E "$AUTHPAT")
    for ip in $CLIENTS; do
      printf '%s\n' "$recent" | has_ip "$ip" | tail -n 5 | sed 's/^/client /'
    done
    printf '%s\n' "$recent" | tail -n 25
    break
  done
  if [ "$found" = 0 ] && have journalctl; then
    echo "#journal"
    # OpenSSH 9.8+ logs per-connection lines as sshd-session, 10.x also as sshd-auth.
    recent=$(run journalctl -q --no-pager -o short-iso -n 3000 _COMM=sshd _COMM=sshd-session _COMM=sshd-auth 2>/dev/null | grep -E "$AUTHPAT")
    for ip in $CLIENTS; do
      printf '%s\n' "$recent" | has_ip "$ip" | tail -n 5 | sed 's/^/client /'
    done
    printf '%s\n' "$recent" | tail -n 25
  fi
  return 0
}

disk() {
  run df -P / /var /var/log /run /tmp 2>/dev/null | awk '!seen[$0]++'
  echo "#inodes"
  run df -Pi / /var /run 2>/dev/null | awk '!seen[$0]++'
  return 0
}

# For --user: the account (derived shadow facts only: never the hash), what sshd's effective
# configuration says for this user and each client (Match blocks applied), and each
# authorized-keys file: its path chain's owners and modes, and the line holding the key.
user_facts() {
  [ -n "$USER_NAME" ] || { echo "#none"; return 0; }
  pw=$(awk -F: -v u="$USER_NAME" '$1 == u { print; exit }' /etc/passwd 2>/dev/null)
  [ -n "$pw" ] || pw=$(run getent passwd "$USER_NAME" 2>/dev/null | head -n 1)
  echo "name=$USER_NAME"
  if [ -z "$pw" ]; then echo "exists=0"; return 0; fi
  echo "exists=1"
  home=$(printf '%s\n' "$pw" | cut -d: -f6)
  shell=$(printf '%s\n' "$pw" | cut -d: -f7)
  echo "uid=$(printf '%s\n' "$pw" | cut -d: -f3)"
  echo "home=$home"
  echo "shell=$shell"
  if [ -x "$shell" ]; then echo "shell-executable=1"; else echo "shell-executable=0"; fi
  if [ -r /etc/shells ] && grep -qxF -- "$shell" /etc/shells; then echo "shell-listed=1"; else echo "shell-listed=0"; fi
  echo "groups=$(run id -Gn "$USER_NAME" 2>/dev/null)"
  gid=$(printf '%s\n' "$pw" | cut -d: -f4)
  run getent group "$gid" 2>/dev/null | awk -F: '{ print "primary-group=" $1; print "primary-group-members=" $4 }'
  if [ -r /etc/shadow ]; then
    # Derived flags and day numbers only: the hash field is reduced to "locked" / "no password".
    awk -F: -v u="$USER_NAME" '$1 == u {
      p = substr($2, 1, 1)
      print "shadow-locked=" ((p == "!") ? 1 : 0)
      print "shadow-nopassword=" (($2 == "*" || $2 == "!" || $2 == "!!" || $2 == "") ? 1 : 0)
      print "shadow-lastchg=" $3; print "shadow-max=" $5; print "shadow-inactive=" $7; print "shadow-expire=" $8
    }' /etc/shadow
  else
    echo "shadow=unreadable"
  fi
  echo "today=$(($(date +%s) / 86400))"
  if [ -e /etc/nologin ]; then echo "nologin=$(head -n 1 /etc/nologin 2>/dev/null | cut -c1-200)"; fi
  [ -n "$SSHD" ] || return 0
  n=0
  for ip in ${CLIENTS:-127.0.0.1}; do
    n=$((n + 1))
    [ "$n" -le 3 ] || break
    out=$(run "$SSHD" -T -C "user=$USER_NAME,host=$ip,addr=$ip" 2>&1) || { printf '%s\n' "$out" | tail -n 2 | sed "s/^/T-error $ip /"; continue; }
    printf '%s\n' "$out" | grep -E '^(allowusers|denyusers|allowgroups|denygroups|permitrootlogin|pubkeyauthentication|authenticationmethods|pubkeyacceptedalgorithms|pubkeyacceptedkeytypes|authorizedkeysfile|authorizedkeyscommand|strictmodes|usepam|passwordauthentication) ' | sed "s/^/T $ip /"
  done
  files=$(printf '%s\n' "$out" | awk '$1 == "authorizedkeysfile" { for (i = 2; i <= NF; i++) print $i }' | head -n 4)
  [ -n "$files" ] || files=".ssh/authorized_keys .ssh/authorized_keys2"
  for f in $files; do
    # %h home, %u user, %% a percent sign; a relative path is under the home directory.
    f=$(printf '%s\n' "$f" | sed -e "s|%h|$home|g" -e "s|%u|$USER_NAME|g" -e 's|%%|%|g')
    case $f in /*) ;; *) f="$home/$f" ;; esac
    echo "#akfile $f"
    p=""
    for c in $(printf '%s\n' "$f" | tr '/' ' '); do
      p="$p/$c"
      run stat -c 'chain %a %U %G %F %n' "$p" 2>/dev/null || { echo "chain-missing $p"; break; }
    done
    if [ -f "$f" ] && [ ! -r "$f" ]; then echo "akfile-unreadable $f"; continue; fi
    [ -f "$f" ] || continue
    echo "akfile-lines $(grep -cv '^[[:space:]]*\(#\|$\)' "$f" 2>/dev/null)"
    if [ -n "$USER_KEY" ]; then
      # The options before the key (from=, expiry-time=, command=, restrict...), never other keys.
      awk -v k="$USER_KEY" '{ i = index($0, k); if (i > 0) { o = substr($0, 1, i - 1); sub(/[ \t]+$/, "", o); print "keyline " NR " " o } }' "$f" | head -n 3
    fi
  done
  if have getenforce; then
    se=$(run getenforce 2>/dev/null)
    echo "selinux=$se"
    if [ "$se" = Enforcing ] && [ -d "$home/.ssh" ]; then
      stat -c 'selinux-label %C %n' "$home/.ssh" 2>/dev/null
      have matchpathcon && run matchpathcon -n "$home/.ssh" 2>/dev/null | sed 's/^/selinux-expected /'
    fi
  fi
  pam_facts
  user_log
  return 0
}

# The last sshd lines about USER (refusals that name the account), from the log file or journal.
user_log() {
  pat="Authentication refused|ROOT LOGIN REFUSED|account has expired|by PAM account configuration|not in PubkeyAcceptedAlgorithms|not allowed because|Failed (publickey|password)|Invalid user|User .* not allowed"
  for f in /var/log/auth.log /var/log/secure; do
    [ -r "$f" ] || continue
    tail -n 20000 "$f" 2>/dev/null | grep -E 'sshd' | grep -E "$pat" | grep -wF -- "$USER_NAME" | tail -n 5 | cut -c1-300 | sed 's/^/userlog /'
    return 0
  done
  if have journalctl; then
    run journalctl -q --no-pager -o short-iso -n 3000 _COMM=sshd _COMM=sshd-session _COMM=sshd-auth 2>/dev/null | grep -E "$pat" | grep -wF -- "$USER_NAME" | tail -n 5 | cut -c1-300 | sed 's/^/userlog /'
  fi
  return 0
}

# The PAM stack sshd runs (UsePAM yes): where it uses pam_nologin, pam_access, pam_faillock or
# pam_tally2 (following include/substack one level), and the user's failure tally.
pam_facts() {
  [ -r /etc/pam.d/sshd ] || { echo "pam-missing /etc/pam.d/sshd"; return 0; }
  incs=$(awk '$1 ~ /^@include$/ { print $2 } $2 ~ /^(include|substack)$/ { print $3 }' /etc/pam.d/sshd 2>/dev/null | head -n 6)
  stack=""
  for f in /etc/pam.d/sshd $incs; do
    case $f in /*) ;; *) f="/etc/pam.d/$f" ;; esac
    [ -r "$f" ] || continue
    stack="$stack$(awk -v f="$f" '/^[ \t]*#/ { next } /pam_(nologin|access|faillock|tally2)\.so/ { sub(/^[ \t]+/, ""); print "pam " f ":" NR " " substr($0, 1, 200) }' "$f")
"
  done
  printf '%s' "$stack" | grep -v '^$'
  if printf '%s' "$stack" | grep -q 'pam_access\.so'; then
    awk '/^[ \t]*(#|$)/ { next } { print "access " NR " " substr($0, 1, 200) }' /etc/security/access.conf 2>/dev/null | head -n 30
  fi
  if [ -r /etc/security/faillock.conf ]; then
    awk -F= '/^[ \t]*(deny|unlock_time|fail_interval|even_deny_root|dir)[ \t]*(=|$)/ { k = $1; gsub(/[ \t]/, "", k); v = $2; gsub(/[ \t]/, "", v); print "faillock-conf " k "=" v }' /etc/security/faillock.conf
  fi
  if have faillock; then
    out=$(run faillock --user "$USER_NAME" 2>&1) || { echo "faillock-error $(printf '%s' "$out" | tail -n 1 | cut -c1-160)"; return 0; }
    # Entries marked V (valid) count towards deny; print their number and the newest one's time.
    printf '%s\n' "$out" | awk '$NF == "V" { n++; last = $1 " " $2 } END { print "faillock-valid=" n + 0; if (n) print "faillock-last=" last }'
  elif have pam_tally2; then
    run pam_tally2 --user "$USER_NAME" 2>/dev/null | awk 'NR == 2 { print "tally2-failures=" $2 }'
  fi
}

permissions() {
  for p in /etc/ssh /etc/ssh/sshd_config /etc/ssh/ssh_host_* /run/sshd /var/run/sshd /var/empty /var/empty/sshd /usr/share/empty.sshd; do
    [ -e "$p" ] || continue
    stat -c '%a %U %G %F %n' "$p" 2>/dev/null
  done
  return 0
}

# The whole document stays under the 24,000-character inline output limit of SSM and
# Cloud Assistant: past BUDGET characters of data, lines are dropped and counted on the
# section's @end line (gdropped=N), so truncation is never silent.
budget() {
  awk -v budget=20500 '
    /^\|/ { if (used + length($0) + 1 > budget) { gd++; next } used += length($0) + 1; print; next }
    /^@cut / { used += length($0) + 1 }
    /^@end / { if (gd) { print $0 " gdropped=" gd; gd = 0; next } }
    { print }'
}

collect() {
  echo "#sshdoctor-collector 1"
  section meta 600 meta
  section os 400 os_release
  section hosts.allow 2500 hosts_file /etc/hosts.allow
  section hosts.deny 3000 hosts_file /etc/hosts.deny
  section wrapper-files 1200 pattern_files
  section sshd-binary 400 sshd_bin
  section sshd-test 800 sshd_test
  section sshd-effective 1600 sshd_effective
  section sshd-config 1800 sshd_config_lines
  section sshd-libraries 1800 libraries
  section missing-libraries 800 missing_libraries
  section service 1000 service
  section listening 1200 listening
  section iptables 4000 iptables_dump iptables-save
  section ip6tables 3000 iptables_dump ip6tables-save
  section nftables 1200 nft_dump
  section nft-clients 400 nft_clients
  section nft-json 6000 nft_json
  section fw-route 600 fw_route
  section iptables-legacy 1000 iptables_legacy iptables-legacy-save
  section ip6tables-legacy 400 iptables_legacy ip6tables-legacy-save
  section ufw 1200 ufw_state
  section firewalld 1500 firewalld_state
  section fail2ban 600 fail2ban
  section blockers 400 blockers
  section auth-log 2000 auth_log
  section disk 600 disk
  section permissions 800 permissions
  section user 3600 user_facts
  echo "#end"
}

collect | budget
exit 0
