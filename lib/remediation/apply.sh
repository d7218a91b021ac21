#!/bin/sh
# sshdoctor remediation: performs ONE fix action, or its inverse, on this host.
#
#   apply.sh comment-line FILE LINE TEXT
#   apply.sh insert-line-before FILE LINE TEXT        (LINE 0: append)
#   apply.sh fail2ban-unban JAIL IP
#   apply.sh firewall-delete-rule FAMILY TABLE CHAIN RULE
#   apply.sh firewall-insert-accept FAMILY TABLE CHAIN IP PORT
#   apply.sh symlink LINK TARGET
#   apply.sh service-start MANAGER SERVICE
#   apply.sh rollback KIND ARGS...                    (the rollback-arg lines of a change)
#
# Contract: never templated; every parameter is an argv entry validated again here.
# Each action re-checks its precondition, backs up first, changes idempotently (a second
# run prints result=unchanged) and prints key=value lines after "#sshdoctor-apply 1":
# result (changed|unchanged|precondition-failed|failed|restored), before, after, backup,
# detail and rollback-arg (one per argv entry of the inverse). Exit 0 for changed,
# unchanged and restored; 2 bad arguments; 3 precondition no longer holds; 4 change failed.
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
LC_ALL=C
export LC_ALL
umask 022

BACKUP_DIR=/var/backups/sshdoctor

out() { printf '%s=%s\n' "$1" "$2"; }
clean() { printf '%s' "$1" | tr -d '\000-\010\012-\037\177' | cut -c1-400; }
finish() { out result "$1"; [ -z "${2:-}" ] || out detail "$(clean "$2")"; exit "${3:-0}"; }
usage() { out result usage-error; out detail "$(clean "$1")"; exit 2; }
precondition() { finish precondition-failed "$1" 3; }
failed() { finish failed "$1" 4; }

printf '#sshdoctor-apply 1\n'

# ---- validation (the TypeScript side validated too; this script trusts nobody) -----------
safe_path() {
  case $1 in
    *[!A-Za-z0-9_./+@-]* | */../* | */.. | */./* | *//* | */) return 1 ;;
  esac
  return 0
}
etc_path() {
  safe_path "$1" || usage "$2: must be a plain absolute path, got $(clean "$1")"
  case $1 in /etc/?*) ;; *) usage "$2: must be under /etc" ;; esac
}
lib_path() {
  safe_path "$1" || usage "$2: must be a plain absolute path"
  case $1 in
    /lib/?* | /lib64/?* | /lib32/?* | /usr/lib/?* | /usr/lib64/?* | /usr/lib32/?* | /usr/local/lib/?*) ;;
    *) usage "$2: must be under a library directory (/lib, /lib64, /usr/lib, /usr/lib64, /usr/local/lib)" ;;
  esac
}
digits() {
  case $1 in '' | *[!0-9]*) usage "$2: must be decimal digits" ;; esac
  [ "${#1}" -le 7 ] || usage "$2: too large"
}
ip_addr() {
  case $1 in '' | *[!0-9a-fA-F.:]*) usage "$2: must be an IPv4 or IPv6 address" ;; esac
  [ "${#1}" -le 45 ] || usage "$2: too long for an address"
}
name_arg() {
  case $1 in '' | *[!A-Za-z0-9_.@-]* | .*) usage "$2: must be letters, digits, _ . @ - and not start with a dot" ;; esac
  [ "${#1}" -le 64 ] || usage "$2: too long"
}
line_text() {
  # One printable line: a newline would smuggle a second rule into the file.
  [ -n "$1" ] || usage "$2: must not be empty"
  [ "$(clean "$1")" = "$1" ] || usage "$2: must be one line of printable characters (at most 400)"
}
family_cmd() {
  case $1 in
    ipv4) FW=iptables ;;
    ipv6) FW=ip6tables ;;
    *) usage "FAMILY: must be ipv4 or ipv6" ;;
  esac
  command -v "$FW" >/dev/null 2>&1 || precondition "$FW is not installed"
}
table_arg() {
  case $1 in filter | nat | mangle | raw | security) ;; *) usage "TABLE: must be filter, nat, mangle, raw or security" ;; esac
}
chain_arg() {
  case $1 in '' | *[!A-Za-z0-9_.-]* | -*) usage "CHAIN: must be letters, digits, _ . -" ;; esac
  [ "${#1}" -le 28 ] || usage "CHAIN: at most 28 characters"
}

# ---- helpers ---------------------------------------------------------------------------
stamp() { date -u +%Y%m%dT%H%M%SZ; }

# Sets BACKUP to a fresh backup name for $1 (same directory, so the copy stays on its filesystem).
backup_name() {
  # POSIX sh has no locals: helpers use bn_/rw_ names so callers' variables survive.
  bn_base="$1.sshdoctor-$(stamp)"
  BACKUP=$bn_base
  bn_i=0
  while [ -e "$BACKUP" ] || [ -L "$BACKUP" ]; do
    bn_i=$((bn_i + 1))
    [ "$bn_i" -lt 100 ] || failed "no free backup name for $1"
    BACKUP="$bn_base.$bn_i"
  done
}

regular_file() { [ -f "$1" ] && [ ! -L "$1" ]; }
nth_line() { awk -v n="$2" 'NR == n { print; found = 1; exit } END { if (!found) exit 1 }' "$1"; }
line_count() { awk 'END { print NR }' "$1"; }

# Replaces $1 by the output of an awk program over it, keeping owner and mode (cp -p), atomically.
rewrite() {
  rw_file=$1
  shift
  rw_tmp=$(mktemp "$(dirname "$rw_file")/.sshdoctor.XXXXXX") || failed "cannot create a temporary file next to $rw_file"
  if cp -p "$rw_file" "$rw_tmp" && awk "$@" "$rw_file" >"$rw_tmp" && mv -f "$rw_tmp" "$rw_file"; then return 0; fi
  rm -f "$rw_tmp"
  failed "could not rewrite $rw_file"
}

find_sshd() {
  for s in "$(command -v sshd 2>/dev/null || true)" /usr/sbin/sshd /usr/local/sbin/sshd /sbin/sshd; do
    if [ -n "$s" ] && [ -x "$s" ]; then
      printf '%s' "$s"
      return 0
    fi
  done
  return 1
}

# "OK" or the first line sshd -t complains with.
sshd_test() {
  s=$(find_sshd) || {
    printf 'no sshd binary'
    return 1
  }
  if msg=$("$s" -t 2>&1); then
    printf 'OK'
    return 0
  fi
  printf '%s' "$(printf '%s\n' "$msg" | head -n 1)"
  return 1
}

# ELF class, byte order and machine (bytes 4, 5, 18, 19) of a file, or nothing.
elf_id() {
  set -- "$(od -An -tx1 -N20 "$1" 2>/dev/null | tr -s ' \n' '  ')"
  # shellcheck disable=SC2086 # deliberate split of the hex dump into bytes (digits and spaces only)
  set -- $1
  [ "$#" -eq 20 ] && [ "$1$2$3$4" = 7f454c46 ] || return 1
  printf '%s-%s-%s%s' "$5" "$6" "${19}" "${20}"
}

is_sshd_config() {
  case $1 in /etc/ssh/*) return 0 ;; esac
  return 1
}

# file_line_args USAGE FILE LINE TEXT: validates the arguments of the line edits and sets
# file, n and text.
file_line_args() {
  [ "$#" -eq 4 ] || usage "$1"
  etc_path "$2" FILE
  digits "$3" LINE
  line_text "$4" TEXT
  file=$2 n=$3 text=$4
  regular_file "$file" || precondition "$file is not a regular file"
}

# backup_file FILE: a timestamped copy beside FILE, in $backup, reported as `backup`.
backup_file() {
  backup_name "$1"
  backup=$BACKUP
  cp -p "$1" "$backup" || failed "could not back up $1"
  out backup "$backup"
}

# rollback_args ARG...: the arguments that undo this step (`apply.sh rollback ARG...`).
rollback_args() {
  out rollback-arg rollback
  for a in "$@"; do out rollback-arg "$a"; done
}

# After a line edit: sshd's verdict on an edited sshd config, the rollback, the result.
finish_line_edit() {
  if is_sshd_config "$file"; then out sshd-t "$(clean "$(sshd_test || true)")"; fi
  rollback_args file "$file" "$backup"
  finish changed
}

# ---- actions ---------------------------------------------------------------------------
comment_line() {
  file_line_args "comment-line FILE LINE TEXT" "$@"
  cur=$(nth_line "$file" "$n") || precondition "$file has no line $n"
  out before "$(clean "$cur")"
  if [ "$cur" = "# sshdoctor: $text" ]; then
    out after "$(clean "$cur")"
    finish unchanged "line $n is already commented out"
  fi
  [ "$cur" = "$text" ] || precondition "line $n of $file is no longer \"$text\""
  backup_file "$file"
  # shellcheck disable=SC2016 # $0 is awk's, not the shell's
  rewrite "$file" -v n="$n" 'NR == n { print "# sshdoctor: " $0; next } { print }'
  out after "$(clean "$(nth_line "$file" "$n")")"
  finish_line_edit
}

insert_line_before() {
  file_line_args "insert-line-before FILE LINE TEXT" "$@"
  total=$(line_count "$file")
  if [ "$n" -eq 0 ]; then at=$total; else at=$n; fi
  if [ "$at" -gt 0 ] && [ "$(nth_line "$file" "$at")" = "$text" ]; then
    out after "$(clean "$text")"
    finish unchanged "line $at already is \"$text\""
  fi
  if [ "$n" -gt 0 ]; then
    cur=$(nth_line "$file" "$n") || precondition "$file has no line $n"
    out before "$(clean "$cur")"
  else
    out before "(end of file)"
  fi
  backup_file "$file"
  SSHDOCTOR_TEXT=$text
  export SSHDOCTOR_TEXT
  if [ "$n" -gt 0 ]; then
    rewrite "$file" -v n="$n" 'NR == n { print ENVIRON["SSHDOCTOR_TEXT"] } { print }'
  else
    rewrite "$file" '{ print } END { print ENVIRON["SSHDOCTOR_TEXT"] }'
  fi
  out after "$(clean "$text")"
  finish_line_edit
}

f2b_banned() {
  # Words after "Banned IP list:" in `fail2ban-client status JAIL`.
  fail2ban-client status "$1" 2>/dev/null | sed -n 's/.*Banned IP list:[[:space:]]*//p' | tr -s '[:blank:]' '\n' | grep -qxF -- "$2"
}

fail2ban_unban() {
  [ "$#" -eq 2 ] || usage "fail2ban-unban JAIL IP"
  name_arg "$1" JAIL
  ip_addr "$2" IP
  jail=$1 ip=$2
  command -v fail2ban-client >/dev/null 2>&1 || precondition "fail2ban-client is not installed"
  fail2ban-client status "$jail" >/dev/null 2>&1 || precondition "fail2ban has no running jail $jail"
  if ! f2b_banned "$jail" "$ip"; then
    out before "$ip not banned in $jail"
    out after "$ip not banned in $jail"
    finish unchanged "$ip is not banned in jail $jail"
  fi
  out before "$ip banned in jail $jail"
  fail2ban-client set "$jail" unbanip "$ip" >/dev/null 2>&1 || failed "fail2ban-client set $jail unbanip $ip failed"
  if f2b_banned "$jail" "$ip"; then failed "$ip is still banned in $jail after unbanip"; fi
  out after "$ip not banned in $jail"
  rollback_args fail2ban "$jail" "$ip"
  finish changed
}

fw_backup() {
  mkdir -p "$BACKUP_DIR"
  chmod 0700 "$BACKUP_DIR"
  backup="$BACKUP_DIR/$FW-$1-$(stamp)-$$.rules"
  "$FW-save" -t "$1" >"$backup" 2>/dev/null || failed "$FW-save -t $1 failed"
  out backup "$backup"
}

firewall_delete_rule() {
  [ "$#" -eq 4 ] || usage "firewall-delete-rule FAMILY TABLE CHAIN RULE"
  family_cmd "$1"
  table_arg "$2"
  chain_arg "$3"
  line_text "$4" RULE
  table=$2 chain=$3 rule=$4
  case $rule in "-A $chain "*) ;; *) usage "RULE: must start with \"-A $chain \" as iptables-save prints it" ;; esac
  SSHDOCTOR_RULE=$rule
  export SSHDOCTOR_RULE
  # Deleting by position: the rule text is never re-parsed as arguments.
  pos=$("$FW-save" -t "$table" 2>/dev/null | awk -v c="-A $3 " 'index($0, c) == 1 { n++; if ($0 == ENVIRON["SSHDOCTOR_RULE"]) { print n; exit } }') || true
  if [ -z "$pos" ]; then
    out before "(rule absent)"
    out after "(rule absent)"
    finish unchanged "$FW -t $table has no rule \"$rule\""
  fi
  out before "$(clean "$rule") (position $pos in $chain)"
  fw_backup "$table"
  "$FW" -w -t "$table" -D "$chain" "$pos" 2>/dev/null || failed "$FW -t $table -D $chain $pos failed"
  out after "(rule deleted)"
  rollback_args firewall "$1" "$table" "$backup"
  finish changed
}

firewall_insert_accept() {
  [ "$#" -eq 5 ] || usage "firewall-insert-accept FAMILY TABLE CHAIN IP PORT"
  family_cmd "$1"
  table_arg "$2"
  chain_arg "$3"
  ip_addr "$4" IP
  digits "$5" PORT
  if [ "$5" -lt 1 ] || [ "$5" -gt 65535 ]; then usage "PORT: must be 1 to 65535"; fi
  table=$2 chain=$3 ip=$4 port=$5
  if "$FW" -w -t "$table" -C "$chain" -s "$ip" -p tcp --dport "$port" -j ACCEPT 2>/dev/null; then
    out before "ACCEPT for $ip tcp/$port present"
    out after "ACCEPT for $ip tcp/$port present"
    finish unchanged "$chain already accepts tcp/$port from $ip"
  fi
  out before "no ACCEPT for $ip tcp/$port in $chain"
  fw_backup "$table"
  "$FW" -w -t "$table" -I "$chain" 1 -s "$ip" -p tcp --dport "$port" -j ACCEPT 2>/dev/null || failed "$FW -t $table -I $chain 1 failed"
  out after "-I $chain 1 -s $ip -p tcp --dport $port -j ACCEPT"
  rollback_args firewall "$1" "$table" "$backup"
  finish changed
}

symlink() {
  [ "$#" -eq 2 ] || usage "symlink LINK TARGET"
  lib_path "$1" LINK
  case $2 in '' | . | .. | *[!A-Za-z0-9_.+-]*) usage "TARGET: must be a file name in the link's directory (letters, digits, _ . + -)" ;; esac
  link=$1 target=$2
  dir=$(dirname "$link")
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
    out before "$link -> $target"
    out after "$link -> $target"
    finish unchanged "$link already points to $target"
  fi
  if [ -L "$link" ]; then precondition "$link exists and points to $(readlink "$link")"; fi
  [ ! -e "$link" ] || precondition "$link exists and is not a link"
  out before "$link missing"
  regular_file "$dir/$target" || precondition "$dir/$target is not a regular file"
  sshd=$(find_sshd) || precondition "no sshd binary to compare the architecture with"
  want=$(elf_id "$(readlink -f "$sshd")") || precondition "$sshd is not an ELF file"
  got=$(elf_id "$dir/$target") || precondition "$dir/$target is not an ELF file"
  [ "$want" = "$got" ] || precondition "$dir/$target is ELF $got, sshd is ELF $want (class-data-machine)"
  ln -s "$target" "$link" || failed "ln -s $target $link failed"
  out after "$link -> $target"
  out detail "ELF $got, same as sshd"
  rollback_args symlink "$link" "$target"
  finish changed
}

# sshd's own paths only: its private host keys, /etc/ssh and the privilege-separation dirs.
sshd_own_path() {
  safe_path "$1" || usage "$2: must be a plain absolute path"
  case $1 in
    /etc/ssh/ssh_host_*_key) case ${1#/etc/ssh/ssh_host_} in *[!a-z0-9_]*) usage "$2: must be /etc/ssh/ssh_host_TYPE_key" ;; esac ;;
    /etc/ssh | /run/sshd | /var/run/sshd | /var/empty/sshd | /var/empty | /usr/share/empty.sshd) ;;
    *) usage "$2: must be a private host key, /etc/ssh or a privilege-separation directory" ;;
  esac
}

set_mode() {
  [ "$#" -eq 4 ] || usage "set-mode PATH MODE OWNER GROUP"
  sshd_own_path "$1" PATH
  case $2 in [0-7][0-7][0-7] | 0[0-7][0-7][0-7]) ;; *) usage "MODE: must be an octal mode such as 600" ;; esac
  name_arg "$3" OWNER
  name_arg "$4" GROUP
  path=$1 mode=$2 owner=$3 group=$4
  [ ! -L "$path" ] || precondition "$path is a symbolic link"
  [ -e "$path" ] || precondition "$path does not exist"
  was=$(stat -c '%a %U %G' "$path") || failed "cannot stat $path"
  out before "$was $path"
  if [ "$was" = "${mode#0} $owner $group" ]; then
    out after "$was $path"
    finish unchanged "$path already has $owner:$group mode $mode"
  fi
  { chown "$owner:$group" "$path" && chmod "$mode" "$path"; } || failed "chown/chmod of $path failed"
  out after "$(stat -c '%a %U %G' "$path") $path"
  # shellcheck disable=SC2086 # was holds three words: mode owner group
  rollback_args mode "$path" $was
  finish changed
}

hostkeys_generate() {
  [ "$#" -eq 0 ] || usage "hostkeys-generate takes no arguments"
  command -v ssh-keygen >/dev/null 2>&1 || precondition "ssh-keygen is not available"
  before=""
  for k in /etc/ssh/ssh_host_*_key; do [ -f "$k" ] && before="$before $k"; done
  out before "host keys: ${before:-none}"
  ssh-keygen -A >/dev/null 2>&1 || failed "ssh-keygen -A failed"
  created=""
  for k in /etc/ssh/ssh_host_*_key; do
    [ -f "$k" ] || continue
    case " $before " in *" $k "*) ;; *) created="$created $k" ;; esac
  done
  out after "host keys:$(for k in /etc/ssh/ssh_host_*_key; do [ -f "$k" ] && printf ' %s' "$k"; done)"
  [ -n "$created" ] || finish unchanged "every host key type already had a key"
  # shellcheck disable=SC2086 # one argument per key created
  rollback_args hostkeys $created
  finish changed
}

# The directory pam_faillock keeps its tallies in (faillock.conf's dir, else the default).
faillock_dir() {
  d=$(awk -F= '/^[ \t]*dir[ \t]*=/ { gsub(/[ \t]/, "", $2); print $2; exit }' /etc/security/faillock.conf 2>/dev/null)
  printf '%s' "${d:-/var/run/faillock}"
}

faillock_reset() {
  [ "$#" -eq 1 ] || usage "faillock-reset USER"
  case $1 in '' | [!A-Za-z_]* | *[!A-Za-z0-9_.-]*) usage "USER: must be a user name" ;; esac
  command -v faillock >/dev/null 2>&1 || precondition "faillock is not installed"
  id "$1" >/dev/null 2>&1 || precondition "no user $1"
  tally="$(faillock_dir)/$1"
  n=$(faillock --user "$1" 2>/dev/null | awk '$NF == "V" { n++ } END { print n + 0 }')
  out before "$n valid failure(s) for $1"
  [ "$n" -gt 0 ] || { out after "0 valid failures for $1"; finish unchanged "$1 has no failures on record"; }
  { mkdir -p "$BACKUP_DIR" && chmod 0700 "$BACKUP_DIR"; } || failed "cannot create $BACKUP_DIR"
  backup="$BACKUP_DIR/faillock-$1-$(stamp)-$$"
  cp -p "$tally" "$backup" || failed "cannot back up $tally"
  out backup "$backup"
  faillock --user "$1" --reset || failed "faillock --reset failed"
  out after "$(faillock --user "$1" 2>/dev/null | awk '$NF == "V" { n++ } END { print n + 0 }') valid failure(s) for $1"
  rollback_args faillock "$1" "$backup"
  finish changed
}

privsep_dir() {
  [ "$#" -eq 1 ] || usage "privsep-dir PATH"
  case $1 in /run/sshd | /var/run/sshd | /var/empty/sshd | /var/empty | /usr/share/empty.sshd) ;; *) usage "PATH: must be a privilege-separation directory" ;; esac
  if [ -d "$1" ]; then
    out before "$(stat -c '%a %U %G' "$1") $1"
    out after "$(stat -c '%a %U %G' "$1") $1"
    finish unchanged "$1 exists"
  fi
  if [ -e "$1" ] || [ -L "$1" ]; then precondition "$1 exists and is not a directory"; fi
  out before "$1 missing"
  { mkdir -m 0755 "$1" && chown root:root "$1"; } || failed "cannot create $1"
  out after "$(stat -c '%a %U %G' "$1") $1"
  rollback_args privsep-dir "$1"
  finish changed
}

# user_home USER: sets home to the user's home directory from passwd (the only tree user
# actions touch). Not a command substitution, so that its refusals end the script.
user_home() {
  case $1 in '' | [!A-Za-z_]* | *[!A-Za-z0-9_.-]*) usage "USER: must be a user name" ;; esac
  home=$(awk -F: -v u="$1" '$1 == u { print $6; exit }' /etc/passwd)
  [ -n "$home" ] || precondition "no user $1 in /etc/passwd"
  safe_path "$home" || precondition "$1's home $home is not a plain path"
  [ "$home" != / ] || precondition "$1's home is /"
}

# The user's home, or a path below it that is no symbolic link at any step.
user_path() {
  safe_path "$2" || usage "PATH: must be a plain absolute path"
  case $2 in "$1" | "$1"/?*) ;; *) usage "PATH: must be $1 or below it" ;; esac
  p=""
  for c in $(printf '%s\n' "$2" | tr '/' ' '); do
    p="$p/$c"
    [ ! -L "$p" ] || precondition "$p is a symbolic link"
  done
}

user_path_mode() {
  [ "$#" -eq 3 ] || usage "user-path-mode USER PATH MODE"
  user_home "$1"
  user_path "$home" "$2"
  case $3 in [0-7][0-7][0-7] | 0[0-7][0-7][0-7]) ;; *) usage "MODE: must be an octal mode such as 700" ;; esac
  user=$1 path=$2 mode=$3
  [ -e "$path" ] || precondition "$path does not exist"
  was=$(stat -c '%a %U %G' "$path") || failed "cannot stat $path"
  out before "$was $path"
  group=${was##* }
  if [ "$was" = "${mode#0} $user $group" ]; then
    out after "$was $path"
    finish unchanged "$path already has owner $user and mode $mode"
  fi
  { chown "$user" "$path" && chmod "$mode" "$path"; } || failed "chown/chmod of $path failed"
  out after "$(stat -c '%a %U %G' "$path") $path"
  # shellcheck disable=SC2086 # was holds three words: mode owner group
  rollback_args user-mode "$user" "$path" $was
  finish changed
}

# restorecon -R of the user's ~/.ssh where SELinux enforces; the labels before are recorded
# (one `chcon` per path) so the rollback puts each back.
user_restorecon() {
  [ "$#" -eq 1 ] || usage "user-restorecon USER"
  user_home "$1"
  dir="$home/.ssh"
  command -v restorecon >/dev/null 2>&1 || precondition "restorecon is not installed"
  command -v getenforce >/dev/null 2>&1 || precondition "SELinux is not installed"
  [ "$(getenforce 2>/dev/null)" != Disabled ] || precondition "SELinux is disabled"
  user_path "$home" "$dir"
  [ -d "$dir" ] || precondition "$dir does not exist"
  out before "$(stat -c '%C %n' "$dir")"
  { mkdir -p "$BACKUP_DIR" && chmod 0700 "$BACKUP_DIR"; } || failed "cannot create $BACKUP_DIR"
  backup="$BACKUP_DIR/labels-$1-$(stamp)-$$"
  find "$dir" -xdev \( -type f -o -type d \) -exec stat -c '%C %n' {} + >"$backup" 2>/dev/null || failed "cannot record the labels under $dir"
  out backup "$backup"
  restorecon -R "$dir" || failed "restorecon -R $dir failed"
  out after "$(stat -c '%C %n' "$dir")"
  rollback_args labels "$1" "$backup"
  finish changed
}

authorize_key() {
  [ "$#" -eq 3 ] || usage "authorize-key USER FILE KEY"
  user_home "$1"
  user_path "$home" "$2"
  case $3 in
    ssh-ed25519\ * | ssh-rsa\ * | ecdsa-sha2-nistp256\ * | ecdsa-sha2-nistp384\ * | ecdsa-sha2-nistp521\ * | sk-ssh-ed25519@openssh.com\ * | sk-ecdsa-sha2-nistp256@openssh.com\ *)
      case ${3#* } in '' | *[!A-Za-z0-9+/=]*) usage "KEY: must be type base64" ;; esac ;;
    *) usage "KEY: must be an OpenSSH public key (type base64)" ;;
  esac
  user=$1 file=$2 key=$3
  if [ -f "$file" ] && grep -qF -- "$key" "$file"; then
    out before "key present in $file"
    out after "key present in $file"
    finish unchanged "the key is already in $file"
  fi
  dir=$(dirname "$file")
  grp=$(id -gn "$user") || failed "no group for $user"
  if [ ! -d "$dir" ]; then install -d -m 700 -o "$user" -g "$grp" "$dir" || failed "cannot create $dir"; fi
  if [ -f "$file" ]; then
    backup="$file.sshdoctor-$(date -u +%Y%m%dT%H%M%SZ)"
    cp -p "$file" "$backup" || failed "cannot back up $file"
    out backup "$backup"
    out before "$(wc -l <"$file") lines in $file"
  else
    backup=""
    out before "$file missing"
  fi
  printf '%s\n' "$key" >>"$file" || failed "cannot append to $file"
  { chown "$user:$grp" "$file" && chmod 600 "$file"; } || failed "cannot set owner and mode of $file"
  out after "$(wc -l <"$file") lines in $file"
  if [ -n "$backup" ]; then rollback_args user-file "$user" "$file" "$backup"; else rollback_args user-file "$user" "$file" -; fi
  finish changed
}

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

service_start() {
  [ "$#" -eq 2 ] || usage "service-start MANAGER SERVICE"
  manager=$1 service=$2
  case $manager in
    systemd)
      name_arg "$service" SERVICE
      command -v systemctl >/dev/null 2>&1 || precondition "systemctl is not available"
      if systemctl is-active --quiet "$service"; then
        out before "$service active"
        out after "$service active"
        finish unchanged "$service is already active"
      fi
      out before "$service $(systemctl is-active "$service" 2>/dev/null || true)"
      t=$(sshd_test) || precondition "sshd -t fails: $t"
      enabled=$(systemctl is-enabled "$service" 2>/dev/null || true)
      systemctl start "$service" >/dev/null 2>&1 || failed "systemctl start $service failed: $(systemctl status "$service" --no-pager 2>&1 | tail -n 1)"
      [ "$enabled" = enabled ] || systemctl enable "$service" >/dev/null 2>&1 || true
      out after "$service $(systemctl is-active "$service" 2>/dev/null || true)"
      rollback_args service systemd "$service" "${enabled:-unknown}"
      finish changed
      ;;
    sysv)
      name_arg "$service" SERVICE
      [ -x "/etc/init.d/$service" ] || precondition "/etc/init.d/$service does not exist"
      if "/etc/init.d/$service" status >/dev/null 2>&1; then
        out before "$service running"
        out after "$service running"
        finish unchanged "$service is already running"
      fi
      out before "$service stopped"
      t=$(sshd_test) || precondition "sshd -t fails: $t"
      "/etc/init.d/$service" start >/dev/null 2>&1 || failed "/etc/init.d/$service start failed"
      out after "$service running"
      rollback_args service sysv "$service" -
      finish changed
      ;;
    direct)
      safe_path "$service" || usage "SERVICE: must be a plain absolute path to sshd"
      case $service in /*/sshd) ;; *) usage "SERVICE: must be an absolute path ending in /sshd" ;; esac
      if [ ! -f "$service" ] || [ ! -x "$service" ]; then precondition "$service is not an executable file"; fi
      pidfile=$("$service" -T 2>/dev/null | awk '$1 == "pidfile" { print $2; exit }') || true
      [ -n "$pidfile" ] || pidfile=/run/sshd.pid
      pid=
      [ ! -s "$pidfile" ] || pid=$(head -c 20 "$pidfile" | tr -cd 0-9)
      if pid_alive "$pid"; then
        out before "sshd running (pid $pid)"
        out after "sshd running (pid $pid)"
        finish unchanged "sshd is already running (pid $pid from $pidfile)"
      fi
      out before "sshd not running"
      # systemd's RuntimeDirectory creates this; a manual start has to.
      if [ ! -d /run/sshd ]; then
        mkdir -p /run/sshd
        chmod 0755 /run/sshd
      fi
      t=$(sshd_test) || precondition "sshd -t fails: $t"
      err=$(mktemp)
      if ! "$service" </dev/null >/dev/null 2>"$err"; then
        msg=$(head -n 1 "$err")
        rm -f "$err"
        failed "$service did not start: $msg"
      fi
      rm -f "$err"
      i=0
      pid=
      while [ "$i" -lt 100 ]; do
        [ ! -s "$pidfile" ] || pid=$(head -c 20 "$pidfile" | tr -cd 0-9)
        if pid_alive "$pid"; then break; fi
        i=$((i + 1))
        sleep 0.05
      done
      pid_alive "$pid" || failed "$service started but wrote no live pid to $pidfile"
      out after "sshd running (pid $pid)"
      rollback_args service direct "$service" "$pid"
      finish changed
      ;;
    *) usage "MANAGER: must be systemd, sysv or direct" ;;
  esac
}

# ---- inverses --------------------------------------------------------------------------
rollback() {
  [ "$#" -ge 1 ] || usage "rollback KIND ARGS..."
  kind=$1
  shift
  case $kind in
    file)
      [ "$#" -eq 2 ] || usage "rollback file FILE BACKUP"
      etc_path "$1" FILE
      etc_path "$2" BACKUP
      case $2 in "$1.sshdoctor-"*) ;; *) usage "BACKUP: must be a sshdoctor backup of FILE" ;; esac
      [ -f "$2" ] || precondition "backup $2 is gone"
      tmp=$(mktemp "$(dirname "$1")/.sshdoctor.XXXXXX") || failed "cannot create a temporary file next to $1"
      if ! { cp -p "$2" "$tmp" && mv -f "$tmp" "$1"; }; then
        rm -f "$tmp"
        failed "could not restore $1 from $2"
      fi
      out after "$1 restored from $2"
      finish restored
      ;;
    firewall)
      [ "$#" -eq 3 ] || usage "rollback firewall FAMILY TABLE BACKUP"
      family_cmd "$1"
      table_arg "$2"
      safe_path "$3" || usage "BACKUP: must be a plain path"
      case $3 in "$BACKUP_DIR/$FW-$2-"*.rules) ;; *) usage "BACKUP: must be a sshdoctor $FW backup of table $2" ;; esac
      [ -f "$3" ] || precondition "backup $3 is gone"
      "$FW-restore" -T "$2" <"$3" 2>/dev/null || failed "$FW-restore -T $2 < $3 failed"
      out after "$FW table $2 restored from $3"
      finish restored
      ;;
    fail2ban)
      [ "$#" -eq 2 ] || usage "rollback fail2ban JAIL IP"
      name_arg "$1" JAIL
      ip_addr "$2" IP
      if f2b_banned "$1" "$2"; then finish restored "$2 is banned in $1 again already"; fi
      fail2ban-client set "$1" banip "$2" >/dev/null 2>&1 || failed "fail2ban-client set $1 banip $2 failed"
      out after "$2 banned in jail $1"
      finish restored
      ;;
    symlink)
      [ "$#" -eq 2 ] || usage "rollback symlink LINK TARGET"
      lib_path "$1" LINK
      case $2 in '' | . | .. | *[!A-Za-z0-9_.+-]*) usage "TARGET: must be a file name" ;; esac
      if [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; then rm -f "$1"; fi
      out after "$1 missing"
      finish restored
      ;;
    service)
      [ "$#" -eq 3 ] || usage "rollback service MANAGER SERVICE STATE"
      case $1 in
        systemd)
          name_arg "$2" SERVICE
          systemctl stop "$2" >/dev/null 2>&1 || failed "systemctl stop $2 failed"
          [ "$3" = enabled ] || systemctl disable "$2" >/dev/null 2>&1 || true
          ;;
        sysv)
          name_arg "$2" SERVICE
          "/etc/init.d/$2" stop >/dev/null 2>&1 || failed "/etc/init.d/$2 stop failed"
          ;;
        direct)
          safe_path "$2" || usage "SERVICE: must be a plain absolute path"
          digits "$3" PID
          # Only the listener this script started: a recycled pid must not be killed.
          if pid_alive "$3" && [ "$(readlink "/proc/$3/exe" 2>/dev/null || true)" = "$(readlink -f "$2")" ]; then
            kill "$3"
            i=0
            while pid_alive "$3" && [ "$i" -lt 100 ]; do
              i=$((i + 1))
              sleep 0.05
            done
          fi
          ;;
        *) usage "MANAGER: must be systemd, sysv or direct" ;;
      esac
      out after "$2 stopped"
      finish restored
      ;;
    mode)
      [ "$#" -eq 4 ] || usage "rollback mode PATH MODE OWNER GROUP"
      sshd_own_path "$1" PATH
      case $2 in [0-7][0-7][0-7] | [0-7][0-7][0-7][0-7]) ;; *) usage "MODE: must be an octal mode" ;; esac
      name_arg "$3" OWNER
      name_arg "$4" GROUP
      { chown "$3:$4" "$1" && chmod "$2" "$1"; } || failed "could not restore $1 to $3:$4 mode $2"
      out after "$(stat -c '%a %U %G' "$1") $1"
      finish restored
      ;;
    hostkeys)
      for k in "$@"; do sshd_own_path "$k" KEY; case $k in /etc/ssh/ssh_host_*_key) ;; *) usage "KEY: must be a host key" ;; esac; done
      for k in "$@"; do rm -f "$k" "$k.pub" || failed "could not remove $k"; done
      out after "removed: $*"
      finish restored
      ;;
    faillock)
      [ "$#" -eq 2 ] || usage "rollback faillock USER BACKUP"
      case $1 in '' | [!A-Za-z_]* | *[!A-Za-z0-9_.-]*) usage "USER: must be a user name" ;; esac
      case $2 in "$BACKUP_DIR/faillock-$1-"*) ;; *) usage "BACKUP: must be a sshdoctor faillock backup of USER" ;; esac
      [ -f "$2" ] || precondition "backup $2 is gone"
      cp -p "$2" "$(faillock_dir)/$1" || failed "could not restore the tally of $1"
      out after "tally of $1 restored from $2"
      finish restored
      ;;
    privsep-dir)
      [ "$#" -eq 1 ] || usage "rollback privsep-dir PATH"
      case $1 in /run/sshd | /var/run/sshd | /var/empty/sshd | /var/empty | /usr/share/empty.sshd) ;; *) usage "PATH: must be a privilege-separation directory" ;; esac
      rmdir "$1" 2>/dev/null || failed "could not remove $1 (not empty?)"
      out after "$1 removed"
      finish restored
      ;;
    user-mode)
      [ "$#" -eq 5 ] || usage "rollback user-mode USER PATH MODE OWNER GROUP"
      user_home "$1"
      user_path "$home" "$2"
      case $3 in [0-7][0-7][0-7] | [0-7][0-7][0-7][0-7]) ;; *) usage "MODE: must be an octal mode" ;; esac
      name_arg "$4" OWNER
      name_arg "$5" GROUP
      { chown "$4:$5" "$2" && chmod "$3" "$2"; } || failed "could not restore $2"
      out after "$(stat -c '%a %U %G' "$2") $2"
      finish restored
      ;;
    labels)
      [ "$#" -eq 2 ] || usage "rollback labels USER BACKUP"
      user_home "$1"
      case $2 in "$BACKUP_DIR/labels-$1-"*) ;; *) usage "BACKUP: must be a sshdoctor label record of USER" ;; esac
      [ -f "$2" ] || precondition "label record $2 is gone"
      while read -r ctx path; do
        case $path in "$home/.ssh" | "$home/.ssh/"*) chcon "$ctx" "$path" || failed "could not restore the label of $path" ;; esac
      done <"$2"
      out after "labels under $home/.ssh restored from $2"
      finish restored
      ;;
    user-file)
      [ "$#" -eq 3 ] || usage "rollback user-file USER FILE BACKUP"
      user_home "$1"
      user_path "$home" "$2"
      if [ "$3" = - ]; then
        rm -f "$2" || failed "could not remove $2"
        out after "$2 removed (it did not exist before)"
      else
        case $3 in "$2.sshdoctor-"*) ;; *) usage "BACKUP: must be a sshdoctor backup of FILE" ;; esac
        [ -f "$3" ] || precondition "backup $3 is gone"
        cp -p "$3" "$2" || failed "could not restore $2 from $3"
        out after "$2 restored from $3"
      fi
      finish restored
      ;;
    *) usage "rollback KIND: must be file, firewall, fail2ban, symlink, service, mode, hostkeys, faillock, privsep-dir, labels, user-mode or user-file" ;;
  esac
}

[ "$#" -ge 1 ] || usage "apply.sh ACTION ARGS..."
action=$1
shift
out action "$action"
case $action in
  comment-line) comment_line "$@" ;;
  insert-line-before) insert_line_before "$@" ;;
  fail2ban-unban) fail2ban_unban "$@" ;;
  firewall-delete-rule) firewall_delete_rule "$@" ;;
  firewall-insert-accept) firewall_insert_accept "$@" ;;
  symlink) symlink "$@" ;;
  service-start) service_start "$@" ;;
  set-mode) set_mode "$@" ;;
  hostkeys-generate) hostkeys_generate "$@" ;;
  privsep-dir) privsep_dir "$@" ;;
  faillock-reset) faillock_reset "$@" ;;
  user-path-mode) user_path_mode "$@" ;;
  authorize-key) authorize_key "$@" ;;
  user-restorecon) user_restorecon "$@" ;;
  rollback) rollback "$@" ;;
  *) usage "ACTION: must be comment-line, insert-line-before, fail2ban-unban, firewall-delete-rule, firewall-insert-accept, symlink, service-start, set-mode, hostkeys-generate, privsep-dir, faillock-reset, user-path-mode, authorize-key, user-restorecon or rollback" ;;
esac
