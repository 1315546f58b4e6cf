# bench/lib.sh: helpers shared by bench/run.sh and bench/smb.sh (sourced,
# not run). The caller sets SCRIPT (its name in messages) before sourcing.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '%s: FAIL: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

# drop_caches writes dirty data back and drops the page cache; where that is
# not permitted it warns once and goes on.
DROP_OK=1
drop_caches() {
	sync
	if ((DROP_OK)); then
		if ! (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
			DROP_OK=0
			log "WARNING: cannot drop the page cache (not root, or /proc/sys read-only); timings will drift between runs"
		fi
	fi
}

# median of the numbers on stdin; field NAME FILE: the values of NAME=
# in bench/timeit's result lines.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2"; }

# ratio A B: A/B as "0.42×", or "–" without a B.
ratio() { [[ -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f×", a/b; else print "–"}' || echo "–"; }
