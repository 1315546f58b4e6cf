#!/usr/bin/env bash
# bench/smb.sh: benchmark robo apply against rclone's smb backend, both
# writing to a real Samba server (smbd) on loopback. See docs/performance.md.
#
#   bench/smb.sh                        # 2,000 x 4 KiB and one 1 GiB file, 3 runs each (~4 min on 2 CPUs)
#   RUNS=1 BIG_MIB=64 bench/smb.sh      # smoke run, well under a minute
#
# Environment:
#   FILES    number of 4 KiB files in the small tree     (default 2000)
#   SIZE     size of each small file in bytes            (default 4096)
#   BIG_MIB  size of the big file in MiB, 0 to skip it   (default 1024)
#   RUNS     timed runs per tool and job; median shown    (default 3)
#   WORK     work directory                              (default /tmp/robo-smb-bench)
#   SEED     gentree seed                                (default 1)
#   JOBS     jobs to run, space-separated                (default "small nochange big";
#            also: threads, the small tree's initial copy by robo with each
#            thread count of THREADS, issue 22 point 4)
#   THREADS  thread counts of the threads job             (default "1 2 4 8 16 32")
#   KEEP     1: keep the generated source trees for the next run (default 1)
#   ROBO_BASE another robo binary, measured too as "robo-base" (before/after
#            comparisons under the same conditions; unset: not measured)
#
# Needs root (smbd, useradd, dropping the page cache), samba (smbd,
# smbpasswd), rclone with its smb backend (v1.60+), openssl, go and diff.
# The script starts its own smbd on a free loopback port with one share
# "data" (backed by $WORK/share), stops it on exit (also on failure), and
# never touches /etc/samba or /var/lib/samba.
#
# Results: a Markdown table on stdout and in bench/out/smb-<date>.md. Before
# every timed run the destination is emptied (initial copies), the page
# cache is dropped and the source is read once untimed (cat > /dev/null), so
# both tools start equally warm; after every run the destination directory
# on disk must equal the source (diff -r).
set -euo pipefail

FILES=${FILES:-2000}
SIZE=${SIZE:-4096}
BIG_MIB=${BIG_MIB:-1024}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/robo-smb-bench}
SEED=${SEED:-1}
JOBS=${JOBS:-"small nochange big"}
KEEP=${KEEP:-1}
THREADS=${THREADS:-"1 2 4 8 16 32"}
SMB_USER=robosmb

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR=$REPO/bench/out
DATE=$(date +%Y%m%d-%H%M%S)
RESULT=$OUTDIR/smb-$DATE.md

SCRIPT=smb.sh
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

[[ $FILES =~ ^[0-9]+$ && $FILES -ge 1 ]] || die "FILES must be a positive integer"
[[ $SIZE =~ ^[0-9]+$ ]] || die "SIZE must be a whole number"
[[ $BIG_MIB =~ ^[0-9]+$ ]] || die "BIG_MIB must be a whole number"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive integer"
((BIG_MIB > 0)) || JOBS=${JOBS//big/}
[[ $(id -u) == 0 ]] || die "run as root (smbd, useradd and dropping the page cache need it)"
command -v go >/dev/null || die "go is not installed"
command -v rclone >/dev/null || die "rclone is not installed (apt-get install -y rclone)"
command -v openssl >/dev/null || die "openssl is not installed"
sbin() { command -v "$1" 2>/dev/null || { [[ -x /usr/sbin/$1 ]] && echo "/usr/sbin/$1"; } || die "$1 is not installed (apt-get install -y samba)"; }
SMBD=$(sbin smbd)
SMBPASSWD=$(sbin smbpasswd)
rclone help backend smb >/dev/null 2>&1 || die "this rclone has no smb backend (needs v1.60 or later)"

# ---------------------------------------------------------------- cleanup
BIN=$(mktemp -d "${TMPDIR:-/tmp}/robo-smb-bin.XXXXXX")
SMBD_PID=""
SRV=$WORK/srv
stop_smbd() {
	[[ -n $SMBD_PID ]] || return 0
	# smbd runs in its own session (setsid): its process group holds the
	# children serving clients and the helpers (notifyd, cleanupd).
	kill -TERM -- "-$SMBD_PID" 2>/dev/null || true
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$SMBD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$SMBD_PID" 2>/dev/null || true
	wait "$SMBD_PID" 2>/dev/null || true
	# samba-dcerpcd is started on demand in a session of its own.
	local pidf=$SRV/run/pid/samba-dcerpcd.pid p
	if [[ -f $pidf ]]; then
		p=$(cat "$pidf")
		if [[ $p =~ ^[0-9]+$ ]] && grep -qa samba-dcerpcd "/proc/$p/cmdline" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
		fi
	fi
	SMBD_PID=""
}
cleanup() {
	local rc=$?
	stop_smbd || true
	rm -rf "$BIN"
	[[ -d $WORK ]] && rm -rf "$WORK"/{share,conf,logs,srv}
	if [[ $KEEP != 1 && -d $WORK ]]; then
		rm -rf "$WORK"/{small,big,tree.stamp}
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build
log "building robo, gentree and timeit into $BIN"
(cd "$REPO" && go build -o "$BIN/robo" ./cmd/robo && go build -o "$BIN/gentree" ./bench/gentree &&
	go build -o "$BIN/timeit" ./bench/timeit)
ROBO=$BIN/robo
TIMEIT=$BIN/timeit
ROBO_BASE=${ROBO_BASE:-}
[[ -z $ROBO_BASE || -x $ROBO_BASE ]] || die "ROBO_BASE=$ROBO_BASE is not an executable"

# ---------------------------------------------------------------- disk
mkdir -p "$WORK" "$OUTDIR"
need_kb=$(((FILES * (SIZE / 4096 + 1) * 4 * 2 + BIG_MIB * 1024 * 2) * 12 / 10 + 65536))
have_kb=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
used_kb=$(du -sk "$WORK" 2>/dev/null | awk '{print $1}')
((have_kb + used_kb >= need_kb)) || die "$WORK needs about $((need_kb / 1024)) MiB; $((have_kb / 1024)) MiB free. Set WORK= or BIG_MIB="

# ---------------------------------------------------------------- sources
STAMP="files=$FILES size=$SIZE big=$BIG_MIB seed=$SEED gentree=$(sha256sum "$REPO/bench/gentree/main.go" | cut -c1-16)"
if [[ -f $WORK/tree.stamp && $(cat "$WORK/tree.stamp") == "$STAMP" && -d $WORK/small && -d $WORK/big ]]; then
	log "reusing the source trees in $WORK ($STAMP)"
else
	rm -rf "$WORK"/{small,big,tree.stamp}
	log "generating $FILES files of $SIZE bytes in $WORK/small"
	"$BIN/gentree" -root "$WORK/small" -files "$FILES" -min "$SIZE" -max "$SIZE" -seed "$SEED" >&2
	mkdir -p "$WORK/big"
	if ((BIG_MIB > 0)); then
		log "generating a $BIG_MIB MiB file in $WORK/big (AES-CTR keystream of a fixed key: incompressible, not sparse)"
		openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:robo-bench-$SEED" </dev/zero 2>/dev/null |
			head -c "$((BIG_MIB * 1048576))" >"$WORK/big/big.bin" || true
		[[ $(stat -c %s "$WORK/big/big.bin") == $((BIG_MIB * 1048576)) ]] || die "generating the big file failed"
		touch -d '2024-03-01 12:00:00.123456789' "$WORK/big/big.bin"
		touch -d '2024-03-01 12:00:00' "$WORK/big"
	fi
	echo "$STAMP" >"$WORK/tree.stamp"
fi

# ---------------------------------------------------------------- server
log "starting smbd on loopback"
rm -rf "$SRV" "$WORK/share"
mkdir -p "$WORK/share"
for d in lock state cache pid private ncalrpc log; do mkdir -p "$SRV/run/$d"; done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + RANDOM % 20000)))
PASSWORD="Pw-$(openssl rand -hex 8)"
cat >"$SRV/smb.conf" <<EOF
[global]
   server role = standalone server
   smb ports = $PORT
   interfaces = lo
   bind interfaces only = yes
   disable netbios = yes
   server min protocol = SMB2_02
   map to guest = never
   restrict anonymous = 2
   passdb backend = tdbsam:$SRV/run/private/passdb.tdb
   private dir = $SRV/run/private
   lock directory = $SRV/run/lock
   state directory = $SRV/run/state
   cache directory = $SRV/run/cache
   pid directory = $SRV/run/pid
   ncalrpc dir = $SRV/run/ncalrpc
   log file = $SRV/run/log/smbd.log
   log level = 1
   load printers = no
   printcap name = /dev/null
   disable spoolss = yes
   map archive = no
[data]
   path = $WORK/share
   read only = no
   valid users = $SMB_USER
   force user = root
EOF
id -u "$SMB_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$SMB_USER"
printf '%s\n%s\n' "$PASSWORD" "$PASSWORD" | "$SMBPASSWD" -c "$SRV/smb.conf" -a -s "$SMB_USER" >/dev/null
setsid "$SMBD" --foreground --no-process-group -s "$SRV/smb.conf" >"$SRV/run/log/stdout.log" 2>&1 &
SMBD_PID=$!
for ((i = 0; ; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	kill -0 "$SMBD_PID" 2>/dev/null || { tail -20 "$SRV/run/log/smbd.log" >&2; die "smbd exited during start"; }
	((i < 300)) || die "smbd did not accept on 127.0.0.1:$PORT within 15 s"
	sleep 0.05
done
sleep 0.2 # let the connection test's child exit
SMBD_BASE_KIDS=$(pgrep -c -P "$SMBD_PID" || true)
log "smbd pid $SMBD_PID on 127.0.0.1:$PORT, share data = $WORK/share"

# smbd_cpu prints smbd's CPU seconds so far: its own and that of its exited
# (reaped) children, which served the connections. It first waits until the
# child serving the last client has exited.
CLK=$(getconf CLK_TCK)
smbd_cpu() {
	local i
	for ((i = 0; i < 100; i++)); do
		(($(pgrep -c -P "$SMBD_PID" || true) <= SMBD_BASE_KIDS)) && break
		sleep 0.05
	done
	# Fields after the command name: utime, stime, cutime, cstime are 14-17.
	sed 's/^.*) //' "/proc/$SMBD_PID/stat" | awk -v clk="$CLK" '{print ($12 + $13 + $14 + $15) / clk}'
}

# ---------------------------------------------------------------- robo config
CONF=$WORK/conf
rm -rf "$CONF"
mkdir -p "$CONF"
RECIPIENT=$("$ROBO" secret keygen -o "$WORK/conf/identity.txt" 2>/dev/null)
cat >"$CONF/main.hcl" <<EOF
robo {
  recipients = ["$RECIPIENT"]
  identity   = "$CONF/identity.txt"
}

share "bench" {
  unc      = "//127.0.0.1/data"
  port     = $PORT
  username = "WORKGROUP\\\\$SMB_USER"
  password = secret("bench")
}

backup "small" {
  source      = "$WORK/small"
  destination = "\${share.bench.unc}/small"
  mode        = "mirror"
  max_delete  = "unlimited"
}

backup "big" {
  source      = "$WORK/big"
  destination = "\${share.bench.unc}/big"
  mode        = "mirror"
  max_delete  = "unlimited"
}

# The threads job: a copy of the small tree, with threads from -var.
variable "threads" {
  default = 8
}

backup "threads" {
  source      = "$WORK/tsmall"
  destination = "\${share.bench.unc}/tsmall"
  mode        = "mirror"
  max_delete  = "unlimited"
  threads     = var.threads
}
EOF
printf '%s\n' "$PASSWORD" | "$ROBO" -chdir "$CONF" secret set bench >/dev/null 2>&1 || die "robo secret set failed"
"$ROBO" -chdir "$CONF" share check >"$SRV/share-check.log" 2>&1 || {
	cat "$SRV/share-check.log" >&2
	die "robo share check failed"
}
RCLONE_PASS=$(rclone obscure "$PASSWORD")
RCLONE_REMOTE=":smb,host=127.0.0.1,port=$PORT,user=$SMB_USER,pass=$RCLONE_PASS:data"
RCLONE_FLAGS=(--config /dev/null -q)

# ---------------------------------------------------------------- measuring
# warm reads the source (contents) and the destination's metadata untimed.
warm() {
	find "$WORK/$1" -type f -exec cat {} + >/dev/null
	[[ -d $WORK/share/$1 ]] && du -s "$WORK/share/$1" >/dev/null
	return 0
}
same_content() {
	local tree=$1 what=$2
	if ! diff -r "$WORK/$tree" "$WORK/share/$tree" >"$LOGS/diff.out" 2>&1; then
		head -20 "$LOGS/diff.out" >&2
		die "$what: destination differs from source (diff -r; see $LOGS/diff.out)"
	fi
}
empty_dst() { rm -rf "$WORK/share/$1" "$CONF/.robo"; }

ROWS=() # "job|tool|command|median|min|max|cpu|rss|smbdcpu"
LOGS=$WORK/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"

# measure JOB TOOL TREE DST -- COMMAND...
#   DST: empty (destination removed before every run)
#      | same (the tool's own untimed first run made it; it stays)
measure() {
	local job=$1 tool=$2 tree=$3 dst=$4
	shift 5
	local r res=$LOGS/$job.$tool.res cpu0 cpu1
	rm -f "$res" "$LOGS/$job.$tool.smbd"
	if [[ $dst == same ]]; then
		empty_dst "$tree"
		if ! "$@" >"$LOGS/$job.$tool.0.log" 2>&1; then
			tail -20 "$LOGS/$job.$tool.0.log" >&2
			die "$job/$tool untimed first run failed: $*"
		fi
		same_content "$tree" "$job/$tool untimed first run"
	fi
	for ((r = 1; r <= RUNS; r++)); do
		[[ $dst == empty ]] && empty_dst "$tree"
		drop_caches
		warm "$tree"
		local out=$LOGS/$job.$tool.$r.log
		cpu0=$(smbd_cpu)
		if ! "$TIMEIT" -o "$res" -- "$@" >"$out" 2>&1; then
			tail -20 "$out" >&2
			die "$job/$tool run $r failed: $* (log: $out)"
		fi
		cpu1=$(smbd_cpu)
		awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.2f\n", b - a}' >>"$LOGS/$job.$tool.smbd"
		same_content "$tree" "$job/$tool run $r"
		log "  $job/$tool run $r: $(tail -1 "$res") smbd_cpu_s=$(tail -1 "$LOGS/$job.$tool.smbd")"
	done
	local med lo hi cpu rss scpu
	med=$(field wall_s "$res" | median)
	lo=$(field wall_s "$res" | sort -g | head -1)
	hi=$(field wall_s "$res" | sort -g | tail -1)
	cpu=$(paste -d' ' <(field user_s "$res") <(field sys_s "$res") | awk '{print $1+$2}' | median)
	rss=$(field maxrss_kb "$res" | sort -g | tail -1)
	scpu=$(median <"$LOGS/$job.$tool.smbd")
	ROWS+=("$job|$tool|$*|$med|$lo|$hi|$cpu|$rss|$scpu")
}

robo_apply() { echo "$ROBO" -chdir "$CONF" apply -auto-approve -target "$1"; }
base_apply() { echo "$ROBO_BASE" -chdir "$CONF" apply -auto-approve -target "$1"; }

for job in $JOBS; do
	case $job in
	small)
		log "job small: copy $FILES files of $SIZE bytes to an empty share directory"
		# shellcheck disable=SC2046
		measure small robo small empty -- $(robo_apply small)
		# shellcheck disable=SC2046
		[[ -z $ROBO_BASE ]] || measure small robo-base small empty -- $(base_apply small)
		measure small rclone small empty -- rclone sync "${RCLONE_FLAGS[@]}" "$WORK/small" "$RCLONE_REMOTE/small"
		;;
	nochange)
		log "job nochange: $FILES files, destination already equal"
		# shellcheck disable=SC2046
		measure nochange robo small same -- $(robo_apply small)
		# shellcheck disable=SC2046
		[[ -z $ROBO_BASE ]] || measure nochange robo-base small same -- $(base_apply small)
		measure nochange rclone small same -- rclone sync "${RCLONE_FLAGS[@]}" "$WORK/small" "$RCLONE_REMOTE/small"
		;;
	big)
		log "job big: copy one $BIG_MIB MiB file to an empty share directory"
		# shellcheck disable=SC2046
		measure big robo big empty -- $(robo_apply big)
		# shellcheck disable=SC2046
		[[ -z $ROBO_BASE ]] || measure big robo-base big empty -- $(base_apply big)
		measure big rclone big empty -- rclone sync "${RCLONE_FLAGS[@]}" "$WORK/big" "$RCLONE_REMOTE/big"
		;;
	threads)
		log "job threads: copy $FILES files of $SIZE bytes to an empty share directory, threads $THREADS"
		rm -rf "$WORK/tsmall"
		cp -a "$WORK/small" "$WORK/tsmall"
		for t in $THREADS; do
			[[ $t =~ ^[0-9]+$ && $t -ge 1 && $t -le 128 ]] || die "THREADS: $t is not a thread count from 1 to 128"
			# shellcheck disable=SC2046
			measure "threads-$t" robo tsmall empty -- $(robo_apply threads) -var "threads=$t"
		done
		rm -rf "$WORK/tsmall"
		;;
	*) die "unknown job $job (jobs: small nochange big threads)" ;;
	esac
	rm -rf "$WORK/share"/{small,big,tsmall} "$CONF/.robo"
done

# ---------------------------------------------------------------- report
job_title() {
	case $1 in
	small) echo "$FILES × $((SIZE / 1024)) KiB, initial copy" ;;
	nochange) echo "$FILES × $((SIZE / 1024)) KiB, nothing changed" ;;
	big) echo "1 × $BIG_MIB MiB, initial copy" ;;
	threads-*) echo "$FILES × $((SIZE / 1024)) KiB, initial copy, threads ${1#threads-}" ;;
	esac
}
rclone_median() {
	local row j t m
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j t _ m _ <<<"$row"
		if [[ $j == "$1" && $t == rclone ]]; then
			echo "$m"
			return
		fi
	done
}

v_robo=$("$ROBO" version 2>/dev/null | head -1 || true)
v_rclone=$(rclone version 2>/dev/null | awk 'NR==1' || true)
v_smbd=$("$SMBD" --version 2>/dev/null || true)
{
	echo "# robo vs rclone over SMB, $DATE"
	echo
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))," \
		"$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r);" \
		"source and share directory in $WORK on $(df -PT "$WORK" | awk 'NR==2 {print $2}')"
	echo "- server: smbd $v_smbd on 127.0.0.1:$PORT (loopback, same machine), share backed by $WORK/share; signing/encryption: Samba defaults (off)"
	echo "- versions: $v_robo; $v_rclone"
	echo "- runs: $RUNS per tool and job; median wall time (min–max), median CPU of the timed process (user+sys)," \
		"median CPU of smbd during the run (its children serve the connections), largest peak RSS"
	echo "- page cache dropped before every run: $([[ $DROP_OK == 1 ]] && echo yes || echo 'NO (not permitted)')," \
		"then the source read untimed (cat) and the destination's metadata (du)"
	echo "- robo: default threads (8), mode mirror; rclone: defaults (--transfers 4, --checkers 8)"
	echo
	echo "| job | tool | wall s (median) | min–max | CPU s (user+sys) | smbd CPU s | peak RSS MiB | wall vs rclone |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j t cmd m lo hi cpu rss scpu <<<"$row"
		printf '| %s | %s | %.2f | %.2f–%.2f | %.2f | %.2f | %.1f | %s |\n' "$(job_title "$j")" "$t" "$m" "$lo" "$hi" "$cpu" "$scpu" \
			"$(awk -v k="$rss" 'BEGIN {print k/1024}')" "$(ratio "$m" "$(rclone_median "$j")")"
	done
	echo
	echo "\"wall vs rclone\" is the tool's median wall time over rclone's in the same job: below 1 is faster than rclone."
	echo
	echo "Commands (src=$WORK/small or $WORK/big; robo's config in $CONF, rclone's password obscured):"
	echo
	declare -A seen=()
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j t cmd _ <<<"$row"
		[[ -n ${seen[$j.$t]:-} ]] && continue
		seen[$j.$t]=1
		cmd=${cmd//$BIN\//}
		[[ -z $ROBO_BASE ]] || cmd=${cmd//$ROBO_BASE/robo-base}
		cmd=${cmd//$RCLONE_PASS/OBSCURED}
		echo "- $(job_title "$j") / $t: \`$cmd\`"
	done
} >"$RESULT"
cat "$RESULT"
log "wrote $RESULT"
