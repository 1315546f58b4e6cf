#!/usr/bin/env bash
# bench/run.sh: benchmark robo plan/apply against rsync, rclone and cp -a on a
# generated tree of many small files. See docs/performance.md.
#
#   bench/run.sh                    # 100,000 files, 3 runs each (~16 min on 2 CPUs, ~6 GB)
#   FILES=2000 RUNS=1 bench/run.sh  # smoke run
#
# Environment:
#   FILES    number of files in the tree               (default 100000)
#   RUNS     timed runs per tool and job; median shown  (default 3)
#   WORK     work directory, wiped of its own files     (default /tmp/robo-bench)
#   SEED     gentree seed                               (default 1)
#   MUTATE   percentage of files changed for the 1% jobs (default 1)
#   JOBS     jobs to run, space-separated  (default "initial nochange dryrun sync big scale";
#            also: syscalls firstmem threads)
#   KEEP     1: keep the work trees afterwards for the next run (default 1)
#   WARM     data: re-read contents and metadata of both trees before every
#            run (default); meta: metadata only (du), contents start cold
#   AGE      seconds to wait, before the initial copies, after the last
#            deletion in the work directory (default 300; see below)
#   BIG      "COUNT MIB" of the big-file job              (default "8 256")
#   SCALE    file counts of the scale job  (default "250000 500000 1000000")
#   FIRSTMEM file counts of the firstmem job (not in the default JOBS):
#            peak RSS of a first copy into an empty destination, robo and
#            BASE interleaved              (default "200000 1000000")
#   THREADS  thread counts of the threads job (not in the default JOBS)
#                                          (default "1 2 4 8 16 32")
#   THREADS_FILES files of the threads job (default 20000)
#   BASE     another robo binary (say, a build of the previous commit) to
#            measure beside this checkout's robo in the same run (rows
#            base-plan and base-apply); default: none
#
# Results: a Markdown table on stdout and in bench/out/results-<date>.md; the
# scale job also writes bench/out/scale-<date>.csv and a chart scale-<date>.png.
# Every timed run starts from a dropped page cache followed by an untimed
# read of both trees (du, and with WARM=data every file's contents), so every
# tool starts equally warm.
set -euo pipefail

FILES=${FILES:-100000}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/robo-bench}
SEED=${SEED:-1}
MUTATE=${MUTATE:-1}
JOBS=${JOBS:-"initial nochange dryrun sync big scale"}
KEEP=${KEEP:-1}
WARM=${WARM:-data}
AGE=${AGE:-300}
BASE=${BASE:-}
[[ -z $BASE || -x $BASE ]] || { echo "run.sh: BASE=$BASE is not an executable" >&2; exit 1; }
read -r BIG_COUNT BIG_MIB <<<"${BIG:-8 256}"
SCALE=${SCALE:-"250000 500000 1000000"}
MIN_SIZE=1024
MAX_SIZE=16384
PER_DIR=100
FANOUT=10

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR=$REPO/bench/out
DATE=$(date +%Y%m%d-%H%M%S)
RESULT=$OUTDIR/results-$DATE.md

SCRIPT=run.sh
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

[[ $FILES =~ ^[0-9]+$ && $FILES -ge 1 ]] || die "FILES must be a positive integer"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be a positive integer"
command -v go >/dev/null || die "go is not installed"
command -v rsync >/dev/null || die "rsync is not installed (apt-get install -y rsync)"
HAVE_RCLONE=0
command -v rclone >/dev/null && HAVE_RCLONE=1

# ---------------------------------------------------------------- build
BIN=$(mktemp -d "${TMPDIR:-/tmp}/robo-bench-bin.XXXXXX")
SRC_IS=$WORK/src.is # names the tree currently moved to $WORK/src

restore_source() {
	if [[ -f $SRC_IS ]]; then
		mv "$WORK/src" "$WORK/$(cat "$SRC_IS")"
		rm -f "$SRC_IS"
	fi
}
cleanup() {
	local rc=$?
	restore_source || true
	rm -rf "$BIN"
	if [[ $KEEP != 1 && -d $WORK ]]; then
		rm -rf "$WORK"/{tree.base,tree.mut,dst.base,dst,conf,state.base,logs,tree.stamp}
	fi
	exit $rc
}
trap cleanup EXIT

log "building robo, gentree, timeit and chart into $BIN"
(cd "$REPO" && go build -o "$BIN/robo" ./cmd/robo && go build -o "$BIN/gentree" ./bench/gentree &&
	go build -o "$BIN/timeit" ./bench/timeit && go build -o "$BIN/chart" ./bench/chart)
ROBO=$BIN/robo
TIMEIT=$BIN/timeit

# ---------------------------------------------------------------- disk
mkdir -p "$WORK" "$OUTDIR"
restore_source
GENTREE_SUM=$(sha256sum "$REPO/bench/gentree/main.go" | cut -c1-16)
has_job() { [[ " $JOBS " == *" $1 "* ]]; }
MAIN_TREES=0
for j in initial nochange dryrun sync; do has_job "$j" && MAIN_TREES=1; done
# The 100k-file jobs keep four trees (base, mutated, prepared destination,
# working destination) plus, during the initial copy, every run's copy set
# aside: 12 KiB per file per tree (1-16 KiB files in 4 KiB blocks, plus
# inodes and directories). The big-file job keeps its source and one copy;
# the scale job two trees of tiny files (4.5 KiB each) per size. 20% slack.
need_kb=0
((MAIN_TREES)) && need_kb=$((FILES * 12 * (4 + 4 * RUNS)))
has_job big && need_kb=$((need_kb + BIG_COUNT * BIG_MIB * 1024 * 2))
if has_job scale; then
	for n in $SCALE; do need_kb=$((need_kb + n * 9)); done
fi
need_kb=$((need_kb * 12 / 10))
have_kb=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
used_kb=$(du -sk "$WORK" 2>/dev/null | awk '{print $1}')
if ((have_kb + used_kb < need_kb)); then
	die "$WORK needs about $((need_kb / 1024)) MiB; $((have_kb / 1024)) MiB free (+$((used_kb / 1024)) MiB already used there). Set WORK=, FILES=, JOBS= or SCALE="
fi
log "disk: need ~$((need_kb / 1024)) MiB in $WORK, $((have_kb / 1024)) MiB free"

# ---------------------------------------------------------------- page cache
# warm reads both trees untimed: metadata (du lstat()s every entry) and,
# with WARM=data, every file's contents. WARM_DIRS overrides the trees.
warm() {
	local d
	for d in ${WARM_DIRS:-"$WORK/src" "$WORK/dst"}; do
		[[ -e $d ]] || continue
		du -s "$d" >/dev/null
		if [[ $WARM == data ]]; then
			find "$d" -type f -print0 | xargs -0 -r -P2 -n 2000 cat >/dev/null
		fi
	done
	return 0
}

# On ext4 without a journal (this machine's root file system) the inode
# allocator skips inodes freed in the last 60 s (300 s while their inode-table
# block is dirty): recently_deleted() in fs/ext4/ialloc.c. A copy made right
# after rm -rf of another copy then spends much of its CPU there, more for
# the later runs. So the initial-copy job deletes nothing while it runs: each
# run's destination is moved aside (ASIDE) and removed after the job, and the
# job starts only AGE seconds after the last deletion (and a sync). 65 s was
# not enough here after removing ~1.5M files (copies were still 1.5-2x
# slower); after 300 s they were not.
ASIDE=$WORK/aside
LAST_DELETE=$(date +%s)
deleted() { LAST_DELETE=$(date +%s); }
settle() {
	sync
	local wait=$((LAST_DELETE + AGE - $(date +%s)))
	if ((wait > 0)); then
		log "  waiting ${wait}s for the inodes freed by the last deletion to age (AGE=$AGE)"
		sleep "$wait"
	fi
}
set_aside() {
	[[ -e $WORK/dst ]] || return 0
	mkdir -p "$ASIDE"
	mv "$WORK/dst" "$(mktemp -d "$ASIDE/dst.XXXXXX")/dst"
}

# ---------------------------------------------------------------- trees
GENFLAGS=(-files "$FILES" -min "$MIN_SIZE" -max "$MAX_SIZE" -per-dir "$PER_DIR" -dirs "$FANOUT" -seed "$SEED")
STAMP="files=$FILES seed=$SEED mutate=$MUTATE sizes=$MIN_SIZE-$MAX_SIZE perdir=$PER_DIR fanout=$FANOUT gentree=$GENTREE_SUM"
MUTATION=""
if ((MAIN_TREES)); then
	if [[ -f $WORK/tree.stamp && $(cat "$WORK/tree.stamp") == "$STAMP" && -d $WORK/tree.base && -d $WORK/tree.mut && -d $WORK/dst.base ]]; then
		log "reusing the trees in $WORK ($STAMP)"
	else
		log "generating $FILES files in $WORK/tree.base"
		rm -rf "$WORK"/{tree.base,tree.mut,dst.base,dst,tree.stamp,state.base}
		"$BIN/gentree" -root "$WORK/tree.base" "${GENFLAGS[@]}" >&2
		cp -a "$WORK/tree.base" "$WORK/tree.mut"
		"$BIN/gentree" -root "$WORK/tree.mut" "${GENFLAGS[@]}" -mutate "$MUTATE" >&2
		cp -a "$WORK/tree.base" "$WORK/dst.base"
		echo "$STAMP" >"$WORK/tree.stamp"
	fi
	MUTATION=$("$BIN/gentree" -root "$WORK/tree.mut" "${GENFLAGS[@]}" -mutate "$MUTATE" | sed 's/^gentree: //; s/ under .*//')
fi

# use_source moves a tree to $WORK/src, so every job and tool sees the same
# source path (robo's state records it).
use_source() {
	restore_source
	mv "$WORK/$1" "$WORK/src"
	echo "$1" >"$SRC_IS"
}

# robo configuration: always $WORK/src -> $WORK/dst.
CONF=$WORK/conf
rm -rf "$CONF"
mkdir -p "$CONF"
cat >"$CONF/main.hcl" <<EOF
backup "b" {
  source      = "$WORK/src"
  destination = "$WORK/dst"
  mode        = "mirror"
  max_delete  = "unlimited"
}
EOF

# The state a user has after a successful apply of the base tree: made by an
# untimed apply over a copy of it (which must change nothing).
if ((MAIN_TREES)) && [[ ! -d $WORK/state.base ]]; then
	log "recording robo's state for an applied base tree"
	use_source tree.base
	rm -rf "$WORK/dst"
	cp -a "$WORK/dst.base" "$WORK/dst"
	"$ROBO" -chdir "$CONF" apply -auto-approve >"$WORK/state.log" 2>&1 || {
		cat "$WORK/state.log" >&2
		die "robo apply over an identical copy failed"
	}
	grep -q '(0 files copied' "$WORK/state.log" || {
		cat "$WORK/state.log" >&2
		die "robo apply over an identical copy copied files"
	}
	cp -a "$CONF/.robo" "$WORK/state.base"
	rm -rf "$CONF/.robo"
fi

# ---------------------------------------------------------------- checks
# same_content fails loudly unless src and dst have the same entries with the
# same bytes.
same_content() {
	local what=$1
	if ! diff -r "$WORK/src" "$WORK/dst" >"$WORK/diff.out" 2>&1; then
		head -20 "$WORK/diff.out" >&2
		die "$what: destination differs from source (diff -r; $(wc -l <"$WORK/diff.out") lines, see $WORK/diff.out)"
	fi
}
# same_meta fails unless rsync sees nothing to do: same entries, sizes,
# modification times (files and directories), permissions and owners.
same_meta() {
	local what=$1 from=${2:-$WORK/src}
	rsync -a --delete -n -i "$from/" "$WORK/dst/" >"$WORK/meta.out"
	if [[ -s $WORK/meta.out ]]; then
		head -20 "$WORK/meta.out" >&2
		die "$what: metadata differs (rsync -ani lists $(wc -l <"$WORK/meta.out") entries, see $WORK/meta.out)"
	fi
}

# ---------------------------------------------------------------- measuring
ROWS=() # "job|tool|command|median|min|max|cpu|rss"
JOB_DST="" # the job whose shared destination is in $WORK/dst
LOGS=$WORK/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"


# measure JOB TOOL DST STATE CHECK -- COMMAND...
#   DST:   empty (no destination before every run: rm -rf)
#        | aside (no destination before every run: the last one is moved
#          aside, see settle)
#        | none (nothing prepared: the tool must not change the destination)
#        | fresh (a cp -a of dst.base before the tool's first run; before
#          its later runs, rsync -a --delete dst.base/ dst/ puts back the few
#          files the previous run changed, which is much faster than another
#          cold 100k-file copy and gives the same names, bytes and times)
#        | job (one cp -a of dst.base per job, shared by its tools: for
#          jobs whose tools must not change the destination; CHECK proves it)
#   STATE: none | base (robo's state after applying the base tree)
#        | keep (whatever $CONF/.robo holds)
#   CHECK: none | content (diff -r after every run) | full (diff -r and
#          rsync metadata after every run) | first (diff -r after run 1)
#          | meta (rsync metadata after every run)
#          | unchanged (dst still equals dst.base in rsync's eyes)
measure() {
	local job=$1 tool=$2 dst=$3 state=$4 check=$5
	shift 6
	local r res=$LOGS/$job.$tool.res
	rm -f "$res"
	for ((r = 1; r <= RUNS; r++)); do
		case $dst in
		empty)
			rm -rf "$WORK/dst"
			deleted
			;;
		aside) set_aside ;;
		fresh)
			if ((r == 1)); then
				rm -rf "$WORK/dst"
				cp -a "$WORK/dst.base" "$WORK/dst"
			else
				rsync -a --delete "$WORK/dst.base/" "$WORK/dst/"
			fi
			deleted
			;;
		job)
			if [[ $JOB_DST != "$job" ]]; then
				rm -rf "$WORK/dst"
				deleted
				cp -a "$WORK/dst.base" "$WORK/dst"
				JOB_DST=$job
			fi
			;;
		none) ;;
		esac
		case $state in
		none) rm -rf "$CONF/.robo" ;;
		base)
			rm -rf "$CONF/.robo"
			cp -a "$WORK/state.base" "$CONF/.robo"
			;;
		keep) ;;
		esac
		drop_caches
		warm
		local out=$LOGS/$job.$tool.$r.log
		if ! "$TIMEIT" -o "$res" -- "$@" >"$out" 2>&1; then
			tail -20 "$out" >&2
			die "$job/$tool run $r failed: $* (log: $out)"
		fi
		case $check in
		content) same_content "$job/$tool run $r" ;;
		full)
			same_content "$job/$tool run $r"
			same_meta "$job/$tool run $r"
			;;
		first) ((r > 1)) || same_content "$job/$tool run $r" ;;
		meta) same_meta "$job/$tool run $r" ;;
		unchanged) same_meta "$job/$tool run $r" "$WORK/dst.base" ;;
		esac
		log "  $job/$tool run $r: $(tail -1 "$res")"
	done
	add_row "$job" "$tool" "$*" "$res"
}

# add_row JOB TOOL COMMAND RESFILE: a row of the report from the runs in
# RESFILE (timeit lines): median, min and max wall time, median CPU time
# (user+sys), peak RSS.
add_row() {
	local res=$4 med lo hi cpu rss
	med=$(field wall_s "$res" | median)
	lo=$(field wall_s "$res" | sort -g | head -1)
	hi=$(field wall_s "$res" | sort -g | tail -1)
	cpu=$(paste -d' ' <(field user_s "$res") <(field sys_s "$res") | awk '{print $1+$2}' | median)
	rss=$(field maxrss_kb "$res" | sort -g | tail -1)
	ROWS+=("$1|$2|$3|$med|$lo|$hi|$cpu|$rss")
}

# last_run RESFILE: "wall_s,cpu_s,peak_rss_kib" of RESFILE's last run (a
# CSV row's tail).
last_run() {
	local line
	line=$(tail -1 "$1")
	echo "$(field wall_s <(echo "$line")),$(paste -d' ' <(field user_s <(echo "$line")) <(field sys_s <(echo "$line")) | awk '{print $1+$2}'),$(field maxrss_kb <(echo "$line"))"
}

# tree_stamp N MIN MAX: what gen_tree writes to DIR/stamp; tree_current DIR
# N MIN MAX: DIR's trees were made by gen_tree with these numbers (and the
# present gentree, PER_DIR, FANOUT and SEED).
tree_stamp() { echo "files=$1 sizes=$2-$3 perdir=$PER_DIR fanout=$FANOUT seed=$SEED gentree=$GENTREE_SUM"; }
tree_current() { [[ -f $1/stamp && $(cat "$1/stamp") == "$(tree_stamp "$2" "$3" "$4")" ]]; }

# gen_tree DIR N MIN MAX TREE...: unless tree_current, remove DIR and make
# in it each TREE (src, dst...) with gentree, N files of MIN-MAX bytes, all
# alike (same seed), and DIR/stamp.
gen_tree() {
	local dir=$1 n=$2 min=$3 max=$4 tree
	shift 4
	tree_current "$dir" "$n" "$min" "$max" && return 0
	log "generating $n files of $min-$max bytes in $dir ($*)"
	if [[ -e $dir ]]; then
		rm -rf "$dir"
		deleted
	fi
	mkdir -p "$dir"
	for tree in "$@"; do
		"$BIN/gentree" -root "$dir/$tree" -files "$n" -min "$min" -max "$max" -per-dir "$PER_DIR" -dirs "$FANOUT" -seed "$SEED" -q
	done
	tree_stamp "$n" "$min" "$max" >"$dir/stamp"
}

# measure_robo JOB KIND DST STATE CHECK -- ARGS...: measure "robo ARGS" as
# robo-KIND and, when BASE names another robo binary (an earlier build, to
# compare before and after a change in one run), "BASE ARGS" as base-KIND.
measure_robo() {
	local job=$1 kind=$2 dst=$3 state=$4 check=$5
	shift 6
	measure "$job" "robo-$kind" "$dst" "$state" "$check" -- "$ROBO" "$@"
	if [[ -n $BASE ]]; then
		measure "$job" "base-$kind" "$dst" "$state" "$check" -- "$BASE" "$@"
	fi
}

# big_trees generates the big-file job's source once (kept like the others).
big_trees() {
	local stamp="count=$BIG_COUNT mib=$BIG_MIB seed=$SEED gentree=$GENTREE_SUM"
	if [[ -f $WORK/big.stamp && $(cat "$WORK/big.stamp") == "$stamp" && -d $WORK/big.base ]]; then
		return 0
	fi
	log "generating $BIG_COUNT files of $BIG_MIB MiB in $WORK/big.base"
	rm -rf "$WORK/big.base"
	deleted
	"$BIN/gentree" -root "$WORK/big.base" -files "$BIG_COUNT" -min $((BIG_MIB << 20)) -max $((BIG_MIB << 20)) \
		-per-dir "$BIG_COUNT" -seed "$SEED" -q
	echo "$stamp" >"$WORK/big.stamp"
}

# scale_job: nothing changed over trees of tiny files (16-256 bytes) of
# growing size, each with its own configuration and state; its rows also go
# to a CSV and a chart of wall time and peak memory against the file count.
# Only metadata is warmed: no tool reads a file's contents in this job.
scale_job() {
	local n sdir conf save_conf=$CONF save_warm=$WARM
	SCALE_CSV=$OUTDIR/scale-$DATE.csv
	for n in $SCALE; do
		sdir=$WORK/scale/$n
		conf=$sdir/conf
		gen_tree "$sdir" "$n" 16 256 src dst
		mkdir -p "$conf"
		cat >"$conf/main.hcl" <<-EOF
			backup "b" {
			  source      = "$sdir/src"
			  destination = "$sdir/dst"
			  mode        = "mirror"
			  max_delete  = "unlimited"
			}
		EOF
		rsync -a --delete -n -i "$sdir/src/" "$sdir/dst/" >"$WORK/meta.out"
		[[ -s $WORK/meta.out ]] && die "scale $n: the two generated trees differ (see $WORK/meta.out)"
		if [[ ! -d $conf/.robo ]]; then
			"$ROBO" -chdir "$conf" apply -auto-approve >"$WORK/state.log" 2>&1 || {
				cat "$WORK/state.log" >&2
				die "scale $n: robo apply over identical trees failed"
			}
			grep -q '(0 files copied' "$WORK/state.log" || die "scale $n: robo apply over identical trees copied files"
		fi
		log "job scale: nothing changed, $n files"
		CONF=$conf WARM=meta WARM_DIRS="$sdir/src $sdir/dst"
		measure_robo "scale-$n" plan none keep none -- -chdir "$conf" plan
		measure_robo "scale-$n" apply none keep none -- -chdir "$conf" apply -auto-approve
		measure "scale-$n" rsync none keep none -- rsync -a --delete "$sdir/src/" "$sdir/dst/"
		if ((HAVE_RCLONE)); then
			measure "scale-$n" rclone none keep none -- rclone sync "${RCLONE_FLAGS[@]}" "$sdir/src" "$sdir/dst"
		fi
		CONF=$save_conf WARM=$save_warm
		unset WARM_DIRS
		rsync -a --delete -n -i "$sdir/src/" "$sdir/dst/" >"$WORK/meta.out"
		[[ -s $WORK/meta.out ]] && die "scale $n: a nothing-changed run changed the destination"
	done
	echo "files,tool,wall_s,wall_min_s,wall_max_s,cpu_s,peak_rss_kib" >"$SCALE_CSV"
	local row j t m lo hi cpu rss
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j t _ m lo hi cpu rss <<<"$row"
		[[ $j == scale-* ]] && echo "${j#scale-},$t,$m,$lo,$hi,$cpu,$rss" >>"$SCALE_CSV"
	done
	"$BIN/chart" -in "$SCALE_CSV" -out "${SCALE_CSV%.csv}.png"
	log "wrote $SCALE_CSV and ${SCALE_CSV%.csv}.png"
}

# syscalls_job (JOBS=syscalls, not in the default list; issue 22 point 5):
# the system calls of a first copy per file, counted with strace -f -c, for
# robo apply (and BASE), cp -a and rsync on the same file system, over a
# tree of SYSCALL_FILES files of 1-16 KiB; then, as root, the wall and CPU
# time of a first copy to another file system (a tmpfs mounted for the
# job), robo (and BASE) against cp -a, RUNS runs each, interleaved. Its
# report goes to bench/out/syscalls-<date>.md (and stdout), not the main
# table. Needs strace.
SYSCALL_FILES=${SYSCALL_FILES:-2000}
syscalls_job() {
	command -v strace >/dev/null || die "the syscalls job needs strace (apt-get install -y strace)"
	local sdir=$WORK/syscalls n=$SYSCALL_FILES out=$OUTDIR/syscalls-$DATE.md
	gen_tree "$sdir" "$n" "$MIN_SIZE" "$MAX_SIZE" src
	sc_conf() { # sc_conf DIR DST: a robo configuration copying $sdir/src to DST
		rm -rf "$1"
		mkdir -p "$1"
		cat >"$1/main.hcl" <<-EOF
			backup "b" {
			  source      = "$sdir/src"
			  destination = "$2"
			  mode        = "mirror"
			  max_delete  = "unlimited"
			}
		EOF
	}
	# sc_count TOOL DST -- COMMAND...: strace -f -c of one first copy into
	# the absent DST; one table row: total calls, calls per file and the
	# commonest calls per file.
	sc_count() {
		local tool=$1 dst=$2 trace=$sdir/strace.$1
		shift 3
		rm -rf "$dst" "$sdir/conf/.robo"
		strace -f -c -o "$trace" "$@" >"$sdir/$tool.log" 2>&1 || {
			tail -20 "$sdir/$tool.log" >&2
			die "syscalls/$tool failed: $*"
		}
		diff -r "$sdir/src" "$dst" >/dev/null || die "syscalls/$tool: the copy differs from the source"
		awk -v tool="$tool" -v n="$n" '
			/^-/ || /^%/ || / total$/ || NF < 5 {next}
			{c[$NF] += $4; tot += $4}
			# The Go runtime scheduling and memory calls (robo only), which
			# vary from run to run with the machine load.
			$NF ~ /^(futex|nanosleep|sched_yield|epoll_pwait|rt_sigreturn|rt_sigprocmask|tgkill|getpid|gettid|madvise|mmap|munmap|clone3|sigaltstack|rseq|set_robust_list)$/ {rt += $4}
			END {
				top = ""
				for (k = 0; k < 8; k++) {
					best = ""; bv = 0
					for (s in c) if (c[s] > bv) {bv = c[s]; best = s}
					if (best == "" || bv < n / 2) break
					top = top sprintf("%s%s %.2f", (top == "" ? "" : ", "), best, bv / n)
					delete c[best]
				}
				printf "| %s | %d | %.2f | %.2f | %s |\n", tool, tot, tot / n, (tot - rt) / n, top
			}' "$trace"
	}
	log "job syscalls: system calls per file of a first copy of $n files (strace -f -c)"
	sc_conf "$sdir/conf" "$sdir/dst"
	local rows=()
	rows+=("$(sc_count robo "$sdir/dst" -- "$ROBO" -chdir "$sdir/conf" apply -auto-approve)")
	[[ -n $BASE ]] && rows+=("$(sc_count base "$sdir/dst" -- "$BASE" -chdir "$sdir/conf" apply -auto-approve)")
	rows+=("$(sc_count cp-a "$sdir/dst" -- cp -a "$sdir/src" "$sdir/dst")")
	rows+=("$(sc_count rsync "$sdir/dst" -- rsync -a "$sdir/src/" "$sdir/dst/")")
	rm -rf "$sdir/dst"
	local xrows=() mnt=$sdir/tmpfs
	if [[ $(id -u) == 0 ]]; then
		log "job syscalls: first copy of $n files to another file system (a tmpfs), $RUNS runs, interleaved"
		mkdir -p "$mnt"
		mountpoint -q "$mnt" || mount -t tmpfs -o size=$((n * 40 + 65536))k tmpfs "$mnt" || die "cannot mount a tmpfs on $mnt"
		sc_conf "$sdir/xconf" "$mnt/dst"
		local tools=(robo) t r res cpu wall
		[[ -n $BASE ]] && tools+=(base)
		tools+=(cp-a)
		for t in "${tools[@]}"; do rm -f "$sdir/x.$t.res"; done
		for ((r = 1; r <= RUNS; r++)); do
			for t in "${tools[@]}"; do
				rm -rf "$mnt/dst" "$sdir/xconf/.robo"
				drop_caches
				WARM_DIRS="$sdir/src" warm
				case $t in
				robo) set -- "$ROBO" -chdir "$sdir/xconf" apply -auto-approve ;;
				base) set -- "$BASE" -chdir "$sdir/xconf" apply -auto-approve ;;
				cp-a) set -- cp -a "$sdir/src" "$mnt/dst" ;;
				esac
				"$TIMEIT" -o "$sdir/x.$t.res" -- "$@" >"$sdir/x.$t.log" 2>&1 || die "syscalls cross-fs/$t failed: $*"
				diff -r "$sdir/src" "$mnt/dst" >/dev/null || die "syscalls cross-fs/$t: the copy differs"
				log "  syscalls cross-fs/$t run $r: $(tail -1 "$sdir/x.$t.res")"
			done
		done
		for t in "${tools[@]}"; do
			res=$sdir/x.$t.res
			wall=$(field wall_s "$res" | median)
			cpu=$(paste -d' ' <(field user_s "$res") <(field sys_s "$res") | awk '{print $1+$2}' | median)
			xrows+=("$(printf '| %s | %.2f | %.2f | %.2f |' "$t" "$wall" "$cpu" "$(field sys_s "$res" | median)")")
		done
		rm -rf "$mnt/dst"
		umount "$mnt"
	fi
	{
		echo "# robo system calls per file, $DATE"
		echo
		echo "- $n files of $MIN_SIZE-$MAX_SIZE bytes, $PER_DIR per directory, seed $SEED; work dir $WORK on $(df -PT "$WORK" | awk 'NR==2 {print $2}'), Linux $(uname -r)"
		echo "- robo: $("$ROBO" version 2>/dev/null | head -1 || true)${BASE:+; base: $BASE}"
		echo
		echo "First copy, same file system (\`strace -f -c\`; per file = all calls of the run / $n, scan and start-up included):"
		echo
		echo "| tool | system calls | per file | per file without scheduling and memory calls (futex, nanosleep, mmap...) | commonest, per file |"
		echo "|---|---:|---:|---:|---|"
		printf '%s\n' "${rows[@]}"
		if ((${#xrows[@]})); then
			echo
			echo "First copy to another file system (destination on a tmpfs; medians of $RUNS, interleaved):"
			echo
			echo "| tool | wall s | CPU s (user+sys) | sys s |"
			echo "|---|---:|---:|---:|"
			printf '%s\n' "${xrows[@]}"
		fi
	} >"$out"
	cat "$out"
	log "wrote $out"
}

# firstmem_job (issue 22): the peak RSS of a first copy into an empty
# destination at each file count of FIRSTMEM (tiny files of
# FIRSTMEM_MIN..FIRSTMEM_MAX bytes, default 16..256), robo and BASE
# interleaved run by run. Rows firstmem-N robo-first / base-first; also
# bench/out/firstmem-<date>.csv. Self-contained: its trees live in
# $WORK/firstmem/N (kept with KEEP=1) and it checks its own disk space.
firstmem_job() {
	local n fdir conf r bin tool res out
	local fmin=${FIRSTMEM_MIN:-16} fmax=${FIRSTMEM_MAX:-256}
	local csv=$OUTDIR/firstmem-$DATE.csv
	echo "files,tool,run,wall_s,cpu_s,peak_rss_kib" >"$csv"
	for n in ${FIRSTMEM:-200000 1000000}; do
		fdir=$WORK/firstmem/$n
		conf=$fdir/conf
		if ! tree_current "$fdir" "$n" "$fmin" "$fmax"; then
			# Two trees of n files (4.5 KiB each in 4 KiB blocks), 20% slack.
			local have_kb
			have_kb=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
			((have_kb > n * 11)) || die "firstmem $n: $WORK needs about $((n * 11 / 1024)) MiB free"
			gen_tree "$fdir" "$n" "$fmin" "$fmax" src
		fi
		mkdir -p "$conf"
		cat >"$conf/main.hcl" <<-EOF
			backup "b" {
			  source      = "$fdir/src"
			  destination = "$fdir/dst"
			  mode        = "mirror"
			  max_delete  = "unlimited"
			}
		EOF
		for ((r = 1; r <= RUNS; r++)); do
			for bin in "$ROBO" ${BASE:+"$BASE"}; do
				tool=robo-first
				[[ $bin == "$ROBO" ]] || tool=base-first
				res=$LOGS/firstmem-$n.$tool.res
				out=$LOGS/firstmem-$n.$tool.$r.log
				rm -rf "$fdir/dst" "$conf/.robo"
				sync
				drop_caches
				if ! "$TIMEIT" -o "$res" -- "$bin" -chdir "$conf" apply -auto-approve >"$out" 2>&1; then
					tail -20 "$out" >&2
					die "firstmem $n/$tool run $r failed (log: $out)"
				fi
				rsync -a -n -i --delete "$fdir/src/" "$fdir/dst/" >"$WORK/meta.out"
				[[ -s $WORK/meta.out ]] && die "firstmem $n/$tool run $r: the copy differs from the source (see $WORK/meta.out)"
				log "  firstmem $n/$tool run $r: $(tail -1 "$res")"
				echo "$n,$tool,$r,$(last_run "$res")" >>"$csv"
			done
		done
		for tool in robo-first ${BASE:+base-first}; do
			add_row "firstmem-$n" "$tool" "robo -chdir $conf apply -auto-approve (empty destination)" "$LOGS/firstmem-$n.$tool.res"
		done
		rm -rf "$fdir/dst" "$conf/.robo"
		deleted
	done
	log "wrote $csv"
}

# threads_job (JOBS=threads, not in the default list; issue 22 point 4): the
# wall and CPU time of a first copy of THREADS_FILES files of 1-16 KiB into
# an empty destination with `threads` set to each count of THREADS (through
# -var), on the work directory's file system ("disk") and, as root, on a
# tmpfs mounted for the job ("tmpfs"); each run goes through every count in
# turn, so a slow spell of the machine hits them all. On disk nothing is
# deleted while the job runs (every copy goes to a new directory, removed
# after the job: the inode allocator trap above). Rows threads-MEDIUM-T;
# also bench/out/threads-<date>.csv. bench/smb.sh has the same job over SMB.
THREADS=${THREADS:-"1 2 4 8 16 32"}
THREADS_FILES=${THREADS_FILES:-20000}
threads_job() {
	local tdir=$WORK/threads n=$THREADS_FILES csv=$OUTDIR/threads-$DATE.csv
	local medium root conf t r res out dst mnt=""
	for t in $THREADS; do
		[[ $t =~ ^[0-9]+$ && $t -ge 1 && $t -le 128 ]] || die "THREADS: $t is not a thread count from 1 to 128"
	done
	gen_tree "$tdir" "$n" "$MIN_SIZE" "$MAX_SIZE" src
	rm -rf "$tdir/copies"
	deleted
	echo "medium,threads,run,wall_s,cpu_s,peak_rss_kib" >"$csv"
	local mediums=disk
	if ((EUID == 0)); then mediums="disk tmpfs"; else log "job threads: not root, no tmpfs medium"; fi
	for medium in $mediums; do
		root=$tdir
		if [[ $medium == tmpfs ]]; then
			mnt=$tdir/tmpfs
			mkdir -p "$mnt"
			mount -t tmpfs -o size=$(((n * 24 + 65536) / 1024))m robo-bench-threads "$mnt" || die "job threads: mount tmpfs on $mnt failed"
			cp -a "$tdir/src" "$mnt/src"
			root=$mnt
		else
			settle
		fi
		conf=$tdir/conf-$medium
		rm -rf "$conf"
		mkdir -p "$conf"
		cat >"$conf/main.hcl" <<-EOF
			variable "threads" {
			  default = 8
			}
			variable "dst" {
			  default = "$root/dst"
			}
			backup "b" {
			  source      = "$root/src"
			  destination = var.dst
			  mode        = "mirror"
			  max_delete  = "unlimited"
			  threads     = var.threads
			}
		EOF
		log "job threads: first copy of $n files on $medium, threads $THREADS, $RUNS runs"
		for ((r = 1; r <= RUNS; r++)); do
			for t in $THREADS; do
				dst=$root/copies/$r-$t
				mkdir -p "$root/copies"
				rm -rf "$conf/.robo"
				if [[ $medium == tmpfs ]]; then rm -rf "$root/copies"/*; fi
				drop_caches
				WARM_DIRS="$root/src" warm
				res=$LOGS/threads-$medium-$t.res
				out=$LOGS/threads-$medium-$t.$r.log
				if ! "$TIMEIT" -o "$res" -- "$ROBO" -chdir "$conf" apply -auto-approve -var "threads=$t" -var "dst=$dst" >"$out" 2>&1; then
					tail -20 "$out" >&2
					die "threads $medium/$t run $r failed (log: $out)"
				fi
				diff -r "$root/src" "$dst" >/dev/null || die "threads $medium/$t run $r: the copy differs from the source"
				log "  threads $medium/$t run $r: $(tail -1 "$res")"
				echo "$medium,$t,$r,$(last_run "$res")" >>"$csv"
			done
		done
		for t in $THREADS; do
			add_row "threads-$medium-$t" robo "robo -chdir $conf apply -auto-approve -var threads=$t" "$LOGS/threads-$medium-$t.res"
		done
		if [[ $medium == tmpfs ]]; then
			umount "$mnt"
			rmdir "$mnt"
		else
			rm -rf "$tdir/copies"
			deleted
		fi
		rm -rf "$conf/.robo"
	done
	log "wrote $csv"
}

RCLONE_FLAGS=(--config /dev/null -q)
R="$WORK/src" D="$WORK/dst"

for job in $JOBS; do
	case $job in
	initial)
		log "job initial: copy $FILES files into an empty destination"
		use_source tree.base
		rm -rf "$WORK/dst" "$ASIDE"
		deleted
		settle
		measure_robo initial plan aside none none -- -chdir "$CONF" plan
		measure_robo initial apply aside none full -- -chdir "$CONF" apply -auto-approve
		measure initial rsync aside none first -- rsync -a --delete "$R/" "$D/"
		if ((HAVE_RCLONE)); then measure initial rclone aside none first -- rclone sync "${RCLONE_FLAGS[@]}" "$R" "$D"; fi
		measure initial cp-a aside none first -- cp -a "$R" "$D"
		rm -rf "$WORK/dst" "$ASIDE"
		deleted
		;;
	big)
		big_trees
		log "job big: copy $BIG_COUNT files of $BIG_MIB MiB into an empty destination"
		use_source big.base
		measure_robo big apply empty none full -- -chdir "$CONF" apply -auto-approve
		measure big rsync empty none first -- rsync -a --delete "$R/" "$D/"
		if ((HAVE_RCLONE)); then measure big rclone empty none first -- rclone sync "${RCLONE_FLAGS[@]}" "$R" "$D"; fi
		measure big cp-a empty none first -- cp -a "$R" "$D"
		rm -rf "$WORK/dst"
		;;
	scale) scale_job ;;
	syscalls) syscalls_job ;;
	firstmem) firstmem_job ;;
	threads) threads_job ;;
	nochange)
		log "job nochange: destination already equal to the source"
		use_source tree.base
		measure_robo nochange plan job base meta -- -chdir "$CONF" plan
		measure_robo nochange apply job base full -- -chdir "$CONF" apply -auto-approve
		measure nochange rsync job none meta -- rsync -a --delete "$R/" "$D/"
		# The floor: lstat every entry of both trees once (du -s, one thread).
		measure nochange stat-floor job none unchanged -- du -s "$R" "$D"
		if ((HAVE_RCLONE)); then measure nochange rclone job none meta -- rclone sync "${RCLONE_FLAGS[@]}" "$R" "$D"; fi
		;;
	dryrun)
		log "job dryrun: plan after a $MUTATE% change ($MUTATION)"
		use_source tree.mut
		measure_robo dryrun plan job base unchanged -- -chdir "$CONF" plan
		measure dryrun rsync-n job none unchanged -- rsync -a --delete -n -i "$R/" "$D/"
		if ((HAVE_RCLONE)); then measure dryrun rclone-dry job none unchanged -- rclone sync "${RCLONE_FLAGS[@]}" --dry-run "$R" "$D"; fi
		;;
	sync)
		log "job sync: apply a $MUTATE% change ($MUTATION)"
		use_source tree.mut
		measure_robo sync apply fresh base full -- -chdir "$CONF" apply -auto-approve
		measure sync rsync fresh none first -- rsync -a --delete "$R/" "$D/"
		if ((HAVE_RCLONE)); then measure sync rclone fresh none first -- rclone sync "${RCLONE_FLAGS[@]}" "$R" "$D"; fi
		;;
	*) die "unknown job $job (jobs: initial nochange dryrun sync big scale syscalls firstmem threads)" ;;
	esac
done
restore_source
rm -rf "$WORK/dst" "$CONF/.robo"

# ---------------------------------------------------------------- report
job_title() {
	case $1 in
	initial) echo "initial copy" ;;
	nochange) echo "nothing changed" ;;
	dryrun) echo "dry run, $MUTATE% changed" ;;
	sync) echo "sync, $MUTATE% changed" ;;
	big) echo "initial copy, $BIG_COUNT × $BIG_MIB MiB" ;;
	scale-*) echo "nothing changed, ${1#scale-} tiny files" ;;
	firstmem-*) echo "first copy, ${1#firstmem-} tiny files" ;;
	threads-*)
		local m=${1#threads-}
		echo "first copy, $THREADS_FILES files, ${m%-*}, threads ${m##*-}"
		;;
	esac
}
# baseline TOOLNAME-PREFIX JOB: median wall of rsync (or rsync -n) / cp -a in a job
baseline() {
	local row
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j t _ m _ <<<"$row"
		if [[ $j == "$2" && $t == "$1" ]]; then
			echo "$m"
			return
		fi
	done
}

kernel=$(uname -r)
v_robo=$("$ROBO" version 2>/dev/null | head -1 || true)
v_base=""
[[ -n $BASE ]] && v_base=" (base: $BASE, $("$BASE" version 2>/dev/null | head -1 || true))"
v_rsync=$(rsync --version 2>/dev/null | awk 'NR==1 {print "rsync", $3}' || true)
v_rclone="rclone not installed"
if ((HAVE_RCLONE)); then v_rclone=$(rclone version 2>/dev/null | awk 'NR==1' || true); fi
v_cp=$(cp --version 2>/dev/null | awk 'NR==1' || true)
fstype=$(df -PT "$WORK" | awk 'NR==2 {print $2}')
{
	echo "# robo benchmark $DATE"
	echo
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))," \
		"$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $kernel, work dir $WORK on $fstype"
	if ((MAIN_TREES)); then
		echo "- tree: $FILES files of $MIN_SIZE-$MAX_SIZE bytes, $PER_DIR per directory, fan-out $FANOUT, seed $SEED" \
			"($(du -sh "$WORK/tree.base" | cut -f1) on disk); $MUTATE% change: $MUTATION"
	fi
	has_job big && echo "- big-file job: $BIG_COUNT files of $BIG_MIB MiB"
	has_job scale && echo "- scale job: trees of $SCALE files of 16-256 bytes, $PER_DIR per directory (chart: scale-$DATE.png)"
	echo "- runs: $RUNS per tool and job, median wall time shown (min–max in brackets)"
	echo "- page cache dropped before every run: $([[ $DROP_OK == 1 ]] && echo yes || echo 'NO (not permitted): timings may drift')," \
		"then both trees read untimed: metadata (du -s)$([[ $WARM == data ]] && echo ' and contents (cat)'; true); the scale job reads metadata only"
	has_job initial && echo "- initial copy: no deletion during the job; it started $AGE s after the last one (see docs/performance.md)"
	echo "- versions: $v_robo$v_base, $v_rsync, $v_rclone, $v_cp"
	echo
	echo "| job | tool | wall s (median) | min–max | CPU s (user+sys) | peak RSS MiB | vs rsync | vs cp -a |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j t cmd m lo hi cpu rss <<<"$row"
		rs=$(baseline rsync "$j")
		[[ -z $rs ]] && rs=$(baseline rsync-n "$j")
		cpa=$(baseline cp-a "$j")
		printf '| %s | %s | %.2f | %.2f–%.2f | %.2f | %.1f | %s | %s |\n' "$(job_title "$j")" "$t" "$m" "$lo" "$hi" "$cpu" \
			"$(awk -v k="$rss" 'BEGIN {print k/1024}')" "$(ratio "$m" "$rs")" "$(ratio "$m" "$cpa")"
	done
	echo
	echo "Commands (src=$WORK/src, dst=$WORK/dst; robo's config in $CONF):"
	echo
	declare -A seen=()
	for row in "${ROWS[@]}"; do
		IFS='|' read -r j t cmd _ <<<"$row"
		[[ -n ${seen[$j.$t]:-} ]] && continue
		seen[$j.$t]=1
		echo "- $(job_title "$j") / $t: \`${cmd//$BIN\//}\`"
	done
	echo
	echo "What the dry runs saw:"
	echo
	if [[ -f $LOGS/dryrun.robo-plan.1.log ]]; then
		echo "- robo plan: $(grep -m1 '^Plan:' "$LOGS/dryrun.robo-plan.1.log" || echo '?')"
	fi
	if [[ -f $LOGS/dryrun.rsync-n.1.log ]]; then
		echo "- rsync -n -i: $(grep -c '^>f' "$LOGS/dryrun.rsync-n.1.log" || true) files to send," \
			"$(grep -c '^\*deleting' "$LOGS/dryrun.rsync-n.1.log" || true) to delete"
	fi
} >"$RESULT"
cat "$RESULT"
log "wrote $RESULT"
